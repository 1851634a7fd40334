//! The overview page's data.

mod get;

use serde::{Deserialize, Serialize};

pub use get::{get_overview, GetOverview};

/// Counts and the tokens-per-day series.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverviewData {
    /// End users.
    pub users: u64,
    /// Live user tokens.
    pub active_tokens: u64,
    /// Usable API keys.
    pub active_api_keys: u64,
    /// `(day as "Nov 21", tokens issued that UTC day)`, 30 entries, oldest first.
    pub tokens_per_day: Vec<(String, u64)>,
}
