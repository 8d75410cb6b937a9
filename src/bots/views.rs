//! The bots section of the administrator's page, the page that adds a bot, and the
//! one that shows its token and secret, once.

use maud::{Markup, html};

use super::NewBot;
use super::store::Bot;
use crate::accounts::User;
use crate::web::layout::{Field, page};
use crate::web::time::ago;

/// Every bot, with what came of its latest delivery, and the way to add one.
pub fn section(bots: &[Bot], now: i64) -> Markup {
    html! {
        section.card aria-labelledby="bots" {
            h2 id="bots" { "Bots" }
            p { "A bot answers when a message mentions it, or in a conversation with it. Hearth sends the message to its webhook and posts the answer. Add it to the rooms where it is wanted, like anyone." }
            @if !bots.is_empty() {
                div.table-scroll {
                    table.people-table {
                        thead { tr { th { "Name" } th { "Webhook" } th { "Last delivery" } th { "Actions" } } }
                        tbody {
                            @for bot in bots {
                                tr.deactivated[bot.deactivated_at.is_some()] {
                                    td { (bot.name) @if bot.deactivated_at.is_some() { ", deactivated" } }
                                    td { code { (bot.webhook_url) } }
                                    td { (last_delivery(bot, now)) }
                                    td { (toggle(bot)) }
                                }
                            }
                        }
                    }
                }
            }
            p { a.button.secondary href="/admin/bots" { "Add a bot" } }
        }
    }
}

fn last_delivery(bot: &Bot, now: i64) -> Markup {
    html! {
        @match (bot.last_attempt_at, &bot.last_outcome) {
            (Some(at), Some(outcome)) => {
                span.bot-outcome.failed[bot.last_ok == Some(false)] {
                    (ago(now, at)) ": " (outcome)
                }
            },
            _ => { "None yet." },
        }
        @if bot.owed > 0 { br; span.hint { (bot.owed) " waiting." } }
    }
}

/// Deactivating a bot is deactivating its account (no deliveries, no token).
fn toggle(bot: &Bot) -> Markup {
    let (action, label) = match bot.deactivated_at {
        Some(_) => ("reactivate", "Reactivate"),
        None => ("deactivate", "Deactivate"),
    };
    html! {
        form.inline method="post" action=(format!("/admin/people/{}/{action}", bot.id)) hx-boost="true" hx-disabled-elt="find button" {
            button.secondary.small type="submit" { (label) span.visually-hidden { " " (bot.name) } }
        }
    }
}

/// The form that adds a bot, with what was typed and what is wrong with it.
pub(super) fn form(
    admin: &User,
    input: &NewBot,
    name_problem: Option<&str>,
    url_problem: Option<&str>,
) -> Markup {
    page(
        "Add a bot",
        Some(admin),
        html! {
            section.card.narrow {
                h1 { "Add a bot" }
                form method="post" action="/admin/bots" hx-boost="true" hx-disabled-elt="find button" {
                    (Field { label: "Name", name: "name", kind: "text", value: &input.name,
                        error: name_problem, autocomplete: "off",
                        hint: Some("How people see it and @mention it.") }.render())
                    (Field { label: "Webhook URL", name: "webhook_url", kind: "url",
                        value: &input.webhook_url, error: url_problem, autocomplete: "off",
                        hint: Some("Where Hearth sends the messages it should answer: an https:// address on the public internet.") }.render())
                    button.primary type="submit" { "Add bot" }
                }
                p.aside { a href="/admin" { "Back to administration" } }
            }
        },
    )
}

/// The new bot's token and signing secret: shown here, once, never again.
pub(super) fn added(admin: &User, name: &str, token: &str, secret: &str) -> Markup {
    page(
        "Bot added",
        Some(admin),
        html! {
            section.card.narrow {
                h1 { (name) " is added" }
                div.notice role="status" {
                    p { "Copy these two into the bot's program now: they are not shown again." }
                }
                div.field {
                    label for="bot-token" { "API token" }
                    p.hint id="bot-token-hint" { "For the bot to use the API (Authorization: Bearer …)." }
                    input.invite-link id="bot-token" type="text" readonly value=(token) aria-describedby="bot-token-hint";
                }
                div.field {
                    label for="bot-secret" { "Signing secret" }
                    p.hint id="bot-secret-hint" { "To check X-Hearth-Signature: HMAC-SHA256 of the X-Hearth-Timestamp value, a dot, and the body." }
                    input.invite-link id="bot-secret" type="text" readonly value=(secret) aria-describedby="bot-secret-hint";
                }
                p { "Then add " (name) " to the rooms where it is wanted (a room's Members page)." }
                p.aside { a href="/admin" { "Back to administration" } }
            }
        },
    )
}
