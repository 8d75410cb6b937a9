//! Rate limits: sign-in and sign-up per client address and per account, so that
//! guessing passwords is slow and one address cannot flood the hashers; passkey
//! challenges per address; and chat messages per person. An IPv6 client is counted by its /64: one home or server is
//! usually given a whole /64, and could otherwise take a fresh address per attempt.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::NotUntil;
use governor::clock::{Clock, DefaultClock, QuantaInstant};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::AppError;

pub struct Limits {
    per_address: DefaultKeyedRateLimiter<IpAddr>,
    /// Passkey challenges: each is kept in a session, so a stranger asking for them
    /// in a loop would fill the session table.
    challenges: DefaultKeyedRateLimiter<IpAddr>,
    per_account: Failures,
    per_sender: DefaultKeyedRateLimiter<i64>,
}

impl Limits {
    pub fn new(config: &crate::Config) -> Self {
        // Messages may come in bursts of a third of the minute's allowance.
        let messages = per_minute(config.chat_messages_per_minute).allow_burst(
            NonZeroU32::new(config.chat_messages_per_minute / 3).unwrap_or(NonZeroU32::MIN),
        );
        Self {
            per_address: RateLimiter::keyed(per_minute(config.rate_limit_per_address)),
            // Every view of the sign-in page asks for one (for the browser's
            // suggestions), so more than sign-ins, in proportion to them.
            challenges: RateLimiter::keyed(per_minute(
                config.rate_limit_per_address.saturating_mul(CHALLENGES_PER_SIGN_IN),
            )),
            per_account: Failures::new(config.rate_limit_per_account as usize, MINUTE),
            per_sender: RateLimiter::keyed(messages),
        }
    }

    /// Counts one attempt from `addr` (from its /64, for IPv6).
    pub fn attempt_from(&self, addr: IpAddr) -> Result<(), AppError> {
        check(self.per_address.check_key(&address_key(addr)), "address")
    }

    /// Counts one passkey challenge asked for from `addr`.
    pub fn challenge_from(&self, addr: IpAddr) -> Result<(), AppError> {
        check(self.challenges.check_key(&address_key(addr)), "passkey_challenges")
    }

    /// Counts one attempt at the account `email` (whether or not it exists) as a
    /// failure, until [`Limits::succeeded_on`] says it was not one.
    pub fn attempt_on(&self, email: &str) -> Result<(), AppError> {
        self.per_account.reserve(email).map_err(|retry_after| {
            metrics::counter!("hearth_rate_limited_total", "limit" => "account").increment(1);
            AppError::RateLimited { retry_after }
        })
    }

    /// The attempt at `email` succeeded: it does not count against the account, so
    /// signing in on six devices in a minute is not refused.
    pub fn succeeded_on(&self, email: &str) {
        self.per_account.refund(email);
    }

    /// Counts one chat message from `user_id`.
    pub fn message_from(&self, user_id: i64) -> Result<(), AppError> {
        check(self.per_sender.check_key(&user_id), "messages")
    }

    /// Forgets keys whose limits have fully recovered, so memory stays bounded.
    pub fn forget_idle(&self) {
        self.per_address.retain_recent();
        self.challenges.retain_recent();
        self.per_account.forget_idle();
        self.per_sender.retain_recent();
    }
}

const MINUTE: Duration = Duration::from_secs(60);
/// Passkey challenges allowed per address for each sign-in allowed.
const CHALLENGES_PER_SIGN_IN: u32 = 4;

/// At most `allowed` failures per key in any `window`. An attempt counts as a
/// failure from the moment it starts (so a burst of guesses sent at once is
/// limited like guesses sent one by one) until it is refunded as a success.
///
/// Written here rather than with governor, which can count an attempt but not
/// give it back.
struct Failures {
    allowed: usize,
    window: Duration,
    /// When each counted failure happened, oldest first, per key.
    by_key: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl Failures {
    fn new(allowed: usize, window: Duration) -> Self {
        Self { allowed: allowed.max(1), window, by_key: Mutex::default() }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, VecDeque<Instant>>> {
        self.by_key.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Counts an attempt, or says how long until one is allowed.
    fn reserve(&self, key: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let mut by_key = self.lock();
        let failures = by_key.entry(key.to_owned()).or_default();
        while failures.front().is_some_and(|at| now.duration_since(*at) >= self.window) {
            failures.pop_front();
        }
        if failures.len() >= self.allowed {
            let oldest = failures.front().copied().unwrap_or(now);
            let wait = self.window.saturating_sub(now.duration_since(oldest));
            return Err(wait.max(Duration::from_secs(1)));
        }
        failures.push_back(now);
        Ok(())
    }

    /// Takes back the newest counted attempt of `key`.
    fn refund(&self, key: &str) {
        if let Some(failures) = self.lock().get_mut(key) {
            failures.pop_back();
        }
    }

    fn forget_idle(&self) {
        let now = Instant::now();
        self.lock().retain(|_, failures| {
            failures.back().is_some_and(|at| now.duration_since(*at) < self.window)
        });
    }
}

/// The bucket `addr` counts in: an IPv4 address itself (also when written as an
/// IPv4-mapped IPv6 address), an IPv6 address's /64 network.
fn address_key(addr: IpAddr) -> IpAddr {
    match addr.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !u128::from(u64::MAX))),
        v4 => v4,
    }
}

/// `n` per minute, all of which may be used at once.
fn per_minute(n: u32) -> Quota {
    let n = at_least_one(n);
    Quota::per_minute(n).allow_burst(n)
}

/// `n` as a quota's count: a setting of 0 means one, never "no limit".
pub fn at_least_one(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

fn check(result: Result<(), NotUntil<QuantaInstant>>, limit: &'static str) -> Result<(), AppError> {
    counted(result, limit).map_err(|retry_after| AppError::RateLimited { retry_after })
}

/// A governor check's answer as the wait until the next try (at least a second),
/// counted in `hearth_rate_limited_total` under `limit` when it is a refusal.
pub fn counted(
    result: Result<(), NotUntil<QuantaInstant>>,
    limit: &'static str,
) -> Result<(), Duration> {
    result.map_err(|not_until| {
        metrics::counter!("hearth_rate_limited_total", "limit" => limit).increment(1);
        not_until.wait_time_from(DefaultClock::default().now()).max(Duration::from_secs(1))
    })
}

#[cfg(test)]
mod tests {
    use super::address_key;

    #[test]
    fn ipv6_addresses_count_by_their_64_and_ipv4_by_itself() {
        let key = |text: &str| address_key(text.parse().expect("an address")).to_string();
        assert_eq!(key("2001:db8:5:1:abcd:ef01:2345:6789"), "2001:db8:5:1::");
        assert_eq!(key("2001:db8:5:1::1"), key("2001:db8:5:1:ffff:ffff:ffff:ffff"));
        assert_ne!(key("2001:db8:5:1::1"), key("2001:db8:5:2::1"));
        assert_eq!(key("198.51.100.7"), "198.51.100.7");
        assert_eq!(key("::ffff:198.51.100.7"), "198.51.100.7");
        assert_ne!(key("198.51.100.7"), key("198.51.100.8"));
    }
}
