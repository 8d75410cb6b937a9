//! Hearth: accounts and real-time chat for a group of people, in one process.
//!
//! Each capability lives in its own module with its routes, queries and views:
//! [`accounts`] (sign-up, sign-in, passwords, sessions), [`chat`], [`dashboard`],
//! [`api`] and [`home`]. [`web`] holds what every request passes through, [`app`] puts it together.

pub mod accounts;
pub mod admin;
pub mod api;
pub mod app;
pub mod chat;
pub mod cli;
pub mod config;
pub mod dashboard;
pub mod db;
pub mod error;
pub mod events;
pub mod google;
pub mod home;
pub mod telemetry;
pub mod web;

pub use app::{App, AppState};
pub use config::Config;
