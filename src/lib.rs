//! Hearth: accounts and real-time chat for a group of people, in one process.
//!
//! Each capability lives in its own module with its routes, queries and views:
//!
//! - [`accounts`]: who people are and how they prove it: sign-up, sign-in and
//!   sign-out, passwords (rules, hashing, replacing one), two-factor codes, passkeys,
//!   fresh proof before changes, sessions, API tokens,
//!   invitations, deactivation, and the operator's `hearth user …` commands.
//! - [`google`]: "Sign in with Google" (OpenID Connect) and linking an identity to
//!   an account.
//! - [`chat`]: rooms (who is in them, their settings), conversations, messages
//!   and the changes to them (edits, deletions, reactions, mentions), the pages,
//!   the socket and its wire protocol, the feed that orders stored changes, the hub
//!   that fans them out, and the bus that joins several instances on one
//!   PostgreSQL.
//! - [`files`]: files and pictures sent with messages: uploading them, stored in
//!   chunks in the database, previews made on the server, and serving them to the
//!   room's members only.
//! - [`export`]: your data to take away: a person's archive from the dashboard,
//!   and the operator's `hearth export` and `hearth backup`.
//! - [`forward_auth`]: `GET /auth/verify`, Hearth's sign-in for other services
//!   behind the same reverse proxy.
//! - [`bots`]: bots that answer: accounts an administrator adds, to which Hearth
//!   delivers the messages meant for them (signed webhooks, retried), posting
//!   their answers.
//! - [`push`]: notifications on people's devices (Web Push), for what their
//!   notification level asks, when no open page shows the room.
//! - [`mail`]: email through `SMTP_URL`, queued in the database and retried.
//! - [`search`]: finding messages in every room one is in, in each database's
//!   full-text index.
//! - [`dashboard`], [`admin`], [`api`] and [`home`]: the pages and the JSON API
//!   built on those.
//!
//! Underneath them: [`web`] is what every request passes through (session, the
//! signed-in person, cross-site and host checks, headers, bodies, error pages,
//! layout, one-time notices); [`events`] is how a capability announces what
//! happened (accounts say sessions ended; the chat closes their sockets) without
//! reaching into another; [`db`] runs one query on either database; [`error`] is
//! the one error type; [`config`] every setting; [`outbound`] the requests Hearth
//! makes to URLs people hand it, to public addresses only. [`app`] puts it together, and
//! [`cli`] starts it.

pub mod accounts;
pub mod admin;
pub mod api;
pub mod app;
pub mod bots;
pub mod chat;
pub mod cli;
pub mod config;
pub mod dashboard;
pub mod db;
pub mod error;
pub mod events;
pub mod export;
pub mod files;
pub mod forward_auth;
pub mod google;
pub mod home;
pub mod mail;
pub mod outbound;
pub mod push;
pub mod queue;
pub mod search;
pub mod telemetry;
pub mod web;

pub use app::{App, AppState};
pub use config::Config;
