//! What one member may start in the chat, per person: sockets opened (each costs
//! several queries before it is live).
//! Messages are limited with sign-ins, in `web::limits`; open sockets are capped by
//! the hub, which counts them.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::Config;
use crate::error::AppError;

pub struct ChatLimits {
    socket_opens: DefaultKeyedRateLimiter<i64>,
}

impl ChatLimits {
    pub fn new(config: &Config) -> Self {
        let opens = at_least_one(config.chat_socket_opens_per_minute);
        Self {
            // All at once: a person's tabs reconnect together after a restart.
            socket_opens: RateLimiter::keyed(Quota::per_minute(opens).allow_burst(opens)),
        }
    }

    /// Counts a chat socket opened by `user_id`: 429 past the limit.
    pub fn socket_opened_by(&self, user_id: i64) -> Result<(), AppError> {
        check(&self.socket_opens, user_id, "socket_opens")
            .map_err(|retry_after| AppError::RateLimited { retry_after })
    }

    /// Forgets people whose limits have fully recovered, so memory stays bounded.
    pub fn forget_idle(&self) {
        self.socket_opens.retain_recent();
    }
}

fn at_least_one(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

/// Counts one for `key`, or says how long until one is allowed.
fn check(
    limiter: &DefaultKeyedRateLimiter<i64>,
    key: i64,
    limit: &'static str,
) -> Result<(), Duration> {
    limiter.check_key(&key).map_err(|not_until| {
        metrics::counter!("hearth_rate_limited_total", "limit" => limit).increment(1);
        not_until.wait_time_from(DefaultClock::default().now()).max(Duration::from_secs(1))
    })
}
