//! Routed pages: one module per page, each exporting its page component.

mod auth_card;
mod keys;
mod not_found;
mod overview;
mod setup;
mod sign_in;

pub use keys::KeysPage;
pub use not_found::NotFound;
pub use overview::OverviewPage;
pub use setup::SetupPage;
pub use sign_in::SignInPage;
