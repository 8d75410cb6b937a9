//! The landing page and the health check.

use maud::{Markup, html};
use poem::http::StatusCode;
use poem::web::{Data, Redirect};
use poem::{IntoResponse, Response, Route, get, handler};

use crate::AppState;
use crate::web::MaybeUser;
use crate::web::layout::page;

pub fn routes(route: Route) -> Route {
    route.at("/", get(landing))
}

/// `/healthz` lives outside the session middleware: load balancers have no cookies.
pub fn health_routes(route: Route) -> Route {
    route.at("/healthz", get(health))
}

#[handler]
async fn landing(MaybeUser(viewer): MaybeUser) -> Response {
    if viewer.is_some() {
        return Redirect::see_other("/dashboard").into_response();
    }
    view().into_response()
}

#[handler]
async fn health(state: Data<&AppState>) -> (StatusCode, &'static str) {
    if state.db.is_healthy().await {
        (StatusCode::OK, "ok\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n")
    }
}

fn view() -> Markup {
    page(
        "Welcome",
        None,
        html! {
            section.hero {
                h1 { "A warm place for your people to talk." }
                p.lead {
                    "Hearth gives your group accounts and a real-time chat, "
                    "on a server you run yourself."
                }
                p.actions {
                    a.button.primary href="/signup" { "Create an account" }
                    a.button.secondary href="/login" { "Sign in" }
                }
            }
        },
    )
}
