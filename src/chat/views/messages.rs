//! Messages as HTML: one message, the changes pushed to open pages, pages of
//! history, and the edit form.

use maud::{Markup, PreEscaped, html};

use super::super::changes::{Change, Kind};
use super::super::format;
use super::super::messages::{Message, PAGE};
use super::super::reactions::{COMMON, name_of};
use crate::files::Attachment;
use crate::web::layout::avatar_for;

/// The bytes every viewer of the room receives for a change: a new message
/// appended to the list, an edited one replaced, a deleted one removed (each by an
/// out-of-band swap), and the resume position moved to the change.
pub fn change_html(change: &Change) -> String {
    let m = &change.message;
    let id = format!("m-{}", m.seq);
    html! {
        @match (change.kind, m.deleted_at) {
            // Deleted since: there is nothing left to show, and a later event removes it.
            (Kind::Posted, Some(_)) => {},
            (Kind::Posted, None) => div hx-swap-oob="beforeend:#messages" { (message(m)) },
            (Kind::Edited | Kind::Reacted, None) => (message_with(m, Some("true"), false)),
            (Kind::Edited | Kind::Reacted | Kind::Deleted, _) => div id=(id) hx-swap-oob="delete" {},
        }
        input type="hidden" id="resume-after" name="after" value=(change.event) hx-swap-oob="true";
    }
    .into_string()
}

/// The whole message list replaced by the newest page, and the resume position
/// moved to `position`, the event that page was read at: for a client too far
/// behind to catch up change by change.
pub fn messages_replacement(slug: &str, latest: &[Message], position: i64) -> String {
    html! {
        div hx-swap-oob="innerHTML:#messages" { (history_fragment(slug, latest)) }
        input type="hidden" id="resume-after" name="after" value=(position) hx-swap-oob="true";
    }
    .into_string()
}

/// One message, with its author, time and actions.
pub fn message(m: &Message) -> Markup {
    message_with(m, None, false)
}

/// Messages in order, each one that follows another of its author within a few
/// minutes marked `continued` (shown under the first one's name and picture; the
/// page's script keeps this so as messages arrive and go).
pub fn messages_in_order(messages: &[Message]) -> Markup {
    html! {
        @for (i, m) in messages.iter().enumerate() {
            (message_after(i.checked_sub(1).map(|i| &messages[i]), m))
        }
    }
}

/// A message shown right after `previous` (`None` after anything else).
pub fn message_after(previous: Option<&Message>, m: &Message) -> Markup {
    message_with(m, None, previous.is_some_and(|p| continues(p, m)))
}

/// Whether `next` sits under `previous`'s name: the same author, within five minutes.
fn continues(previous: &Message, next: &Message) -> bool {
    previous.user_id == next.user_id && (0..300).contains(&(next.created_at - previous.created_at))
}

/// One rendering serves every viewer: nothing in it depends on who looks (the
/// viewer's stylesheet, `/chat/viewer.css`, marks their own reactions).
fn message_with(m: &Message, oob: Option<&str>, continued: bool) -> Markup {
    let (iso, clock) = times(m.created_at);
    html! {
        article.message.continued[continued] id=(format!("m-{}", m.seq)) data-seq=(m.seq)
            data-author=(m.user_id) data-at=(m.created_at) hx-swap-oob=[oob] {
            (avatar_for(m.user_id, &m.author_name, m.author_avatar.as_deref(), ""))
            div.message-main {
                header {
                    a.author href=(format!("/people/{}", m.user_id)) { (m.author_name) }
                    " "
                    // The page's script shows it in the reader's time zone, with the date on hover.
                    time datetime=(iso) { (clock) }
                    @if let Some(edited) = m.edited_at {
                        " "
                        span.edited title=(format!("Edited {}", times(edited).0)) { "(edited)" }
                    }
                }
                @if !m.body.is_empty() {
                    div.body { (PreEscaped(format::to_html(&m.body, &m.mentions))) }
                }
                @if !m.attachments.is_empty() { (attachments(&m.attachments)) }
                @if !m.reactions.is_empty() { (reactions(m)) }
            }
            (actions(m))
        }
    }
}

/// The size a preview is shown at: within 360×270 (half the preview, so it is
/// sharp on high-density screens), never enlarged. Given as the `img`'s own size
/// so the page keeps its place before the picture arrives; otherwise the chat,
/// scrolled to its newest message, would be pushed up as each picture loads.
fn shown_size(width: i64, height: i64) -> (i64, i64) {
    let (width, height) = (width.max(1), height.max(1));
    let scale = f64::min(1.0, f64::min(360.0 / width as f64, 270.0 / height as f64));
    let shown = |side: i64| ((side as f64 * scale).round() as i64).max(1);
    (shown(width), shown(height))
}

/// A page with a folded corner, drawn rather than an emoji, which not every
/// system has a font for.
const FILE_ICON: PreEscaped<&str> = PreEscaped(
    r#"<svg class="file-icon" aria-hidden="true" viewBox="0 0 24 24" width="28" height="28" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linejoin="round"><path d="M6 2.75h8l4.25 4.25v14.25H6z"/><path d="M14 2.75V7h4.25"/></svg>"#,
);

/// A message's files: a picture as its preview, which opens the whole picture; any
/// other file as a card with its name and size, to download.
fn attachments(files: &[Attachment]) -> Markup {
    html! {
        ul.attachments {
            @for file in files {
                li {
                    @match (file.preview_url(), file.preview_width, file.preview_height) {
                        (Some(preview), Some(width), Some(height)) => {
                            @let (width, height) = shown_size(width, height);
                            a.picture href=(file.url()) target="_blank" rel="noopener" {
                                img src=(preview) alt=(file.name) width=(width) height=(height)
                                    loading="lazy";
                            }
                        }
                        _ => {
                            a.file-card href=(file.url()) download=(file.name) {
                                (FILE_ICON)
                                span.file-name { (file.name) }
                                span.file-size { (file.size_text()) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The reactions under a message: each a button that adds the viewer's own or
/// takes it back. Who reacted is in `data-by`, so the viewer's stylesheet can mark
/// the ones that are theirs, and in the button's text for screen readers.
fn reactions(m: &Message) -> Markup {
    let path = format!("/messages/{}/reactions", m.id);
    html! {
        form.reactions method="post" action=(path) hx-post=(path) hx-target="closest article"
            hx-swap="outerHTML" {
            @for r in &m.reactions {
                @let names = r.people.iter().map(|(_, name)| name.as_str()).collect::<Vec<_>>().join(", ");
                @let by = r.people.iter().map(|(id, _)| id.to_string()).collect::<Vec<_>>().join(" ");
                button.reaction type="submit" name="emoji" value=(r.emoji) title=(names) data-by=(by) {
                    span aria-hidden="true" { (r.emoji) " " (r.people.len()) }
                    span.visually-hidden {
                        (name_of(&r.emoji)) ", " (r.people.len()) ": " (names)
                    }
                }
            }
        }
    }
}

/// The way to a message's actions: one small link in every copy of the message
/// (the fan-out sends these bytes to every socket), which opens the menu, made for
/// the one who asks (see [`actions_menu`]), in its place; without JavaScript it is
/// a page of the message's actions.
fn actions(m: &Message) -> Markup {
    let path = format!("/messages/{}/actions", m.id);
    html! { a.more href=(path) hx-get=(path) hx-swap="outerHTML" aria-label="Message actions" { "⋯" } }
}

/// What `viewer` may do to a message: react (the picker), edit if it is theirs,
/// delete if it is theirs or they are an administrator. Open, in place of the link.
pub fn actions_menu(m: &Message, may_edit: bool, may_delete: bool, archived: bool) -> Markup {
    let edit = format!("/messages/{}/edit", m.id);
    let delete = format!("/messages/{}/delete", m.id);
    html! {
        details.message-actions open {
            summary aria-label="Message actions" { "⋯" }
            div.menu {
                @if archived {
                    p.hint { "This room is archived: nothing here can change." }
                } @else {
                (picker(m, "", None))
                @if may_edit {
                    a href=(edit) hx-get=(edit) hx-target="closest article" hx-swap="outerHTML" { "Edit" }
                }
                @if may_delete {
                    form method="post" action=(delete) hx-post=(delete) hx-target="closest article"
                        hx-swap="delete" hx-confirm="Delete this message for everyone?" {
                        button.danger type="submit" { "Delete" }
                    }
                }
                }
            }
        }
    }
}

/// The reaction picker: a field for any emoji, and the common ones. In the
/// message's menu with htmx; a page of its own without JavaScript. The field and
/// its button come first: Enter in the field submits with the form's first button.
pub fn picker(m: &Message, typed: &str, problem: Option<&str>) -> Markup {
    let path = format!("/messages/{}/reactions", m.id);
    let field = format!("emoji-{}", m.seq);
    html! {
        form.picker method="post" action=(path) hx-post=(path) hx-target="closest article" hx-swap="outerHTML" {
            label for=(field) { "Any emoji" }
            div.other {
                input id=(field) name="other" type="text" maxlength="32" autocomplete="off" value=(typed)
                    aria-invalid=[problem.map(|_| "true")]
                    aria-describedby=[problem.map(|_| "emoji-problem")];
                button.secondary.small type="submit" { "React" }
            }
            @if let Some(problem) = problem {
                p.error id="emoji-problem" role="alert" { (problem) }
            }
            div.common role="group" aria-label="Common reactions" {
                @for emoji in COMMON {
                    button type="submit" name="emoji" value=(emoji) title=(name_of(emoji)) {
                        span aria-hidden="true" { (emoji) }
                        span.visually-hidden { (name_of(emoji)) }
                    }
                }
            }
        }
    }
}

/// The edit form, in place of the message; it works as a page of its own without
/// JavaScript. Its id is not the message's: changes pushed meanwhile (a reaction)
/// must not replace what is being typed (the page's script holds them back, and
/// saving shows the message as it then is).
pub fn edit_form(m: &Message, slug: &str, body: &str, problem: Option<&str>) -> Markup {
    let save = format!("/messages/{}", m.id);
    let back = format!("/chat/{slug}#m-{}", m.seq);
    let field = format!("edit-body-{}", m.seq);
    html! {
        form.message.editing id=(format!("edit-m-{}", m.seq)) method="post" action=(save)
            hx-post=(save) hx-target="this" hx-swap="outerHTML" {
            label for=(field) { "Edit your message" }
            textarea id=(field) name="body" rows="3" maxlength="4000" required autofocus
                aria-invalid=[problem.map(|_| "true")]
                aria-describedby=[problem.map(|_| "edit-problem")] { (body) }
            @if let Some(problem) = problem {
                p.error id="edit-problem" role="alert" { (problem) }
            }
            div.actions {
                button.primary.small type="submit" { "Save" }
                a.secondary.small href=(back) hx-get=(save) hx-target="closest form" hx-swap="outerHTML" { "Cancel" }
            }
        }
    }
}

/// A time as RFC 3339 (for `datetime` and hovering) and as the clock shows it.
fn times(unix: i64) -> (String, String) {
    let at =
        time::OffsetDateTime::from_unix_timestamp(unix).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let iso = at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
    let clock = at.format(time::macros::format_description!("[hour]:[minute]")).unwrap_or_default();
    (iso, clock)
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
        (messages_in_order(messages))
    }
}
