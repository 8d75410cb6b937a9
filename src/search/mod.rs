//! Search: finding what was said, in every room and conversation one is in.
//!
//! `GET /search?q=…&room=…&person=…` is a page that works without JavaScript (with
//! it, results follow the typing); `GET /api/search` answers programs. What was
//! typed is parsed once ([`query`]), run in the database's own full-text index
//! ([`find`]), the newest matches ranked ([`rank`]), and each result shows a
//! snippet with its matches marked ([`snippet`]) and links to the message in its
//! room, opened around it.

mod find;
pub mod query;
mod rank;
mod snippet;

use std::collections::HashMap;

use maud::{Markup, html};
use poem::http::header;
use poem::web::{Data, Json, Query as QueryString};
use poem::{IntoResponse, Request, Response, Route, get, handler};
use serde::{Deserialize, Serialize};

use self::find::{Hit, Within};
use self::query::Query;
use self::snippet::Piece;
use crate::AppState;
use crate::accounts::{User, users};
use crate::chat::rooms::{self, MyRoom};
use crate::error::Result;
use crate::web::CurrentUser;
use crate::web::layout::page;
use crate::web::time;

pub fn routes(route: Route) -> Route {
    route.at("/search", get(search_page)).at("/api/search", get(search_api))
}

/// The query string of both routes. Filters arrive as text: a form sends an empty
/// one for "any"; a person that is not a number is "any" too, and a room that is
/// not one's own finds nothing.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Params {
    q: String,
    /// A room's slug.
    room: String,
    /// An author's id.
    person: String,
}

/// A search, run: what was asked and what was found, with each room by id.
struct Found {
    query: Option<Query>,
    hits: Vec<Hit>,
    rooms: HashMap<i64, MyRoom>,
}

async fn run(state: &AppState, user: &User, params: &Params) -> Result<Found> {
    let rooms: HashMap<i64, MyRoom> =
        rooms::mine(&state.db, user.id).await?.into_iter().map(|r| (r.id, r)).collect();
    let query = Query::parse(&params.q);

    let room_id = rooms.values().find(|r| r.slug == params.room).map(|r| r.id);
    // A room that is not one's own finds nothing, as a room that does not exist.
    let unknown_room = !params.room.is_empty() && room_id.is_none();
    let within = Within { room_id, author_id: params.person.parse().ok() };
    let hits = match &query {
        Some(query) if !unknown_room => {
            rank::best(find::newest(&state.db, user.id, query, within).await?, query)
        }
        _ => Vec::new(),
    };
    Ok(Found { query, hits, rooms })
}

/// The search page; for htmx (typing in the box), only the results. (Going back
/// in history reloads whole pages: see the htmx config in `web/layout.rs`.)
#[handler]
async fn search_page(
    req: &Request,
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    QueryString(params): QueryString<Params>,
) -> Result<Response> {
    let found = run(&state, &user, &params).await?;
    let markup = if req.header("hx-request").is_some() {
        results(&params, &found)
    } else {
        whole_page(&state, &user, &params, &found).await?
    };
    // One address, two answers: caches must tell them apart.
    Ok(markup.with_header(header::VARY, "HX-Request").into_response())
}

async fn whole_page(
    state: &AppState,
    user: &User,
    params: &Params,
    found: &Found,
) -> Result<Markup> {
    let people = users::all(&state.db).await?;
    let mut rooms: Vec<&MyRoom> = found.rooms.values().collect();
    rooms.sort_by(|a, b| (a.is_direct(), &a.title).cmp(&(b.is_direct(), &b.title)));
    let title = if params.q.trim().is_empty() {
        "Search".to_owned()
    } else {
        format!("Search: {}", params.q.trim())
    };
    Ok(page(
        &title,
        Some(user),
        html! {
            section.card.search {
                h1 { "Search" }
                form.search-form role="search" method="get" action="/search"
                    hx-get="/search" hx-trigger="submit, input changed delay:300ms from:#search-q, change"
                    hx-target="#results" hx-swap="innerHTML" hx-replace-url="true" {
                    div.field {
                        label for="search-q" { "Words to find" }
                        input id="search-q" type="search" name="q" value=(params.q)
                            autocomplete="off" maxlength="200" autofocus;
                    }
                    div.filters {
                        div.field {
                            label for="search-room" { "In" }
                            select id="search-room" name="room" {
                                option value="" { "Every room" }
                                @for r in &rooms {
                                    option value=(r.slug) selected[r.slug == params.room] {
                                        @if !r.is_direct() { "#" } (r.title)
                                    }
                                }
                            }
                        }
                        div.field {
                            label for="search-person" { "From" }
                            select id="search-person" name="person" {
                                option value="" { "Anyone" }
                                @for p in people.iter().filter(|p| p.deactivated_at.is_none()) {
                                    option value=(p.id) selected[p.id.to_string() == params.person] { (p.name) }
                                }
                            }
                        }
                    }
                    button.primary type="submit" { "Search" }
                }
                div.results id="results" { (results(params, found)) }
            }
        },
    ))
}

/// What is inside `#results` (what htmx swaps in as one types). The count is a
/// status, read out once; the results themselves are not.
fn results(params: &Params, found: &Found) -> Markup {
    html! {
        p.hint role="status" {
            @if found.query.is_some() {
                @if found.hits.is_empty() { "Nothing found." }
                @else {
                    (found.hits.len())
                    @if found.hits.len() == rank::MOST { " best results" }
                    @else if found.hits.len() == 1 { " result" } @else { " results" }
                }
            }
        }
        @if found.query.is_none() {
                @if !params.q.trim().is_empty() {
                    p.hint { "Type words to find: letters or digits." }
                }
        } @else if !found.hits.is_empty() {
            ol.hits {
                @for hit in &found.hits {
                    @if let (Some(room), Some(query)) = (found.rooms.get(&hit.room_id), &found.query) {
                        (result(hit, room, query))
                    }
                }
            }
        }
    }
}

fn result(hit: &Hit, room: &MyRoom, query: &Query) -> Markup {
    let href = format!("/chat/{}/messages?around={}#m-{}", room.slug, hit.seq, hit.seq);
    // The link names the room; what it leads to is the snippet, read with it.
    let snippet_id = format!("hit-{}-{}", room.id, hit.seq);
    html! {
        li.hit {
            p.hit-where {
                a href=(href) aria-describedby=(snippet_id) { @if !room.is_direct() { "#" } (room.title) }
                " · " span.author { (hit.author_name) }
                " · " time datetime=(time::iso(hit.created_at)) data-with-date { (time::date_and_clock(hit.created_at)) }
            }
            p.snippet id=(snippet_id) {
                @for piece in snippet::snippet(&hit.body, query) {
                    @if piece.hit { mark { (piece.text) } } @else { (piece.text) }
                }
            }
        }
    }
}

/// A result as `GET /api/search` gives it.
#[derive(Serialize)]
struct ResultOut {
    room: String,
    seq: i64,
    body: String,
    /// The part of the message around the first match, as plain text.
    snippet: String,
    author: AuthorOut,
    /// Unix seconds.
    created_at: i64,
}

#[derive(Serialize)]
struct AuthorOut {
    id: i64,
    name: String,
}

#[derive(Serialize)]
struct Results {
    results: Vec<ResultOut>,
}

/// Search for programs: the same search, as JSON.
#[handler]
async fn search_api(
    state: Data<&AppState>,
    CurrentUser(user): CurrentUser,
    QueryString(params): QueryString<Params>,
) -> Result<Json<Results>> {
    let found = run(&state, &user, &params).await?;
    let Found { query, hits, rooms } = found;
    let results = match query {
        None => Vec::new(),
        Some(query) => hits
            .into_iter()
            .filter_map(|hit| {
                let room = rooms.get(&hit.room_id)?;
                let pieces: Vec<Piece> = snippet::snippet(&hit.body, &query);
                Some(ResultOut {
                    room: room.slug.clone(),
                    seq: hit.seq,
                    snippet: snippet::plain(&pieces),
                    body: hit.body,
                    author: AuthorOut { id: hit.author_id, name: hit.author_name },
                    created_at: hit.created_at,
                })
            })
            .collect(),
    };
    Ok(Json(Results { results }))
}
