//! The chat's HTML: the room page, and the fragments the socket pushes.

use maud::{Markup, Render, html};

use super::messages::{Message, PAGE};
use super::rooms::MyRoom;
use crate::accounts::User;
use crate::web::layout::{avatar_for, page};

/// Whether a fragment is pushed over the socket to replace the element with its id
/// (an htmx out-of-band swap), or is part of a page or of an answer htmx swaps in
/// where it asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Oob {
    /// Rendered in place.
    No,
    /// Swapped in by id, wherever the element is on the page.
    Yes,
}

impl Oob {
    /// The value of `hx-swap-oob`, when there is one.
    fn swap(self) -> Option<&'static str> {
        (self == Oob::Yes).then_some("true")
    }
}

/// What the composer shows: what was typed (kept when it was refused) and why.
#[derive(Default)]
pub struct Composer<'a> {
    pub body: &'a str,
    pub problem: Option<&'a str>,
}

/// Everything the room page shows.
pub struct RoomPage<'a> {
    pub viewer: &'a User,
    pub rooms: &'a [MyRoom],
    pub room: &'a MyRoom,
    pub messages: &'a [Message],
    /// Messages numbered above this are new to the viewer (the divider goes there).
    pub last_read: i64,
    pub composer: Composer<'a>,
}

/// A room: the sidebar, its newest messages, who is online, the composer, and the
/// socket that keeps it live.
pub fn room_page(p: &RoomPage<'_>) -> Markup {
    let slug = &p.room.slug;
    let newest = p.messages.last().map_or(0, |m| m.seq);
    let first_new =
        p.messages.iter().find(|m| m.seq > p.last_read && m.user_id != p.viewer.id).map(|m| m.seq);
    page(
        &p.room.title,
        Some(p.viewer),
        html! {
            div.chat id="chat" hx-ext="ws" ws-connect=(format!("/ws?room={slug}")) {
                (sidebar(p.rooms, slug, Oob::No))
                section.room aria-labelledby="room-title" {
                    header.room-head {
                        div {
                            h1 id="room-title" { @if !p.room.is_direct() { "#" } (p.room.title) }
                            (presence(&[], Oob::No))
                        }
                        @if slug != "general" {
                            form method="post" action=(format!("/chat/{slug}/leave")) {
                                button.secondary.small type="submit" { "Leave" }
                            }
                        }
                    }
                    div.messages id="messages" role="log" aria-label="Messages" tabindex="0" {
                        @if p.messages.len() as i64 == PAGE {
                            @if let Some(first) = p.messages.first() { (older_link(slug, first.seq)) }
                        }
                        @if p.messages.is_empty() {
                            p.empty { "No messages yet. Say hello!" }
                        }
                        @for m in p.messages {
                            @if Some(m.seq) == first_new {
                                p.divider id="new-messages" { span { "New messages" } }
                            }
                            (message(m))
                        }
                    }
                    (typing_line(&[], Oob::No))
                    (composer(slug, &p.room.title, &p.composer, Oob::No))
                    // Sent by htmx on every (re)connect: "I have everything up to N".
                    // Each pushed message moves N forward (see `delivery_html`).
                    form id="resume" hidden ws-send hx-trigger="htmx:wsOpen from:#chat" hx-vals=r#"{"kind":"resume"}"# {
                        (resume_input(newest))
                    }
                    (connection_status(Oob::No))
                }
            }
        },
    )
}

fn resume_input(seq: i64) -> Markup {
    html! { input type="hidden" id="resume-after" name="after" value=(seq); }
}

/// The bytes every viewer of the room receives for a new message: the message,
/// appended to the list, and the new resume position.
pub fn delivery_html(m: &Message) -> String {
    html! {
        div hx-swap-oob="beforeend:#messages" { (message(m)) }
        input type="hidden" id="resume-after" name="after" value=(m.seq) hx-swap-oob="true";
    }
    .into_string()
}

/// The whole message list replaced by the newest page, and the resume position
/// moved to its end: for a client too far behind to catch up message by message.
pub fn messages_replacement(slug: &str, latest: &[Message]) -> String {
    let newest = latest.last().map_or(0, |m| m.seq);
    html! {
        div hx-swap-oob="innerHTML:#messages" { (history_fragment(slug, latest)) }
        input type="hidden" id="resume-after" name="after" value=(newest) hx-swap-oob="true";
    }
    .into_string()
}

/// One message, with its author and time.
pub fn message(m: &Message) -> Markup {
    let at = time::OffsetDateTime::from_unix_timestamp(m.created_at)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let iso = at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
    let clock = at.format(time::macros::format_description!("[hour]:[minute]")).unwrap_or_default();
    html! {
        article.message id=(format!("m-{}", m.seq)) data-seq=(m.seq) {
            (avatar_for(m.user_id, &m.author_name, m.author_avatar.as_deref(), ""))
            div.message-main {
                header {
                    a.author href=(format!("/people/{}", m.user_id)) { (m.author_name) }
                    " "
                    time datetime=(iso) title=(format!("{iso}")) { (clock) }
                }
                p.body { (linkify(&m.body)) }
            }
        }
    }
}

/// The link that loads the page of messages before `seq`: by htmx when it scrolls
/// into view or is clicked, or as a plain page without JavaScript.
pub fn older_link(slug: &str, seq: i64) -> Markup {
    let path = format!("/chat/{slug}/messages?before={seq}");
    html! {
        a.older href=(path) hx-get=(path) hx-trigger="click, intersect once" hx-swap="outerHTML" {
            "Load older messages"
        }
    }
}

/// A page of older messages for htmx: they replace the "older" link that asked.
pub fn history_fragment(slug: &str, messages: &[Message]) -> Markup {
    html! {
        @if messages.len() as i64 == PAGE {
            @if let Some(first) = messages.first() { (older_link(slug, first.seq)) }
        }
        @for m in messages { (message(m)) }
    }
}

/// The composer. The same form posts without JavaScript and is sent over the
/// socket with it; after a send the server replaces it (reset, or with the problem).
pub fn composer(slug: &str, title: &str, c: &Composer<'_>, oob: Oob) -> Markup {
    html! {
        form.composer id="composer" method="post" action=(format!("/chat/{slug}/messages"))
            ws-send hx-vals=r#"{"kind":"send"}"# hx-swap-oob=[oob.swap()] {
            label.visually-hidden for="composer-body" { "Message " (title) }
            textarea id="composer-body" name="body" rows="2" maxlength="4000" required
                placeholder=(format!("Message {title}"))
                aria-invalid=[c.problem.map(|_| "true")]
                aria-describedby=[c.problem.map(|_| "composer-problem")]
                ws-send hx-trigger="input changed throttle:2s" hx-vals=r#"{"kind":"typing"}"# { (c.body) }
            button.primary type="submit" { "Send" }
            @if let Some(problem) = c.problem {
                p.error id="composer-problem" role="alert" { (problem) }
            }
        }
    }
}

/// The rooms and direct messages of the person, with their unread counts.
pub fn sidebar(rooms: &[MyRoom], current: &str, oob: Oob) -> Markup {
    let (public, direct): (Vec<&MyRoom>, Vec<&MyRoom>) = rooms.iter().partition(|r| !r.is_direct());
    html! {
        nav.sidebar id="sidebar" aria-label="Rooms" hx-swap-oob=[oob.swap()] {
            h2 { "Rooms" }
            ul { @for r in &public { (room_link(r, current)) } }
            p.more { a href="/rooms" { "Browse or create rooms" } }
            h2 { "Direct messages" }
            @if direct.is_empty() { p.hint { "None yet." } }
            ul { @for r in &direct { (room_link(r, current)) } }
            p.more { a href="/people" { "Message someone" } }
        }
    }
}

fn room_link(r: &MyRoom, current: &str) -> Markup {
    html! {
        li {
            a href=(format!("/chat/{}", r.slug)) aria-current=[(r.slug == current).then_some("page")] {
                span.room-name { @if !r.is_direct() { "#" } (r.title) }
                (unread_badge(r.id, if r.slug == current { 0 } else { r.unread() }, Oob::No))
            }
        }
    }
}

/// A room's unread count in the sidebar; empty when there is nothing new.
pub fn unread_badge(room_id: i64, count: i64, oob: Oob) -> Markup {
    html! {
        span.unread id=(format!("unread-{room_id}")) hx-swap-oob=[oob.swap()] {
            @if count > 0 { (count) span.visually-hidden { " unread" } }
        }
    }
}

/// "Online here": everyone in the room with a socket open, shown to its viewers.
pub fn presence(online: &[(i64, &str)], oob: Oob) -> Markup {
    const SHOWN: usize = 12;
    html! {
        p.online id="online" hx-swap-oob=[oob.swap()] {
            @if !online.is_empty() {
                span.dot aria-hidden="true" {}
                (online.len()) " online: "
                @for (i, (_, name)) in online.iter().take(SHOWN).enumerate() {
                    @if i > 0 { ", " }
                    (name)
                }
                @if online.len() > SHOWN { " and " (online.len() - SHOWN) " more" }
            }
        }
    }
}

/// "Ada is typing…", without the viewer themself.
pub fn typing_line(names: &[&str], oob: Oob) -> Markup {
    html! {
        p.typing id="typing" hx-swap-oob=[oob.swap()] aria-live="polite" {
            @match names {
                [] => {},
                [one] => { (one) " is typing…" },
                [one, two] => { (one) " and " (two) " are typing…" },
                _ => { "Several people are typing…" },
            }
        }
    }
}

/// The connection's status line, empty while the socket is connected; the page's
/// script fills it in while it is not.
pub fn connection_status(oob: Oob) -> Markup {
    html! { p.status id="connection-status" role="status" hx-swap-oob=[oob.swap()] {} }
}

/// The status line once the session has ended: the socket closes for good after it.
pub fn signed_out_notice(slug: &str) -> String {
    html! {
        p.status.alert id="connection-status" role="status" hx-swap-oob="true" {
            "You were signed out. "
            a href=(format!("/login?next=%2Fchat%2F{slug}")) { "Sign in again" }
        }
    }
    .into_string()
}

/// Text with its web addresses made into links; everything else escaped by maud.
pub fn linkify(text: &str) -> Markup {
    html! {
        @for (plain, link) in pieces(text) {
            (Text(plain))
            @if let Some(url) = link {
                a href=(Text(url)) rel="nofollow noopener noreferrer" target="_blank" { (Text(url)) }
            }
        }
    }
}

/// Text as maud escapes it, and apostrophes too: a message then never holds a quote
/// of either kind, whichever way an attribute it ends up in is quoted.
struct Text<'a>(&'a str);

impl Render for Text<'_> {
    fn render_to(&self, buffer: &mut String) {
        for (i, part) in self.0.split('\'').enumerate() {
            if i > 0 {
                buffer.push_str("&#39;");
            }
            part.render_to(buffer);
        }
    }
}

/// The text split at its web addresses: each piece is the text up to an address,
/// and the address (`None` for the text after the last one).
fn pieces(text: &str) -> impl Iterator<Item = (&str, Option<&str>)> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let text = rest?;
        let Some(start) = find_link(text) else {
            rest = None;
            return Some((text, None));
        };
        let (plain, tail) = text.split_at(start);
        let end = tail.find(char::is_whitespace).unwrap_or(tail.len());
        // Punctuation after an address usually ends the sentence, not the address.
        let url = tail[..end].trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '\'', '"']);
        rest = Some(&tail[url.len()..]);
        Some((plain, Some(url)))
    })
}

fn find_link(text: &str) -> Option<usize> {
    let candidates = [text.find("https://"), text.find("http://")];
    candidates.into_iter().flatten().min().filter(|&i| {
        let after = text[i..].trim_start_matches("https://").trim_start_matches("http://");
        after.chars().next().is_some_and(|c| c.is_alphanumeric())
    })
}

#[cfg(test)]
mod tests {
    use super::linkify;

    #[test]
    fn links_are_made_clickable_and_everything_else_escaped() {
        let html =
            linkify("see https://example.org/a?b=1&c=2. <script>alert(1)</script>").into_string();
        assert_eq!(
            html,
            "see <a href=\"https://example.org/a?b=1&amp;c=2\" rel=\"nofollow noopener noreferrer\" \
             target=\"_blank\">https://example.org/a?b=1&amp;c=2</a>. &lt;script&gt;alert(1)&lt;/script&gt;"
        );
    }

    #[test]
    fn things_that_are_not_links_stay_text() {
        assert_eq!(linkify("http:// nope").into_string(), "http:// nope");
        assert_eq!(linkify("javascript:alert(1)").into_string(), "javascript:alert(1)");
        assert_eq!(linkify("\"quoted\" <b>").into_string(), "&quot;quoted&quot; &lt;b&gt;");
    }
}
