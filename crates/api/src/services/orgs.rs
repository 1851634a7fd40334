//! Organizations: creation (with the first signing key) and lookup.

use tessera_core::{error::Validation, org::validate_org_name, AuditContext, NewOrg, Org, OrgId, OrgSlug, Result};
use uuid::Uuid;

use super::now;
use crate::AppState;

/// Creates an org with slug `slug` and display name `name`, and its first Ed25519 signing key.
///
/// # Errors
/// [`tessera_core::Error::Invalid`] for a bad slug or name; `Conflict { code: "org_slug_taken" }`
/// if the slug exists; storage errors.
pub async fn create(state: &AppState, slug: &str, name: &str, audit: &AuditContext) -> Result<Org> {
    let mut v = Validation::default();
    let slug = v.check(OrgSlug::parse(slug));
    let name = v.check(validate_org_name(name));
    let (slug, name) = v.finish((slug, name))?;
    let now = now();
    let org = NewOrg { id: OrgId(Uuid::now_v7()), slug, name, created_at: now };
    let key = state.keys.new_signing_key(org.id, now)?;
    state.store.create_org(&org, &key, audit).await
}

/// The org with this slug.
///
/// # Errors
/// `NotFound { entity: Entity::Org }` if there is none (also for a malformed slug, which is
/// refused without a query); storage errors.
pub async fn by_slug(state: &AppState, slug: &str) -> Result<Org> {
    find_by_slug(state, slug).await?.ok_or(tessera_core::Error::not_found(tessera_core::Entity::Org))
}

/// The org with this slug, or `None` if there is none. A string that is no valid [`OrgSlug`]
/// names no org, so it gets `None` without asking the store: the store never sees arbitrary
/// bytes from a URL or a form (a NUL byte fails a PostgreSQL query, which would answer 503).
///
/// # Errors
/// Storage errors.
pub async fn find_by_slug(state: &AppState, slug: &str) -> Result<Option<Org>> {
    match OrgSlug::parse(slug) {
        Ok(slug) => state.store.org_by_slug(slug.as_str()).await,
        Err(_) => Ok(None),
    }
}
