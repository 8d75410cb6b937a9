# Hearth's everyday commands. `just --list` shows them.

# Serve Hearth on http://127.0.0.1:3000 with ./data/hearth.db
run:
    cargo run

# All tests, SQLite and PostgreSQL (127.0.0.1:5432)
test:
    cargo test

fmt:
    cargo fmt --all

lint:
    cargo fmt --all -- --check
    cargo clippy --all-targets -- -D warnings

# Supply-chain check as CI runs it: cargo deny (advisories from ../shared/advisory-db, licences, bans, sources)
audit-deps:
    #!/usr/bin/env bash
    set -euo pipefail
    command -v cargo-deny >/dev/null 2>&1 || CARGO_TARGET_DIR=/work/.cache/tools-target cargo install --locked cargo-deny
    HEARTH_ADVISORY_DB="$(mktemp -d "${TMPDIR:-/tmp}/hearth-advisory-db.XXXXXX")"
    export HEARTH_ADVISORY_DB
    trap 'rm -rf "$HEARTH_ADVISORY_DB"' EXIT
    checkout="$HEARTH_ADVISORY_DB/advisory-db-3157b0e258782691"
    mkdir -p "$checkout"
    cp -R ../shared/advisory-db/. "$checkout/"
    chmod -R u+w "$checkout"
    git -C "$checkout" init -q
    git -C "$checkout" add -A
    git -C "$checkout" -c user.name=hearth -c user.email=hearth@localhost -c commit.gpgsign=false commit -q -m "RustSec advisory-db snapshot from ../shared"
    cargo fetch --locked
    cargo deny --offline check

# What CI runs
ci:
    bash .ci/run

# The browser suite (e2e/): journeys and axe in Debian's chromium; screenshots in target/e2e/
e2e:
    cargo build
    [ -d e2e/node_modules ] || (cd e2e && npm ci)
    cd e2e && npm test
