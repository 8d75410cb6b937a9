//! What a message looks like: the Markdown people type, rendered on the server and
//! stored as typed, and consecutive messages of one person under one name.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::on_both_databases;
use crate::support::Backend;

on_both_databases!(
    markdown_is_shown_formatted_and_kept_as_typed,
    a_persons_messages_in_a_row_sit_under_one_name,
);

const SECOND: Duration = Duration::from_secs(1);
const PASSWORD: &str = "analytical engine";

async fn markdown_is_shown_formatted_and_kept_as_typed(backend: Backend) {
    let app = backend.spawn().await;
    let ada = app.signed_up("Ada Lovelace", "ada@example.org", PASSWORD).await;
    let grace = app.signed_up("Grace Hopper", "grace@example.org", PASSWORD).await;
    let mut grace_ws = app.live_socket(&grace, "general").await;
    let typed = "**Release** is _today_, see [notes](https://example.org/n) or `make ship`:\n\
                 > ship it\n\n- one\n- two\n\n```\n<b>not bold</b>\n```\n[x](javascript:alert(1))";
    let sent = ada.post_form("/chat/general/messages", &[("body", typed)]).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER);

    let seen = grace_ws.expect("Release", SECOND).await;
    for shown in [
        "<strong>Release</strong> is <em>today</em>",
        r#"<a href="https://example.org/n" rel="nofollow noopener noreferrer" target="_blank">notes</a>"#,
        "<code>make ship</code>",
        "<blockquote>",
        "<li>one</li>",
        "<pre><code>&lt;b&gt;not bold&lt;/b&gt;\n</code></pre>",
    ] {
        assert!(seen.contains(shown), "{shown} in {seen}");
    }
    assert!(!seen.contains("javascript:"), "no script link: {seen}");

    // Stored as typed: the API and the edit form give the text back unchanged.
    let listed: Value =
        serde_json::from_str(&grace.get("/api/rooms/general/messages").await.body).unwrap();
    assert_eq!(listed[0]["body"], typed);
    let page = ada.get("/chat/general").await.body;
    let id = page.split("/messages/").nth(1).unwrap().split('/').next().unwrap();
    let form = ada.get(&format!("/messages/{id}/edit")).await.body;
    assert!(form.contains("**Release** is _today_"), "{form}");
}

async fn a_persons_messages_in_a_row_sit_under_one_name(backend: Backend) {
    let app = backend.spawn().await;
    let ada = app.signed_up("Ada Lovelace", "ada@example.org", PASSWORD).await;
    let grace = app.signed_up("Grace Hopper", "grace@example.org", PASSWORD).await;
    for (who, body) in [(&ada, "first"), (&ada, "second"), (&grace, "third"), (&ada, "fourth")] {
        who.post_form("/chat/general/messages", &[("body", body)]).await;
    }
    let page = grace.get("/chat/general").await.body;
    let class_of = |seq: i64| -> String {
        let at = page.find(&format!(r#"id="m-{seq}""#)).expect("on the page");
        let start = page[..at].rfind("<article").unwrap();
        page[start..at].to_owned()
    };
    assert!(class_of(1).contains(r#"class="message""#), "{}", class_of(1));
    assert!(class_of(2).contains(r#"class="message continued""#), "{}", class_of(2));
    assert!(class_of(3).contains(r#"class="message""#), "another person: {}", class_of(3));
    assert!(class_of(4).contains(r#"class="message""#), "after someone else: {}", class_of(4));
    // The name is still there for screen readers, in every message.
    let second = &page[page.find(r#"id="m-2""#).unwrap()..];
    assert!(second[..second.find("</article>").unwrap()].contains("Ada Lovelace"));
}
