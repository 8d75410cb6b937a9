//! Your data, to take away: a person's archive from the dashboard (everything they
//! wrote, and every conversation they are in, as one JSON file), and the operator's
//! `hearth export` (everyone's, as NDJSON) and `hearth backup PATH`.
//!
//! Both exports read the database a page of rows at a time and write as they go,
//! so an archive of years costs the server one page of memory, not the archive.
//! Files sent with messages are listed (name, type, size, and for the archive the
//! link to download them), not copied into the export.

mod archive;
mod operator;
mod rows;

use poem::{Route, get};

pub use self::operator::{backup, export};

pub fn routes(route: Route) -> Route {
    route.at("/dashboard/export", get(archive::download))
}
