//! Hearth driven as a browser drives it: real HTTP against the real app, on both
//! databases. Each file is one capability; each test reads as what a person does.

mod support;

mod administration;
mod api;
mod attachments;
mod behind_nginx;
mod bots;
mod chat;
mod confirming;
mod conversations;
mod editing;
mod email;
mod floods;
mod formatting;
mod forward_auth;
mod google;
mod google_linking;
mod google_provider;
mod mentions;
mod notifications;
mod operations;
mod passkeys;
mod password_resets;
mod private_rooms;
mod protection;
mod push;
mod reactions;
mod room_settings;
mod rooms;
mod scale_out;
mod search;
mod sessions;
mod signin;
mod signup;
mod socket_checks;
mod two_factor;
mod your_data;
