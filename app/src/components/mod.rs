//! Reusable UI pieces shared by the pages.

mod feature_grid;
mod logo;
mod quick_start;
mod site_footer;
mod site_header;
mod token_preview;

pub use feature_grid::{FeatureGrid, HowItWorks};
pub use logo::Logo;
pub use quick_start::QuickStart;
pub use site_footer::SiteFooter;
pub use site_header::SiteHeader;
pub use token_preview::TokenPreview;
