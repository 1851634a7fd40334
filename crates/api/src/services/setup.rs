//! The dashboard's first run: while no organization exists, anyone who reaches the server may
//! create the first org and its owner; afterwards that is refused for good.

use secrecy::SecretString;
use tessera_core::{
    error::Validation, org::validate_org_name, AuditContext, Email, Error, Member, MemberId, NewMember, NewOrg, Org,
    OrgId, OrgSlug, Result, Role,
};
use uuid::Uuid;

use super::{members, now};
use crate::AppState;

/// Where the server stands, as far as signing in is concerned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SetupStatus {
    /// No org exists: the first-run setup page is open.
    NeedsSetup,
    /// Exactly one org exists; members sign in to it without naming it.
    SingleOrg(Org),
    /// Several orgs exist (made with the CLI); members name theirs when signing in.
    ManyOrgs,
}

/// Whether the first-run setup is still open, and which org members sign in to.
///
/// # Errors
/// Storage errors.
pub async fn status(state: &AppState) -> Result<SetupStatus> {
    let mut orgs = state.store.first_orgs(2).await?;
    Ok(match orgs.len() {
        0 => SetupStatus::NeedsSetup,
        1 => SetupStatus::SingleOrg(orgs.remove(0)),
        _ => SetupStatus::ManyOrgs,
    })
}

/// Creates the first org (`org_name`, `slug`, with its signing key) and its owner (`email`,
/// `password`), in one transaction, only if no org exists.
///
/// # Errors
/// [`Error::Invalid`] naming every bad field (`org_name`, `slug`, `email`, `password`);
/// `Conflict { code: "setup_done" }` if an org exists, also when a concurrent setup won (exactly
/// one of several concurrent calls succeeds); storage errors.
pub async fn first_run(
    state: &AppState,
    org_name: &str,
    slug: &str,
    email: &str,
    password: SecretString,
    audit: &AuditContext,
) -> Result<(Org, Member)> {
    let mut v = Validation::default();
    let name = v.check(validate_org_name(org_name).map_err(rename("org_name")));
    let slug = v.check(OrgSlug::parse(slug.trim()));
    let email = v.check(Email::parse(email));
    v.check(members::validate_password(&password));
    let (name, slug, email) = v.finish((name, slug, email))?;
    // Cheap refusal before the deliberately slow password hash.
    if status(state).await? != SetupStatus::NeedsSetup {
        return Err(Error::Conflict { code: "setup_done", message: "this server already has an organization".into() });
    }
    let password_hash = members::hash_password(password).await?;
    let now = now();
    let org = NewOrg { id: OrgId(Uuid::now_v7()), slug, name, created_at: now };
    let key = state.keys.new_signing_key(org.id, now)?;
    let owner = NewMember { id: MemberId(Uuid::now_v7()), email, role: Role::Owner, password_hash, created_at: now };
    state.store.create_first_org(&org, &key, &owner, audit).await
}

/// Renames the field of a single-field validation error (the org rules call it `name`).
fn rename(field: &'static str) -> impl Fn(Error) -> Error {
    move |e| match e {
        Error::Invalid(errors) => {
            Error::Invalid(errors.into_iter().map(|f| tessera_core::FieldError::new(field, f.message)).collect())
        }
        other => other,
    }
}
