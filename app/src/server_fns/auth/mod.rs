//! Who is looking, first-run setup, sign-in and sign-out.

mod set_up;
mod sign_in;
mod sign_out;
mod viewer;

use serde::{Deserialize, Serialize};
use tessera_core::Role;

pub use set_up::{set_up, SetUp};
pub use sign_in::{sign_in, SignIn};
pub use sign_out::{sign_out, SignOut};
pub use viewer::{get_viewer, GetViewer};

/// Who is looking at the dashboard, which decides what `/` shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Viewer {
    /// No organization exists: the first-run setup page.
    NeedsSetup,
    /// Not signed in; `ask_org` when several orgs exist and the sign-in form must ask which.
    SignedOut {
        /// Whether the sign-in form shows the organization field.
        ask_org: bool,
    },
    /// Signed in.
    SignedIn(Me),
}

/// The signed-in member, as the pages show them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    /// Sign-in address.
    pub email: String,
    /// Role, which decides which controls are shown.
    pub role: Role,
    /// Their org's display name.
    pub org_name: String,
    /// Their org's slug.
    pub org_slug: String,
}

#[cfg(feature = "ssr")]
impl From<tessera_api::services::sessions::SignedInMember> for Me {
    fn from(m: tessera_api::services::sessions::SignedInMember) -> Self {
        Me { email: m.email.as_str().to_owned(), role: m.role, org_name: m.org.name, org_slug: m.org.slug.to_string() }
    }
}
