//! `get_viewer`: who is looking (signed in, signed out, or no org yet).

use leptos::prelude::*;

use super::Viewer;
use crate::error::AppError;

/// The current viewer. A read: no origin check, and it never fails for a signed-out caller.
///
/// # Errors
/// [`AppError::Unavailable`] when the database is down.
#[server(prefix = "/_fn", endpoint = "viewer")]
pub async fn get_viewer() -> Result<Viewer, AppError> {
    use crate::server_fns::context;
    use tessera_api::services::setup::{self, SetupStatus};

    if let Some(member) = context::member().await? {
        return Ok(Viewer::SignedIn(member.into()));
    }
    Ok(match setup::status(&context::state()?).await? {
        SetupStatus::NeedsSetup => Viewer::NeedsSetup,
        SetupStatus::SingleOrg(_) => Viewer::SignedOut { ask_org: false },
        SetupStatus::ManyOrgs => Viewer::SignedOut { ask_org: true },
    })
}
