//! Room settings: the creator (or an administrator) renames a room, gives it a
//! topic, archives it and brings it back, and takes people out of it; every open
//! page shows it at once, and a page that was away when it happened on resuming.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::on_both_databases;
use crate::support::{Backend, Browser, TestApp};

on_both_databases!(
    the_creator_renames_a_room_and_sets_its_topic_and_every_page_shows_it,
    an_archived_room_is_read_only_until_it_is_brought_back,
    only_the_creator_and_administrators_change_a_room,
    the_creator_takes_someone_out_of_a_private_room,
    a_script_changes_a_room_and_is_told_why_not,
    a_page_that_was_away_gets_the_new_settings_when_it_resumes,
);

const SECOND: Duration = Duration::from_secs(1);
const PASSWORD: &str = "analytical engine";

/// Ada (the first account, so an administrator), Grace, who starts #plans, and Bo,
/// who joins it.
async fn three_and_plans(app: &TestApp) -> (Browser, Browser, Browser) {
    let ada = app.signed_up("Ada Lovelace", "ada@example.org", PASSWORD).await;
    let grace = app.signed_up("Grace Hopper", "grace@example.org", PASSWORD).await;
    let bo = app.signed_up("Bo Pilot", "bo@example.org", PASSWORD).await;
    assert_eq!(grace.post_form("/rooms", &[("name", "Plans")]).await.location(), "/chat/plans");
    for who in [&ada, &bo] {
        who.post_form("/chat/plans/join", &[]).await;
    }
    grace.post_form("/chat/plans/messages", &[("body", "the first plan")]).await;
    (ada, grace, bo)
}

async fn the_creator_renames_a_room_and_sets_its_topic_and_every_page_shows_it(backend: Backend) {
    let app = backend.spawn().await;
    let (_, grace, bo) = three_and_plans(&app).await;
    let mut viewing = app.live_socket(&bo, "plans").await;
    let mut elsewhere = app.live_socket(&bo, "general").await;
    viewing.drain(SECOND / 4).await;
    elsewhere.drain(SECOND / 4).await;

    let form = grace.get("/chat/plans/settings").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains(r#"value="Plans""#), "the form holds the name");
    let saved = grace
        .post_form(
            "/chat/plans/settings",
            &[("name", "Spring plans"), ("topic", "What we do in May")],
        )
        .await;
    assert_eq!((saved.status, saved.location()), (StatusCode::SEE_OTHER, "/chat/plans"));

    // The page showing the room gets its new name and topic; the others its name
    // in the sidebar. Its address stays.
    let live = viewing.expect(r#"id="room-about""#, SECOND).await;
    assert!(live.contains("#Spring plans") && live.contains("What we do in May"), "{live}");
    let sidebar = elsewhere.expect("room-name-", SECOND).await;
    assert!(sidebar.contains("#Spring plans") && !sidebar.contains("room-about"), "{sidebar}");
    let page = bo.get("/chat/plans").await.body;
    assert!(page.contains("#Spring plans") && page.contains("What we do in May"));
    assert!(bo.get("/rooms").await.body.contains("What we do in May"), "browse shows the topic");

    // A bad name or topic keeps what was typed and says why.
    let long = "x".repeat(251);
    let bad = grace.post_form("/chat/plans/settings", &[("name", "Plans"), ("topic", &long)]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("at most 250 characters") && bad.body.contains(&long));
    grace.post_form("/rooms", &[("name", "Knitting")]).await;
    let taken =
        grace.post_form("/chat/plans/settings", &[("name", "knitting!"), ("topic", "")]).await;
    assert_eq!(taken.status, StatusCode::CONFLICT);
    assert!(taken.body.contains("already a room with that name"));

    // The old name is free again, under an address of its own.
    let again = bo.post_form("/rooms", &[("name", "Plans")]).await;
    assert_eq!(again.location(), "/chat/plans-2");
    assert!(bo.get("/chat/plans-2").await.body.contains("#Plans"));
}

async fn an_archived_room_is_read_only_until_it_is_brought_back(backend: Backend) {
    let app = backend.spawn().await;
    let (ada, grace, bo) = three_and_plans(&app).await;
    let mut viewing = app.live_socket(&bo, "plans").await;
    let mut elsewhere = app.live_socket(&bo, "general").await;
    viewing.drain(SECOND / 4).await;
    elsewhere.drain(SECOND / 4).await;
    let seq = bo.message_id("plans", "the first plan").await;

    let archived = grace.post_form("/chat/plans/archive", &[]).await;
    assert_eq!(archived.status, StatusCode::SEE_OTHER);
    let live = viewing.expect(r#"id="room-about""#, SECOND).await;
    assert!(live.contains("room-about archived"), "{live}");
    let gone = elsewhere.expect("room-item-", SECOND).await;
    assert!(gone.contains(r#"hx-swap-oob="delete""#), "leaves the sidebar: {gone}");

    // Nothing new: not by the page, the socket, the API; no edits, no reactions.
    let refused = bo.post_form("/chat/plans/messages", &[("body", "one more plan")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("This room is archived"));
    viewing.say("over the socket").await;
    let composer = viewing.expect(r#"id="composer""#, SECOND).await;
    assert!(composer.contains("This room is archived") && composer.contains("over the socket"));
    let api = bo
        .client
        .post(bo.url("/api/rooms/plans/messages"))
        .header("sec-fetch-site", "same-origin")
        .json(&json!({"body": "by the api"}))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::CONFLICT);
    let api = bo
        .client
        .delete(bo.url(&format!("/api/rooms/plans/messages/{}", 1)))
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::CONFLICT, "not even deleting");
    let menu = bo.get_htmx(&format!("/messages/{seq}/actions")).await.body;
    assert!(menu.contains("This room is archived") && !menu.contains("Any emoji"), "{menu}");
    let edit = grace.post_form(&format!("/messages/{seq}"), &[("body", "changed")]).await;
    assert_eq!(edit.status, StatusCode::CONFLICT);
    let react = bo.post_form(&format!("/messages/{seq}/reactions"), &[("emoji", "👍")]).await;
    assert_eq!(react.status, StatusCode::CONFLICT);

    // Its history stays; it is listed apart and out of the sidebar.
    let page = bo.get("/chat/plans").await.body;
    assert!(page.contains("the first plan") && page.contains("This room is archived"));
    assert!(!bo.get("/chat").await.body.contains("/chat/plans"), "off the sidebar");
    let browse = bo.get("/rooms").await.body;
    let archived_part = &browse[browse.find("Archived").expect("an Archived list")..];
    assert!(archived_part.contains("#Plans"));
    let general = ada.post_form("/chat/general/archive", &[]).await;
    assert_eq!(general.status, StatusCode::FORBIDDEN, "not even by an administrator");
    assert!(general.body.contains("#general is everyone's room"));

    let back = grace.post_form("/chat/plans/unarchive", &[]).await;
    assert_eq!(back.status, StatusCode::SEE_OTHER);
    let live = viewing.expect(r#"id="room-about""#, SECOND).await;
    assert!(!live.contains("room-about archived"), "{live}");
    // Its name, for a sidebar that lists it (a page loaded meanwhile does not).
    let name = elsewhere.expect("room-name-", SECOND).await;
    assert!(name.starts_with(r#"<span class="room-name""#), "{name}");
    let posted = bo.post_form("/chat/plans/messages", &[("body", "one more plan")]).await;
    assert_eq!(posted.status, StatusCode::SEE_OTHER);
    viewing.expect("one more plan", SECOND).await;
}

async fn only_the_creator_and_administrators_change_a_room(backend: Backend) {
    let app = backend.spawn().await;
    let (ada, _, bo) = three_and_plans(&app).await;

    assert!(!bo.get("/chat/plans").await.body.contains("/chat/plans/settings"));
    for answer in [
        bo.get("/chat/plans/settings").await,
        bo.post_form("/chat/plans/settings", &[("name", "Mine now"), ("topic", "")]).await,
        bo.post_form("/chat/plans/archive", &[]).await,
    ] {
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
    }
    assert!(bo.get("/chat/plans").await.body.contains("#Plans"), "unchanged");

    // An administrator may, and it is in the audit log.
    let audit = crate::support::AuditLog::capture();
    assert!(ada.get("/chat/plans").await.body.contains("/chat/plans/settings"));
    let saved =
        ada.post_form("/chat/plans/settings", &[("name", "Plans"), ("topic", "Moderated")]).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let line = audit.the("changed a room's settings");
    assert_eq!(line["by"], ada.user_id().await);

    // A room of someone's own outside: not even a settings page to find.
    let stranger = app.signed_up("Stranger", "stranger@example.org", PASSWORD).await;
    stranger.post_form("/rooms", &[("name", "Hidden"), ("private", "on")]).await;
    assert_eq!(bo.get("/chat/hidden/settings").await.status, StatusCode::NOT_FOUND);
    // Conversations are named by their people: no settings.
    let bo_id = bo.user_id().await;
    let dm = ada.post_form(&format!("/people/{bo_id}/message"), &[]).await;
    assert_eq!(ada.get(&format!("{}/settings", dm.location())).await.status, StatusCode::FORBIDDEN);
}

async fn the_creator_takes_someone_out_of_a_private_room(backend: Backend) {
    let app = backend.spawn().await;
    let ada = app.signed_up("Ada Lovelace", "ada@example.org", PASSWORD).await;
    let grace = app.signed_up("Grace Hopper", "grace@example.org", PASSWORD).await;
    let bo = app.signed_up("Bo Pilot", "bo@example.org", PASSWORD).await;
    let _ = ada;
    grace.post_form("/rooms", &[("name", "Ops"), ("private", "on")]).await;
    let (bo_id, grace_id) = (bo.user_id().await, grace.user_id().await);
    grace.post_form("/chat/ops/members", &[("user_id", &bo_id.to_string())]).await;
    let mut bo_ws = app.live_socket(&bo, "general").await;
    bo_ws.drain(SECOND / 4).await;
    grace.post_form("/chat/ops/messages", &[("body", "before he left")]).await;
    bo_ws.expect_unread_badge(SECOND).await;

    let people = grace.get("/chat/ops/people").await.body;
    let remove = format!("/chat/ops/members/{bo_id}/remove");
    assert!(people.contains(&remove), "the creator sees Remove");
    assert!(!bo.get("/chat/ops/people").await.body.contains("/remove"), "a member does not");
    let refused = bo.post_form(&format!("/chat/ops/members/{grace_id}/remove"), &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("Only the room's creator or an administrator"));

    let removed = grace.post_form(&remove, &[]).await;
    assert_eq!((removed.status, removed.location()), (StatusCode::SEE_OTHER, "/chat/ops/people"));
    assert_eq!(bo.get("/chat/ops").await.status, StatusCode::NOT_FOUND, "gone for him");
    grace.post_form("/chat/ops/messages", &[("body", "after he left")]).await;
    let leaked = bo_ws.drain(SECOND / 2).await;
    assert!(leaked.iter().all(|f| !f.contains("after he left") && !f.contains("unread-")));
}

async fn a_script_changes_a_room_and_is_told_why_not(backend: Backend) {
    let app = backend.spawn().await;
    let (_, grace, bo) = three_and_plans(&app).await;

    let (status, room) =
        grace.call("PATCH", "/api/rooms/plans", Some(json!({"topic": "May"}))).await;
    assert_eq!(status, StatusCode::OK, "{room}");
    assert_eq!((room["title"].as_str(), room["topic"].as_str()), (Some("Plans"), Some("May")));
    let (status, room) = grace
        .call("PATCH", "/api/rooms/plans", Some(json!({"name": "Summer plans", "archived": true})))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (room["slug"].as_str(), room["title"].as_str()),
        (Some("plans"), Some("Summer plans"))
    );
    assert_eq!((room["topic"].as_str(), room["archived"].as_bool()), (Some("May"), Some(true)));
    let (_, rooms) = bo.call("GET", "/api/rooms", None).await;
    let plans = rooms.as_array().unwrap().iter().find(|r| r["slug"] == "plans").unwrap();
    assert_eq!(plans["archived"], true, "still listed for programs, marked");

    let (status, error) =
        bo.call("PATCH", "/api/rooms/plans", Some(json!({"archived": false}))).await;
    assert_eq!((status, error["error"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")));
    let (status, _) = grace.call("PATCH", "/api/rooms/plans", Some(json!({"name": " "}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) =
        grace.call("PATCH", "/api/rooms/plans", Some(json!({"name": "General"}))).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = grace.call("PATCH", "/api/rooms/nowhere", Some(json!({}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The creator takes Bo out; he can no longer take himself out, being out.
    let bo_id = bo.user_id().await;
    let path = format!("/api/rooms/plans/members/{bo_id}");
    assert_eq!(grace.call("DELETE", &path, None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(grace.call("DELETE", &path, None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(bo.call("GET", "/api/rooms/plans/messages", None).await.0, StatusCode::NOT_FOUND);
}

async fn a_page_that_was_away_gets_the_new_settings_when_it_resumes(backend: Backend) {
    let app = backend.spawn().await;
    let (_, grace, bo) = three_and_plans(&app).await;
    let page = bo.get("/chat/plans").await.body;
    let after: i64 = page
        .split(r#"id="resume-after" name="after" value=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .and_then(|n| n.parse().ok())
        .expect("the page's resume position");

    // While the page has no socket, the room is renamed and archived.
    grace
        .post_form("/chat/plans/settings", &[("name", "Autumn plans"), ("topic", "October")])
        .await;
    grace.post_form("/chat/plans/archive", &[]).await;

    let mut ws = app.socket(&bo, "plans").await;
    ws.resume(after).await;
    let about = ws.expect(r#"id="room-about""#, SECOND).await;
    assert!(about.contains("#Autumn plans") && about.contains("October"));
    assert!(about.contains("room-about archived"), "{about}");
}
