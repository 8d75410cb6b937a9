//! Delivering messages to bots: one POST per message owed, signed, time-bounded,
//! tried again with growing waits, and the bot's answer posted in the room.
//!
//! Deliveries wait in the database (see [`super::store::owed`]), so a restart or a
//! crash loses none, and any instance sharing the database may take one. They run
//! in their own tasks, a few at a time: a slow or dead bot never slows the chat.

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

use super::store::{self, Owed};
use crate::AppState;
use crate::accounts::users;
use crate::chat::{self, messages, rooms};
use crate::outbound::Refusal;
use crate::{db, queue};

/// How long a bot has to answer, connection included.
pub const TIMEOUT: Duration = Duration::from_secs(5);
/// Tries before a delivery is given up: with the default first wait of 10 s,
/// tripling, the last try comes about three hours after the first.
pub const MOST_ATTEMPTS: i64 = 8;
/// The most of an answer that is read: a bot's answer is at most 4,000
/// characters, and a sender of endless bytes must not fill the memory.
const MOST_READ: usize = 64 * 1024;

/// Delivers what is owed, until the process stops.
pub async fn keep_delivering(state: AppState) {
    let queue = queue::Queue {
        table: store::QUEUE,
        columns: "id, bot_id, room_id, seq, attempts",
        at_once: 8,
        lease: Duration::from_secs(60),
        idle: Duration::from_secs(30),
    };
    queue::work(
        state,
        queue,
        |state| &state.bots.wake,
        |state, owed: Owed| async move { deliver(&state, &owed).await },
    )
    .await
}

/// What a bot said back.
#[derive(Debug, PartialEq, Eq)]
enum Answer {
    Nothing,
    /// Text to post in the room as the bot.
    Text(String),
    /// Something that is not an answer; the reason, for the administrator.
    Unreadable(&'static str),
}

/// What one try came to.
enum Outcome {
    /// 2xx, and what the bot answered.
    Delivered(u16, Answer),
    /// Worth trying again (no answer in time, 5xx, 429).
    Failed(String),
    /// Trying again cannot help (refused destination, other 4xx, a redirect).
    Refused(String),
    /// Nothing to deliver any more: the message was deleted, the bot left the
    /// room or was deactivated.
    Moot,
}

async fn deliver(state: &AppState, owed: &Owed) -> crate::error::Result<()> {
    let outcome = attempt(state, owed).await?;
    let db = &state.db;
    match outcome {
        Outcome::Moot => queue::forget(db, store::QUEUE, owed.id).await?,
        Outcome::Delivered(status, answer) => {
            queue::forget(db, store::QUEUE, owed.id).await?;
            let not_posted = match answer {
                Answer::Nothing => None,
                Answer::Text(text) => post_answer(state, owed, &text).await?.err(),
                Answer::Unreadable(why) => Some(why.to_owned()),
            };
            let said = match not_posted {
                None => format!("Delivered ({status})."),
                Some(why) => format!("Delivered ({status}); its answer was not posted: {why}"),
            };
            store::record_outcome(db, owed.bot_id, true, &said).await?;
        }
        Outcome::Failed(why) if owed.attempts < MOST_ATTEMPTS => {
            let wait = state.config.bot_retry_after * 3u32.pow((owed.attempts - 1) as u32);
            queue::retry_later(db, store::QUEUE, owed.id, wait.as_millis() as i64).await?;
            let said = format!(
                "{why} Trying again in {} (try {} of {MOST_ATTEMPTS}).",
                in_words(wait),
                owed.attempts + 1
            );
            store::record_outcome(db, owed.bot_id, false, &said).await?;
        }
        Outcome::Failed(why) | Outcome::Refused(why) => {
            queue::forget(db, store::QUEUE, owed.id).await?;
            let said =
                format!("{why} Given up on message {} after {} tries.", owed.seq, owed.attempts);
            store::record_outcome(db, owed.bot_id, false, &said).await?;
        }
    }
    Ok(())
}

/// What a bot receives.
#[derive(Serialize)]
struct Delivery<'a> {
    /// The bot itself, for an endpoint that serves several.
    bot: Person<'a>,
    room: Room<'a>,
    message: Message<'a>,
}

#[derive(Serialize)]
struct Person<'a> {
    id: i64,
    name: &'a str,
}

#[derive(Serialize)]
struct Room<'a> {
    /// What the API calls the room by (`/api/rooms/{room}/messages`).
    slug: &'a str,
    /// Its name, or for a conversation the names of the others in it.
    title: &'a str,
    /// `public` (a room) or `direct` (a conversation).
    kind: rooms::RoomKind,
}

#[derive(Serialize)]
struct Message<'a> {
    seq: i64,
    body: &'a str,
    author: Person<'a>,
    /// Unix seconds, as in the API.
    created_at: i64,
}

async fn attempt(state: &AppState, owed: &Owed) -> crate::error::Result<Outcome> {
    let db = &state.db;
    let Some(endpoint) = store::endpoint(db, owed.bot_id).await? else { return Ok(Outcome::Moot) };
    let Some(bot) = users::find_by_id(db, owed.bot_id).await? else { return Ok(Outcome::Moot) };
    let Some(room) = rooms::find_mine_by_id(db, owed.bot_id, owed.room_id).await? else {
        return Ok(Outcome::Moot);
    };
    let Some(message) = messages::one(db, owed.room_id, owed.seq).await? else {
        return Ok(Outcome::Moot);
    };
    let body = serde_json::to_vec(&Delivery {
        bot: Person { id: bot.id, name: &bot.name },
        room: Room { slug: &room.slug, title: &room.title, kind: room.kind },
        message: Message {
            seq: message.seq,
            body: &message.body,
            author: Person { id: message.user_id, name: &message.author_name },
            created_at: message.created_at,
        },
    })
    .map_err(anyhow::Error::from)?;
    let timestamp = db::now();
    let signature = sign(&endpoint.signing_secret, timestamp, &body)?;

    let Ok(url) = url::Url::parse(&endpoint.webhook_url) else {
        return Ok(Outcome::Refused(Refusal::Unusable.to_string()));
    };
    let request = match state.bots.outbound.post(&url) {
        Ok(request) => request,
        Err(refusal) => return Ok(Outcome::Refused(refusal.to_string())),
    };
    let sent = request
        .header("content-type", "application/json")
        .header("x-hearth-timestamp", timestamp.to_string())
        .header("x-hearth-signature", format!("sha256={signature}"))
        .header("x-hearth-delivery", owed.id.to_string())
        .body(body)
        .send()
        .await;
    let mut response = match sent {
        Ok(response) => response,
        Err(err) => return Ok(failure(&err)),
    };
    let status = response.status();
    if status.is_redirection() {
        return Ok(Outcome::Refused(format!(
            "It answered {status}, a redirect, which Hearth does not follow."
        )));
    }
    if status.as_u16() == 429 || status.as_u16() == 408 || status.is_server_error() {
        return Ok(Outcome::Failed(format!("It answered {status}.")));
    }
    if !status.is_success() {
        return Ok(Outcome::Refused(format!("It answered {status}.")));
    }
    let is_json = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    let mut read = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) if read.len() + chunk.len() <= MOST_READ => {
                read.extend_from_slice(&chunk)
            }
            Ok(Some(_)) => {
                return Ok(Outcome::Refused(format!(
                    "It answered {status} with more than {} KiB.",
                    MOST_READ / 1024
                )));
            }
            Ok(None) => break,
            Err(err) => return Ok(failure(&err)),
        }
    }
    Ok(Outcome::Delivered(status.as_u16(), answer(&read, is_json)))
}

/// What a bot answered: a plain-text body, or JSON `{"body": "…"}` as the API
/// takes a message (JSON without `body` is no answer).
fn answer(read: &[u8], is_json: bool) -> Answer {
    #[derive(serde::Deserialize)]
    struct Json {
        body: Option<String>,
    }
    let text = if is_json {
        match serde_json::from_slice::<Json>(read) {
            Ok(json) => json.body.unwrap_or_default(),
            Err(_) => return Answer::Unreadable("it is not the JSON it says it is."),
        }
    } else {
        match String::from_utf8(read.to_vec()) {
            Ok(text) => text,
            Err(_) => return Answer::Unreadable("it is not UTF-8 text."),
        }
    };
    if text.trim().is_empty() { Answer::Nothing } else { Answer::Text(text) }
}

/// Posts the bot's answer in the room, through the chat like any message: it is
/// stored, numbered and pushed to every open page. `Err` says why it was not.
async fn post_answer(
    state: &AppState,
    owed: &Owed,
    answer: &str,
) -> crate::error::Result<Result<(), String>> {
    let Some(bot) = users::find_by_id(&state.db, owed.bot_id).await? else {
        return Ok(Err("the bot is gone.".into()));
    };
    let sent = chat::send(state, &bot, owed.room_id, answer, &[]).await?;
    Ok(sent.map(drop).map_err(|refused| refused.message().to_owned()))
}

/// A request that got no usable answer: worth trying again, unless the resolver
/// refused the destination.
fn failure(err: &reqwest::Error) -> Outcome {
    let mut source: Option<&dyn std::error::Error> = Some(err);
    while let Some(cause) = source {
        if let Some(refusal) = cause.downcast_ref::<Refusal>() {
            return Outcome::Refused(refusal.to_string());
        }
        source = cause.source();
    }
    if err.is_timeout() {
        Outcome::Failed(format!("It did not answer within {} seconds.", TIMEOUT.as_secs()))
    } else if err.is_connect() {
        Outcome::Failed("Hearth could not connect to it.".into())
    } else {
        Outcome::Failed("The connection failed before it answered.".into())
    }
}

/// `X-Hearth-Signature`'s value without its `sha256=`: HMAC-SHA256 with the bot's
/// signing secret over the timestamp, a dot and the body, in hex. The timestamp
/// lets a bot refuse an old delivery replayed.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> crate::error::Result<String> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).map_err(anyhow::Error::from)?;
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect())
}

fn in_words(wait: Duration) -> String {
    match wait.as_secs() {
        0 => format!("{} ms", wait.as_millis()),
        s @ 1..120 => format!("{s} seconds"),
        s @ 120..7200 => format!("{} minutes", s / 60),
        s => format!("{} hours", s / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_covers_the_timestamp_and_the_body() {
        // As Python computes it: hmac.new(b"secret", b"1700000000.{}", sha256).
        let signed = sign("secret", 1_700_000_000, b"{}").unwrap();
        assert_eq!(signed, "b8569b78799ff9e3cbff0fc2d63a33a2b57f3282abd07c37ae5e8e7d79a5f163");
        assert_ne!(signed, sign("secret", 1_700_000_001, b"{}").unwrap());
        assert_ne!(signed, sign("secret", 1_700_000_000, b"{ }").unwrap());
        assert_ne!(signed, sign("other", 1_700_000_000, b"{}").unwrap());
    }

    #[test]
    fn an_answer_is_text_or_a_json_body() {
        assert_eq!(answer(b"pong", false), Answer::Text("pong".into()));
        assert_eq!(answer(b"  \n", false), Answer::Nothing);
        assert_eq!(answer(br#"{"body":"pong"}"#, true), Answer::Text("pong".into()));
        assert_eq!(answer(br#"{"ok":true}"#, true), Answer::Nothing);
        assert!(matches!(answer(b"not json", true), Answer::Unreadable(_)));
        assert!(matches!(answer(&[0xff, 0xfe], false), Answer::Unreadable(_)));
    }
}
