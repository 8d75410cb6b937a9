//! Settings from the environment (and `.env`), or flags; see `hearth --help`.
//!
//! Every value is checked here, once, so the rest of Hearth never sees a bad one and
//! a mistake stops start-up with one line that names the setting.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, ValueEnum};
use url::Url;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// For people reading a terminal.
    Text,
    /// One JSON object per line, for log shipping.
    Json,
}

/// Who may create an account once the first exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Signup {
    /// Anyone who finds the sign-up page.
    Open,
    /// Holders of the administrator's current invite link.
    Invite,
    /// No one: accounts are made from the command line.
    Closed,
}

/// Who must have two-factor codes on to use Hearth after a password sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RequireTwoFactor {
    /// No one (each person may turn codes on).
    Off,
    /// Administrators.
    Admins,
    /// Everyone who signs in with a password.
    Everyone,
}

impl RequireTwoFactor {
    /// Whether `user` must have codes on.
    pub fn applies_to(self, user: &crate::accounts::User) -> bool {
        match self {
            RequireTwoFactor::Off => false,
            RequireTwoFactor::Admins => user.is_admin,
            RequireTwoFactor::Everyone => true,
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Where the data lives: `sqlite://path/to/file.db` or `postgres://…`.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://data/hearth.db")]
    pub database_url: String,

    /// Address to listen on.
    #[arg(long, env = "BIND", default_value = "127.0.0.1:3000")]
    pub bind: SocketAddr,

    /// Port to listen on; when set, overrides the port of BIND.
    #[arg(long, env = "PORT")]
    pub port: Option<u16>,

    /// Where to serve Prometheus metrics (`GET /metrics`); off when unset. Keep it
    /// off the public internet (Fly.io scrapes it over its private network).
    #[arg(long, env = "METRICS_BIND")]
    pub metrics_bind: Option<SocketAddr>,

    /// Log lines as `text` (for people) or `json` (for log shipping).
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// The public URL people use, e.g. `https://hearth.example.org`. Decides the
    /// `Secure` cookie flag and which `Origin` is this site. Defaults to `http://<BIND>`.
    #[arg(long, env = "BASE_URL")]
    pub base_url: Option<Url>,

    /// OAuth client id for "Sign in with Google"; without it the button is not shown.
    #[arg(long, env = "GOOGLE_CLIENT_ID")]
    pub google_client_id: Option<String>,

    /// OAuth client secret for "Sign in with Google".
    #[arg(long, env = "GOOGLE_CLIENT_SECRET", hide_env_values = true)]
    pub google_client_secret: Option<String>,

    /// The OpenID provider's issuer URL (discovery is read from it). Kept exactly as
    /// written: the ID token's `iss` must match it character for character.
    #[arg(long, env = "OIDC_ISSUER_URL", default_value = "https://accounts.google.com")]
    pub oidc_issuer_url: String,

    /// Domains whose people may sign in with Google, comma-separated; empty lets
    /// anyone in. Checked against the ID token's `hd` (a Google Workspace's domain)
    /// and, from a provider other than Google when there is no `hd`, against the
    /// verified email's domain.
    #[arg(long, env = "GOOGLE_ALLOWED_DOMAINS", value_delimiter = ',')]
    pub google_allowed_domains: Vec<String>,

    /// Origins allowed to serve profile pictures (the CSP's `img-src`), comma-separated.
    /// Pictures from anywhere else are not shown; initials are.
    #[arg(
        long,
        env = "AVATAR_ORIGINS",
        default_value = "https://lh3.googleusercontent.com",
        value_delimiter = ','
    )]
    pub avatar_origins: Vec<Url>,

    /// Hosts of other services behind Hearth's sign-in (see `GET /auth/verify`),
    /// comma-separated, each as in a URL (`tools.example.org`, `127.0.0.1:8080`):
    /// after signing in, `/login?next=` may send people back to an `http(s)` URL on
    /// one of them. Any other `next` that is not a path here goes to the dashboard.
    #[arg(long, env = "FORWARD_AUTH_HOSTS", value_delimiter = ',')]
    pub forward_auth_hosts: Vec<String>,

    /// The SMTP server Hearth sends email through, as a URL: `smtps://user:pass@host`
    /// (TLS from the start, port 465), `smtp://user:pass@host?tls=required` (STARTTLS,
    /// port 587), or `smtp://host:port` (no TLS: only a relay on this machine).
    /// Without it Hearth sends no email: the forgot-password page says to ask an
    /// administrator, and addresses are not confirmed.
    #[arg(long, env = "SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// Who Hearth's email comes from, e.g. `Hearth <hearth@example.org>` (needed
    /// with SMTP_URL).
    #[arg(long, env = "MAIL_FROM")]
    pub mail_from: Option<String>,

    /// Lets push subscriptions' addresses be `http` and on a loopback address. For
    /// tests, whose push receiver runs on this machine; never in production.
    #[arg(long, env = "WEB_PUSH_ALLOW_LOOPBACK", default_value_t = false)]
    pub web_push_allow_loopback: bool,

    /// The VAPID private key that signs Web Push requests (32 bytes, base64url).
    /// Without it, one is made at the first start and kept in the database.
    #[arg(long, env = "VAPID_PRIVATE_KEY", hide_env_values = true)]
    pub vapid_private_key: Option<String>,

    /// Lets bots' webhook URLs be `http` and on a loopback address (127.0.0.1, ::1).
    /// For tests, whose receivers run on this machine; never in production, where it
    /// would let whoever adds a bot reach services listening only locally.
    #[arg(long, env = "BOT_WEBHOOKS_ALLOW_LOOPBACK", default_value_t = false)]
    pub bot_webhooks_allow_loopback: bool,

    /// Who may create an account once the first exists: `open`, `invite` (holders of
    /// the administrator's invite link) or `closed`.
    #[arg(long, env = "SIGNUP", value_enum, default_value_t = Signup::Invite)]
    pub signup: Signup,

    /// Who must turn two-factor codes on: `off`, `admins` or `everyone`. After a
    /// password sign-in, someone who must and has none is sent to set them up, and
    /// pages wait until they have (Google sign-ins are not asked).
    #[arg(long, env = "REQUIRE_TWO_FACTOR", value_enum, default_value_t = RequireTwoFactor::Off)]
    pub require_two_factor: RequireTwoFactor,

    /// bcrypt cost for new password hashes (4–31; every +1 doubles the work).
    #[arg(long, env = "BCRYPT_COST", default_value_t = 12, value_parser = clap::value_parser!(u32).range(4..=31))]
    pub bcrypt_cost: u32,

    /// Password hashes (sign-in, sign-up, password change) that may wait for a hashing
    /// thread; when that many wait, more are answered 503 with `Retry-After` at once.
    /// Defaults to one per hashing thread, so an admitted sign-in waits about one hash
    /// before its own.
    #[arg(long, env = "SIGNIN_QUEUE", value_parser = clap::value_parser!(u32).range(0..=100_000))]
    pub signin_queue: Option<u32>,

    /// Trust the `Fly-Client-IP` header for the client address (only behind Fly's proxy).
    #[arg(long, env = "TRUST_FLY_CLIENT_IP", default_value_t = false)]
    pub trust_fly_client_ip: bool,

    /// Proxies in front of Hearth (CIDR ranges, comma-separated, e.g.
    /// `10.0.0.0/8,fd00::/8`): from a peer in these ranges, the client address is
    /// read from `X-Forwarded-For`, right to left, past every address in them.
    #[arg(long, env = "TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// Host names besides BASE_URL's that requests may be addressed to
    /// (comma-separated). Any other `Host` is refused, so a page whose DNS name was
    /// pointed at this server (DNS rebinding) cannot use it.
    #[arg(long, env = "ALLOWED_HOSTS", value_delimiter = ',')]
    pub allowed_hosts: Vec<String>,

    /// Sign-in and sign-up attempts allowed per client address per minute (an IPv6
    /// client is counted by its /64).
    #[arg(long, env = "RATE_LIMIT_PER_ADDRESS", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_limit_per_address: u32,

    /// Sign-in attempts allowed per account per minute.
    #[arg(long, env = "RATE_LIMIT_PER_ACCOUNT", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_limit_per_account: u32,

    /// Chat messages one person may send per minute (in bursts of up to a third).
    #[arg(long, env = "CHAT_MESSAGES_PER_MINUTE", default_value_t = 90, value_parser = clap::value_parser!(u32).range(1..))]
    pub chat_messages_per_minute: u32,

    /// Frames a chat socket may have waiting; a client further behind is disconnected
    /// (it catches up when it reconnects).
    #[arg(long, env = "CHAT_SOCKET_QUEUE", default_value_t = 512, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub chat_socket_queue: u32,

    /// Days without activity after which a session ends.
    #[arg(long, env = "SESSION_IDLE_DAYS", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=365))]
    pub session_idle_days: u32,

    /// Days after sign-in after which a session ends however active it is.
    #[arg(long, env = "SESSION_MAX_DAYS", default_value_t = 90, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub session_max_days: u32,

    // Checks and limits of the chat's sockets, rooms and sessions.
    /// Chat sockets one person may have open at once over all their sessions (each
    /// session, one browser, may have up to 8).
    #[arg(long, env = "CHAT_SOCKETS_PER_PERSON", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub chat_sockets_per_person: u32,

    /// Chat sockets one person may open per minute, reconnections included.
    #[arg(long, env = "CHAT_SOCKET_OPENS_PER_MINUTE", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..))]
    pub chat_socket_opens_per_minute: u32,

    /// Megabytes the files of one message may come to together (1 MB = 1,048,576
    /// bytes); a larger upload is refused with 413.
    #[arg(long, env = "ATTACHMENT_MAX_MB", default_value_t = 25, value_parser = clap::value_parser!(u32).range(1..=2048))]
    pub attachment_max_mb: u32,

    /// Rooms and direct conversations one person may start per hour (in bursts of up
    /// to a third).
    #[arg(long, env = "CHAT_ROOMS_PER_HOUR", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub chat_rooms_per_hour: u32,

    /// The length of the "day" of SESSION_IDLE_DAYS and SESSION_MAX_DAYS, 86,400 s.
    /// Not a setting: tests shorten it to see sessions expire.
    #[arg(skip = DAY)]
    pub session_day: Duration,

    /// How long a sign-in counts as fresh proof for what needs one (tokens,
    /// two-factor changes, administrator actions): 10 minutes. Not a setting:
    /// tests shorten it.
    #[arg(skip = Duration::from_secs(10 * 60))]
    pub fresh_sign_in: Duration,

    /// How long a failed bot delivery waits before its second try (each later wait
    /// is three times the one before): 10 seconds. Not a setting: tests shorten it.
    #[arg(skip = Duration::from_secs(10))]
    pub bot_retry_after: Duration,

    /// How long an email the server did not take waits before its second try
    /// (each later wait is three times the one before): 30 seconds. Not a setting.
    #[arg(skip = Duration::from_secs(30))]
    pub mail_retry_after: Duration,

    /// How long a push that failed waits before its second try (tripling after):
    /// 10 seconds. Not a setting: tests shorten it.
    #[arg(skip = Duration::from_secs(10))]
    pub push_retry_after: Duration,

    /// How often, at most, a link confirming an address goes to one account: a
    /// minute. Not a setting: tests shorten it.
    #[arg(skip = Duration::from_secs(60))]
    pub address_link_every: Duration,

    /// How long a mention stays unread before it is emailed: 10 minutes. Not a
    /// setting: tests shorten it.
    #[arg(skip = Duration::from_secs(10 * 60))]
    pub missed_mention_after: Duration,

    /// How often, at the latest, each chat socket checks that its session and rooms
    /// are still its own. Not a setting: tests shorten it.
    #[arg(skip = RECHECK_EVERY)]
    pub chat_recheck_every: Duration,
}

const DAY: Duration = Duration::from_secs(86_400);
const RECHECK_EVERY: Duration = Duration::from_secs(60);

impl Config {
    /// ATTACHMENT_MAX_MB in bytes.
    pub fn attachment_max_bytes(&self) -> u64 {
        u64::from(self.attachment_max_mb) * 1024 * 1024
    }

    /// Checks what clap cannot, and fills in the defaults that depend on other values.
    pub fn validated(mut self) -> Result<Self, String> {
        if let Some(port) = self.port {
            self.bind.set_port(port);
        }
        let scheme_ok = ["sqlite:", "postgres:", "postgresql:"]
            .iter()
            .any(|scheme| self.database_url.starts_with(scheme));
        if !scheme_ok {
            return Err("DATABASE_URL must start with sqlite: or postgres:".into());
        }
        if let Some(url) = &self.base_url {
            let valid = matches!(url.scheme(), "http" | "https")
                && url.host_str().is_some()
                && url.path() == "/"
                && url.query().is_none();
            if !valid {
                return Err(format!(
                    "BASE_URL must be an http(s) origin such as https://hearth.example.org, not {url}"
                ));
            }
        }
        if self.google_client_id.is_some() != self.google_client_secret.is_some() {
            return Err("GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET must be set together".into());
        }
        if !Url::parse(&self.oidc_issuer_url)
            .is_ok_and(|url| matches!(url.scheme(), "http" | "https"))
        {
            return Err(format!(
                "OIDC_ISSUER_URL must be an http(s) URL, not {}",
                self.oidc_issuer_url
            ));
        }
        // Written as people write domains; compared as lower case, blanks dropped.
        self.google_allowed_domains = self
            .google_allowed_domains
            .iter()
            .map(|domain| domain.trim().to_lowercase())
            .filter(|domain| !domain.is_empty())
            .collect();
        if let Some(bad) = self.google_allowed_domains.iter().find(|domain| {
            !domain.contains('.')
                || domain.starts_with('.')
                || domain.ends_with('.')
                || !domain.chars().all(|c| c.is_alphanumeric() || c == '.' || c == '-')
        }) {
            return Err(format!(
                "GOOGLE_ALLOWED_DOMAINS must be domains such as example.org, not {bad}"
            ));
        }
        if self.avatar_origins.iter().any(|url| url.scheme() != "https" && url.scheme() != "http") {
            return Err("AVATAR_ORIGINS must be http(s) origins".into());
        }
        if self.smtp_url.is_some() != self.mail_from.is_some() {
            return Err("SMTP_URL and MAIL_FROM must be set together".into());
        }
        if let Some(url) = &self.smtp_url
            && !Url::parse(url)
                .is_ok_and(|u| matches!(u.scheme(), "smtp" | "smtps") && u.host().is_some())
        {
            return Err("SMTP_URL must be an smtp:// or smtps:// URL with a host".into());
        }
        if let Some(from) = &self.mail_from
            && from.parse::<lettre::message::Mailbox>().is_err()
        {
            return Err(format!(
                "MAIL_FROM must be an address such as Hearth <hearth@example.org>, not {from}"
            ));
        }
        if self.session_max_days < self.session_idle_days {
            return Err("SESSION_MAX_DAYS must be at least SESSION_IDLE_DAYS".into());
        }
        Ok(self)
    }

    pub fn session_idle(&self) -> Duration {
        self.session_day * self.session_idle_days
    }

    pub fn session_max(&self) -> Duration {
        self.session_day * self.session_max_days
    }

    /// Settings for tests and tools: a throw-away database, fast hashing, and limits
    /// high enough that only a test about limits meets them.
    pub fn for_tests(database_url: &str) -> Self {
        Self {
            database_url: database_url.to_owned(),
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            port: None,
            metrics_bind: None,
            log_format: LogFormat::Text,
            base_url: None,
            google_client_id: None,
            google_client_secret: None,
            oidc_issuer_url: "https://accounts.google.com".into(),
            google_allowed_domains: Vec::new(),
            avatar_origins: Vec::new(),
            forward_auth_hosts: Vec::new(),
            smtp_url: None,
            mail_from: None,
            bot_webhooks_allow_loopback: false,
            web_push_allow_loopback: false,
            vapid_private_key: None,
            signup: Signup::Open,
            require_two_factor: RequireTwoFactor::Off,
            bcrypt_cost: 4,
            signin_queue: Some(1_000),
            trust_fly_client_ip: false,
            trusted_proxies: Vec::new(),
            allowed_hosts: Vec::new(),
            rate_limit_per_address: 10_000,
            rate_limit_per_account: 10_000,
            chat_messages_per_minute: 10_000,
            chat_socket_queue: 512,
            session_idle_days: 20,
            session_max_days: 90,
            chat_sockets_per_person: 20,
            chat_socket_opens_per_minute: 10_000,
            chat_rooms_per_hour: 10_000,
            attachment_max_mb: 25,
            session_day: DAY,
            fresh_sign_in: Duration::from_secs(10 * 60),
            bot_retry_after: Duration::from_secs(10),
            mail_retry_after: Duration::from_secs(30),
            missed_mention_after: Duration::from_secs(10 * 60),
            push_retry_after: Duration::from_secs(10),
            address_link_every: Duration::from_secs(60),
            chat_recheck_every: RECHECK_EVERY,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowed_domains_are_lower_cased_and_must_be_domains() {
        let with = |domains: &[&str]| {
            let mut config = Config::for_tests("sqlite://unused.db");
            config.google_allowed_domains = domains.iter().map(|d| (*d).to_owned()).collect();
            config.validated().map(|c| c.google_allowed_domains)
        };
        assert_eq!(with(&[" Example.ORG", ""]), Ok(vec!["example.org".to_owned()]));
        assert_eq!(with(&[""]), Ok(vec![]), "empty: anyone");
        for bad in ["example", "ada@example.org", "https://example.org", ".example.org"] {
            assert!(with(&[bad]).is_err(), "{bad} was accepted");
        }
    }
}
