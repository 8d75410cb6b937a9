//! The dashboard page.

use maud::{Markup, html};

use crate::accounts::User;
use crate::accounts::sessions::ActiveSession;
use crate::accounts::tokens::Token;
use crate::chat::rooms::MyRoom;
use crate::db;
use crate::web::layout::{Field, avatar, page};
use crate::web::time::{ago, date};

#[derive(Default)]
pub struct PasswordProblems {
    pub current: Option<&'static str>,
    pub new: Option<&'static str>,
}

pub struct Dashboard<'a> {
    pub user: &'a User,
    pub rooms: &'a [MyRoom],
    pub sessions: &'a [ActiveSession],
    pub this_session: Option<String>,
    pub notice: Option<&'a str>,
    pub problems: PasswordProblems,
    /// Issuers of the OpenID identities linked to the account.
    pub identities: Vec<String>,
    /// An account without a password may set one shortly after a Google sign-in.
    pub may_set_password: bool,
    /// Devices with notifications on, and the key a new one subscribes with.
    pub devices: &'a [crate::push::subscriptions::Device],
    pub push_key: String,
    /// Whether Hearth sends email (and so confirms addresses).
    pub mail: bool,
    pub tokens: &'a [Token],
    /// A token just made, shown this once.
    pub new_token: Option<String>,
    /// With two-factor codes on, how many recovery codes are left.
    pub two_factor: Option<i64>,
    /// The person's passkeys; `None` when passkeys are off.
    pub passkeys: Option<&'a [crate::accounts::passkeys::Listed]>,
}

impl Dashboard<'_> {
    pub fn render(&self) -> Markup {
        let Dashboard { user, rooms, sessions, notice, .. } = *self;
        let (this_session, problems) = (self.this_session.as_deref(), &self.problems);
        let now = db::now();
        page(
            "Dashboard",
            Some(user),
            html! {
                @if let Some(notice) = notice {
                    p.notice role="status" { (notice) }
                }
                @if self.mail && user.email_confirmed_at.is_none() {
                    div.notice role="status" {
                        p { "Confirm your address: open the link we sent to " strong { (user.email) } ". It shows the address is yours: a Google sign-in with it then joins your account beside your password." }
                        form method="post" action="/dashboard/email/confirm" hx-boost="true" hx-disabled-elt="find button" {
                            button.secondary.small type="submit" { "Send the link again" }
                        }
                    }
                }
                section.card.profile aria-labelledby="you" {
                    (avatar(user, "large"))
                    div {
                        h1 id="you" { (user.name) }
                        dl.facts {
                            dt { "Email" }
                            dd {
                                (user.email)
                                @if self.mail && user.email_confirmed_at.is_none() {
                                    " " span.badge { "not confirmed" }
                                }
                                " " a href="/dashboard/email" { "Change" span.visually-hidden { " your email" } }
                            }
                            dt { "Account id" } dd { code { (user.id) } }
                            dt { "Member since" } dd { (date(user.created_at)) }
                        dt { "Signs in with" }
                        dd { (self.sign_in_methods()) }
                        }
                    }
                }
                section.card aria-labelledby="rooms" {
                h2 id="rooms" { "Your rooms" }
                ul.room-list {
                    @for room in rooms.iter().filter(|r| !r.archived) {
                        li {
                            a.room-name href=(format!("/chat/{}", room.slug)) {
                                @if !room.is_direct() { "#" } (room.title)
                            }
                            @if room.mentions > 0 {
                                span.mentions { span aria-hidden="true" { "@" } (room.mentions)
                                    span.visually-hidden { @if room.mentions == 1 { " mention" } @else { " mentions" } } }
                            }
                            @if room.unread() > 0 {
                                span.unread { (room.unread()) span.visually-hidden { " unread" } }
                            }
                        }
                    }
                }
                p { a.button.primary href="/chat" { "Open the chat" } }
            }
            section.card aria-labelledby="sessions" {
                    h2 id="sessions" { "Your sessions" }
                    p.hint { "Every browser where you are signed in. Signing out ends a session everywhere, at once." }
                    ul.sessions {
                        @for s in sessions {
                            @let current = this_session == Some(s.session_id.as_str());
                            li.current[current] {
                                span.device { (describe_agent(&s.user_agent)) }
                                @if current { " " span.badge { "This one" } }
                                span.when {
                                    "Last active " (ago(now, s.last_seen_at))
                                    " · signed in " (ago(now, s.signed_in_at))
                                }
                            }
                        }
                    }
                    @if sessions.len() > 1 {
                        form method="post" action="/dashboard/sessions/end-others" hx-boost="true" hx-disabled-elt="find button" {
                            button.secondary type="submit" { "Sign out all other sessions" }
                        }
                    }
                }
                (self.devices_section(now))
                (self.tokens_section(now))
                (super::passkeys::section(self.passkeys, now))
                (self.two_factor_section())
                section.card aria-labelledby="password" {
                    @if user.password_hash.is_some() {
                        h2 id="password" { "Change your password" }
                        p.hint { "Changing it signs out every other session and revokes your API tokens." }
                    } @else {
                        h2 id="password" { "Set a password" }
                        p.hint { "Your account has no password; you sign in with Google." }
                    }
                    @if user.password_hash.is_some() || self.may_set_password {
                        form method="post" action="/dashboard/password" hx-boost="true" hx-disabled-elt="find button" {
                            // Lets password managers file the new password under this account.
                            input type="hidden" name="username" autocomplete="username" value=(user.email);
                            @if user.password_hash.is_some() {
                                (Field { label: "Current password", name: "current_password", kind: "password",
                                    value: "", error: problems.current, autocomplete: "current-password", hint: None }.render())
                            }
                            (Field { label: "New password", name: "new_password", kind: "password",
                                value: "", error: problems.new, autocomplete: "new-password",
                                hint: Some("At least 8 characters.") }.render())
                            button.primary type="submit" {
                                @if user.password_hash.is_some() { "Change password" } @else { "Set password" }
                            }
                        }
                    } @else {
                        @if let Some(problem) = problems.current { p.error role="alert" { (problem) } }
                        p {
                            "To set one, "
                            a href="/auth/google?next=%2Fdashboard" { "sign in with Google again" }
                            "; you then have ten minutes."
                        }
                    }
                }
                section.card aria-labelledby="your-data" {
                    h2 id="your-data" { "Your data" }
                    p.hint {
                        "Everything you wrote, in every room, and every conversation you are in, "
                        "with the rooms you are in: one JSON file. Files are listed with their links."
                    }
                    a.button.secondary href="/dashboard/export" download { "Download your data" }
                }
            },
        )
    }
}

impl Dashboard<'_> {
    fn tokens_section(&self, now: i64) -> Markup {
        html! {
            section.card aria-labelledby="tokens" {
                h2 id="tokens" { "API tokens" }
                p.hint {
                    "Programs (bots, scripts) use the API as you with a token: "
                    code { "Authorization: Bearer <token>" } ". See "
                    a href="/api/openapi.json" { "the API description" } "."
                }
                @if let Some(token) = &self.new_token {
                    div.notice role="status" {
                        p { "Your new token. Copy it now: it will not be shown again." }
                        p { code.token { (token) } }
                    }
                }
                @if !self.tokens.is_empty() {
                    ul.sessions {
                        @for t in self.tokens {
                            li {
                                span.device { (t.name) }
                                span.when {
                                    "Made " (ago(now, t.created_at)) " · "
                                    @match t.last_used_at {
                                        Some(at) => { "last used " (ago(now, at)) },
                                        None => { "never used" },
                                    }
                                }
                                form method="post" action=(format!("/dashboard/tokens/{}/revoke", t.id)) hx-boost="true" hx-disabled-elt="find button" {
                                    button.secondary.small type="submit" { "Revoke " span.visually-hidden { (t.name) } }
                                }
                            }
                        }
                    }
                }
                form method="post" action="/dashboard/tokens" hx-boost="true" hx-disabled-elt="find button" {
                    (Field { label: "Token name", name: "name", kind: "text", value: "", error: None,
                        autocomplete: "off", hint: Some("What it is for, such as “weather bot”.") }.render())
                    button.secondary type="submit" { "Make a token" }
                }
            }
        }
    }

    fn devices_section(&self, now: i64) -> Markup {
        html! {
            section.card aria-labelledby="devices" {
                h2 id="devices" { "Notifications on your devices" }
                p { "A device with notifications on is told of mentions and conversation messages (as each room's Notifications page says) while no page of yours shows the room. Signing out of a device turns them off there." }
                @if !self.devices.is_empty() {
                    ul.sessions {
                        @for device in self.devices {
                            li {
                                span.device { (describe_agent(&device.device)) }
                                span.when {
                                    "On since " (ago(now, device.created_at))
                                    @if let Some(at) = device.last_used_at { " · last notified " (ago(now, at)) }
                                }
                                form method="post" action=(format!("/push/subscriptions/{}/remove", device.id)) hx-boost="true" hx-disabled-elt="find button" {
                                    button.secondary.small type="submit" { "Turn off" span.visually-hidden { " on " (describe_agent(&device.device)) } }
                                }
                            }
                        }
                    }
                }
                button.secondary id="notify-device" type="button" data-key=(self.push_key) { "Notify me on this device" }
                p.hint id="notify-status" role="status" { }
            }
        }
    }

    fn two_factor_section(&self) -> Markup {
        html! {
            section.card aria-labelledby="two-factor" {
                h2 id="two-factor" { "Two-factor codes" }
                @match self.two_factor {
                    Some(left) => {
                        p { "On: after your password, Hearth asks for a code from your app. "
                            (left) " recovery codes left." }
                        div.actions {
                            form method="post" action="/dashboard/two-factor/recovery-codes" hx-boost="true" hx-disabled-elt="find button" {
                                button.secondary type="submit" { "Make new recovery codes" }
                            }
                            a.button.secondary href=(super::TWO_FACTOR) { "Move to another app" }
                            form method="post" action="/dashboard/two-factor/off" hx-boost="true" hx-disabled-elt="find button" {
                                button.secondary type="submit" { "Turn off" }
                            }
                        }
                    }
                    None => {
                        p.hint { "Off. With codes on, your password alone no longer signs in: Hearth also asks for a code from an app on your phone." }
                        a.button.secondary href=(super::TWO_FACTOR) { "Turn on two-factor codes" }
                    }
                }
                @if !self.identities.is_empty() {
                    p.hint { "Signing in with Google does not ask for Hearth's code: Google has its own second factor." }
                }
            }
        }
    }

    /// "Password, Google".
    fn sign_in_methods(&self) -> String {
        let password = self.user.password_hash.as_ref().map(|_| "Password".to_owned());
        let passkey =
            self.passkeys.is_some_and(|keys| !keys.is_empty()).then(|| "Passkey".to_owned());
        let providers = self.identities.iter().map(|issuer| match issuer.as_str() {
            "https://accounts.google.com" => "Google".to_owned(),
            other => format!("OpenID ({other})"),
        });
        password.into_iter().chain(passkey).chain(providers).collect::<Vec<_>>().join(", ")
    }
}

/// "Firefox on Linux" from a user agent string, or the string itself.
pub(super) fn describe_agent(agent: &str) -> String {
    if agent.is_empty() {
        return "Unknown browser".into();
    }
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
    ]
    .iter()
    .find(|(needle, _)| agent.contains(needle))
    .map(|(_, name)| *name);
    let system = [
        ("Android", "Android"),
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(needle, _)| agent.contains(needle))
    .map(|(_, name)| *name);
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b} on {s}"),
        (Some(b), None) => b.to_owned(),
        _ => agent.chars().take(60).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agents_are_described_plainly() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";
        assert_eq!(describe_agent(chrome), "Chrome on Linux");
        assert_eq!(describe_agent(""), "Unknown browser");
        assert_eq!(describe_agent("bot"), "bot");
    }
}
