//! Email, through a real SMTP server (aiosmtpd): a forgotten password reset by a
//! link sent to the account's address, confirming an address, and changing it.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::on_both_databases;
use crate::support::smtp::{Inbox, link_in};
use crate::support::{Backend, TestApp};

on_both_databases!(
    a_forgotten_password_is_reset_through_a_link_sent_by_email,
    a_confirmed_address_keeps_its_password_when_google_joins,
    changing_ones_email_takes_a_link_sent_to_the_new_address,
    a_missed_mention_is_emailed_once_with_a_one_click_way_out,
);

const PASSWORD: &str = "analytical engine";
const FROM: &str = "Hearth <hearth@example.test>";

/// Hearth sending email to `inbox`, quickly tried again when the server fails.
async fn with_mail(backend: Backend, inbox: &Inbox) -> TestApp {
    let url = inbox.url();
    backend
        .spawn_with(move |config| {
            config.smtp_url = Some(url);
            config.mail_from = Some(FROM.into());
            config.mail_retry_after = std::time::Duration::from_millis(200);
            config.address_link_every = std::time::Duration::ZERO;
        })
        .await
}

/// The path of the first link to `prefix` in a mail's text, checked to be in its
/// HTML too.
fn path_in(app: &TestApp, mail: &Value, prefix: &str) -> String {
    let base = app.browser().url("");
    let url = link_in(mail["text"].as_str().unwrap(), &format!("{base}{prefix}"));
    assert!(mail["html"].as_str().unwrap().contains(&format!("href=\"{url}\"")), "a button too");
    url.strip_prefix(&base).unwrap().to_owned()
}

async fn a_forgotten_password_is_reset_through_a_link_sent_by_email(backend: Backend) {
    // A busy server turns the first try away: the mail waits and is sent again.
    let Some(inbox) = Inbox::refusing_first(1).await else { return };
    let app = with_mail(backend, &inbox).await;
    let ada = app.signed_up("Ada Lovelace", "ada@example.org", PASSWORD).await;
    let visitor = app.browser();
    let form = visitor.get("/password/forgot").await;
    assert!(
        form.body.contains("Email me a link")
            && !form.body.contains("Ask one of its administrators")
    );

    // The same answer for an account and for none; a mail only for the account.
    let known = visitor.post_form("/password/forgot", &[("email", "ADA@example.org ")]).await;
    let unknown = visitor.post_form("/password/forgot", &[("email", "nobody@example.org")]).await;
    assert_eq!((known.status, unknown.status), (StatusCode::OK, StatusCode::OK));
    assert_eq!(
        known.body.replace("ADA@example.org ", ""),
        unknown.body.replace("nobody@example.org", "")
    );
    assert!(known.body.contains("a link to set a new password is on its way"));
    let bad = visitor.post_form("/password/forgot", &[("email", "not an address")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Asking again at once sends nothing more: nobody can fill a mailbox this way.
    visitor.post_form("/password/forgot", &[("email", "ada@example.org")]).await;

    // Two mails: the sign-up's confirmation link, and the reset link.
    let mails = inbox.until(2).await;
    let mail = mails.iter().find(|m| m["subject"] == "Set a new password for Hearth").unwrap();
    assert_eq!(mail["to"], serde_json::json!(["ada@example.org"]));
    assert_eq!(mail["headers"]["From"], FROM);
    assert!(mail["text"].as_str().unwrap().starts_with("Hello Ada Lovelace,"));
    let path = path_in(&app, mail, "/password/reset/");

    let set = visitor.post_form(&path, &[("password", "a fresh start")]).await;
    assert_eq!((set.status, set.location()), (StatusCode::SEE_OTHER, "/dashboard"));
    assert!(visitor.get("/dashboard").await.body.contains("Ada Lovelace"), "signed in");
    assert_eq!(
        ada.get("/dashboard").await.status,
        StatusCode::SEE_OTHER,
        "the other session ended"
    );
    assert_eq!(
        visitor.post_form(&path, &[("password", "once more please")]).await.status,
        StatusCode::NOT_FOUND
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(inbox.mails().len(), 2, "one reset mail, to the account only");
}

async fn a_confirmed_address_keeps_its_password_when_google_joins(backend: Backend) {
    let Some(inbox) = Inbox::start().await else { return };
    let url = inbox.url();
    let google =
        json!({ "g-bo": { "email": "bo@example.org", "email_verified": true, "name": "Bo" } });
    let app = backend
        .spawn_with_google_and(google, move |config| {
            config.smtp_url = Some(url);
            config.mail_from = Some(FROM.into());
        })
        .await;
    let bo = app.signed_up("Bo Pilot", "bo@example.org", PASSWORD).await;
    assert!(bo.get("/dashboard").await.body.contains("not confirmed"));
    // Asking again at once sends nothing more: nobody can fill a mailbox this way.
    bo.post_form("/dashboard/email/confirm", &[]).await;
    assert!(bo.get("/dashboard").await.body.contains("A link went out less than a minute ago."));
    let mails = inbox.until(1).await;
    assert_eq!(mails[0]["subject"], "Confirm your address for Hearth");
    let path = path_in(&app, &mails[0], "/email/confirm/");

    // Opening the link changes nothing by itself (mail scanners open links).
    let shown = app.browser().get(&path).await;
    assert!(shown.body.contains("Confirm bo@example.org"));
    assert!(bo.get("/dashboard").await.body.contains("not confirmed"));
    let confirmed = app.browser().post_form(&path, &[]).await;
    assert_eq!(confirmed.status, StatusCode::OK);
    assert!(confirmed.body.contains("bo@example.org is confirmed as your address."));
    assert!(!bo.get("/dashboard").await.body.contains("not confirmed"));
    assert_eq!(app.browser().post_form(&path, &[]).await.status, StatusCode::NOT_FOUND, "once");
    assert_eq!(inbox.mails().len(), 1, "one link, however often asked");

    // Google vouches for the same address: it joins the account beside the password.
    let with_google = app.browser();
    assert_eq!(
        with_google.google_sign_in("g-bo", "/dashboard").await.status,
        StatusCode::SEE_OTHER
    );
    assert!(
        with_google.get("/dashboard").await.body.contains("sign in with it or with your password")
    );
    assert_eq!(bo.get("/dashboard").await.status, StatusCode::OK, "Bo's other session goes on");
    let with_password = app
        .browser()
        .post_form("/login", &[("email", "bo@example.org"), ("password", PASSWORD)])
        .await;
    assert_eq!(with_password.status, StatusCode::SEE_OTHER, "the password still works");
}

async fn changing_ones_email_takes_a_link_sent_to_the_new_address(backend: Backend) {
    let Some(inbox) = Inbox::start().await else { return };
    let app = with_mail(backend, &inbox).await;
    let ada = app.signed_up("Ada Lovelace", "ada@example.org", PASSWORD).await;
    app.signed_up("Bo Pilot", "bo@example.org", PASSWORD).await;
    inbox.until(2).await; // the two sign-up confirmations

    assert!(ada.get("/dashboard/email").await.body.contains("Change your email"));
    let taken = ada.post_form("/dashboard/email", &[("email", "bo@example.org")]).await;
    assert_eq!(taken.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(taken.body.contains("Another account signs in with that address."));
    assert!(taken.body.contains(r#"value="bo@example.org""#), "what was typed is kept");
    let asked = ada.post_form("/dashboard/email", &[("email", "Ada@Analytical.example")]).await;
    assert_eq!((asked.status, asked.location()), (StatusCode::SEE_OTHER, "/dashboard"));
    assert!(ada.get("/dashboard").await.body.contains("We sent a link to ada@analytical.example"));

    let mails = inbox.until(3).await;
    assert_eq!(mails[2]["to"], json!(["ada@analytical.example"]));
    assert_eq!(mails[2]["subject"], "Confirm your new address for Hearth");
    let path = path_in(&app, &mails[2], "/email/confirm/");
    // Until the link is opened, nothing has changed.
    let old = app
        .browser()
        .post_form("/login", &[("email", "ada@example.org"), ("password", PASSWORD)])
        .await;
    assert_eq!(old.status, StatusCode::SEE_OTHER);
    let changed = app.browser().post_form(&path, &[]).await;
    assert!(changed.body.contains("Your account signs in as ada@analytical.example from now on."));

    // The old address is told; the new one signs in, the old one no longer.
    let mails = inbox.until(4).await;
    assert_eq!(mails[3]["to"], json!(["ada@example.org"]));
    assert_eq!(mails[3]["subject"], "Your Hearth address was changed");
    let new = app
        .browser()
        .post_form("/login", &[("email", "ada@analytical.example"), ("password", PASSWORD)])
        .await;
    assert_eq!(new.status, StatusCode::SEE_OTHER);
    let old = app
        .browser()
        .post_form("/login", &[("email", "ada@example.org"), ("password", PASSWORD)])
        .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    assert!(ada.get("/dashboard").await.body.contains("ada@analytical.example"));

    // A new password ends the links asked for before it: whoever held the account
    // then (and kept a link to an address of theirs) cannot take it back.
    ada.post_form("/dashboard/email", &[("email", "ada@third.example")]).await;
    let mails = inbox.until(5).await;
    let pending = path_in(&app, &mails[4], "/email/confirm/");
    let changed = ada
        .post_form(
            "/dashboard/password",
            &[("current_password", PASSWORD), ("new_password", "a new passphrase")],
        )
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER);
    assert_eq!(app.browser().get(&pending).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.browser().post_form(&pending, &[]).await.status, StatusCode::NOT_FOUND);
    assert!(ada.get("/dashboard").await.body.contains("ada@analytical.example"));
}

/// Signs `name` up and opens the link that confirms their address (the `n`th mail).
async fn confirmed(
    app: &TestApp,
    inbox: &Inbox,
    n: usize,
    name: &str,
    email: &str,
) -> crate::support::Browser {
    let browser = app.signed_up(name, email, PASSWORD).await;
    let mails = inbox.until(n).await;
    let mail = mails.iter().find(|m| m["to"] == json!([email])).unwrap();
    let path = path_in(app, mail, "/email/confirm/");
    assert_eq!(app.browser().post_form(&path, &[]).await.status, StatusCode::OK);
    browser
}

async fn a_missed_mention_is_emailed_once_with_a_one_click_way_out(backend: Backend) {
    let Some(inbox) = Inbox::start().await else { return };
    let url = inbox.url();
    let app = backend
        .spawn_with(move |config| {
            config.smtp_url = Some(url);
            config.mail_from = Some(FROM.into());
            config.missed_mention_after = std::time::Duration::from_secs(2);
        })
        .await;
    // Ada never confirms her address; Bo and Cy do.
    let ada = app.signed_up("Ada Lovelace", "ada@example.org", PASSWORD).await;
    let bo = confirmed(&app, &inbox, 2, "Bo Pilot", "bo@example.org").await;
    let cy = confirmed(&app, &inbox, 3, "Cy Ng", "cy@example.org").await;

    // Cy is reading the room when it comes; Bo is not.
    let mut cy_reads = app.live_socket(&cy, "general").await;
    let (status, _) = ada
        .call(
            "POST",
            "/api/rooms/general/messages",
            Some(json!({ "body": "@Bo Pilot and @Cy Ng, the report is in" })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    cy_reads.expect("the report is in", std::time::Duration::from_secs(2)).await;
    cy_reads.close().await;
    // (Sending a message reads the room: Cy answers, Bo does not.)
    let (status, _) = cy
        .call(
            "POST",
            "/api/rooms/general/messages",
            Some(json!({ "body": "@Ada Lovelace thanks" })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);

    let mails = inbox.until(4).await;
    let mail = &mails[3];
    assert_eq!(mail["to"], json!(["bo@example.org"]));
    assert_eq!(mail["subject"], "You were mentioned in #General");
    let text = mail["text"].as_str().unwrap();
    assert!(text.contains("Ada Lovelace: @Bo Pilot and @Cy Ng, the report is in"), "{text}");
    // Its link opens the room around the message.
    let base = app.browser().url("");
    let link = link_in(text, &format!("{base}/chat/general/messages?around="));
    let opened = bo.get(link.strip_prefix(&base).unwrap()).await;
    assert!(opened.body.contains("the report is in"));
    let stop = mail["headers"]["List-Unsubscribe"].as_str().unwrap();
    let stop = stop.trim_start_matches('<').trim_end_matches('>').to_owned();
    assert_eq!(mail["headers"]["List-Unsubscribe-Post"], "List-Unsubscribe=One-Click");

    // Another mention within the hour is not another email; nor did Cy (who read
    // it) or Ada (whose address is not confirmed) get one.
    ada.call("POST", "/api/rooms/general/messages", Some(json!({ "body": "@Bo Pilot also this" })))
        .await;
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    assert_eq!(inbox.mails().len(), 4);

    // One click, as a mail program makes it: a POST with no cookie and no origin.
    assert!(bo.get("/dashboard/email").await.body.contains("Stop these emails"));
    let clicked = reqwest::Client::new()
        .post(&stop)
        .form(&[("List-Unsubscribe", "One-Click")])
        .send()
        .await
        .unwrap();
    assert_eq!(clicked.status(), StatusCode::OK);
    let page = bo.get("/dashboard/email").await.body;
    assert!(page.contains("You get no emails about mentions."));
    // And back on, from the dashboard.
    bo.post_form("/dashboard/email/mentions", &[("mentions", "on")]).await;
    assert!(bo.get("/dashboard/email").await.body.contains("Stop these emails"));
}
