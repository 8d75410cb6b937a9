//! The people list of the administrator's page, and its queries.

use maud::{Markup, html};

use crate::db::Db;
use crate::error::Result;
use crate::on_db;
use crate::web::time::ago;

#[derive(Debug, sqlx::FromRow)]
pub struct Person {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub is_admin: bool,
    pub deactivated_at: Option<i64>,
    pub has_password: bool,
    pub has_google: bool,
    pub last_active: Option<i64>,
}

/// Everyone but bots (the bots have their own section).
pub async fn all(db: &Db) -> Result<Vec<Person>> {
    let people = on_db!(db, pool => sqlx::query_as(
        "SELECT u.id, u.name, u.email, u.is_admin, u.deactivated_at,
                u.password_hash IS NOT NULL AS has_password,
                EXISTS (SELECT 1 FROM identities i WHERE i.user_id = u.id) AS has_google,
                (SELECT MAX(s.last_seen_at) FROM user_sessions s WHERE s.user_id = u.id) AS last_active
         FROM users u WHERE NOT EXISTS (SELECT 1 FROM bots b WHERE b.user_id = u.id)
         ORDER BY u.name, u.id",
    )
    .fetch_all(pool)
    .await)?;
    Ok(people)
}

/// Administrators who can still sign in.
pub async fn active_admins(db: &Db) -> Result<i64> {
    let count = on_db!(db, pool => sqlx::query_scalar(
        "SELECT COUNT(*) FROM users WHERE is_admin = TRUE AND deactivated_at IS NULL",
    )
    .fetch_one(pool)
    .await)?;
    Ok(count)
}

pub async fn set_admin(db: &Db, user_id: i64, admin: bool) -> Result<()> {
    on_db!(db, pool => sqlx::query("UPDATE users SET is_admin = $1 WHERE id = $2")
        .bind(admin)
        .bind(user_id)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
    Ok(())
}

pub fn table(people: &[Person], me: i64, now: i64) -> Markup {
    html! {
        div.table-scroll {
            table.people-table {
                thead { tr { th { "Name" } th { "Email" } th { "Signs in with" } th { "Last active" } th { "Role" } th { "Actions" } } }
                tbody {
                    @for p in people {
                        tr.deactivated[p.deactivated_at.is_some()] {
                            td { (p.name) @if p.id == me { " (you)" } }
                            td { (p.email) }
                            td { (methods(p)) }
                            td { (p.last_active.map_or("never".into(), |at| ago(now, at))) }
                            td {
                                @if p.is_admin { "Administrator" } @else { "Member" }
                                @if p.deactivated_at.is_some() { ", deactivated" }
                            }
                            td { div.actions {
                                @if p.deactivated_at.is_some() {
                                    (action(p, "reactivate", "Reactivate"))
                                } @else if p.id != me {
                                    (action(p, "deactivate", "Deactivate"))
                                }
                                @if p.is_admin { (action(p, "demote", "Remove administrator")) }
                                @else { (action(p, "promote", "Make administrator")) }
                                @if p.deactivated_at.is_none() && p.id != me {
                                    (action(p, "reset-link", "Password reset link"))
                                }
                            } }
                        }
                    }
                }
            }
        }
    }
}

fn action(p: &Person, action: &str, label: &str) -> Markup {
    html! {
        form.inline method="post" action=(format!("/admin/people/{}/{action}", p.id)) hx-boost="true" hx-disabled-elt="find button" {
            button.secondary.small type="submit" { (label) span.visually-hidden { " " (p.name) } }
        }
    }
}

fn methods(p: &Person) -> String {
    let mut methods = Vec::new();
    if p.has_password {
        methods.push("password");
    }
    if p.has_google {
        methods.push("Google");
    }
    if methods.is_empty() { "nothing".into() } else { methods.join(", ") }
}
