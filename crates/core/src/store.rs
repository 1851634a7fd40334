//! The storage contract. `tessera-store` implements it for SQLite and PostgreSQL, and one
//! contract suite (`crates/store/tests/it`) runs against both.
//!
//! It is split by concern into [`OrgStore`], [`MemberStore`], [`ApiKeyStore`], [`UserStore`],
//! [`TokenStore`], [`IdempotencyStore`] and [`OverviewStore`], so a service can say what it needs
//! (`&dyn UserStore`); [`Store`] combines them, and the server holds one `Arc<dyn Store>`, which
//! coerces to any of them. Their methods are called through the trait, so a caller imports the
//! concern traits it uses (`use tessera_core::UserStore;`).
//!
//! Rules every implementation keeps:
//! - every tenant method takes `org_id` first and never reads or writes another org's rows
//!   (a row of another org is "not found");
//! - a method either fully applies or changes nothing (multi-row writes run in one transaction);
//! - a method that takes `audit: &AuditContext` appends the [`AuditRecord`] of its change to the
//!   org's audit log ([`AuditStore`]) in the change's own transaction, after the change's
//!   statements: the change and its event commit together or not at all. A call that changes
//!   nothing (revoking what is already revoked, a role set to itself) records nothing;
//! - a uniqueness violation is [`Error::Conflict`], a missing row `Ok(None)` for reads and
//!   [`Error::NotFound`] for writes; backend failures are [`Error::Storage`].
//!
//! [`Error::Conflict`]: crate::Error::Conflict
//! [`Error::NotFound`]: crate::Error::NotFound
//! [`Error::Storage`]: crate::Error::Storage

use async_trait::async_trait;

use crate::{
    Account, ApiKey, ApiKeyHash, ApiKeyId, IdempotencyClaim, Member, NewApiKey, NewMember, NewOrg, NewSigningKey,
    NewUserToken, Org, OrgId, Page, Platform, Result, SigningKey, StoredResponse, Timestamp, TokenQuery, User, UserId,
    UserPatch, UserQuery, UserToken, UserTokenId, UserUpsert,
};
use crate::{
    AuditCheckpoint, AuditContext, AuditEvent, AuditQuery, AuditRecord, MemberId, NewSession, OrgCounts, Role, Session,
    SessionHash,
};

/// What [`Store::watch_revocations`] calls with each [`RevocationEvent`]; it returns whether to
/// keep listening.
pub type RevocationNotice = Box<dyn Fn(RevocationEvent) -> bool + Send + Sync>;

/// What [`Store::watch_revocations`] reports. After [`Lost`](Self::Lost) and until
/// [`Listening`](Self::Listening), revocations by other processes go unheard; either way,
/// whatever was cached may be stale.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RevocationEvent {
    /// Notices are being received: the first time, or again after the connection that receives
    /// them was lost (whatever was revoked meanwhile went unheard).
    Listening,
    /// Some process committed a revocation (of an API key or a user token) or a deletion (of a
    /// user or of token rows).
    Notice,
    /// The connection that receives notices was lost (the database restarts or is unreachable);
    /// the backend keeps trying to open it again.
    Lost,
}

/// Persistence for every Tessera entity: every concern's trait, plus the database's health and
/// its revocation notices. Object-safe: the server holds an `Arc<dyn Store>`.
#[async_trait]
pub trait Store:
    OrgStore
    + MemberStore
    + ApiKeyStore
    + UserStore
    + TokenStore
    + IdempotencyStore
    + OverviewStore
    + AuditStore
    + Send
    + Sync
    + 'static
{
    /// Checks that the database answers (for `/readyz`).
    async fn ping(&self) -> Result<()>;

    /// Starts telling this process about revocations that other processes commit, so that what
    /// it caches (API keys, token rows) is dropped at once instead of when it expires: after
    /// every committed revocation of an API key or a user token, and every deletion of a user or
    /// of token rows, by any process on the same database, the backend calls `on_notice` with
    /// [`RevocationEvent::Notice`]. It calls it with [`RevocationEvent::Listening`] once notices
    /// are received (at the start, and again after its listening connection was lost and opened
    /// again: anything may have changed meanwhile), and with [`RevocationEvent::Lost`] as soon as
    /// that connection is lost. It stops for good once `on_notice` returns `false` (its owner is
    /// gone) or the store is closed.
    ///
    /// Returns whether notices will be delivered; when not (an in-memory SQLite database, or a
    /// notice mechanism that could not be set up), callers rely on their caches' expiry alone.
    /// PostgreSQL delivers them with `LISTEN`/`NOTIFY` on a connection of its own, SQLite by
    /// watching a notice file beside the database that every revoking process rewrites after
    /// its commit. Either way a notice arrives shortly after the commit, not with it (about a
    /// millisecond on 2026-11-22).
    ///
    /// # Panics
    /// On PostgreSQL, when called outside a Tokio runtime.
    fn watch_revocations(&self, on_notice: RevocationNotice) -> bool;

    /// How many connections the backend's pool holds right now, for the `db_pool_connections`
    /// gauges of `GET /metrics` (sampled at each scrape). `None` (the default) for a backend
    /// without a pool. A snapshot: it may be stale by the time it is read.
    fn pool_stats(&self) -> Option<PoolStats> {
        None
    }
}

/// A snapshot of a connection pool ([`Store::pool_stats`]). The number of tasks waiting for a
/// connection is not included: sqlx 0.8 does not expose it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Open connections handed out to a query or transaction.
    pub in_use: u32,
    /// Open connections waiting in the pool.
    pub idle: u32,
    /// Most connections the pool opens (its `max_connections`).
    pub max: u32,
}

/// Orgs and their signing keys, including the dashboard's first-run setup. Part of [`Store`].
#[async_trait]
pub trait OrgStore: Send + Sync {
    /// Inserts an org together with its first (active) signing key, in one transaction.
    /// `Conflict { code: "org_slug_taken" }` if the slug exists.
    async fn create_org(&self, org: &NewOrg, key: &NewSigningKey, audit: &AuditContext) -> Result<Org>;

    /// The org with this slug.
    async fn org_by_slug(&self, slug: &str) -> Result<Option<Org>>;

    /// The org with this id.
    async fn org_by_id(&self, org_id: OrgId) -> Result<Option<Org>>;

    /// The oldest orgs, at most `limit` of them, oldest first (the dashboard asks for 2 to tell
    /// "no org", "one org" and "several orgs" apart).
    async fn first_orgs(&self, limit: u32) -> Result<Vec<Org>>;

    /// The dashboard's first run: inserts the org with its signing key and its first member (who
    /// must be an owner) in one transaction, only if no org exists yet. Race-safe: of concurrent
    /// calls at most one succeeds. `Conflict { code: "setup_done" }` if any org exists (or another
    /// setup won); nothing is written then.
    async fn create_first_org(
        &self,
        org: &NewOrg,
        key: &NewSigningKey,
        owner: &NewMember,
        audit: &AuditContext,
    ) -> Result<(Org, Member)>;

    /// All of the org's signing keys, active and retired, oldest first.
    async fn signing_keys(&self, org_id: OrgId) -> Result<Vec<SigningKey>>;
}

/// Dashboard members and their sign-in sessions. Part of [`Store`].
#[async_trait]
pub trait MemberStore: Send + Sync {
    /// Inserts a member. `Conflict { code: "member_email_taken" }` if the email is in the org.
    async fn create_member(&self, org_id: OrgId, member: &NewMember, audit: &AuditContext) -> Result<Member>;

    /// The org's members, oldest first.
    async fn list_members(&self, org_id: OrgId) -> Result<Vec<Member>>;

    /// The org's member with this (normalized) email.
    async fn member_by_email(&self, org_id: OrgId, email: &str) -> Result<Option<Member>>;

    /// The org's member with this id.
    async fn member_by_id(&self, org_id: OrgId, member_id: MemberId) -> Result<Option<Member>>;

    /// Gives the org's member `role` and returns the member afterwards. In one transaction:
    /// `Conflict { code: "last_owner" }` if that would leave the org without an owner (nothing
    /// changes); `NotFound(Member)` if the org has no such member.
    async fn change_member_role(
        &self,
        org_id: OrgId,
        member_id: MemberId,
        role: Role,
        audit: &AuditContext,
    ) -> Result<Member>;

    /// Removes the org's member and their sessions; keys and tokens they made keep working and
    /// lose their attribution. In one transaction: `Conflict { code: "last_owner" }` if they are the
    /// org's only owner (nothing changes); `NotFound(Member)`.
    async fn remove_member(&self, org_id: OrgId, member_id: MemberId, audit: &AuditContext) -> Result<()>;

    /// Inserts a session of the org's member. `NotFound(Member)` if the org has no
    /// such member.
    async fn create_session(&self, org_id: OrgId, session: &NewSession, audit: &AuditContext) -> Result<Session>;

    /// The live session with this hash, in any org (this is how a request's org is found, like
    /// `api_key_by_hash`), with `last_seen_at` moved to `now` in the same statement. `None` if
    /// there is none or it has ended at `now`: past `expires_at`, or `last_seen_at` at or before
    /// `idle_cutoff` (= `now` minus the idle timeout).
    async fn touch_session(
        &self,
        hash: &SessionHash,
        now: Timestamp,
        idle_cutoff: Timestamp,
    ) -> Result<Option<Session>>;

    /// Deletes the session with this hash; whether there was one.
    async fn delete_session(&self, hash: &SessionHash, audit: &AuditContext) -> Result<bool>;

    /// Deletes every org's sessions that have ended at `now` (housekeeping, hence not scoped by
    /// org); returns how many.
    async fn delete_expired_sessions(&self, now: Timestamp, idle_cutoff: Timestamp) -> Result<u64>;
}

/// API keys (only their SHA-256 is stored). Part of [`Store`].
#[async_trait]
pub trait ApiKeyStore: Send + Sync {
    /// Inserts an API key. `Conflict { code: "api_key_prefix_taken" }` if the org already has a
    /// key with this display prefix (the caller draws a new key).
    async fn create_api_key(&self, org_id: OrgId, key: &NewApiKey, audit: &AuditContext) -> Result<ApiKey>;

    /// The key whose SHA-256 is `hash`, revoked or not, in any org: this is how a request's org
    /// is found, so it is the one lookup not scoped by org.
    async fn api_key_by_hash(&self, hash: &ApiKeyHash) -> Result<Option<ApiKey>>;

    /// The org's keys, newest first.
    async fn list_api_keys(&self, org_id: OrgId) -> Result<Vec<ApiKey>>;

    /// Revokes the org's unrevoked key with this display prefix and returns it; an already
    /// revoked key is returned unchanged. `NotFound(ApiKey)` if none has it.
    async fn revoke_api_key(&self, org_id: OrgId, prefix: &str, at: Timestamp, audit: &AuditContext) -> Result<ApiKey>;

    /// Sets `last_used_at` (the caller rate-limits this to once a minute per key).
    async fn touch_api_key(&self, org_id: OrgId, key_id: ApiKeyId, at: Timestamp) -> Result<()>;
}

/// End users, identified in an org by `(platform, account)`. Part of [`Store`].
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Creates the user `(platform, account)` or, if it exists, applies the given display name
    /// and metadata (touching `updated_at` only if something changed). Returns the user and
    /// whether it was created. Safe under concurrency: two racing calls yield one user.
    async fn upsert_user(&self, org_id: OrgId, user: &UserUpsert) -> Result<(User, bool)>;

    /// The org's user with this id.
    async fn user_by_id(&self, org_id: OrgId, user_id: UserId) -> Result<Option<User>>;

    /// One page of the org's users, newest first: `created_at` desc, then id desc, so paging with
    /// the returned cursor yields every user exactly once even when creation times are equal.
    /// Filters (all optional, combined with AND): `q`, a case-insensitive substring of `account`
    /// or `display_name` in which `%`, `_` and `\` are literal (case folding is ASCII-only on
    /// SQLite, Unicode-aware on PostgreSQL); `platform`, an exact match. At most
    /// `query.page.limit` users; `next_cursor` is `None` on the last page.
    async fn list_users(&self, org_id: OrgId, query: &UserQuery) -> Result<Page<User>>;

    /// Applies `patch` to the org's user and returns the user as stored afterwards.
    /// `updated_at` becomes `patch.now` only if a given value differs from the stored one (an
    /// empty or no-op patch changes nothing). `NotFound(User)` if the org has no
    /// such user.
    async fn update_user(
        &self,
        org_id: OrgId,
        user_id: UserId,
        patch: &UserPatch,
        audit: &AuditContext,
    ) -> Result<User>;

    /// Deletes the org's user and all of its token rows, in one transaction, and returns how many
    /// token rows were removed (revoked ones included). The deleted tokens then fail
    /// introspection (their rows are gone), and the same `(platform, account)` can later be
    /// upserted again as a new user with a new id. `NotFound(User)` if the org has
    /// no such user (nothing is deleted).
    async fn delete_user(&self, org_id: OrgId, user_id: UserId, audit: &AuditContext) -> Result<u64>;
}

/// User tokens' metadata rows (no token secret is stored). Part of [`Store`].
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// Inserts a token row. The user must belong to the org (`NotFound(User)`
    /// otherwise). `Conflict { code: "default_token_exists" }` if `is_default` is set and the
    /// user already has an unrevoked default token.
    async fn insert_user_token(&self, org_id: OrgId, token: &NewUserToken) -> Result<UserToken>;

    /// Inserts many token rows, of one org or several, with ONE durable commit (group commit).
    /// Returns one result per row, in order, each as [`TokenStore::insert_user_token`] would give it
    /// (`NotFound(User)`, `Conflict { code: "default_token_exists" }`, also between
    /// two default tokens of the same user within the batch, the first winning). `Ok` means every
    /// `Ok` row is committed; `Err` (a failed commit) means no row of the batch is.
    async fn insert_user_tokens(&self, batch: &[(OrgId, NewUserToken)]) -> Result<Vec<Result<UserToken>>>;

    /// The org's user `(platform, account)` and its unrevoked default (permanent) token, if any,
    /// in one read: what claimr's `GET /token` needs for a returning user. `None` if the org has
    /// no such user.
    async fn user_and_default_token(
        &self,
        org_id: OrgId,
        platform: &Platform,
        account: &Account,
    ) -> Result<Option<(User, Option<UserToken>)>>;

    /// The user's unrevoked default (permanent) token, if any.
    async fn default_user_token(&self, org_id: OrgId, user_id: UserId) -> Result<Option<UserToken>>;

    /// The org's token with this id (= `jti`).
    async fn user_token(&self, org_id: OrgId, token_id: UserTokenId) -> Result<Option<UserToken>>;

    /// The user's tokens, newest first (`issued_at` desc, then id desc), filtered by status at `now`.
    async fn list_user_tokens(
        &self,
        org_id: OrgId,
        user_id: UserId,
        query: &TokenQuery,
        now: Timestamp,
    ) -> Result<Page<UserToken>>;

    /// Revokes one token at `at` and returns it; an already revoked token keeps its first
    /// `revoked_at`. `NotFound(UserToken)` if the org has no such token.
    async fn revoke_user_token(
        &self,
        org_id: OrgId,
        token_id: UserTokenId,
        at: Timestamp,
        audit: &AuditContext,
    ) -> Result<UserToken>;

    /// Revokes the user's unrevoked tokens issued strictly before `issued_before`, at `at`.
    /// Returns how many were revoked. `NotFound(User)` if the org has no such user.
    async fn revoke_user_tokens(
        &self,
        org_id: OrgId,
        user_id: UserId,
        issued_before: Timestamp,
        at: Timestamp,
        audit: &AuditContext,
    ) -> Result<u64>;
}

/// Idempotency keys of `POST` requests: claims, stored responses, housekeeping. Part of [`Store`].
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claims `key` for a request with `fingerprint` (SHA-256 of method, path and body): inserts
    /// an in-flight record created at `now`, unless a live record exists, which is returned
    /// instead (nothing is written). A record is live if it was created at or after `not_before`
    /// and, while in flight (no stored response), also at or after `lease_cutoff`; any other
    /// record is replaced, its response discarded. So a completed record replays for the whole
    /// window, while a claim whose request was cancelled or crashed (never completed nor
    /// released) can be taken again once its lease has run out.
    ///
    /// All three are times: `not_before` is `now` minus the replay window (24 h), `lease_cutoff`
    /// is `now` minus the in-flight lease (the API uses 60 s); neither may be after `now`.
    /// Race-safe: of two concurrent claims of a fresh key (or of an expired one) exactly one gets
    /// [`IdempotencyClaim::Claimed`], the other sees the winner's in-flight record.
    ///
    /// # Errors
    /// [`Error::Storage`](crate::Error::Storage) if the database fails.
    async fn claim_idempotency_key(
        &self,
        org_id: OrgId,
        key: &str,
        fingerprint: &[u8; 32],
        now: Timestamp,
        not_before: Timestamp,
        lease_cutoff: Timestamp,
    ) -> Result<IdempotencyClaim>;

    /// Stores the response of the claimed (in-flight) request. `NotFound(IdempotencyKey)` if the
    /// org has no in-flight claim of `key` (never claimed, released, purged or
    /// already completed: a stored response is never overwritten). A `status` outside 100–599 is
    /// a storage error and stores nothing.
    async fn complete_idempotency_key(&self, org_id: OrgId, key: &str, response: &StoredResponse) -> Result<()>;

    /// Drops an in-flight claim (the request failed), so a retry can run. A no-op if absent or
    /// already completed (a completed record keeps replaying).
    async fn release_idempotency_key(&self, org_id: OrgId, key: &str) -> Result<()>;

    /// Deletes the records of every org created strictly before `before`, finished or in flight
    /// (housekeeping, hence not scoped by org); returns how many.
    async fn purge_idempotency_keys(&self, before: Timestamp) -> Result<u64>;
}

/// The dashboard overview's counts. Part of [`Store`].
#[async_trait]
pub trait OverviewStore: Send + Sync {
    /// The org's counts at `now`: users, live user tokens, usable API keys.
    async fn org_counts(&self, org_id: OrgId, now: Timestamp) -> Result<OrgCounts>;

    /// How many of the org's user tokens were issued on each of the `days` days starting at
    /// `since` (day `i` is `[since + i days, since + i + 1 days)`); `days` entries, oldest first.
    async fn tokens_issued_per_day(&self, org_id: OrgId, since: Timestamp, days: u32) -> Result<Vec<u64>>;
}

/// The audit log ([`crate::audit`]). Events of changes are appended by the audited methods of the
/// other traits, in the change's own transaction; this trait records events that are not tied
/// to another write (sign-ins) and reads the log. Part of [`Store`].
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends one event to the org's log, in a transaction of its own, and returns it with its
    /// `seq` and hash. Race-safe: concurrent appenders of one org (on any instance) get
    /// consecutive `seq`s, each event chained to the one before it.
    ///
    /// # Errors
    /// [`Error::Storage`](crate::Error::Storage) if the database fails (nothing is recorded).
    async fn record_audit_event(
        &self,
        org_id: OrgId,
        context: &AuditContext,
        record: AuditRecord,
    ) -> Result<AuditEvent>;

    /// Numbers the events recorded since the last call (on any instance), oldest first: gives
    /// each its `seq`, `prev_hash` and `hash`. Returns how many. Every read of the log below does
    /// this first; `tessera serve` also calls it every quarter second.
    async fn number_audit_events(&self) -> Result<u64>;

    /// The org's events that pass `query`'s filters, newest first (descending `seq`), at most
    /// `query.limit`.
    async fn list_audit_events(&self, org_id: OrgId, query: &AuditQuery) -> Result<Vec<AuditEvent>>;

    /// The org's events with a `seq` above `after_seq`, oldest first, at most `limit`: pages of
    /// an export or a verification (start with `after_seq` 0).
    async fn audit_events_after(&self, org_id: OrgId, after_seq: u64, limit: u32) -> Result<Vec<AuditEvent>>;

    /// `seq` and hash of the org's latest event ever recorded (also when retention has deleted
    /// it), or `None` before its first event.
    async fn audit_head(&self, org_id: OrgId) -> Result<Option<(u64, String)>>;

    /// The org's checkpoint for the UTC day of `now`: taken from its head by the day's first
    /// call (on any instance) and kept, so every later call that day answers the same.
    async fn audit_checkpoint(&self, org_id: OrgId, now: Timestamp) -> Result<AuditCheckpoint>;

    /// Deletes every org's events that occurred strictly before `before` (retention); returns
    /// how many. The oldest event kept still carries its `prev_hash`, so the chain stays
    /// verifiable from it.
    async fn purge_audit_events(&self, before: Timestamp) -> Result<u64>;
}
