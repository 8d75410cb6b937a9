# syntax=docker/dockerfile:1
# Hearth's container image: a cached dependency build, then only the binary on a slim
# Debian with CA certificates (Google sign-in speaks TLS) and a non-root user.
# Assets and migrations are embedded in the binary.

FROM rust:1.95-slim-bookworm AS chef
RUN cargo install cargo-chef --locked --version 0.1.73
WORKDIR /app

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
COPY --from=planner /app/recipe.json recipe.json
# Dependencies only: this layer is reused until Cargo.toml or Cargo.lock change.
RUN cargo chef cook --release --locked --recipe-path recipe.json
COPY . .
RUN cargo build --release --locked --bin hearth

FROM debian:bookworm-slim AS runtime
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates sqlite3 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 hearth \
 && useradd --system --uid 10001 --gid 10001 --home-dir /data hearth \
 && mkdir -p /data && chown hearth:hearth /data
COPY --from=builder /app/target/release/hearth /usr/local/bin/hearth
USER 10001:10001
WORKDIR /data
ENV BIND=0.0.0.0:8080 \
    DATABASE_URL=sqlite:///data/hearth.db
EXPOSE 8080
CMD ["hearth"]
