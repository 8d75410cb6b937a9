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

# Refresh the vendored htmx (pinned versions; see assets/VENDORED.md), then print the checksums to record there
vendor htmx="2.0.11" ws="2.0.4":
    #!/usr/bin/env bash
    set -euo pipefail
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
    (cd "$work" && npm pack --silent "htmx.org@{{htmx}}" "htmx-ext-ws@{{ws}}" >/dev/null && for f in *.tgz; do mkdir -p "${f%.tgz}" && tar -xzf "$f" -C "${f%.tgz}"; done)
    cp "$work"/htmx.org-{{htmx}}/package/dist/htmx.min.js assets/htmx.min.js
    cp "$work"/htmx-ext-ws-{{ws}}/package/dist/ws.min.js assets/htmx-ext-ws.js
    sha256sum assets/htmx.min.js assets/htmx-ext-ws.js

# Benchmarks (release, a few minutes): chat fan-out beside socket.io, bare ws and a bare poem server, pages, sign-ins, start-up, memory; see docs/benchmarks.md
bench *ARGS:
    #!/usr/bin/env bash
    # Needs PostgreSQL on 127.0.0.1:5432 (trust auth) and wrk; `just bench --help` lists the flags.
    # Prints a markdown table; progress goes to stderr.
    set -euo pipefail
    # Each socket is a file descriptor in the server and one in the load generator.
    hard=$(ulimit -Hn)
    if [ "$hard" = unlimited ] || [ "$hard" -gt 65536 ]; then ulimit -n 65536; else ulimit -n "$hard"; fi
    # The Node servers Hearth replaces (socket.io, bare ws), run beside it when Node is here.
    if command -v node >/dev/null && [ -d ../shared/bench-peers ] && [ ! -d target/bench-peers/node_modules ]; then
        mkdir -p target/bench-peers
        cp ../shared/bench-peers/package.json ../shared/bench-peers/package-lock.json ../shared/bench-peers/*.js target/bench-peers/
        npm ci --prefix target/bench-peers --no-audit --no-fund --silent
    fi
    cargo build --release --quiet --bin hearth --example bench_baseline --example bench
    cargo run --release --quiet --example bench -- {{ARGS}}

# The soak: chat at 20,000 deliveries/s (2,000 sockets, 10 senders × 1/s) for 30 minutes on one database (sqlite or postgres); prints memory every 3 minutes and what was lost
soak db="sqlite" minutes="30":
    just bench --only {{db}} --then none --startups 1 --senders 10 --duration $(( {{minutes}} * 60 ))

# Highest chat load kept under 100 ms p99: the fan-out (2,000 sockets) at each senders × 1/s
sweep servers="socketio,sqlite,postgres" senders="10 20 40 60 80 100":
    for n in {{senders}}; do just bench --only {{servers}} --then none --startups 1 --senders $n; done

# Lighthouse (accessibility, best practices) on the landing, sign-in, sign-up, dashboard and chat pages; fails under 95 (tools/audit/)
audit:
    #!/usr/bin/env bash
    set -euo pipefail
    if ! cmp -s tools/audit/package-lock.json tools/audit/node_modules/.hearth-lock; then
        npm ci --prefix tools/audit --no-audit --no-fund
        cp tools/audit/package-lock.json tools/audit/node_modules/.hearth-lock
    fi
    [ -n "${HEARTH_BIN:-}" ] || cargo build
    CHROME_PATH="${CHROME_PATH:-/usr/bin/chromium}" node tools/audit/run.mjs

# Fuzz the code that meets raw input (fuzz/): each target (default: all) for SECONDS; a crash stops with its input in fuzz/artifacts/
fuzz seconds="60" *targets:
    #!/usr/bin/env bash
    set -euo pipefail
    command -v cargo-fuzz >/dev/null 2>&1 || cargo install --locked cargo-fuzz
    # cargo fuzz instruments with nightly flags (-Zsanitizer=address); the stable
    # toolchain accepts them with RUSTC_BOOTSTRAP=1, set here and nowhere else.
    export RUSTC_BOOTSTRAP=1
    export CARGO_TARGET_DIR="$PWD/fuzz/target"
    cd fuzz
    targets="{{targets}}"
    [ -n "$targets" ] || targets="$(cargo fuzz list)"
    mkdir -p target
    for target in $targets; do
        echo "--- $target ({{seconds}} s)"
        log="target/$target.log"
        if ! cargo fuzz run -O -a "$target" -- -max_total_time={{seconds}} -max_len=4096 -print_final_stats=1 >"$log" 2>&1; then
            grep -E -A12 'panicked|ERROR: AddressSanitizer|ERROR: libFuzzer' "$log" | head -40
            echo "$target failed; the input is in fuzz/artifacts/$target/ (cargo fuzz run -O -a $target <file> replays it)" >&2
            exit 1
        fi
        grep -E '^stat::(number_of_executed_units|peak_rss_mb)|^Done [0-9]+ runs' "$log"
    done

# wapiti (sql, xss, csrf, http_headers, cookieflags) against a local Hearth, signed out and signed in; prints the findings (tools/scan/)
scan:
    #!/usr/bin/env bash
    set -euo pipefail
    venv=tools/scan/.venv
    if ! cmp -s tools/scan/requirements.txt "$venv/.hearth-requirements"; then
        python=""
        for candidate in python3 python3.12 python3.11 python3.10; do
            if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(not (3, 10) <= sys.version_info[:2] <= (3, 12))' 2>/dev/null; then
                python="$candidate"; break
            fi
        done
        [ -n "$python" ] || { echo "wapiti3 3.2.3 needs Python 3.10 to 3.12" >&2; exit 1; }
        rm -rf "$venv"
        "$python" -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check -r tools/scan/requirements.txt
        cp tools/scan/requirements.txt "$venv/.hearth-requirements"
    fi
    [ -n "${HEARTH_BIN:-}" ] || cargo build
    "$venv/bin/python" tools/scan/run.py
