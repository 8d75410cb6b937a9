//! The page shell and the small pieces every page shares: form fields and avatars.

use maud::{DOCTYPE, Markup, html};

use super::assets;
use crate::accounts::User;

/// A full HTML document around `content`. `viewer` decides the navigation.
pub fn page(title: &str, viewer: Option<&User>, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Hearth" }
                // The script shows the other icon (a dot) while messages arrive unseen.
                link id="favicon" rel="icon" href=(assets::url("favicon.svg")) type="image/svg+xml"
                    data-read=(assets::url("favicon.svg")) data-unread=(assets::url("favicon-unread.svg"));
                link rel="stylesheet" href=(assets::url("hearth.css"));
                // htmx would otherwise add an inline <style>, which the CSP refuses, and
                // keep copies of pages (a new API token, say) in the tab's storage for
                // the back button: going back loads the page again instead.
                meta name="htmx-config" content=r#"{"includeIndicatorStyles":false,"allowEval":false,"historyCacheSize":0,"refreshOnHistoryMiss":true}"#;
                script src=(assets::url("htmx.min.js")) defer {}
                script src=(assets::url("htmx-ext-ws.js")) defer {}
                script src=(assets::url("hearth.js")) defer {}
                script src=(assets::url("passkeys.js")) defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.site {
                    a.brand href="/" { img src=(assets::url("favicon.svg")) alt="" width="28" height="28"; "Hearth" }
                    nav aria-label="Main" {
                        @if let Some(user) = viewer {
                            a href="/chat" { "Chat" }
                            a href="/dashboard" { "Dashboard" }
                            @if user.is_admin { a href="/admin" { "Admin" } }
                            form.inline method="post" action="/logout" {
                                button.link type="submit" { "Sign out " span.visually-hidden { (user.name) } }
                            }
                        } @else {
                            a href="/login" { "Sign in" }
                            a.button href="/signup" { "Create account" }
                        }
                    }
                }
                main id="main" { (content) }
            }
        }
    }
}

/// A labelled input with its error (if any) next to it, announced to screen readers.
pub struct Field<'a> {
    pub label: &'a str,
    pub name: &'a str,
    pub kind: &'a str,
    pub value: &'a str,
    pub error: Option<&'a str>,
    pub autocomplete: &'a str,
    pub hint: Option<&'a str>,
}

impl Field<'_> {
    pub fn render(&self) -> Markup {
        let id = format!("field-{}", self.name);
        let error_id = format!("{id}-error");
        let hint_id = format!("{id}-hint");
        let described =
            [self.hint.map(|_| hint_id.as_str()), self.error.map(|_| error_id.as_str())]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
        html! {
            div.field.invalid[self.error.is_some()] {
                label for=(id) { (self.label) }
                @if let Some(hint) = self.hint { p.hint id=(hint_id) { (hint) } }
                input id=(id) name=(self.name) type=(self.kind) value=(self.value)
                    autocomplete=(self.autocomplete) required
                    aria-invalid=[self.error.map(|_| "true")]
                    aria-describedby=[(!described.is_empty()).then_some(described.as_str())];
                @if let Some(error) = self.error { p.error id=(error_id) { (error) } }
            }
        }
    }
}

/// "Sign in with Google": a plain link, so it works without JavaScript.
pub fn google_button(label: &str, next: &str, invite: Option<&str>) -> Markup {
    let encode = |s| percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC);
    let mut href = format!("/auth/google?next={}", encode(next));
    if let Some(invite) = invite.filter(|code| !code.is_empty()) {
        href.push_str(&format!("&invite={}", encode(invite)));
    }
    html! {
        p.or { span { "or" } }
        a.button.google href=(href) { (label) }
    }
}

/// The person's picture, or their initials on a colour chosen from their id.
pub fn avatar(user: &User, size: &str) -> Markup {
    avatar_for(user.id, &user.name, user.avatar_url.as_deref(), size)
}

pub fn avatar_for(id: i64, name: &str, picture: Option<&str>, size: &str) -> Markup {
    html! {
        @if let Some(url) = picture {
            img.avatar.(size) src=(url) alt="" referrerpolicy="no-referrer";
        } @else {
            span.avatar.(size).(format!("hue-{}", id.rem_euclid(8))) aria-hidden="true" { (initials(name)) }
        }
    }
}

fn initials(name: &str) -> String {
    let mut words = name.split_whitespace();
    let first = words.next().and_then(|w| w.chars().next());
    let last = words.last().and_then(|w| w.chars().next());
    first.into_iter().chain(last).flat_map(char::to_uppercase).collect()
}

#[cfg(test)]
mod tests {
    use super::initials;

    #[test]
    fn initials_take_the_first_and_last_word() {
        assert_eq!(initials("ada king lovelace"), "AL");
        assert_eq!(initials("Ω"), "Ω");
        assert_eq!(initials("  "), "");
    }
}
