//! API integration tests: the real router over a real database, driven with `oneshot`. SQLite by
//! default; `TESSERA_TEST_API_DATABASE=postgres` (with `TESSERA_TEST_POSTGRES_URL`) runs every test
//! on a fresh PostgreSQL database instead (see helpers.rs).

mod audit;
mod auth;
mod auth_limits;
mod bad_input;
mod claimr;
mod dashboard;
mod errors;
mod faults;
mod fuzz;
mod headers;
mod helpers;
mod idempotency;
mod instances;
mod isolation;
mod metrics;
mod openapi;
mod outage;
mod sign_in_limits;
mod tokens;
mod users;
