//! Orgs and signing keys: SQL text and row types. An org is always created together with its
//! first signing key (see `create_org` in [`crate::store_impl`]).

use tessera_core::{Error, Org, OrgId, OrgSlug, Result, SigningKey, SigningKeyId};
use uuid::Uuid;

use crate::convert::timestamp;

macro_rules! org_columns {
    () => {
        "id, slug, name, default_token_ttl_seconds, created_at"
    };
}

macro_rules! signing_key_columns {
    () => {
        "id, org_id, algorithm, public_key, encrypted_private_key, active, created_at"
    };
}

/// `$1` id, `$2` slug, `$3` name, `$4` created_at. The TTL takes the column default.
pub(crate) const INSERT_ORG: &str =
    concat!("insert into org (id, slug, name, created_at) values ($1, $2, $3, $4) returning ", org_columns!());

/// `$1` slug.
pub(crate) const ORG_BY_SLUG: &str = concat!("select ", org_columns!(), " from org where slug = $1");

/// `$1` id.
pub(crate) const ORG_BY_ID: &str = concat!("select ", org_columns!(), " from org where id = $1");

/// `$1` id, `$2` org_id, `$3` algorithm, `$4` public_key, `$5` encrypted_private_key, `$6` active,
/// `$7` created_at.
pub(crate) const INSERT_SIGNING_KEY: &str =
    concat!("insert into signing_key (", signing_key_columns!(), ") values ($1, $2, $3, $4, $5, $6, $7)");

/// `$1` org_id. Oldest first; the id breaks ties between keys made in the same microsecond.
pub(crate) const SIGNING_KEYS: &str =
    concat!("select ", signing_key_columns!(), " from signing_key where org_id = $1 order by created_at, id");

/// An `org` row.
#[derive(sqlx::FromRow)]
pub(crate) struct OrgRow {
    id: Uuid,
    slug: String,
    name: String,
    default_token_ttl_seconds: i64,
    created_at: i64,
}

impl OrgRow {
    /// The domain org.
    ///
    /// # Errors
    /// [`Error::Internal`] if the stored slug or time is invalid (a corrupted row).
    pub(crate) fn into_org(self) -> Result<Org> {
        let slug =
            OrgSlug::parse(&self.slug).map_err(|_| Error::Internal(format!("org {} has an invalid slug", self.id)))?;
        Ok(Org {
            id: OrgId(self.id),
            slug,
            name: self.name,
            default_token_ttl_seconds: self.default_token_ttl_seconds,
            created_at: timestamp(self.created_at)?,
        })
    }
}

/// A `signing_key` row.
#[derive(sqlx::FromRow)]
pub(crate) struct SigningKeyRow {
    id: Uuid,
    org_id: Uuid,
    algorithm: String,
    public_key: Vec<u8>,
    encrypted_private_key: Vec<u8>,
    active: bool,
    created_at: i64,
}

impl SigningKeyRow {
    /// The domain signing key.
    ///
    /// # Errors
    /// [`Error::Internal`] if the stored time is out of range.
    pub(crate) fn into_signing_key(self) -> Result<SigningKey> {
        Ok(SigningKey {
            id: SigningKeyId(self.id),
            org_id: OrgId(self.org_id),
            algorithm: self.algorithm,
            public_key: self.public_key,
            encrypted_private_key: self.encrypted_private_key,
            created_at: timestamp(self.created_at)?,
            active: self.active,
        })
    }
}
