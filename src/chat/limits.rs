//! What one member may start in the chat, per person: sockets opened (each costs
//! several queries before it is live) and rooms and direct conversations created.
//! Messages are limited with sign-ins, in `web::limits`; open sockets are capped by
//! the hub, which counts them.

use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use maud::Markup;
use poem::http::{StatusCode, header};
use poem::{IntoResponse, Response};

use crate::config::Config;
use crate::error::AppError;
use crate::web::limits::{at_least_one, counted};

pub struct ChatLimits {
    socket_opens: DefaultKeyedRateLimiter<i64>,
    rooms_started: DefaultKeyedRateLimiter<i64>,
}

impl ChatLimits {
    pub fn new(config: &Config) -> Self {
        let opens = at_least_one(config.chat_socket_opens_per_minute);
        let rooms = at_least_one(config.chat_rooms_per_hour);
        Self {
            // All at once: a person's tabs reconnect together after a restart.
            socket_opens: RateLimiter::keyed(Quota::per_minute(opens).allow_burst(opens)),
            // In bursts of up to a third, as messages are.
            rooms_started: RateLimiter::keyed(
                Quota::per_hour(rooms).allow_burst(at_least_one(rooms.get() / 3)),
            ),
        }
    }

    /// Counts a chat socket opened by `user_id`: 429 past the limit.
    pub fn socket_opened_by(&self, user_id: i64) -> Result<(), AppError> {
        counted(self.socket_opens.check_key(&user_id), "socket_opens")
            .map_err(|retry_after| AppError::RateLimited { retry_after })
    }

    /// Counts a room or conversation started by `user_id`; past the limit, how long
    /// until another is allowed.
    pub fn room_started_by(&self, user_id: i64) -> Result<(), Duration> {
        counted(self.rooms_started.check_key(&user_id), "rooms")
    }

    /// Forgets people whose limits have fully recovered, so memory stays bounded.
    pub fn forget_idle(&self) {
        self.socket_opens.retain_recent();
        self.rooms_started.retain_recent();
    }
}

/// What a person who starts rooms or conversations too fast is told.
pub fn too_fast(retry_after: Duration) -> String {
    let minutes = retry_after.as_secs().div_ceil(60).max(1);
    let wait = if minutes == 1 { "a minute".to_owned() } else { format!("{minutes} minutes") };
    format!(
        "You are starting new rooms and conversations very quickly. Please wait {wait} and try again."
    )
}

/// `page` as the answer 429, saying when to try again.
pub fn refused(page: Markup, retry_after: Duration) -> Response {
    page.with_status(StatusCode::TOO_MANY_REQUESTS)
        .with_header(header::RETRY_AFTER, retry_after.as_secs().max(1))
        .into_response()
}
