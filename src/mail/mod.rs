//! Email, when `SMTP_URL` is set: links to set a new password or confirm an
//! address, and mentions someone missed.
//!
//! A capability hands [`send`] a [`Mail`]; it waits in the database
//! (`outgoing_mail`, worked as a [`crate::queue`]) until the SMTP server takes it,
//! so a restart loses none and a slow server never holds up a page. Mail the server
//! refuses for good (a 5xx) is dropped with a warning; anything else is tried
//! again, eight times over about nine hours. Each mail has a plain-text part and
//! an HTML part, made from the same paragraphs.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use maud::html;
use tokio::sync::Notify;

use crate::db;
use crate::error::Result;
use crate::{AppState, Config, on_db, queue};

/// The outbox, as [`crate::queue`] works it.
const QUEUE: &str = "outgoing_mail";
const MOST_ATTEMPTS: i64 = 8;
/// Longer than a try can take (at most `SEND_WITHIN`).
const LEASE: Duration = Duration::from_secs(120);
/// The most one send may take, well within the lease.
const SEND_WITHIN: Duration = Duration::from_secs(60);

/// One email, as a capability words it.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    /// The paragraphs, in order; plain text in both parts.
    pub paragraphs: Vec<String>,
    /// The one thing to do: a button in HTML, the address on its own line in text.
    pub action: Option<(String, String)>,
    /// A one-click unsubscribe address (RFC 8058), for mail someone may not want.
    pub unsubscribe: Option<String>,
    /// How long it is worth sending: a link's validity. A mail still waiting after
    /// that (the server was down) is dropped rather than sent dead.
    pub valid_for: Option<Duration>,
}

/// How this Hearth sends email, if it does.
pub struct Mailer {
    transport: Option<(AsyncSmtpTransport<Tokio1Executor>, Mailbox)>,
    /// Wakes the worker when a mail is waiting.
    wake: Notify,
}

impl Mailer {
    pub fn new(config: &Config, base_url: &url::Url) -> anyhow::Result<Self> {
        let transport = match (&config.smtp_url, &config.mail_from) {
            (Some(url), Some(from)) => {
                let host = base_url.host_str().unwrap_or("localhost").to_owned();
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)?
                    .hello_name(ClientId::Domain(host))
                    .timeout(Some(Duration::from_secs(20)))
                    .build();
                Some((transport, from.parse()?))
            }
            _ => None,
        };
        Ok(Mailer { transport, wake: Notify::new() })
    }

    /// Whether Hearth sends email at all (`SMTP_URL` is set).
    pub fn enabled(&self) -> bool {
        self.transport.is_some()
    }
}

/// Puts `mail` in the outbox; the worker sends it. Does nothing without SMTP.
pub async fn send(state: &AppState, mail: Mail) -> Result<()> {
    if !state.mailer.enabled() {
        return Ok(());
    }
    let (text, html) = render(&mail);
    on_db!(&state.db, pool => sqlx::query(
        "INSERT INTO outgoing_mail
             (recipient, subject, text_body, html_body, unsubscribe, expires_at, due_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&mail.to)
    .bind(&mail.subject)
    .bind(text)
    .bind(html)
    .bind(&mail.unsubscribe)
    .bind(mail.valid_for.map(|valid| queue::now_ms() + valid.as_millis() as i64))
    .bind(queue::now_ms())
    .bind(db::now())
    .execute(pool)
    .await
    .map(|done| done.rows_affected()))?;
    state.mailer.wake.notify_one();
    Ok(())
}

/// The text and HTML parts of `mail`.
fn render(mail: &Mail) -> (String, String) {
    let mut text = mail.paragraphs.join("\n\n");
    if let Some((label, url)) = &mail.action {
        text.push_str(&format!("\n\n{label}:\n{url}\n"));
    }
    if let Some(url) = &mail.unsubscribe {
        text.push_str(&format!("\n--\nTo stop these emails: {url}\n"));
    }
    let html = html! {
        (maud::DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { (mail.subject) } }
            body style="font-family: system-ui, sans-serif; line-height: 1.5; color: #2b2520; max-width: 36em" {
                @for paragraph in &mail.paragraphs { p { (paragraph) } }
                @if let Some((label, url)) = &mail.action {
                    p { a href=(url) style="display: inline-block; padding: .6em 1.2em; background: #b4532a; color: #fff; border-radius: 6px; text-decoration: none" { (label) } }
                    p style="font-size: .9em; color: #5c524a" { "Or open this address: " (url) }
                }
                @if let Some(url) = &mail.unsubscribe {
                    p style="font-size: .85em; color: #5c524a" { a href=(url) { "Stop these emails" } }
                }
            }
        }
    };
    (text, html.into_string())
}

#[derive(Debug, sqlx::FromRow)]
struct Waiting {
    id: i64,
    recipient: String,
    subject: String,
    text_body: String,
    html_body: String,
    unsubscribe: Option<String>,
    expires_at: Option<i64>,
    attempts: i64,
}

/// Sends what waits in the outbox, until the process stops.
pub async fn keep_sending(state: AppState) {
    if !state.mailer.enabled() {
        return;
    }
    let queue = queue::Queue {
        table: QUEUE,
        columns: "id, recipient, subject, text_body, html_body, unsubscribe, expires_at, attempts",
        at_once: 4,
        lease: LEASE,
        idle: Duration::from_secs(60),
    };
    queue::work(
        state,
        queue,
        |state| &state.mailer.wake,
        |state, waiting: Waiting| async move { hand_over(&state, &waiting).await },
    )
    .await
}

/// Hands one mail to the SMTP server, and settles what comes of it.
async fn hand_over(state: &AppState, waiting: &Waiting) -> Result<()> {
    let Some((transport, from)) = &state.mailer.transport else { return Ok(()) };
    let db = &state.db;
    if waiting.expires_at.is_some_and(|at| at < queue::now_ms()) {
        tracing::warn!(
            mail = waiting.id,
            "an email whose link expired before it could be sent was dropped"
        );
        return queue::forget(db, QUEUE, waiting.id).await;
    }
    let message = match build(from, waiting) {
        Ok(message) => message,
        Err(err) => {
            tracing::warn!(
                mail = waiting.id,
                "an email that cannot be written was dropped: {err:#}"
            );
            return queue::forget(db, QUEUE, waiting.id).await;
        }
    };
    // Each SMTP command has its own timeout; the whole send must end within the
    // lease, or another instance could take the mail and send it twice.
    let sent = match tokio::time::timeout(SEND_WITHIN, transport.send(message)).await {
        Ok(sent) => sent,
        Err(_) => {
            tracing::info!(mail = waiting.id, "the mail server took too long; trying again");
            let wait = state.config.mail_retry_after.as_millis() as i64;
            return queue::retry_later(db, QUEUE, waiting.id, wait).await;
        }
    };
    match sent {
        Ok(_) => queue::forget(db, QUEUE, waiting.id).await,
        Err(err) if err.is_permanent() || waiting.attempts >= MOST_ATTEMPTS => {
            tracing::warn!(
                mail = waiting.id,
                attempts = waiting.attempts,
                "the mail server refused an email; it was dropped: {err}"
            );
            queue::forget(db, QUEUE, waiting.id).await
        }
        Err(err) => {
            let wait = state.config.mail_retry_after * 3u32.pow((waiting.attempts - 1) as u32);
            tracing::info!(mail = waiting.id, "email not sent, trying again in {wait:?}: {err}");
            queue::retry_later(db, QUEUE, waiting.id, wait.as_millis() as i64).await
        }
    }
}

fn build(from: &Mailbox, waiting: &Waiting) -> anyhow::Result<lettre::Message> {
    let mut builder = lettre::Message::builder()
        .from(from.clone())
        .to(waiting.recipient.parse()?)
        .subject(&waiting.subject);
    if let Some(url) = &waiting.unsubscribe {
        builder = builder.header(ListUnsubscribe(format!("<{url}>"))).header(ListUnsubscribePost);
    }
    let body = MultiPart::alternative()
        .singlepart(
            SinglePart::builder().header(ContentType::TEXT_PLAIN).body(waiting.text_body.clone()),
        )
        .singlepart(
            SinglePart::builder().header(ContentType::TEXT_HTML).body(waiting.html_body.clone()),
        );
    Ok(builder.multipart(body)?)
}

/// `List-Unsubscribe` (RFC 2369): where a mail program's "unsubscribe" goes.
#[derive(Clone)]
struct ListUnsubscribe(String);

impl lettre::message::header::Header for ListUnsubscribe {
    fn name() -> lettre::message::header::HeaderName {
        lettre::message::header::HeaderName::new_from_ascii_str("List-Unsubscribe")
    }
    fn parse(s: &str) -> std::result::Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribe(s.to_owned()))
    }
    fn display(&self) -> lettre::message::header::HeaderValue {
        lettre::message::header::HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// `List-Unsubscribe-Post` (RFC 8058): the unsubscribe address takes a POST, at
/// once, without asking anything.
#[derive(Clone)]
struct ListUnsubscribePost;

impl lettre::message::header::Header for ListUnsubscribePost {
    fn name() -> lettre::message::header::HeaderName {
        lettre::message::header::HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }
    fn parse(_: &str) -> std::result::Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribePost)
    }
    fn display(&self) -> lettre::message::header::HeaderValue {
        lettre::message::header::HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".into())
    }
}
