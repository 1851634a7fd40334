//! [`OrgStore`]: orgs and their signing keys, and the dashboard's first-run setup; their SQL,
//! row types and method bodies. An org is always created together with its first (active)
//! signing key, by [`insert_org_with_key`].
//!
//! Compiled once per backend (see the crate docs).

use async_trait::async_trait;
use tessera_core::{
    Actor, AuditContext, AuditRecord, Error, Member, NewMember, NewOrg, NewSigningKey, Org, OrgId, OrgSlug, OrgStore,
    Result, Role, SigningKey, SigningKeyId,
};
use uuid::Uuid;

use super::audit::append;
use super::members::insert_member;
use super::{Backend, Db};
use crate::convert::{conflict_or_storage, micros, storage, timestamp};

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
const INSERT_ORG: &str =
    concat!("insert into org (id, slug, name, created_at) values ($1, $2, $3, $4) returning ", org_columns!());

/// `$1` slug.
const ORG_BY_SLUG: &str = concat!("select ", org_columns!(), " from org where slug = $1");

/// `$1` id.
const ORG_BY_ID: &str = concat!("select ", org_columns!(), " from org where id = $1");

/// `$1` limit. Oldest first.
const FIRST_ORGS: &str = concat!("select ", org_columns!(), " from org order by created_at, id limit $1");

/// `$1` org_id (the org being set up), `$2` completed_at. Inserts nothing if another org exists;
/// a concurrent setup's insert of the same `id = 1` fails as a unique violation.
const INSERT_FIRST_RUN: &str = "insert into first_run (id, org_id, completed_at) \
     select 1, $1, $2 where not exists (select 1 from org where id <> $1)";

/// `$1` id, `$2` org_id, `$3` algorithm, `$4` public_key, `$5` encrypted_private_key, `$6` active,
/// `$7` created_at.
const INSERT_SIGNING_KEY: &str =
    concat!("insert into signing_key (", signing_key_columns!(), ") values ($1, $2, $3, $4, $5, $6, $7)");

/// `$1` org_id. Oldest first; the id breaks ties between keys made in the same microsecond.
const SIGNING_KEYS: &str =
    concat!("select ", signing_key_columns!(), " from signing_key where org_id = $1 order by created_at, id");

/// Inserts the org `new` and its first, active signing key `key` inside the caller's
/// transaction. A failure of the org's insert (a unique violation: the slug is taken, or
/// another setup won) goes through `org_error`.
///
/// # Errors
/// What `org_error` makes of the org insert's failure; [`Error::Storage`] if the key's insert
/// fails; [`Error::Internal`] for a returned row that breaks the domain rules.
async fn insert_org_with_key(
    conn: &mut <Db as sqlx::Database>::Connection,
    new: &NewOrg,
    key: &NewSigningKey,
    org_error: impl FnOnce(sqlx::Error) -> Error,
) -> Result<Org> {
    let row = sqlx::query_as::<_, OrgRow>(INSERT_ORG)
        .bind(new.id.0)
        .bind(new.slug.as_str())
        .bind(&new.name)
        .bind(micros(new.created_at))
        .fetch_one(&mut *conn)
        .await
        .map_err(org_error)?;
    sqlx::query(INSERT_SIGNING_KEY)
        .bind(key.id.0)
        .bind(new.id.0)
        .bind(&key.algorithm)
        .bind(&key.public_key)
        .bind(&key.encrypted_private_key)
        .bind(true)
        .bind(micros(key.created_at))
        .execute(&mut *conn)
        .await
        .map_err(storage)?;
    row.into_org()
}

/// `Conflict { code: "setup_done" }`: the server already has an org.
fn setup_done() -> Error {
    Error::Conflict { code: "setup_done", message: "this server already has an organization".into() }
}

#[async_trait]
impl OrgStore for Backend {
    async fn create_org(&self, new: &NewOrg, key: &NewSigningKey, audit: &AuditContext) -> Result<Org> {
        let mut tx = self.begin_write().await.map_err(storage)?;
        let org = insert_org_with_key(&mut tx, new, key, |e| {
            conflict_or_storage(e, "org_slug_taken", "an org with this slug already exists")
        })
        .await?;
        append(&mut tx, org.id, audit, AuditRecord::org_created(org.id, org.slug.as_str(), &org.name)).await?;
        tx.commit().await.map_err(storage)?;
        Ok(org)
    }

    async fn org_by_slug(&self, slug: &str) -> Result<Option<Org>> {
        let row =
            sqlx::query_as::<_, OrgRow>(ORG_BY_SLUG).bind(slug).fetch_optional(&self.pool).await.map_err(storage)?;
        row.map(OrgRow::into_org).transpose()
    }

    async fn org_by_id(&self, org_id: OrgId) -> Result<Option<Org>> {
        let row =
            sqlx::query_as::<_, OrgRow>(ORG_BY_ID).bind(org_id.0).fetch_optional(&self.pool).await.map_err(storage)?;
        row.map(OrgRow::into_org).transpose()
    }

    async fn first_orgs(&self, limit: u32) -> Result<Vec<Org>> {
        sqlx::query_as::<_, OrgRow>(FIRST_ORGS)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(storage)?
            .into_iter()
            .map(OrgRow::into_org)
            .collect()
    }

    async fn create_first_org(
        &self,
        new: &NewOrg,
        key: &NewSigningKey,
        owner: &NewMember,
        audit: &AuditContext,
    ) -> Result<(Org, Member)> {
        if owner.role != Role::Owner {
            return Err(Error::invalid("role", "the first member must be an owner"));
        }
        // A unique violation in this transaction means another setup (or org) won.
        let setup_conflict = |e: sqlx::Error| {
            if e.as_database_error().is_some_and(|d| d.is_unique_violation()) {
                setup_done()
            } else {
                storage(e)
            }
        };
        let mut tx = self.begin_write().await.map_err(storage)?;
        let org = insert_org_with_key(&mut tx, new, key, setup_conflict).await?;
        let member = insert_member(&mut *tx, new.id, owner, storage).await?;
        let marked = sqlx::query(INSERT_FIRST_RUN)
            .bind(new.id.0)
            .bind(micros(new.created_at))
            .execute(&mut *tx)
            .await
            .map_err(setup_conflict)?;
        if marked.rows_affected() == 0 {
            // Another org exists: the transaction rolls back when dropped.
            return Err(setup_done());
        }
        // The owner sets the org up: they are the actor of its first events.
        let audit = AuditContext { actor: Actor::member(&member), ..audit.clone() };
        append(&mut tx, org.id, &audit, AuditRecord::org_created(org.id, org.slug.as_str(), &org.name)).await?;
        append(&mut tx, org.id, &audit, AuditRecord::member_added(&member)).await?;
        tx.commit().await.map_err(storage)?;
        Ok((org, member))
    }

    async fn signing_keys(&self, org_id: OrgId) -> Result<Vec<SigningKey>> {
        sqlx::query_as::<_, SigningKeyRow>(SIGNING_KEYS)
            .bind(org_id.0)
            .fetch_all(&self.pool)
            .await
            .map_err(storage)?
            .into_iter()
            .map(SigningKeyRow::into_signing_key)
            .collect()
    }
}

/// An `org` row.
#[derive(sqlx::FromRow)]
struct OrgRow {
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
    fn into_org(self) -> Result<Org> {
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
struct SigningKeyRow {
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
    fn into_signing_key(self) -> Result<SigningKey> {
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
