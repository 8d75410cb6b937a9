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

# What CI runs
ci:
    bash .ci/run
