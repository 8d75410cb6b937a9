//! Static files, embedded in the binary so a deploy is one file.
//!
//! Pages link each asset as `/assets/<name>?v=<hash of its bytes>`: a matching
//! request may be cached for a year, because a new build of the file gets a new URL.

use std::sync::LazyLock;

use poem::http::{StatusCode, header};
use poem::web::{Path, Query};
use poem::{IntoResponse, Response, handler};
use serde::Deserialize;
use sha2::{Digest, Sha256};

struct Asset {
    name: &'static str,
    mime: &'static str,
    bytes: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "hearth.css",
        mime: "text/css; charset=utf-8",
        bytes: include_bytes!("../../assets/hearth.css"),
    },
    Asset {
        name: "htmx.min.js",
        mime: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/htmx.min.js"),
    },
    Asset {
        name: "htmx-ext-ws.js",
        mime: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/htmx-ext-ws.js"),
    },
    Asset {
        name: "hearth.js",
        mime: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/hearth.js"),
    },
    Asset {
        name: "passkeys.js",
        mime: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/passkeys.js"),
    },
    Asset {
        name: "favicon.svg",
        mime: "image/svg+xml",
        bytes: include_bytes!("../../assets/favicon.svg"),
    },
    Asset {
        name: "favicon-unread.svg",
        mime: "image/svg+xml",
        bytes: include_bytes!("../../assets/favicon-unread.svg"),
    },
];

/// Each asset's version: the start of the SHA-256 of its bytes.
static VERSIONS: LazyLock<Vec<String>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|asset| {
            let digest = Sha256::digest(asset.bytes);
            digest[..6].iter().map(|b| format!("{b:02x}")).collect()
        })
        .collect()
});

/// The URL of the embedded asset `name`, with its version.
pub fn url(name: &str) -> String {
    match ASSETS.iter().position(|asset| asset.name == name) {
        Some(i) => format!("/assets/{name}?v={}", VERSIONS[i]),
        None => format!("/assets/{name}"),
    }
}

#[derive(Deserialize)]
pub struct Version {
    v: Option<String>,
}

#[handler]
pub fn serve(Path(name): Path<String>, Query(version): Query<Version>) -> Response {
    let Some(i) = ASSETS.iter().position(|asset| asset.name == name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let cache = if version.v.as_deref() == Some(VERSIONS[i].as_str()) {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=300"
    };
    Response::builder()
        .header(header::CONTENT_TYPE, ASSETS[i].mime)
        .header(header::CACHE_CONTROL, cache)
        .body(ASSETS[i].bytes)
}
