//! The bodies of the dashboard's `Store` methods (first run, members, sessions, overview),
//! expanded for both backends like [`crate::store_impl`]: inherent `…_impl` methods to which the
//! `impl Store` block delegates in one line each.

/// Adds the dashboard's inherent `…_impl` methods to `$ty`, a struct with a `pool` field, an
/// inherent `begin_write` method and a `LOCK_OWNERS` query (the backend-specific part: only
/// PostgreSQL needs, and accepts, `for update`; SQLite's `BEGIN IMMEDIATE` already serializes).
macro_rules! impl_dashboard_ops {
    ($ty:ty) => {
        // An anonymous const scopes these imports to the expansion.
        const _: () = {
            use tessera_core::{
                Error, Member, MemberId, NewMember, NewOrg, NewSession, NewSigningKey, Org, OrgCounts, OrgId, Result,
                Role, Session, SessionHash, Timestamp,
            };

            use $crate::convert::{micros, storage};
            use $crate::dashboard::{self, SessionRow};
            use $crate::member::{self, MemberRow};
            use $crate::org::{self, OrgRow};

            /// A unique violation in the first-run transaction means another setup (or org) won.
            fn setup_conflict(e: sqlx::Error) -> Error {
                if e.as_database_error().is_some_and(|d| d.is_unique_violation()) {
                    setup_done()
                } else {
                    storage(e)
                }
            }

            fn setup_done() -> Error {
                Error::Conflict { code: "setup_done", message: "this server already has an organization".into() }
            }

            fn last_owner() -> Error {
                Error::Conflict {
                    code: "last_owner",
                    message: "the organization's last owner cannot be removed or demoted".into(),
                }
            }

            impl $ty {
                /// See `Store::first_orgs`.
                pub(crate) async fn first_orgs_impl(&self, limit: u32) -> Result<Vec<Org>> {
                    sqlx::query_as::<_, OrgRow>(dashboard::FIRST_ORGS)
                        .bind(i64::from(limit))
                        .fetch_all(&self.pool)
                        .await
                        .map_err(storage)?
                        .into_iter()
                        .map(OrgRow::into_org)
                        .collect()
                }

                /// See `Store::create_first_org`.
                pub(crate) async fn create_first_org_impl(
                    &self,
                    new: &NewOrg,
                    key: &NewSigningKey,
                    owner: &NewMember,
                ) -> Result<(Org, Member)> {
                    if owner.role != Role::Owner {
                        return Err(Error::invalid("role", "the first member must be an owner"));
                    }
                    let mut tx = self.begin_write().await.map_err(storage)?;
                    let org = sqlx::query_as::<_, OrgRow>(org::INSERT_ORG)
                        .bind(new.id.0)
                        .bind(new.slug.as_str())
                        .bind(&new.name)
                        .bind(micros(new.created_at))
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(setup_conflict)?;
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
                    let member = sqlx::query_as::<_, MemberRow>(member::INSERT_MEMBER)
                        .bind(owner.id.0)
                        .bind(new.id.0)
                        .bind(owner.email.as_str())
                        .bind(owner.role.as_str())
                        .bind(&owner.password_hash)
                        .bind(micros(owner.created_at))
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(storage)?;
                    let marked = sqlx::query(dashboard::INSERT_FIRST_RUN)
                        .bind(new.id.0)
                        .bind(micros(new.created_at))
                        .execute(&mut *tx)
                        .await
                        .map_err(setup_conflict)?;
                    if marked.rows_affected() == 0 {
                        // Another org exists: the transaction rolls back when dropped.
                        return Err(setup_done());
                    }
                    tx.commit().await.map_err(storage)?;
                    Ok((org.into_org()?, member.into_member()?))
                }

                /// See `Store::list_members`.
                pub(crate) async fn list_members_impl(&self, org_id: OrgId) -> Result<Vec<Member>> {
                    sqlx::query_as::<_, MemberRow>(dashboard::LIST_MEMBERS)
                        .bind(org_id.0)
                        .fetch_all(&self.pool)
                        .await
                        .map_err(storage)?
                        .into_iter()
                        .map(MemberRow::into_member)
                        .collect()
                }

                /// See `Store::member_by_email`.
                pub(crate) async fn member_by_email_impl(&self, org_id: OrgId, email: &str) -> Result<Option<Member>> {
                    sqlx::query_as::<_, MemberRow>(dashboard::MEMBER_BY_EMAIL)
                        .bind(org_id.0)
                        .bind(email)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(storage)?
                        .map(MemberRow::into_member)
                        .transpose()
                }

                /// See `Store::member_by_id`.
                pub(crate) async fn member_by_id_impl(&self, org_id: OrgId, id: MemberId) -> Result<Option<Member>> {
                    sqlx::query_as::<_, MemberRow>(dashboard::MEMBER_BY_ID)
                        .bind(org_id.0)
                        .bind(id.0)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(storage)?
                        .map(MemberRow::into_member)
                        .transpose()
                }

                /// Inside `tx`: the org's owners (locked on PostgreSQL) and the target member.
                async fn owners_and_member<'c>(
                    tx: &mut sqlx::Transaction<'c, <Self as $crate::dashboard_ops::Backend>::Db>,
                    org_id: OrgId,
                    id: MemberId,
                ) -> Result<(Vec<uuid::Uuid>, Member)> {
                    // Owners first: their row locks order concurrent role changes, so the second
                    // one sees the first one's result.
                    let owners: Vec<(uuid::Uuid,)> = sqlx::query_as(<$ty>::LOCK_OWNERS)
                        .bind(org_id.0)
                        .fetch_all(&mut **tx)
                        .await
                        .map_err(storage)?;
                    let member = sqlx::query_as::<_, MemberRow>(dashboard::MEMBER_BY_ID)
                        .bind(org_id.0)
                        .bind(id.0)
                        .fetch_optional(&mut **tx)
                        .await
                        .map_err(storage)?
                        .ok_or(Error::not_found("member"))?
                        .into_member()?;
                    Ok((owners.into_iter().map(|(id,)| id).collect(), member))
                }

                /// See `Store::change_member_role`.
                pub(crate) async fn change_member_role_impl(
                    &self,
                    org_id: OrgId,
                    id: MemberId,
                    role: Role,
                ) -> Result<Member> {
                    let mut tx = self.begin_write().await.map_err(storage)?;
                    let (owners, member) = Self::owners_and_member(&mut tx, org_id, id).await?;
                    if member.role == Role::Owner && role != Role::Owner && owners.len() <= 1 {
                        return Err(last_owner());
                    }
                    let updated = sqlx::query_as::<_, MemberRow>(dashboard::UPDATE_MEMBER_ROLE)
                        .bind(org_id.0)
                        .bind(id.0)
                        .bind(role.as_str())
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(storage)?
                        .into_member()?;
                    tx.commit().await.map_err(storage)?;
                    Ok(updated)
                }

                /// See `Store::remove_member`.
                pub(crate) async fn remove_member_impl(&self, org_id: OrgId, id: MemberId) -> Result<()> {
                    let mut tx = self.begin_write().await.map_err(storage)?;
                    let (owners, member) = Self::owners_and_member(&mut tx, org_id, id).await?;
                    if member.role == Role::Owner && owners.len() <= 1 {
                        return Err(last_owner());
                    }
                    for sql in [
                        dashboard::DELETE_MEMBER_SESSIONS,
                        dashboard::FORGET_API_KEY_CREATOR,
                        dashboard::FORGET_TOKEN_ISSUER,
                        dashboard::DELETE_MEMBER,
                    ] {
                        sqlx::query(sql).bind(org_id.0).bind(id.0).execute(&mut *tx).await.map_err(storage)?;
                    }
                    tx.commit().await.map_err(storage)?;
                    Ok(())
                }

                /// See `Store::create_session`.
                pub(crate) async fn create_session_impl(&self, org_id: OrgId, new: &NewSession) -> Result<Session> {
                    sqlx::query_as::<_, SessionRow>(dashboard::INSERT_SESSION)
                        .bind(&new.hash.0[..])
                        .bind(org_id.0)
                        .bind(new.member_id.0)
                        .bind(micros(new.created_at))
                        .bind(micros(new.expires_at))
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(storage)?
                        .ok_or(Error::not_found("member"))?
                        .into_session()
                }

                /// See `Store::touch_session`.
                pub(crate) async fn touch_session_impl(
                    &self,
                    hash: &SessionHash,
                    now: Timestamp,
                    idle_cutoff: Timestamp,
                ) -> Result<Option<Session>> {
                    sqlx::query_as::<_, SessionRow>(dashboard::TOUCH_SESSION)
                        .bind(&hash.0[..])
                        .bind(micros(now))
                        .bind(micros(idle_cutoff))
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(storage)?
                        .map(SessionRow::into_session)
                        .transpose()
                }

                /// See `Store::delete_session`.
                pub(crate) async fn delete_session_impl(&self, hash: &SessionHash) -> Result<bool> {
                    let done = sqlx::query(dashboard::DELETE_SESSION)
                        .bind(&hash.0[..])
                        .execute(&self.pool)
                        .await
                        .map_err(storage)?;
                    Ok(done.rows_affected() > 0)
                }

                /// See `Store::delete_expired_sessions`.
                pub(crate) async fn delete_expired_sessions_impl(
                    &self,
                    now: Timestamp,
                    idle_cutoff: Timestamp,
                ) -> Result<u64> {
                    let done = sqlx::query(dashboard::DELETE_EXPIRED_SESSIONS)
                        .bind(micros(now))
                        .bind(micros(idle_cutoff))
                        .execute(&self.pool)
                        .await
                        .map_err(storage)?;
                    Ok(done.rows_affected())
                }

                /// See `Store::org_counts`.
                pub(crate) async fn org_counts_impl(&self, org_id: OrgId, now: Timestamp) -> Result<OrgCounts> {
                    let (users, active_tokens, active_api_keys): (i64, i64, i64) =
                        sqlx::query_as(dashboard::ORG_COUNTS)
                            .bind(org_id.0)
                            .bind(micros(now))
                            .fetch_one(&self.pool)
                            .await
                            .map_err(storage)?;
                    let count = |n: i64| u64::try_from(n).unwrap_or(0);
                    Ok(OrgCounts {
                        users: count(users),
                        active_tokens: count(active_tokens),
                        active_api_keys: count(active_api_keys),
                    })
                }

                /// See `Store::tokens_issued_per_day`.
                pub(crate) async fn tokens_issued_per_day_impl(
                    &self,
                    org_id: OrgId,
                    since: Timestamp,
                    days: u32,
                ) -> Result<Vec<u64>> {
                    let since = micros(since);
                    let until = since.saturating_add(dashboard::DAY_MICROS.saturating_mul(i64::from(days)));
                    let rows: Vec<(i64, i64)> = sqlx::query_as(dashboard::TOKENS_PER_DAY)
                        .bind(org_id.0)
                        .bind(since)
                        .bind(until)
                        .fetch_all(&self.pool)
                        .await
                        .map_err(storage)?;
                    let mut per_day = vec![0u64; days as usize];
                    for (day, n) in rows {
                        if let Some(slot) = usize::try_from(day).ok().and_then(|d| per_day.get_mut(d)) {
                            *slot = u64::try_from(n).unwrap_or(0);
                        }
                    }
                    Ok(per_day)
                }
            }
        };
    };
}

pub(crate) use impl_dashboard_ops;

/// The sqlx database of a store type, so the shared method bodies can name its transactions.
pub(crate) trait Backend {
    /// `sqlx::Sqlite` or `sqlx::Postgres`.
    type Db: sqlx::Database;
}

impl Backend for crate::SqliteStore {
    type Db = sqlx::Sqlite;
}

impl Backend for crate::PgStore {
    type Db = sqlx::Postgres;
}
