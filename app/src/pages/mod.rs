//! Routed pages: one module per page, each exporting its page component.

mod home;
mod not_found;

pub use home::HomePage;
pub use not_found::NotFound;
