//! The services: every business rule of Tessera that needs storage or keys. REST handlers, the
//! dashboard's server functions and the CLI all call these; none of them contains SQL or rules.

pub mod api_keys;
pub mod audit;
pub mod members;
pub mod orgs;
pub mod overview;
pub mod sessions;
pub mod setup;
pub mod sign_in;
pub mod tokens;
pub mod users;

use tessera_core::Timestamp;

/// The current time in UTC, truncated to whole microseconds (the precision the stores keep, so a
/// value read back equals the value written).
pub fn now() -> Timestamp {
    let t = time::OffsetDateTime::now_utc();
    t.replace_nanosecond(t.nanosecond() / 1000 * 1000).expect("valid nanosecond")
}
