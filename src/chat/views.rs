//! The chat's HTML: the room page, and the fragments the socket pushes.

use maud::{Markup, html};

use super::hub::RoomNews;
use super::messages::{Message, PAGE};
use super::rooms::MyRoom;
use super::settings::{About, may_manage};
use crate::accounts::User;
use crate::files::Attachment;
use crate::web::layout::page;

mod messages;

pub use self::messages::{
    actions_menu, change_html, edit_form, history_fragment, message, message_after,
    messages_replacement, older_link, picker,
};

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

/// What the composer shows: what was typed and the files sent with it (kept when
/// it was refused), and why it was.
#[derive(Default)]
pub struct Composer<'a> {
    pub body: &'a str,
    pub problem: Option<&'a str>,
    pub kept: &'a [Attachment],
}

/// Everything the room page shows.
pub struct RoomPage<'a> {
    pub viewer: &'a User,
    pub rooms: &'a [MyRoom],
    pub room: &'a MyRoom,
    pub messages: &'a [Message],
    /// The room's newest event when `messages` were read: where the socket resumes.
    pub position: i64,
    /// Messages numbered above this are new to the viewer (the divider goes there).
    pub last_read: i64,
    pub composer: Composer<'a>,
    /// ATTACHMENT_MAX_MB, which the page's script checks before sending files.
    pub attachment_max_mb: u32,
}

/// A room: the sidebar, its newest messages, who is online, the composer, and the
/// socket that keeps it live.
pub fn room_page(p: &RoomPage<'_>) -> Markup {
    let slug = &p.room.slug;
    let first_new =
        p.messages.iter().find(|m| m.seq > p.last_read && m.user_id != p.viewer.id).map(|m| m.seq);
    page(
        &p.room.title,
        Some(p.viewer),
        html! {
            // Which messages' actions this viewer has (see `editing::viewer_css`):
            // the fragments stay the same bytes for every viewer.
            link rel="stylesheet" href="/chat/viewer.css";
            div.chat id="chat" hx-ext="ws, hearth-changes" ws-connect=(format!("/ws?room={slug}"))
                data-attachment-max-mb=(p.attachment_max_mb) data-me=(p.viewer.id) {
                (sidebar(p.rooms, slug, Oob::No))
                section.room aria-labelledby="room-title" {
                    header.room-head {
                        div {
                            (room_about(&About::from(p.room), Oob::No))
                            (presence(&[], Oob::No))
                        }
                        div.room-actions {
                            @if p.room.private { span.tag { "Private" } }
                            a.button.secondary.small href=(format!("/chat/{slug}/notifications")) { "Notifications" }
                            @if !p.room.is_direct() {
                                a.button.secondary.small href=(format!("/chat/{slug}/people")) { "People" }
                            }
                            @if may_manage(p.viewer, p.room) {
                                a.button.secondary.small href=(format!("/chat/{slug}/settings")) { "Settings" }
                            }
                            @if slug != "general" {
                                form method="post" action=(format!("/chat/{slug}/leave")) {
                                    button.secondary.small type="submit" { "Leave" }
                                }
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
                        @for (i, m) in p.messages.iter().enumerate() {
                            @if Some(m.seq) == first_new {
                                p.divider id="new-messages" { span { "New messages" } }
                                (message_after(None, m))
                            } @else {
                                (message_after(i.checked_sub(1).map(|i| &p.messages[i]), m))
                            }
                        }
                    }
                    (typing_line(&[], Oob::No))
                    // Both, the stylesheet showing one by whether `#room-about` says
                    // archived: pushed settings then open or close it without
                    // touching what is being typed.
                    (composer(slug, &p.room.title, &p.composer, Oob::No))
                    (composer_closed())
                    // Sent by htmx on every (re)connect: "I have every change up to N".
                    // Each pushed change moves N forward (see `change_html`).
                    form id="resume" hidden ws-send hx-trigger="htmx:wsOpen from:#chat" hx-vals=r#"{"kind":"resume"}"# {
                        (resume_input(p.position))
                    }
                    (connection_status(Oob::No))
                }
            }
        },
    )
}

fn resume_input(event: i64) -> Markup {
    html! { input type="hidden" id="resume-after" name="after" value=(event); }
}

/// The composer. The same form posts without JavaScript and is sent over the
/// socket with it; after a send the server replaces it (reset, or with the problem).
pub fn composer(slug: &str, title: &str, c: &Composer<'_>, oob: Oob) -> Markup {
    html! {
        form.composer id="composer" method="post" action=(format!("/chat/{slug}/messages"))
            enctype="multipart/form-data"
            ws-send hx-vals=r#"{"kind":"send"}"# hx-swap-oob=[oob.swap()] {
            label.visually-hidden for="composer-body" { "Message " (title) }
            // Not `required`: files may go without text (the server says when
            // there is neither).
            textarea id="composer-body" name="body" rows="2" maxlength="4000"
                placeholder=(format!("Message {title}"))
                aria-invalid=[c.problem.map(|_| "true")]
                aria-describedby=[c.problem.map(|_| "composer-problem")]
                ws-send hx-trigger="input changed throttle:2s" hx-vals=r#"{"kind":"typing"}"# { (c.body) }
            button.primary type="submit" { "Send" }
            div.composer-files {
                @for file in c.kept {
                    label.kept-file {
                        input type="checkbox" name="attachment" value=(file.id) checked;
                        " " (file.name) " (" (file.size_text()) ")"
                    }
                }
                label.attach for="composer-file" { "Attach files" }
                input id="composer-file" type="file" name="file" multiple;
                progress id="composer-progress" hidden max="1" value="0" aria-label="Sending files" {}
            }
            @if let Some(problem) = c.problem {
                p.error id="composer-problem" role="alert" { (problem) }
            }
        }
    }
}

/// In place of the composer in an archived room (the stylesheet shows one of them).
fn composer_closed() -> Markup {
    html! {
        p.composer-closed id="composer-closed" {
            "This room is archived: its history stays, but nothing new can be added."
        }
    }
}

/// The room's name, topic, and whether it is archived, as every member sees them.
pub fn room_about(room: &About, oob: Oob) -> Markup {
    html! {
        div.room-about.archived[room.archived] id="room-about" hx-swap-oob=[oob.swap()] {
            h1 id="room-title" { @if !room.direct { "#" } (room.name) }
            @if !room.topic.is_empty() { p.topic id="room-topic" { (room.topic) } }
            @if room.archived { p.hint { "Archived" } }
        }
    }
}

/// What a change of settings pushes: to the sockets showing the room, its new name
/// and topic (which also closes or opens the composer); to every other socket of
/// its members, its name in the sidebar, or, archived, its leaving the sidebar. A
/// page that loaded while the room was archived does not list it: it drops those
/// (`hearth.js`), and lists it again on its next load or reconnect.
pub fn room_news(room: &About) -> RoomNews {
    let entry = if room.archived {
        html! { li id=(format!("room-item-{}", room.id)) hx-swap-oob="delete" {} }
    } else {
        room_name(room.id, &room.name, room.private, room.archived, Oob::Yes)
    };
    let viewers = html! {
        (room_about(room, Oob::Yes))
        (room_name(room.id, &room.name, room.private, room.archived, Oob::Yes))
    };
    RoomNews {
        room_id: room.id,
        name: room.name.clone(),
        archived: room.archived,
        viewers: viewers.into_string(),
        members: entry.into_string(),
    }
}

/// The rooms and direct messages of the person, with their unread counts. Archived
/// rooms are left out, but for the one on screen.
pub fn sidebar(rooms: &[MyRoom], current: &str, oob: Oob) -> Markup {
    let listed = rooms.iter().filter(|r| !r.archived || r.slug == current);
    let (public, direct): (Vec<&MyRoom>, Vec<&MyRoom>) = listed.partition(|r| !r.is_direct());
    html! {
        nav.sidebar id="sidebar" aria-label="Rooms" hx-swap-oob=[oob.swap()] {
            form.sidebar-search role="search" method="get" action="/search" {
                label.visually-hidden for="sidebar-search" { "Search messages" }
                // Kept as typed when the socket sends the sidebar again on a reconnect.
                input id="sidebar-search" type="search" name="q" placeholder="Search messages"
                    maxlength="200" autocomplete="off" hx-preserve;
            }
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
        li id=(format!("room-item-{}", r.id)) {
            a href=(format!("/chat/{}", r.slug)) aria-current=[(r.slug == current).then_some("page")] {
                @if r.is_direct() {
                    span.room-name { (r.title) }
                } @else {
                    (room_name(r.id, &r.title, r.private, r.archived, Oob::No))
                }
                @let here = r.slug == current;
                (unread_badge(r.id, if here { 0 } else { r.unread() }, Oob::No))
                (mention_badge(r.id, if here { 0 } else { r.mentions }, Oob::No))
            }
        }
    }
}

/// A room's name in the sidebar.
fn room_name(id: i64, name: &str, private: bool, archived: bool, oob: Oob) -> Markup {
    html! {
        span.room-name id=(format!("room-name-{id}")) hx-swap-oob=[oob.swap()] {
            "#" (name)
            @if private { span.visually-hidden { " (private)" } }
            @if archived { span.visually-hidden { " (archived)" } }
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

/// How many unread messages in a room mention the viewer; empty when none.
pub fn mention_badge(room_id: i64, count: i64, oob: Oob) -> Markup {
    html! {
        span.mentions id=(format!("mentions-{room_id}")) hx-swap-oob=[oob.swap()] {
            @if count > 0 {
                span aria-hidden="true" { "@" } (count)
                span.visually-hidden { @if count == 1 { " mention" } @else { " mentions" } }
            }
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
