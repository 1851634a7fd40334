//! The one body of `impl Store`, expanded for both [`crate::SqliteStore`] and [`crate::PgStore`].
//!
//! The SQL text (in the per-entity modules) is identical on both backends, so the method bodies
//! are too; they differ only in the pool type, which a `macro_rules!` handles without the long
//! sqlx trait bounds a generic implementation would need. The behaviours that must differ are
//! each store's own: how a write transaction starts (`begin_write`), how `delete_user` locks
//! the user row (`LOCK_USER_FOR_DELETE`), and how a batch of token rows goes in
//! (`insert_token_batch`: multi-row statements in one transaction on SQLite, one `unnest`
//! statement on PostgreSQL), and how revocations reach other processes (`announce_revocation`
//! and `watch_revocation_notices`: triggers and `LISTEN` on PostgreSQL, a watched notice file
//! on SQLite).

/// Implements `tessera_core::Store` for `$ty`, a struct with a `pool: sqlx::Pool<_>` field and the
/// inherent `async fn begin_write(&self) -> Result<sqlx::Transaction<'static, _>, sqlx::Error>` and
/// `async fn insert_token_batch(&self, &[(OrgId, NewUserToken)]) -> Result<Option<Vec<UserToken>>>`,
/// `fn watch_revocation_notices(&self, RevocationNotice) -> bool` and `fn announce_revocation(&self)`
/// (called after every write that revokes or deletes what servers cache).
/// The user-management and idempotency-key methods delegate to [`crate::user_ops::impl_user_ops`]
/// and [`crate::idempotency_ops::impl_idempotency_ops`], expanded here too.
macro_rules! impl_store {
    ($ty:ty) => {
        $crate::user_ops::impl_user_ops!($ty);
        $crate::idempotency_ops::impl_idempotency_ops!($ty);
        $crate::dashboard_ops::impl_dashboard_ops!($ty);

        // An anonymous const scopes these imports to the expansion.
        const _: () = {
            use sqlx::types::Json;
            use tessera_core::{
                Account, ApiKey, ApiKeyHash, ApiKeyId, Error, IdempotencyClaim, Member, NewApiKey, NewMember, NewOrg,
                NewSigningKey, NewUserToken, Org, OrgId, Page, Platform, Result, SigningKey, Store, StoredResponse,
                Timestamp, TokenQuery, TokenStatus, User, UserId, UserPatch, UserQuery, UserToken, UserTokenId,
                UserUpsert,
            };

            use $crate::api_key::{self, ApiKeyRow};
            use $crate::convert::{conflict_or_storage, micros, micros_opt, storage};
            use $crate::member::{self, MemberRow};
            use $crate::org::{self, OrgRow, SigningKeyRow};
            use $crate::user::{self, UserRow};
            use $crate::user_token::{self, bind_new_token, UserTokenRow};

            #[async_trait::async_trait]
            impl Store for $ty {
                async fn ping(&self) -> Result<()> {
                    sqlx::query("select 1").execute(&self.pool).await.map_err(storage)?;
                    Ok(())
                }

                fn watch_revocations(&self, on_notice: tessera_core::RevocationNotice) -> bool {
                    self.watch_revocation_notices(on_notice)
                }

                async fn create_org(&self, new: &NewOrg, key: &NewSigningKey) -> Result<Org> {
                    let mut tx = self.begin_write().await.map_err(storage)?;
                    let row = sqlx::query_as::<_, OrgRow>(org::INSERT_ORG)
                        .bind(new.id.0)
                        .bind(new.slug.as_str())
                        .bind(&new.name)
                        .bind(micros(new.created_at))
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(|e| {
                            conflict_or_storage(e, "org_slug_taken", "an org with this slug already exists")
                        })?;
                    sqlx::query(org::INSERT_SIGNING_KEY)
                        .bind(key.id.0)
                        .bind(new.id.0)
                        .bind(&key.algorithm)
                        .bind(&key.public_key)
                        .bind(&key.encrypted_private_key)
                        .bind(true)
                        .bind(micros(key.created_at))
                        .execute(&mut *tx)
                        .await
                        .map_err(storage)?;
                    tx.commit().await.map_err(storage)?;
                    row.into_org()
                }

                async fn org_by_slug(&self, slug: &str) -> Result<Option<Org>> {
                    let row = sqlx::query_as::<_, OrgRow>(org::ORG_BY_SLUG)
                        .bind(slug)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(storage)?;
                    row.map(OrgRow::into_org).transpose()
                }

                async fn org_by_id(&self, org_id: OrgId) -> Result<Option<Org>> {
                    let row = sqlx::query_as::<_, OrgRow>(org::ORG_BY_ID)
                        .bind(org_id.0)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(storage)?;
                    row.map(OrgRow::into_org).transpose()
                }

                async fn create_member(&self, org_id: OrgId, new: &NewMember) -> Result<Member> {
                    sqlx::query_as::<_, MemberRow>(member::INSERT_MEMBER)
                        .bind(new.id.0)
                        .bind(org_id.0)
                        .bind(new.email.as_str())
                        .bind(new.role.as_str())
                        .bind(&new.password_hash)
                        .bind(micros(new.created_at))
                        .fetch_one(&self.pool)
                        .await
                        .map_err(|e| {
                            conflict_or_storage(e, "member_email_taken", "a member with this email exists in the org")
                        })?
                        .into_member()
                }

                async fn signing_keys(&self, org_id: OrgId) -> Result<Vec<SigningKey>> {
                    sqlx::query_as::<_, SigningKeyRow>(org::SIGNING_KEYS)
                        .bind(org_id.0)
                        .fetch_all(&self.pool)
                        .await
                        .map_err(storage)?
                        .into_iter()
                        .map(SigningKeyRow::into_signing_key)
                        .collect()
                }

                async fn create_api_key(&self, org_id: OrgId, new: &NewApiKey) -> Result<ApiKey> {
                    // A duplicate hash would be the same 190-bit secret drawn twice; like a taken
                    // prefix, the remedy is to draw a new key, so both map to the same code.
                    sqlx::query_as::<_, ApiKeyRow>(api_key::INSERT_API_KEY)
                        .bind(new.id.0)
                        .bind(org_id.0)
                        .bind(&new.name)
                        .bind(&new.hash.0[..])
                        .bind(&new.prefix)
                        .bind(new.created_by.map(|m| m.0))
                        .bind(micros(new.created_at))
                        .bind(micros_opt(new.expires_at))
                        .fetch_one(&self.pool)
                        .await
                        .map_err(|e| {
                            conflict_or_storage(e, "api_key_prefix_taken", "the org already has a key with this prefix")
                        })?
                        .into_api_key()
                }

                async fn api_key_by_hash(&self, hash: &ApiKeyHash) -> Result<Option<ApiKey>> {
                    let row = sqlx::query_as::<_, ApiKeyRow>(api_key::API_KEY_BY_HASH)
                        .bind(&hash.0[..])
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(storage)?;
                    row.map(ApiKeyRow::into_api_key).transpose()
                }

                async fn list_api_keys(&self, org_id: OrgId) -> Result<Vec<ApiKey>> {
                    sqlx::query_as::<_, ApiKeyRow>(api_key::LIST_API_KEYS)
                        .bind(org_id.0)
                        .fetch_all(&self.pool)
                        .await
                        .map_err(storage)?
                        .into_iter()
                        .map(ApiKeyRow::into_api_key)
                        .collect()
                }

                async fn revoke_api_key(&self, org_id: OrgId, prefix: &str, at: Timestamp) -> Result<ApiKey> {
                    let revoked = sqlx::query_as::<_, ApiKeyRow>(api_key::REVOKE_API_KEY)
                        .bind(org_id.0)
                        .bind(prefix)
                        .bind(micros(at))
                        .fetch_optional(&self.pool)
                        .await;
                    self.announce_revocation();
                    revoked.map_err(storage)?.ok_or(Error::not_found("api key"))?.into_api_key()
                }

                async fn touch_api_key(&self, org_id: OrgId, key_id: ApiKeyId, at: Timestamp) -> Result<()> {
                    let done = sqlx::query(api_key::TOUCH_API_KEY)
                        .bind(org_id.0)
                        .bind(key_id.0)
                        .bind(micros(at))
                        .execute(&self.pool)
                        .await
                        .map_err(storage)?;
                    if done.rows_affected() == 0 {
                        return Err(Error::not_found("api key"));
                    }
                    Ok(())
                }

                async fn upsert_user(&self, org_id: OrgId, new: &UserUpsert) -> Result<(User, bool)> {
                    // Fast path, a plain read: the user exists and the call changes nothing (no
                    // metadata, no or the same display name), as in claimr's `GET /token` for a
                    // known user. A write transaction would serialize these on SQLite.
                    if new.metadata.is_none() {
                        let existing = sqlx::query_as::<_, UserRow>(user::USER_BY_IDENTITY)
                            .bind(org_id.0)
                            .bind(new.platform.as_str())
                            .bind(new.account.as_str())
                            .fetch_optional(&self.pool)
                            .await
                            .map_err(storage)?
                            .map(UserRow::into_user)
                            .transpose()?;
                        if let Some(user) = existing {
                            if new.display_name.is_none() || new.display_name == user.display_name {
                                return Ok((user, false));
                            }
                        }
                    }
                    let now = micros(new.now);
                    let mut tx = self.begin_write().await.map_err(storage)?;
                    let inserted = sqlx::query_as::<_, UserRow>(user::INSERT_USER_IF_NEW)
                        .bind(new.id.0)
                        .bind(org_id.0)
                        .bind(new.platform.as_str())
                        .bind(new.account.as_str())
                        .bind(new.display_name.as_deref())
                        .bind(Json(new.metadata.clone().unwrap_or_default()))
                        .bind(now)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(storage)?;
                    let (row, created) = match inserted {
                        Some(row) => (row, true),
                        None => {
                            let row = sqlx::query_as::<_, UserRow>(user::UPDATE_USER_BY_IDENTITY)
                                .bind(org_id.0)
                                .bind(new.platform.as_str())
                                .bind(new.account.as_str())
                                .bind(new.display_name.as_deref())
                                .bind(new.metadata.clone().map(Json))
                                .bind(now)
                                .fetch_one(&mut *tx)
                                .await
                                .map_err(storage)?;
                            (row, false)
                        }
                    };
                    tx.commit().await.map_err(storage)?;
                    Ok((row.into_user()?, created))
                }

                async fn user_by_id(&self, org_id: OrgId, user_id: UserId) -> Result<Option<User>> {
                    let row = sqlx::query_as::<_, UserRow>(user::USER_BY_ID)
                        .bind(org_id.0)
                        .bind(user_id.0)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(storage)?;
                    row.map(UserRow::into_user).transpose()
                }

                async fn list_users(&self, org_id: OrgId, query: &UserQuery) -> Result<Page<User>> {
                    self.list_users_impl(org_id, query).await
                }

                async fn update_user(&self, org_id: OrgId, user_id: UserId, patch: &UserPatch) -> Result<User> {
                    self.update_user_impl(org_id, user_id, patch).await
                }

                async fn delete_user(&self, org_id: OrgId, user_id: UserId) -> Result<u64> {
                    let deleted = self.delete_user_impl(org_id, user_id).await;
                    self.announce_revocation();
                    deleted
                }

                async fn insert_user_token(&self, org_id: OrgId, new: &NewUserToken) -> Result<UserToken> {
                    // One statement: the insert selects from the org's user row, so it is atomic
                    // without a transaction and inserts nothing if the user is not in the org.
                    let query = sqlx::query_as::<_, UserTokenRow>(user_token::INSERT_USER_TOKEN);
                    let row = bind_new_token!(query, org_id, new).fetch_optional(&self.pool).await.map_err(|e| {
                        // Only the partial index on live default tokens can clash for a new
                        // (UUIDv7) id; for a non-default token a clash is a caller bug.
                        if new.is_default {
                            conflict_or_storage(e, "default_token_exists", "the user already has a default token")
                        } else {
                            storage(e)
                        }
                    })?;
                    row.ok_or(Error::not_found("user"))?.into_user_token()
                }

                async fn insert_user_tokens(&self, batch: &[(OrgId, NewUserToken)]) -> Result<Vec<Result<UserToken>>> {
                    let Some(tokens) = self.insert_token_batch(batch).await? else {
                        // Nothing was inserted (a user deleted under the batch breaks a foreign
                        // key; on SQLite also a second default token): insert the rows one by
                        // one, each with its own result.
                        let mut results = Vec::with_capacity(batch.len());
                        for (org_id, new) in batch {
                            results.push(self.insert_user_token(*org_id, new).await);
                        }
                        return Ok(results);
                    };
                    let mut inserted: std::collections::HashMap<UserTokenId, UserToken> =
                        tokens.into_iter().map(|token| (token.id, token)).collect();
                    let mut results = Vec::with_capacity(batch.len());
                    for (org_id, new) in batch {
                        if let Some(token) = inserted.remove(&new.id) {
                            results.push(Ok(token));
                            continue;
                        }
                        // Nothing inserted: no such user in the org, or (for a default token) the
                        // user already has a live one.
                        let user_exists = new.is_default
                            && sqlx::query(user::USER_EXISTS)
                                .bind(org_id.0)
                                .bind(new.user_id.0)
                                .fetch_optional(&self.pool)
                                .await
                                .map_err(storage)?
                                .is_some();
                        results.push(Err(if user_exists {
                            Error::Conflict {
                                code: "default_token_exists",
                                message: "the user already has a default token".into(),
                            }
                        } else {
                            Error::not_found("user")
                        }));
                    }
                    Ok(results)
                }

                async fn user_and_default_token(
                    &self,
                    org_id: OrgId,
                    platform: &Platform,
                    account: &Account,
                ) -> Result<Option<(User, Option<UserToken>)>> {
                    let row =
                        sqlx::query_as::<_, user_token::UserAndDefaultTokenRow>(user_token::USER_AND_DEFAULT_TOKEN)
                            .bind(org_id.0)
                            .bind(platform.as_str())
                            .bind(account.as_str())
                            .fetch_optional(&self.pool)
                            .await
                            .map_err(storage)?;
                    row.map(user_token::UserAndDefaultTokenRow::into_parts).transpose()
                }

                async fn default_user_token(&self, org_id: OrgId, user_id: UserId) -> Result<Option<UserToken>> {
                    let row = sqlx::query_as::<_, UserTokenRow>(user_token::DEFAULT_USER_TOKEN)
                        .bind(org_id.0)
                        .bind(user_id.0)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(storage)?;
                    row.map(UserTokenRow::into_user_token).transpose()
                }

                async fn user_token(&self, org_id: OrgId, token_id: UserTokenId) -> Result<Option<UserToken>> {
                    let row = sqlx::query_as::<_, UserTokenRow>(user_token::USER_TOKEN)
                        .bind(org_id.0)
                        .bind(token_id.0)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(storage)?;
                    row.map(UserTokenRow::into_user_token).transpose()
                }

                async fn list_user_tokens(
                    &self,
                    org_id: OrgId,
                    user_id: UserId,
                    query: &TokenQuery,
                    now: Timestamp,
                ) -> Result<Page<UserToken>> {
                    let limit = query.page.limit;
                    let sql = user_token::list_user_tokens_sql(query.status, query.page.after.is_some());
                    // One row more than the page proves that a next page exists.
                    let mut q = sqlx::query_as::<_, UserTokenRow>(&sql)
                        .bind(org_id.0)
                        .bind(user_id.0)
                        .bind(i64::from(limit) + 1);
                    if matches!(query.status, Some(TokenStatus::Active | TokenStatus::Expired)) {
                        q = q.bind(micros(now));
                    }
                    if let Some(after) = query.page.after {
                        q = q.bind(after.at_micros).bind(after.id);
                    }
                    let rows = q.fetch_all(&self.pool).await.map_err(storage)?;
                    let tokens = rows.into_iter().map(UserTokenRow::into_user_token).collect::<Result<Vec<_>>>()?;
                    Ok(Page::from_rows(tokens, limit, |t| (t.issued_at, t.id.0)))
                }

                async fn revoke_user_token(
                    &self,
                    org_id: OrgId,
                    token_id: UserTokenId,
                    at: Timestamp,
                ) -> Result<UserToken> {
                    let revoked = sqlx::query_as::<_, UserTokenRow>(user_token::REVOKE_USER_TOKEN)
                        .bind(org_id.0)
                        .bind(token_id.0)
                        .bind(micros(at))
                        .fetch_optional(&self.pool)
                        .await;
                    self.announce_revocation();
                    revoked.map_err(storage)?.ok_or(Error::not_found("user token"))?.into_user_token()
                }

                async fn revoke_user_tokens(
                    &self,
                    org_id: OrgId,
                    user_id: UserId,
                    issued_before: Timestamp,
                    at: Timestamp,
                ) -> Result<u64> {
                    // The existence check and the update share a transaction so "no such user"
                    // and "revoked 0" cannot be confused by a concurrent change.
                    let mut tx = self.begin_write().await.map_err(storage)?;
                    let exists: Option<(uuid::Uuid,)> = sqlx::query_as(user::USER_EXISTS)
                        .bind(org_id.0)
                        .bind(user_id.0)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(storage)?;
                    if exists.is_none() {
                        return Err(Error::not_found("user"));
                    }
                    let done = sqlx::query(user_token::REVOKE_USER_TOKENS)
                        .bind(org_id.0)
                        .bind(user_id.0)
                        .bind(micros(issued_before))
                        .bind(micros(at))
                        .execute(&mut *tx)
                        .await
                        .map_err(storage)?;
                    let committed = tx.commit().await;
                    self.announce_revocation();
                    committed.map_err(storage)?;
                    Ok(done.rows_affected())
                }

                async fn claim_idempotency_key(
                    &self,
                    org_id: OrgId,
                    key: &str,
                    fingerprint: &[u8; 32],
                    now: Timestamp,
                    not_before: Timestamp,
                ) -> Result<IdempotencyClaim> {
                    self.claim_idempotency_key_impl(org_id, key, fingerprint, now, not_before).await
                }

                async fn complete_idempotency_key(&self, org_id: OrgId, key: &str, r: &StoredResponse) -> Result<()> {
                    self.complete_idempotency_key_impl(org_id, key, r).await
                }

                async fn release_idempotency_key(&self, org_id: OrgId, key: &str) -> Result<()> {
                    self.release_idempotency_key_impl(org_id, key).await
                }

                async fn purge_idempotency_keys(&self, before: Timestamp) -> Result<u64> {
                    self.purge_idempotency_keys_impl(before).await
                }

                // ---- dashboard (bodies in crate::dashboard_ops) ----

                async fn first_orgs(&self, limit: u32) -> Result<Vec<Org>> {
                    self.first_orgs_impl(limit).await
                }

                async fn create_first_org(
                    &self,
                    org: &NewOrg,
                    key: &NewSigningKey,
                    owner: &NewMember,
                ) -> Result<(Org, Member)> {
                    self.create_first_org_impl(org, key, owner).await
                }

                async fn list_members(&self, org_id: OrgId) -> Result<Vec<Member>> {
                    self.list_members_impl(org_id).await
                }

                async fn member_by_email(&self, org_id: OrgId, email: &str) -> Result<Option<Member>> {
                    self.member_by_email_impl(org_id, email).await
                }

                async fn member_by_id(
                    &self,
                    org_id: OrgId,
                    member_id: tessera_core::MemberId,
                ) -> Result<Option<Member>> {
                    self.member_by_id_impl(org_id, member_id).await
                }

                async fn change_member_role(
                    &self,
                    org_id: OrgId,
                    member_id: tessera_core::MemberId,
                    role: tessera_core::Role,
                ) -> Result<Member> {
                    self.change_member_role_impl(org_id, member_id, role).await
                }

                async fn remove_member(&self, org_id: OrgId, member_id: tessera_core::MemberId) -> Result<()> {
                    self.remove_member_impl(org_id, member_id).await
                }

                async fn create_session(
                    &self,
                    org_id: OrgId,
                    session: &tessera_core::NewSession,
                ) -> Result<tessera_core::Session> {
                    self.create_session_impl(org_id, session).await
                }

                async fn touch_session(
                    &self,
                    hash: &tessera_core::SessionHash,
                    now: Timestamp,
                    idle_cutoff: Timestamp,
                ) -> Result<Option<tessera_core::Session>> {
                    self.touch_session_impl(hash, now, idle_cutoff).await
                }

                async fn delete_session(&self, hash: &tessera_core::SessionHash) -> Result<bool> {
                    self.delete_session_impl(hash).await
                }

                async fn delete_expired_sessions(&self, now: Timestamp, idle_cutoff: Timestamp) -> Result<u64> {
                    self.delete_expired_sessions_impl(now, idle_cutoff).await
                }

                async fn org_counts(&self, org_id: OrgId, now: Timestamp) -> Result<tessera_core::OrgCounts> {
                    self.org_counts_impl(org_id, now).await
                }

                async fn tokens_issued_per_day(&self, org_id: OrgId, since: Timestamp, days: u32) -> Result<Vec<u64>> {
                    self.tokens_issued_per_day_impl(org_id, since, days).await
                }
            }
        };
    };
}

pub(crate) use impl_store;
