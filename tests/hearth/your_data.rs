//! Taking one's data away: a person's archive from the dashboard, the operator's
//! NDJSON export, and a backup taken while Hearth serves.

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use sqlx::Connection;

use crate::on_both_databases;
use crate::support::process;
use crate::support::{Backend, Browser, TestApp};

on_both_databases!(
    a_person_downloads_what_they_wrote_and_their_conversations,
    the_operator_exports_everything_but_secrets,
    a_backup_is_taken_while_serving,
);

const PASSWORD: &str = "analytical engine";
/// More than a page of rows (500), so that every export reads several.
const MANY: i64 = 1_234;

/// What the three people have said: Ada in #general (one message with a file, one
/// deleted), Ada and Bo in their conversation, Bo and Cy in a private room Ada is
/// not in.
struct Said {
    ada: Browser,
    conversation: String,
}

async fn say(who: &Browser, room: &str, text: &str) -> Value {
    let path = format!("/api/rooms/{room}/messages");
    let (status, sent) = who.call("POST", &path, Some(json!({ "body": text }))).await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    sent
}

async fn a_week_of_chat(app: &TestApp) -> Said {
    let ada = app.signed_up("Ada Lovelace", "ada@example.org", PASSWORD).await;
    let bo = app.signed_up("Bo Pilot", "bo@example.org", PASSWORD).await;
    let cy = app.signed_up("Cy Young", "cy@example.org", PASSWORD).await;
    say(&ada, "general", "Morning, all").await;
    say(&bo, "general", "Morning, Ada").await;
    let oops = say(&ada, "general", "oops, wrong room").await;
    let (status, _) =
        ada.call("DELETE", &format!("/api/rooms/general/messages/{}", oops["seq"]), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let form = Form::new()
        .text("body", "The minutes")
        .part("file", Part::bytes(b"We met.".to_vec()).file_name("minutes.txt"));
    let sent = ada
        .client
        .post(ada.url("/api/rooms/general/messages"))
        .header("sec-fetch-site", "same-origin")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), StatusCode::CREATED);

    let bo_id = bo.user_id().await;
    let (status, room) =
        ada.call("POST", "/api/conversations", Some(json!({ "user_ids": [bo_id] }))).await;
    assert_eq!(status, StatusCode::CREATED, "{room}");
    let conversation = room["slug"].as_str().unwrap().to_owned();
    say(&bo, &conversation, "Just between us: the plan").await;
    say(&ada, &conversation, "Agreed").await;

    let (status, secret) =
        bo.call("POST", "/api/rooms", Some(json!({"name": "Secret", "private": true}))).await;
    assert_eq!(status, StatusCode::CREATED, "{secret}");
    let cy_id = cy.user_id().await;
    let path = format!("/api/rooms/{}/members", secret["slug"].as_str().unwrap());
    assert_eq!(
        bo.call("POST", &path, Some(json!({ "user_id": cy_id }))).await.0,
        StatusCode::NO_CONTENT
    );
    say(&cy, secret["slug"].as_str().unwrap(), "Cy's secret").await;

    // Years of chat, written straight into the database as the chat stores it.
    let ada_id = ada.user_id().await;
    many_messages(app, ada_id).await;
    Said { ada, conversation }
}

/// [`MANY`] more messages from `author` in #general, numbered after its last.
async fn many_messages(app: &TestApp, author: i64) {
    let insert = format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {MANY})
         INSERT INTO messages (room_id, seq, user_id, body, created_at)
         SELECT r.id, r.last_seq + n.i, $1, 'Note ' || n.i, 1700000000 + n.i
         FROM rooms r, n WHERE r.slug = 'general'"
    );
    let bump = format!("UPDATE rooms SET last_seq = last_seq + {MANY} WHERE slug = 'general'");
    if app.database_url().starts_with("sqlite:") {
        let mut db = sqlx::SqliteConnection::connect(app.database_url()).await.unwrap();
        sqlx::query(&insert).bind(author).execute(&mut db).await.unwrap();
        sqlx::query(&bump).execute(&mut db).await.unwrap();
    } else {
        let mut db = sqlx::PgConnection::connect(app.database_url()).await.unwrap();
        sqlx::query(&insert).bind(author).execute(&mut db).await.unwrap();
        sqlx::query(&bump).execute(&mut db).await.unwrap();
    }
}

fn bodies(messages: &Value) -> Vec<String> {
    messages.as_array().unwrap().iter().map(|m| m["body"].as_str().unwrap().to_owned()).collect()
}

async fn a_person_downloads_what_they_wrote_and_their_conversations(backend: Backend) {
    let app = backend.spawn().await;
    let Said { ada, conversation } = a_week_of_chat(&app).await;

    let dashboard = ada.get("/dashboard").await;
    assert!(dashboard.body.contains(r#"href="/dashboard/export""#), "the dashboard offers it");
    let download = ada.client.get(ada.url("/dashboard/export")).send().await.unwrap();
    assert_eq!(download.status(), StatusCode::OK);
    let headers = download.headers().clone();
    assert_eq!(headers["content-type"], "application/json");
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"hearth-archive-")
    );
    assert_eq!(headers["cache-control"], "no-store");
    let text = download.text().await.unwrap();
    let archive: Value = serde_json::from_str(&text).expect("one whole JSON document");

    assert_eq!(archive["person"]["email"], "ada@example.org");
    assert!(!text.contains("$2b$") && !text.contains("password"), "no password hash");
    let written = bodies(&archive["written"]);
    assert_eq!(written.len() as i64, 3 + MANY, "all she wrote, over several pages");
    assert_eq!(&written[..4], ["Morning, all", "The minutes", "Agreed", "Note 1"]);
    assert_eq!(written.last().unwrap(), &format!("Note {MANY}"));
    assert!(!written.iter().any(|b| b.contains("oops")), "a deleted message is gone");
    let with_file = &archive["written"][1];
    let url = with_file["files"][0]["url"].as_str().unwrap();
    assert!(url.starts_with(&ada.url("/files/")) && url.ends_with("/minutes.txt"), "{url}");
    assert_eq!(with_file["files"][0]["size"], 7);
    assert_eq!(ada.get(url.strip_prefix(&ada.url("")).unwrap()).await.body, "We met.");

    let conversations = archive["conversations"].as_array().unwrap();
    assert_eq!(conversations.len(), 1);
    assert_eq!(conversations[0]["room"], conversation.as_str());
    let people: Vec<&str> = conversations[0]["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(people, ["Ada Lovelace", "Bo Pilot"]);
    assert_eq!(bodies(&conversations[0]["messages"]), ["Just between us: the plan", "Agreed"]);
    assert_eq!(conversations[0]["messages"][0]["author"]["name"], "Bo Pilot");

    let rooms: Vec<&str> =
        archive["rooms"].as_array().unwrap().iter().map(|r| r["room"].as_str().unwrap()).collect();
    assert!(rooms.contains(&"general") && rooms.contains(&conversation.as_str()), "{rooms:?}");
    assert!(!text.contains("Secret") && !text.contains("Cy's secret"), "nothing of others' rooms");

    let stranger = app.browser().get("/dashboard/export").await;
    assert_eq!(stranger.status, StatusCode::SEE_OTHER, "signed out: to the sign-in page");
}

async fn the_operator_exports_everything_but_secrets(backend: Backend) {
    let app = backend.spawn().await;
    let Said { ada, .. } = a_week_of_chat(&app).await;
    ada.make_token("a script").await;

    // With the default log level, which must not mix log lines into the data.
    let ran = process::run(&app, &["export"], "").await;
    assert!(ran.ok, "{}", ran.stderr);
    let lines: Vec<Value> = ran.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let of = |kind: &str| lines.iter().filter(|l| l["type"] == kind).collect::<Vec<_>>();
    let people = of("person");
    assert_eq!(people.len(), 3);
    assert_eq!(people[0]["email"], "ada@example.org");
    assert_eq!(people[0]["is_admin"], true, "the first account");
    for secret in ["password", "$2b$", "hearth_", "token"] {
        assert!(!ran.stdout.contains(secret), "the export holds {secret:?}");
    }
    let messages = of("message");
    assert_eq!(messages.len() as i64, 6 + MANY, "everyone's, private rooms included");
    let bodies: Vec<&str> = messages.iter().map(|m| m["body"].as_str().unwrap()).collect();
    assert!(bodies.contains(&"Cy's secret") && !bodies.contains(&"oops, wrong room"));
    assert!(of("room").iter().any(|r| r["name"] == "Secret" && r["private"] == true));
    assert_eq!(of("membership").iter().filter(|m| m["room"] == "general").count(), 3);
    let files = of("file");
    assert_eq!(files.len(), 1);
    assert_eq!(
        (files[0]["name"].as_str(), files[0]["size"].as_i64()),
        (Some("minutes.txt"), Some(7))
    );
    assert!(ran.stderr.contains(&format!("{} messages", 6 + MANY)), "{}", ran.stderr);
}

async fn a_backup_is_taken_while_serving(backend: Backend) {
    let app = backend.spawn().await;
    let Said { ada, .. } = a_week_of_chat(&app).await;
    let folder = std::env::temp_dir().join(format!("hearth-backup-{:x}", rand::random::<u64>()));
    std::fs::create_dir_all(&folder).unwrap();
    let path = folder.join("copy of hearth.db");
    let target = path.to_str().unwrap();

    let ran = process::run(&app, &["backup", target], "").await;
    assert!(ran.ok, "{}", ran.stderr);
    if matches!(backend, Backend::Sqlite) {
        assert!(ran.stdout.contains("backed up to"), "{}", ran.stdout);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "only its owner reads a copy of every session");
        // The copy is a database of its own, with what was said; the app goes on.
        let mut copy =
            sqlx::SqliteConnection::connect(&format!("sqlite://{target}?mode=ro")).await.unwrap();
        let count: i64 =
            sqlx::query_scalar("SELECT count(*) FROM messages WHERE deleted_at IS NULL")
                .fetch_one(&mut copy)
                .await
                .unwrap();
        assert_eq!(count, 6 + MANY);
        let again = process::run(&app, &["backup", target], "").await;
        let said = again.stdout + &again.stderr;
        assert!(!again.ok && said.contains("must not exist yet"), "{said}");
    } else {
        // The line it prints, run as printed, makes a dump.
        let line = ran.stdout.lines().find(|l| l.starts_with("pg_dump ")).expect(&ran.stdout);
        let made = std::process::Command::new("sh").arg("-c").arg(line).output().unwrap();
        assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
        assert!(std::fs::metadata(&path).unwrap().len() > 0);
    }
    let (status, _) = ada.call("GET", "/api/me", None).await;
    assert_eq!(status, StatusCode::OK);
    let _ = std::fs::remove_dir_all(&folder);
}
