//! Editing and deleting messages: from the page (with and without JavaScript),
//! pushed live to every open page, and caught up after a drop.

use std::time::Duration;

use reqwest::StatusCode;

use crate::on_both_databases;
use crate::support::{AuditLog, Backend, Browser, Seen, Socket, TestApp, message_numbers};

on_both_databases!(
    an_edit_is_shown_to_everyone_live_and_after_a_reload,
    only_the_author_edits_and_a_stranger_finds_nothing,
    a_bad_edit_is_explained_and_keeps_what_was_typed,
    a_deleted_message_disappears_everywhere,
    an_administrator_deletes_anyones_message_and_it_is_audited,
    a_reconnecting_page_catches_up_on_edits_and_deletions_in_order,
    a_change_racing_the_socket_open_is_applied_exactly_once,
);

const SECOND: Duration = Duration::from_secs(1);
const PASSWORD: &str = "analytical engine";

/// Ada (the first account, so an administrator) and Grace, both in #general.
async fn ada_and_grace(app: &TestApp) -> (Browser, Browser) {
    let ada = app.signed_up("Ada Lovelace", "ada@example.org", PASSWORD).await;
    let grace = app.signed_up("Grace Hopper", "grace@example.org", PASSWORD).await;
    (ada, grace)
}

/// Posts `body` to #general as `who`, without JavaScript; returns the message's id
/// in page URLs (`/messages/{id}`), read from the room page as a person finds it.
async fn posted(who: &Browser, body: &str) -> i64 {
    let sent = who.post_form("/chat/general/messages", &[("body", body)]).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    who.message_id("general", body).await
}

/// The `resume-after` positions pushed in `frames`, in order.
fn positions(frames: &[String]) -> Vec<i64> {
    frames
        .iter()
        .flat_map(|f| f.match_indices(r#"name="after" value=""#).map(move |(i, _)| &f[i + 20..]))
        .filter_map(|rest| rest.split('"').next()?.parse().ok())
        .collect()
}

async fn an_edit_is_shown_to_everyone_live_and_after_a_reload(backend: Backend) {
    let app = backend.spawn().await;
    let (ada, grace) = ada_and_grace(&app).await;
    let id = posted(&ada, "See you at 3").await;
    let mut grace_ws = app.live_socket(&grace, "general").await;

    // Without JavaScript: the form is a page, saving goes back to the message.
    let form = ada.get(&format!("/messages/{id}/edit")).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains(">See you at 3</textarea>"), "{}", form.body);
    let saved = ada.post_form(&format!("/messages/{id}"), &[("body", "See you at 4")]).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(saved.location(), "/chat/general#m-1");

    // Grace's page replaces the message in place, marked edited, and moves on.
    let pushed = grace_ws.expect("See you at 4", SECOND).await;
    assert!(pushed.contains(r#"id="m-1""#) && pushed.contains(r#"hx-swap-oob="true""#), "{pushed}");
    assert!(!pushed.contains("beforeend"), "replaced, not appended again: {pushed}");
    assert!(pushed.contains("(edited)") && pushed.contains(r#"title="Edited "#), "{pushed}");
    assert_eq!(positions(&[pushed]), [2], "the edit is the room's second change");

    // With htmx, the form takes the message's place, and "Cancel" puts it back.
    let editor = ada.get_htmx(&format!("/messages/{id}/edit")).await;
    assert!(
        editor.body.starts_with(r#"<form class="message editing" id="edit-m-1""#),
        "{}",
        editor.body
    );
    let cancel = ada.get_htmx(&format!("/messages/{id}")).await;
    assert!(cancel.body.starts_with(r#"<article class="message" id="m-1""#), "{}", cancel.body);
    // Saving answers with the message itself, swapped in for the form.
    let fragment = ada.post_htmx(&format!("/messages/{id}"), &[("body", "See you at 5")]).await;
    assert_eq!(fragment.status, StatusCode::OK);
    assert!(fragment.body.starts_with("<article") && fragment.body.contains("See you at 5"));
    grace_ws.expect("See you at 5", SECOND).await;

    let page = grace.get("/chat/general").await.body;
    assert!(page.contains("See you at 5") && page.contains("(edited)"));
    assert!(!page.contains("See you at 3") && !page.contains("See you at 4"));
    assert!(page.contains(r#"name="after" value="3""#), "the page resumes after the edits");
}

async fn only_the_author_edits_and_a_stranger_finds_nothing(backend: Backend) {
    let app = backend.spawn().await;
    let (ada, grace) = ada_and_grace(&app).await;
    let id = posted(&grace, "mine, not yours").await;

    // Ada is an administrator, and still may not put words in Grace's mouth.
    for answer in [
        ada.get(&format!("/messages/{id}/edit")).await,
        ada.post_form(&format!("/messages/{id}"), &[("body", "words in her mouth")]).await,
    ] {
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
        assert!(answer.body.contains("only its author can edit it"), "{}", answer.body);
    }
    // Someone who is not in a direct conversation does not learn its messages exist.
    let linus = app.signed_up("Linus", "linus@example.org", PASSWORD).await;
    let grace_id = grace.user_id().await;
    let dm = ada.post_form(&format!("/people/{grace_id}/message"), &[]).await;
    let dm = dm.location().trim_start_matches("/chat/").to_owned();
    ada.post_form(&format!("/chat/{dm}/messages"), &[("body", "just us")]).await;
    let dm_id = ada.message_id(&dm, "just us").await;
    for answer in [
        linus.get(&format!("/messages/{dm_id}")).await,
        linus.get(&format!("/messages/{dm_id}/edit")).await,
        linus.post_form(&format!("/messages/{dm_id}"), &[("body", "hi")]).await,
        linus.post_form(&format!("/messages/{dm_id}/delete"), &[]).await,
        linus.get("/messages/999999/edit").await,
    ] {
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{}", answer.body);
    }
    assert!(grace.get("/chat/general").await.body.contains(">mine, not yours<"));
    assert!(grace.get(&format!("/chat/{dm}")).await.body.contains(">just us<"));

    // Each one's menu offers what is theirs to do: everyone reacts, the author
    // edits and deletes, an administrator deletes.
    let offers = |menu: String| {
        ["Any emoji", ">Edit<", ">Delete<"]
            .into_iter()
            .filter(|what| menu.contains(what))
            .collect::<Vec<_>>()
    };
    let actions = format!("/messages/{id}/actions");
    assert_eq!(offers(grace.get_htmx(&actions).await.body), ["Any emoji", ">Edit<", ">Delete<"]);
    assert_eq!(offers(ada.get_htmx(&actions).await.body), ["Any emoji", ">Delete<"]);
    assert_eq!(offers(linus.get_htmx(&actions).await.body), ["Any emoji"]);
    // Without JavaScript the menu is a page, with the message.
    let page = linus.get(&actions).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(">mine, not yours<") && page.body.contains("Back to the room"));
    assert_eq!(
        linus.get(&format!("/messages/{dm_id}/actions")).await.status,
        StatusCode::NOT_FOUND
    );
}

async fn a_bad_edit_is_explained_and_keeps_what_was_typed(backend: Backend) {
    let app = backend.spawn().await;
    let (ada, _grace) = ada_and_grace(&app).await;
    let id = posted(&ada, "first draft").await;

    let empty = ada.post_form(&format!("/messages/{id}"), &[("body", "   ")]).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        empty.body.contains(r#"role="alert""#) && empty.body.contains(r#"aria-invalid="true""#)
    );
    let long = "x".repeat(4001);
    let too_long = ada.post_htmx(&format!("/messages/{id}"), &[("body", &long)]).await;
    assert_eq!(too_long.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(too_long.body.starts_with("<form") && too_long.body.contains(&long), "kept");
    assert!(ada.get("/chat/general").await.body.contains(">first draft<"), "unchanged");
}

async fn a_deleted_message_disappears_everywhere(backend: Backend) {
    let app = backend.spawn().await;
    let (ada, grace) = ada_and_grace(&app).await;
    posted(&grace, "keep me").await;
    let id = posted(&grace, "oops, wrong room").await;
    let mut ada_ws = app.live_socket(&ada, "general").await;

    let deleted = grace.post_htmx(&format!("/messages/{id}/delete"), &[]).await;
    assert_eq!(deleted.status, StatusCode::OK);
    let pushed = ada_ws.expect(r#"hx-swap-oob="delete""#, SECOND).await;
    assert!(pushed.contains(r#"<div id="m-2" hx-swap-oob="delete">"#), "{pushed}");
    assert!(!pushed.contains("oops"), "nothing of the text travels: {pushed}");

    let page = ada.get("/chat/general").await.body;
    assert!(page.contains("keep me") && !page.contains("oops, wrong room"));
    let listed = ada.get("/api/rooms/general/messages").await.body;
    assert!(listed.contains("keep me") && !listed.contains("oops"), "{listed}");
    // Gone for every action; deleting again without JavaScript lands back in the room.
    assert_eq!(grace.get(&format!("/messages/{id}/edit")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        grace.post_form(&format!("/messages/{id}"), &[("body", "back?")]).await.status,
        StatusCode::NOT_FOUND
    );
    // Numbers are never reused: the next message is the third.
    posted(&grace, "right room").await;
    assert_eq!(message_numbers(&ada_ws.drain(SECOND).await), [3]);
}

async fn an_administrator_deletes_anyones_message_and_it_is_audited(backend: Backend) {
    let audit = AuditLog::capture();
    let app = backend.spawn().await;
    let (ada, grace) = ada_and_grace(&app).await;
    let ada_says = posted(&ada, "from the administrator").await;
    let id = posted(&grace, "something to moderate").await;

    // Grace may not delete Ada's message; Ada, an administrator, may delete Grace's.
    let refused = grace.post_form(&format!("/messages/{ada_says}/delete"), &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let done = ada.post_form(&format!("/messages/{id}/delete"), &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(done.location(), "/chat/general");
    let page = grace.get("/chat/general").await.body;
    assert!(page.contains("from the administrator") && !page.contains("something to moderate"));

    let line = audit.the("administrator deleted a message");
    assert_eq!(line["admin_id"], ada.user_id().await);
    assert_eq!(line["author_id"], grace.user_id().await);
    assert_eq!(line["seq"], 2);
    // One's own deletions are no moderation: no line for them.
    let own = posted(&ada, "my own").await;
    ada.post_form(&format!("/messages/{own}/delete"), &[]).await;
    assert_eq!(
        audit
            .events()
            .iter()
            .filter(|e| e["fields"]["message"] == "administrator deleted a message")
            .count(),
        1
    );
}

async fn a_reconnecting_page_catches_up_on_edits_and_deletions_in_order(backend: Backend) {
    let app = backend.spawn().await;
    let (ada, grace) = ada_and_grace(&app).await;
    let one = posted(&ada, "one").await;
    let two = posted(&ada, "two").await;
    posted(&ada, "three").await;
    // Grace's page shows all three (position 3), then her network drops.
    let page = grace.get("/chat/general").await.body;
    assert!(page.contains(r#"name="after" value="3""#));

    ada.post_form(&format!("/messages/{one}"), &[("body", "one, edited")]).await;
    ada.post_form(&format!("/messages/{two}/delete"), &[]).await;
    posted(&ada, "four").await;

    let mut grace_ws = app.socket(&grace, "general").await;
    grace_ws.resume(3).await;
    let frames = changes(&mut grace_ws).await;
    assert_eq!(positions(&frames), [4, 5, 6], "each change once, in order");
    assert!(frames[0].contains(r#"id="m-1""#) && frames[0].contains("one, edited"));
    assert!(frames[1].contains(r#"<div id="m-2" hx-swap-oob="delete">"#));
    assert!(frames[2].contains("beforeend:#messages") && frames[2].contains(">four<"));

    // A page from before the deletion catches up without ever showing it.
    let mut old_page = app.socket(&grace, "general").await;
    old_page.resume(1).await;
    let frames = changes(&mut old_page).await;
    assert_eq!(positions(&frames), [2, 3, 4, 5, 6]);
    assert!(!frames.concat().contains(">two<"), "a since-deleted message is not appended");
    assert_eq!(message_numbers(&frames), [3, 1, 4], "appended 3, replaced 1, appended 4");
}

/// The change frames a socket receives until it has caught up (the sidebar and the
/// cleared status come last) and a moment after.
async fn changes(ws: &mut Socket) -> Vec<String> {
    ws.drain(SECOND).await.into_iter().filter(|f| f.contains("resume-after")).collect()
}

async fn a_change_racing_the_socket_open_is_applied_exactly_once(backend: Backend) {
    let app = backend.spawn().await;
    let (ada, grace) = ada_and_grace(&app).await;
    let id = posted(&ada, "before").await;

    // Grace's page was rendered at position 1. Her socket is open (subscribed) but
    // has not said where it is when the edit happens: the edit reaches it live
    // *and* is in the log its catch-up reads.
    let mut grace_ws = app.socket(&grace, "general").await;
    ada.post_form(&format!("/messages/{id}"), &[("body", "after")]).await;
    assert_eq!(grace_ws.next(SECOND / 4).await, Seen::Nothing, "nothing before the resume");
    grace_ws.resume(1).await;
    let frames = changes(&mut grace_ws).await;
    assert_eq!(positions(&frames), [2], "applied once: {frames:?}");
    assert!(frames[0].contains(">after<"));
}
