//! The README's nginx example, run: real nginx (Debian's package) in front of
//! Hearth and a small service of "your own" at `/api-of-yours/`, which sees who is
//! signed in from Hearth's headers and nothing when nobody is.
//!
//! Skipped when nginx is not installed, unless `HEARTH_REQUIRE_NGINX` is set (CI
//! sets it, and installs nginx).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{Backend, bind};

const PASSWORD: &str = "analytical engine";

/// The README's configuration, with the ports of this test.
fn config(dir: &str, port: u16, hearth: u16, upstream: u16) -> String {
    format!(
        r#"
daemon off;
master_process off;
pid {dir}/nginx.pid;
error_log stderr warn;
events {{}}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port};

        # Hearth itself.
        location / {{
            proxy_pass http://127.0.0.1:{hearth};
            proxy_set_header Host $http_host;
        }}

        # Asked before every request to your API: who is this?
        location = /_hearth_verify {{
            internal;
            proxy_pass http://127.0.0.1:{hearth}/auth/verify;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header Host $http_host;
        }}

        location /api-of-yours/ {{
            auth_request /_hearth_verify;
            auth_request_set $hearth_id $upstream_http_x_hearth_user_id;
            auth_request_set $hearth_email $upstream_http_x_hearth_user_email;
            auth_request_set $hearth_name $upstream_http_x_hearth_user_name;
            auth_request_set $hearth_admin $upstream_http_x_hearth_admin;
            # Only Hearth's word counts: whatever a client sent is replaced.
            proxy_set_header X-Hearth-User-Id $hearth_id;
            proxy_set_header X-Hearth-User-Email $hearth_email;
            proxy_set_header X-Hearth-User-Name $hearth_name;
            proxy_set_header X-Hearth-Admin $hearth_admin;
            proxy_pass http://127.0.0.1:{upstream};
            # Not signed in: a browser is sent to sign in, and back.
            error_page 401 = @sign_in;
        }}
        location @sign_in {{
            return 302 /login?next=$scheme://$http_host$request_uri;
        }}
    }}
}}
"#
    )
}

/// "Your API": answers with the `x-hearth-*` headers it was given, and keeps them.
async fn your_api() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = bind().await;
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&request);
                let hearth: Vec<&str> = text
                    .lines()
                    .filter(|l| l.to_ascii_lowercase().starts_with("x-hearth-"))
                    .collect();
                let body = hearth.join("\n");
                log.lock().unwrap().push(body.clone());
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes()).await;
            });
        }
    });
    (port, seen)
}

#[tokio::test]
async fn nginx_puts_your_api_behind_hearths_sign_in() {
    if std::process::Command::new("nginx").arg("-v").output().is_err() {
        assert!(std::env::var_os("HEARTH_REQUIRE_NGINX").is_none(), "nginx is not installed");
        crate::support::skipped("nginx is not installed".into());
        return;
    }
    let port = bind().await.local_addr().unwrap().port();
    let front_host = format!("127.0.0.1:{port}");
    let app = Backend::Sqlite.spawn_with(|c| c.forward_auth_hosts = vec![front_host]).await;
    let hearth = app.base.rsplit(':').next().unwrap().parse::<u16>().unwrap();
    let (upstream, seen) = your_api().await;
    let dir = std::env::temp_dir().join(format!("hearth-nginx-{:016x}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    let dir_path = dir.to_str().unwrap().to_owned();
    let conf = dir.join("nginx.conf");
    std::fs::write(&conf, config(&dir_path, port, hearth, upstream)).unwrap();
    let mut nginx = tokio::process::Command::new("nginx")
        .args(["-e", "stderr", "-p", &dir_path, "-c", conf.to_str().unwrap()])
        .kill_on_drop(true)
        .spawn()
        .expect("nginx starts");
    let front = format!("http://127.0.0.1:{port}");
    let mut up = false;
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up, "nginx listens");

    // Signed in (cookies go to 127.0.0.1 whatever the port): the API sees who.
    let ada = app.signed_up("Ada Lovelace", "ada@example.org", PASSWORD).await;
    let phone = app.browser();
    phone.post_form("/login", &[("email", "ada@example.org"), ("password", PASSWORD)]).await;
    let through = |who: &crate::support::Browser, path: &str| {
        let request = who.client.get(format!("{front}{path}"));
        async move { request.send().await.unwrap() }
    };
    let answer = through(&phone, "/api-of-yours/report").await;
    assert_eq!(answer.status(), StatusCode::OK);
    let body = answer.text().await.unwrap().to_ascii_lowercase();
    let id = ada.user_id().await;
    assert!(body.contains(&format!("x-hearth-user-id: {id}")), "{body}");
    assert!(body.contains("x-hearth-user-email: ada@example.org"), "{body}");
    assert!(body.contains("x-hearth-admin: true"), "{body}");

    // A client cannot claim to be someone: its own headers are replaced.
    let forged = app.browser();
    let answer = forged
        .client
        .get(format!("{front}/api-of-yours/report"))
        .header("x-hearth-user-id", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::FOUND, "not signed in: sent to sign in");
    let to = answer.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        to.ends_with(&format!("/login?next=http://127.0.0.1:{port}/api-of-yours/report")),
        "{to}"
    );

    // Signing in there sends the browser back to what it wanted.
    let wanted = format!("{front}/api-of-yours/report");
    let grace = app.browser();
    let signed_up = grace
        .post_form(
            "/signup",
            &[("name", "Grace"), ("email", "grace@example.org"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(signed_up.status, StatusCode::SEE_OTHER);
    grace.post_form("/logout", &[]).await;
    let back = grace
        .post_form(
            "/login",
            &[("email", "grace@example.org"), ("password", PASSWORD), ("next", &wanted)],
        )
        .await;
    assert_eq!(back.location(), wanted);
    let answer = through(&grace, "/api-of-yours/report").await;
    let body = answer.text().await.unwrap().to_ascii_lowercase();
    assert!(body.contains("x-hearth-user-email: grace@example.org"), "{body}");

    // The session ended on the dashboard: refused on the very next request.
    let before = seen.lock().unwrap().len();
    ada.post_form("/dashboard/sessions/end-others", &[]).await;
    let answer = through(&phone, "/api-of-yours/report").await;
    assert_eq!(answer.status(), StatusCode::FOUND);
    assert_eq!(seen.lock().unwrap().len(), before, "your API never saw it");
    // And Hearth's own pages work through the proxy too.
    assert_eq!(through(&ada, "/dashboard").await.status(), StatusCode::OK);

    let _ = nginx.kill().await;
    let _ = std::fs::remove_dir_all(&dir);
}
