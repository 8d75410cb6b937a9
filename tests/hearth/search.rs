//! Search: finding what was said in every room and conversation one is in, and
//! nowhere else; by the text as it is now; safely, whatever is typed.

use reqwest::StatusCode;
use serde_json::Value;

use crate::on_both_databases;
use crate::support::{Backend, Browser, TestApp};

on_both_databases!(
    a_member_finds_what_was_said_in_their_rooms_and_nothing_else,
    a_result_opens_the_room_around_its_message,
    an_edited_message_is_found_by_its_new_text_and_a_deleted_one_not_at_all,
    results_narrow_to_a_room_or_a_person_and_follow_the_typing,
    anything_typed_is_safe,
    a_script_searches_with_a_token,
);

const PASSWORD: &str = "analytical engine";

/// Ada, Grace and Bo; Ada and Bo talk in #general, in a private #ops without Grace,
/// and in a direct conversation.
async fn three_people_talking(app: &TestApp) -> (Browser, Browser, Browser) {
    let ada = app.signed_up("Ada Lovelace", "ada@example.org", PASSWORD).await;
    let grace = app.signed_up("Grace Hopper", "grace@example.org", PASSWORD).await;
    let bo = app.signed_up("Bo Pilot", "bo@example.org", PASSWORD).await;
    ada.post_form("/chat/general/messages", &[("body", "We deploy the engine on Friday")]).await;
    ada.post_form("/chat/general/messages", &[("body", "Lunch is at noon")]).await;
    ada.post_form("/rooms", &[("name", "Ops"), ("private", "on")]).await;
    let bo_id = bo.user_id().await;
    ada.post_form("/chat/ops/members", &[("user_id", &bo_id.to_string())]).await;
    bo.post_form("/chat/ops/messages", &[("body", "The secret deploy key rotates tonight")]).await;
    let dm = bo.post_form(&format!("/people/{}/message", ada.user_id().await), &[]).await;
    bo.post_form(&format!("{}/messages", dm.location()), &[("body", "Can you deploy my branch?")])
        .await;
    (ada, grace, bo)
}

/// The API's results for `query` (a query string, already encoded).
async fn api_search(who: &Browser, query: &str) -> Vec<Value> {
    let page = who.get(&format!("/api/search?{query}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let found: Value = serde_json::from_str(&page.body).unwrap();
    found["results"].as_array().unwrap().clone()
}

fn bodies(results: &[Value]) -> Vec<&str> {
    results.iter().map(|r| r["body"].as_str().unwrap()).collect()
}

async fn a_member_finds_what_was_said_in_their_rooms_and_nothing_else(backend: Backend) {
    let app = backend.spawn().await;
    let (ada, grace, bo) = three_people_talking(&app).await;

    let results = api_search(&bo, "q=deploy").await;
    let mut found = bodies(&results);
    found.sort_unstable();
    assert_eq!(
        found,
        [
            "Can you deploy my branch?",
            "The secret deploy key rotates tonight",
            "We deploy the engine on Friday"
        ],
        "his rooms, his private room and his conversation"
    );
    assert_eq!(
        bodies(&api_search(&grace, "q=deploy").await),
        ["We deploy the engine on Friday"],
        "not a private room she is not in, nor others' conversations"
    );
    assert_eq!(bodies(&api_search(&ada, "q=DEPLOY+friday").await).len(), 1, "every word, any case");
    assert_eq!(bodies(&api_search(&ada, "q=deplo").await).len(), 3, "a word being typed");
    assert!(api_search(&ada, "q=deployment").await.is_empty());

    let page = grace.get("/search?q=deploy").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<mark>deploy</mark>") && page.body.contains("#General"));
    assert!(page.body.contains("Ada Lovelace") && page.body.contains("1 result"));
    assert!(!page.body.contains("secret"), "{}", page.body);
    assert!(api_search(&grace, "q=secret&room=ops").await.is_empty(), "naming it is no way in");
    assert_eq!(grace.get("/chat/ops/messages?around=1").await.status, StatusCode::NOT_FOUND);

    // Taken out of #ops, Bo no longer finds what was said there.
    let bo_id = bo.user_id().await;
    ada.call("DELETE", &format!("/api/rooms/ops/members/{bo_id}"), None).await;
    assert!(api_search(&bo, "q=secret").await.is_empty());

    // Words are split the same way on both databases: inside addresses and numbers.
    ada.post_form("/chat/general/messages", &[("body", "Docs at https://docs.example.com/v3.14")])
        .await;
    for q in ["example", "docs+example+com", "14"] {
        assert_eq!(api_search(&ada, &format!("q={q}")).await.len(), 1, "{q}");
    }
    // The best match first: the message saying it most, and most densely.
    ada.post_form("/chat/general/messages", &[("body", "deploy deploy deploy")]).await;
    assert_eq!(api_search(&ada, "q=deploy+").await[0]["body"], "deploy deploy deploy");
}

async fn a_result_opens_the_room_around_its_message(backend: Backend) {
    let app = backend.spawn().await;
    let (ada, _, _) = three_people_talking(&app).await;
    for i in 0..60 {
        ada.post_form("/chat/general/messages", &[("body", &format!("filler {i}"))]).await;
    }
    let page = ada.get("/search?q=engine").await.body;
    let link = page
        .split(r#"<a href=""#)
        .find(|part| part.starts_with("/chat/general/messages?around="))
        .and_then(|part| part.split('"').next())
        .expect("a link to the message")
        .replace("&amp;", "&");
    assert!(link.ends_with("#m-1"), "{link}");
    let around = ada.get(link.split('#').next().unwrap()).await;
    assert_eq!(around.status, StatusCode::OK);
    assert!(around.body.contains(r#"id="m-1""#) && around.body.contains("filler 17"));
    assert!(!around.body.contains("filler 30"), "around it, not the room's end");
    assert!(!ada.get("/chat/general").await.body.contains(r#"id="m-1""#), "the end is far");
}

async fn an_edited_message_is_found_by_its_new_text_and_a_deleted_one_not_at_all(backend: Backend) {
    let app = backend.spawn().await;
    let (ada, _, _) = three_people_talking(&app).await;
    let id = ada.message_id("general", "Lunch is at noon").await;
    ada.post_form(&format!("/messages/{id}"), &[("body", "Dinner is at seven")]).await;
    assert!(api_search(&ada, "q=lunch").await.is_empty(), "not by its old text");
    assert_eq!(bodies(&api_search(&ada, "q=dinner").await), ["Dinner is at seven"]);

    ada.post_form(&format!("/messages/{id}/delete"), &[]).await;
    assert!(api_search(&ada, "q=dinner").await.is_empty());
    assert!(api_search(&ada, "q=seven").await.is_empty());
}

async fn results_narrow_to_a_room_or_a_person_and_follow_the_typing(backend: Backend) {
    let app = backend.spawn().await;
    let (ada, _, bo) = three_people_talking(&app).await;
    let (ada_id, bo_id) = (ada.user_id().await, bo.user_id().await);

    assert_eq!(
        bodies(&api_search(&bo, "q=deploy&room=ops").await),
        ["The secret deploy key rotates tonight"]
    );
    assert_eq!(
        bodies(&api_search(&bo, &format!("q=deploy&person={ada_id}")).await),
        ["We deploy the engine on Friday"]
    );
    assert_eq!(api_search(&bo, &format!("q=deploy&person={bo_id}")).await.len(), 2);
    assert!(api_search(&bo, "q=deploy&room=nowhere").await.is_empty());
    // The page keeps the filters chosen.
    let page = bo.get("/search?q=deploy&room=ops&person=").await.body;
    assert!(page.contains(r#"<option value="ops" selected>"#), "{page}");

    // Typing in the box asks htmx for the results alone.
    let results = bo.get_htmx("/search?q=secret&room=&person=").await;
    assert!(
        results.body.starts_with(r#"<p class="hint" role="status">1 result"#),
        "{}",
        results.body
    );
    assert!(results.body.contains("<mark>secret</mark>") && !results.body.contains("<html"));
}

async fn anything_typed_is_safe(backend: Backend) {
    let app = backend.spawn().await;
    let (ada, _, _) = three_people_talking(&app).await;
    ada.post_form("/chat/general/messages", &[("body", "Use ' OR 1=1 -- to break a login")]).await;
    for typed in [
        "' OR 1=1 --",
        "\"unbalanced",
        "NOT (deploy OR",
        "deploy* -friday ^x NEAR(a b)",
        "'); DROP TABLE messages; --",
        "\\",
        "%_",
        "\"\"",
        &"deploy ".repeat(100),
    ] {
        let encoded: String = url::form_urlencoded::byte_serialize(typed.as_bytes()).collect();
        for path in [format!("/search?q={encoded}"), format!("/api/search?q={encoded}")] {
            let page = ada.get(&path).await;
            assert_eq!(page.status, StatusCode::OK, "{typed:?}: {}", page.body);
        }
    }
    let found = api_search(&ada, "q=%27+OR+1%3D1+--").await;
    assert_eq!(bodies(&found), ["Use ' OR 1=1 -- to break a login"], "words, not SQL");
    assert_eq!(api_search(&ada, "q=deploy").await.len(), 3, "and the messages are all there");
}

async fn a_script_searches_with_a_token(backend: Backend) {
    let app = backend.spawn().await;
    let (ada, _, _) = three_people_talking(&app).await;
    let token = ada.make_token("search script").await;
    let answer =
        ada.client.get(ada.url("/api/search?q=engine")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let found: Value = answer.json().await.unwrap();
    let result = &found["results"][0];
    assert_eq!(result["room"], "general");
    assert_eq!(result["seq"], 1);
    assert_eq!(result["body"], "We deploy the engine on Friday");
    assert_eq!(result["snippet"], "We deploy the engine on Friday");
    assert_eq!(result["author"]["name"], "Ada Lovelace");
    assert!(result["author"]["id"].is_i64() && result["created_at"].is_i64());
}
