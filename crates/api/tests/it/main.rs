//! API integration tests: the real router over a real SQLite file, driven with `oneshot`.

mod auth;
mod bad_input;
mod claimr;
mod errors;
mod fuzz;
mod helpers;
mod idempotency;
mod isolation;
mod openapi;
mod tokens;
mod users;
