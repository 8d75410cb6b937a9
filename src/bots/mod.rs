//! Bots that answer: accounts whose messages come from another program, through an
//! outgoing webhook.
//!
//! An administrator adds a bot on `/admin` (a name and a webhook URL) and gets its
//! API token and signing secret, each shown once. The bot is a person in people
//! lists; it is added to rooms like anyone. When a message mentions it, or is sent
//! in a conversation it is in, Hearth POSTs the message to the URL, signed (see
//! [`delivery::sign`]); a text answer is posted in the room as the bot.
//!
//! - [`store`]: the bots and the deliveries owed to them, owed in the message's own
//!   transaction.
//! - [`delivery`]: the worker that delivers them, signs, retries and posts answers.
//! - [`views`]: the administrator's bots section and the page that adds one.
//!
//! The URL is checked as every URL people hand Hearth is (see [`crate::outbound`]).

pub mod delivery;
pub mod store;
mod views;

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use maud::Markup;
use poem::http::StatusCode;
use poem::web::Data;
use poem::{IntoResponse, Response, Route, get, handler};
use serde::Deserialize;
use tokio::sync::Notify;

use crate::accounts::fields::Name;
use crate::accounts::tokens;
use crate::admin::Admin;
use crate::error::Result;
use crate::events::{Event, Events};
use crate::outbound::Outbound;
use crate::web::Form;
use crate::{AppState, Config};

pub use views::section;

/// What the bots keep in the shared state.
pub struct Bots {
    /// Wakes the worker: a message was stored that may be owed to a bot.
    pub wake: Notify,
    /// The client deliveries go through.
    pub outbound: Outbound,
}

impl Bots {
    pub fn new(config: &Config) -> anyhow::Result<Self> {
        Ok(Bots {
            wake: Notify::new(),
            outbound: Outbound::new(config.bot_webhooks_allow_loopback, delivery::TIMEOUT)?,
        })
    }
}

pub fn routes(route: Route) -> Route {
    route.at("/admin/bots", get(new_bot).post(add))
}

/// What the bots do when others announce: a stored message may be owed to a bot
/// (the worker finds out, in its own task).
pub fn listen(events: &Events, bots: &Arc<Bots>) {
    let bots = bots.clone();
    events.subscribe(move |event| {
        if let Event::MessageStored { .. } = event {
            bots.wake.notify_one();
        }
    });
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NewBot {
    name: String,
    webhook_url: String,
}

/// Problems with a new bot's fields, by field.
#[derive(Default)]
struct Problems {
    name: Option<&'static str>,
    webhook_url: Option<&'static str>,
}

#[handler]
async fn new_bot(Admin(admin): Admin) -> Markup {
    views::form(&admin, &NewBot::default(), None, None)
}

/// Adds a bot, and shows its token and secret in the answer itself, once.
#[handler]
async fn add(
    state: Data<&AppState>,
    Admin(admin): Admin,
    Form(input): Form<NewBot>,
) -> Result<Response> {
    let mut problems = Problems::default();
    let name = Name::parse(&input.name).map_err(|problem| problems.name = Some(problem)).ok();
    let url = match state.bots.outbound.destination(&input.webhook_url).await {
        Ok(url) => Some(url),
        Err(refusal) => {
            problems.webhook_url = Some(refusal.message());
            None
        }
    };
    let (Some(name), Some(url)) = (name, url) else {
        let page = views::form(&admin, &input, problems.name, problems.webhook_url);
        return Ok(page.with_status(StatusCode::UNPROCESSABLE_ENTITY).into_response());
    };
    let secret = format!("hearth_whsec_{}", crate::accounts::new_secret());
    let id = store::create(&state.db, name.as_str(), url.as_str(), &secret, admin.id).await?;
    let token = tokens::create(&state.db, id, "Bot token").await?;
    tracing::info!(target: "audit", admin_id = admin.id, bot_id = id, "bot added");
    Ok(views::added(&admin, name.as_str(), &token, &secret).into_response())
}

/// `bytes` random bytes, as URL-safe text.
fn random_text(bytes: usize) -> String {
    let random: Vec<u8> = (0..bytes).map(|_| rand::random::<u8>()).collect();
    URL_SAFE_NO_PAD.encode(random)
}
