//! Messages as HTML: one message, the changes pushed to open pages, pages of
//! history, and the edit form.

use maud::{Markup, Render, html};

use super::super::changes::{Change, Kind};
use super::super::messages::{Message, PAGE};
use super::super::reactions::{COMMON, name_of};
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
            (Kind::Edited | Kind::Reacted, None) => (message_with(m, Some("true"))),
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
    message_with(m, None)
}

/// The actions are in every copy of a message; which ones a viewer sees is decided
/// by the viewer's stylesheet (`/chat/viewer.css`), by `data-author`, so that one
/// rendering serves every viewer. The server checks each action anyway.
fn message_with(m: &Message, oob: Option<&str>) -> Markup {
    let (iso, clock) = times(m.created_at);
    html! {
        article.message id=(format!("m-{}", m.seq)) data-seq=(m.seq) data-author=(m.user_id)
            hx-swap-oob=[oob] {
            (avatar_for(m.user_id, &m.author_name, m.author_avatar.as_deref(), ""))
            div.message-main {
                header {
                    a.author href=(format!("/people/{}", m.user_id)) { (m.author_name) }
                    " "
                    time datetime=(iso) title=(iso) { (clock) }
                    @if let Some(edited) = m.edited_at {
                        " "
                        span.edited title=(format!("Edited {}", times(edited).0)) { "(edited)" }
                    }
                }
                p.body { (linkify(&m.body)) }
                @if !m.reactions.is_empty() { (reactions(m)) }
            }
            (actions(m))
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

/// React, edit and delete, in a menu that works without JavaScript. Edit is shown
/// to the author, Delete to the author and administrators (see above).
fn actions(m: &Message) -> Markup {
    let base = format!("/messages/{}", m.id);
    let react = format!("{base}/react");
    let edit = format!("{base}/edit");
    let delete = format!("{base}/delete");
    html! {
        details.message-actions {
            summary title="Message actions" { span aria-hidden="true" { "⋯" } span.visually-hidden { "Actions for this message" } }
            div.menu {
                a href=(react) hx-get=(react) hx-target="closest .menu" { "React" }
                a.own href=(edit) hx-get=(edit) hx-target="closest article" hx-swap="outerHTML" { "Edit" }
                form.own-or-admin method="post" action=(delete) hx-post=(delete) hx-target="closest article"
                    hx-swap="delete" hx-confirm="Delete this message for everyone?" {
                    button.danger type="submit" { "Delete" }
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

/// The edit form, in place of the message (`#m-{seq}`, so a pushed change to the
/// message replaces it); it works as a page of its own without JavaScript.
pub fn edit_form(m: &Message, slug: &str, body: &str, problem: Option<&str>) -> Markup {
    let save = format!("/messages/{}", m.id);
    let back = format!("/chat/{slug}#m-{}", m.seq);
    html! {
        form.message.editing id=(format!("m-{}", m.seq)) method="post" action=(save)
            hx-post=(save) hx-target="this" hx-swap="outerHTML" {
            label for=(format!("edit-{}", m.seq)) { "Edit your message" }
            textarea id=(format!("edit-{}", m.seq)) name="body" rows="3" maxlength="4000" required autofocus
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
        @for m in messages { (message(m)) }
    }
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
