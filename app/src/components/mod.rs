//! Reusable UI pieces shared by the pages.

mod chart;
mod dialog;
mod form;
mod layout;
mod logo;
mod reveal;
mod table;

pub use chart::TokensChart;
pub use dialog::Dialog;
pub use form::{form_errors, ErrorBanner, Field, FormErrors, SubmitButton};
pub use layout::{Dashboard, Nav};
pub use logo::Logo;
pub use reveal::RevealBox;
pub use table::{EmptyState, Lifecycle, StatusBadge, TABLE_BOX, TD, TH};
