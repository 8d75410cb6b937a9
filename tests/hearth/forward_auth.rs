//! Hearth as the sign-in of other services: a proxy asks `GET /auth/verify` with the
//! request's cookie or token, and is told who it is, or 401, as of now.

use reqwest::StatusCode;

use crate::on_both_databases;
use crate::support::{Backend, Browser, Page};

on_both_databases!(
    a_signed_in_browser_is_verified_with_who_it_is,
    a_token_is_verified_and_nothing_else_is,
    an_ended_session_is_refused_on_its_next_request,
    sign_in_sends_people_back_only_to_the_services_listed,
);

const PASSWORD: &str = "analytical engine";

/// What a proxy sends: the browser's own request headers, cookie included.
async fn verify(who: &Browser) -> Page {
    who.get("/auth/verify").await
}

fn header<'p>(page: &'p Page, name: &str) -> Option<&'p str> {
    page.headers.get(name).and_then(|v| v.to_str().ok())
}

async fn a_signed_in_browser_is_verified_with_who_it_is(backend: Backend) {
    let app = backend.spawn().await;
    let ada = app.signed_up("Ada Lovelace", "ada@example.org", PASSWORD).await;
    let bo = app.signed_up("Bo Ekström", "bo@example.org", PASSWORD).await;

    let answer = verify(&ada).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(header(&answer, "x-hearth-user-id"), Some(&*ada.user_id().await.to_string()));
    assert_eq!(header(&answer, "x-hearth-user-email"), Some("ada@example.org"));
    assert_eq!(header(&answer, "x-hearth-user-name"), Some("Ada Lovelace"));
    assert_eq!(header(&answer, "x-hearth-admin"), Some("true"), "the first account");
    assert_eq!(header(&answer, "cache-control"), Some("no-store"));

    let answer = verify(&bo).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(header(&answer, "x-hearth-user-name"), Some("Bo Ekstr%C3%B6m"));
    assert_eq!(header(&answer, "x-hearth-admin"), None);

    let stranger = app.browser();
    let answer = verify(&stranger).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "no redirect: the proxy decides");
    assert_eq!(header(&answer, "x-hearth-user-id"), None);
}

async fn a_token_is_verified_and_nothing_else_is(backend: Backend) {
    let app = backend.spawn().await;
    let ada = app.signed_up("Ada Lovelace", "ada@example.org", PASSWORD).await;
    let token = ada.make_token("proxy").await;
    let script = app.browser();
    let ask = |auth: String| {
        let request = script.client.get(script.url("/auth/verify")).header("authorization", auth);
        async move { request.send().await.unwrap() }
    };
    let answer = ask(format!("Bearer {token}")).await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(answer.headers()["x-hearth-user-email"], "ada@example.org");
    for wrong in [format!("Bearer {token}x"), "Bearer ".to_owned(), format!("Basic {token}")] {
        assert_eq!(ask(wrong.clone()).await.status(), StatusCode::UNAUTHORIZED, "{wrong}");
    }
    // A token that does not work is refused even beside a good cookie.
    let request = ada.client.get(ada.url("/auth/verify")).header("authorization", "Bearer nope");
    assert_eq!(request.send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
}

async fn an_ended_session_is_refused_on_its_next_request(backend: Backend) {
    let app = backend.spawn().await;
    let laptop = app.signed_up("Ada Lovelace", "ada@example.org", PASSWORD).await;
    let phone = app.browser();
    phone.post_form("/login", &[("email", "ada@example.org"), ("password", PASSWORD)]).await;
    assert_eq!(verify(&phone).await.status, StatusCode::OK);

    laptop.post_form("/dashboard/sessions/end-others", &[]).await;
    assert_eq!(verify(&phone).await.status, StatusCode::UNAUTHORIZED, "ended on the dashboard");
    assert_eq!(verify(&laptop).await.status, StatusCode::OK);
    laptop.post_form("/logout", &[]).await;
    assert_eq!(verify(&laptop).await.status, StatusCode::UNAUTHORIZED, "signed out");

    // Deactivated by an administrator: refused at once, everywhere.
    let admin = app.browser();
    admin.post_form("/login", &[("email", "ada@example.org"), ("password", PASSWORD)]).await;
    let member = app.signed_up("Grace Hopper", "grace@example.org", PASSWORD).await;
    assert_eq!(verify(&member).await.status, StatusCode::OK);
    let id = member.user_id().await;
    admin.post_form(&format!("/admin/people/{id}/deactivate"), &[]).await;
    assert_eq!(verify(&member).await.status, StatusCode::UNAUTHORIZED, "deactivated");
}

async fn sign_in_sends_people_back_only_to_the_services_listed(backend: Backend) {
    let app =
        backend.spawn_with(|c| c.forward_auth_hosts = vec!["tools.example.org".to_owned()]).await;
    app.signed_up("Ada Lovelace", "ada@example.org", PASSWORD).await;
    for (next, lands) in [
        (
            "https://tools.example.org/api-of-yours/report?x=1",
            "https://tools.example.org/api-of-yours/report?x=1",
        ),
        ("https://evil.example/", "/dashboard"),
        ("https://tools.example.org@evil.example/", "/dashboard"),
        ("/chat", "/chat"),
    ] {
        let browser = app.browser();
        let form = browser.get(&format!("/login?next={}", urlencoded(next))).await;
        assert_eq!(form.status, StatusCode::OK);
        let signed_in = browser
            .post_form(
                "/login",
                &[("email", "ada@example.org"), ("password", PASSWORD), ("next", next)],
            )
            .await;
        assert_eq!(
            (signed_in.status, signed_in.location()),
            (StatusCode::SEE_OTHER, lands),
            "{next}"
        );
        // Already signed in, the sign-in page sends on at once, by the same rule.
        let again = browser.get(&format!("/login?next={}", urlencoded(next))).await;
        assert_eq!(again.location(), lands, "{next}");
    }
}

fn urlencoded(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
