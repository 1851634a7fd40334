//! The bodies of the user-management methods of `Store` (`list_users`, `update_user`,
//! `delete_user`), expanded for both backends like [`crate::store_impl`].
//!
//! They live in a second macro only to keep `store_impl.rs` a readable size: this one expands to
//! inherent `…_impl` methods (plain `async fn`s, no `async_trait` needed), and the `impl Store`
//! block delegates to them in one line each. The names differ from the trait's so a call can
//! never resolve to itself.

/// Adds inherent `list_users_impl`, `update_user_impl` and `delete_user_impl` methods to `$ty`,
/// a struct with a `pool: sqlx::Pool<_>` field, an inherent `begin_write` method (see
/// [`crate::store_impl::impl_store`]) and a `LOCK_USER_FOR_DELETE` query: the second thing that
/// differs between the backends, since only PostgreSQL needs (and accepts) `for update`.
macro_rules! impl_user_ops {
    ($ty:ty) => {
        // An anonymous const scopes these imports to the expansion.
        const _: () = {
            use sqlx::types::Json;
            use tessera_core::{Error, OrgId, Page, Result, User, UserId, UserPatch, UserQuery};

            use $crate::convert::{micros, storage};
            use $crate::user::{self, UserRow};
            use $crate::user_token;

            impl $ty {
                /// See `Store::list_users`.
                pub(crate) async fn list_users_impl(&self, org_id: OrgId, query: &UserQuery) -> Result<Page<User>> {
                    let limit = query.page.limit;
                    let pattern = query.q.as_deref().map(user::like_pattern);
                    let sql =
                        user::list_users_sql(pattern.is_some(), query.platform.is_some(), query.page.after.is_some());
                    // One row more than the page proves that a next page exists.
                    let mut q = sqlx::query_as::<_, UserRow>(&sql).bind(org_id.0).bind(i64::from(limit) + 1);
                    if let Some(pattern) = pattern {
                        q = q.bind(pattern);
                    }
                    if let Some(platform) = &query.platform {
                        q = q.bind(platform.as_str());
                    }
                    if let Some(after) = query.page.after {
                        q = q.bind(after.at_micros).bind(after.id);
                    }
                    let rows = q.fetch_all(&self.pool).await.map_err(storage)?;
                    let users = rows.into_iter().map(UserRow::into_user).collect::<Result<Vec<_>>>()?;
                    Ok(Page::from_rows(users, limit, |u| (u.created_at, u.id.0)))
                }

                /// See `Store::update_user`.
                pub(crate) async fn update_user_impl(
                    &self,
                    org_id: OrgId,
                    user_id: UserId,
                    patch: &UserPatch,
                ) -> Result<User> {
                    // One statement, so no transaction: the change test and the write see the same row.
                    let (set_name, name) = match &patch.display_name {
                        None => (false, None),
                        Some(name) => (true, name.as_deref()),
                    };
                    sqlx::query_as::<_, UserRow>(user::UPDATE_USER)
                        .bind(org_id.0)
                        .bind(user_id.0)
                        .bind(set_name)
                        .bind(name)
                        .bind(patch.metadata.clone().map(Json))
                        .bind(micros(patch.now))
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(storage)?
                        .ok_or(Error::not_found("user"))?
                        .into_user()
                }

                /// See `Store::delete_user`.
                pub(crate) async fn delete_user_impl(&self, org_id: OrgId, user_id: UserId) -> Result<u64> {
                    let mut tx = self.begin_write().await.map_err(storage)?;
                    // Checked and locked first: "no such user" is then certain, and no token row
                    // can be added between the two deletes below.
                    let exists: Option<(uuid::Uuid,)> = sqlx::query_as(<$ty>::LOCK_USER_FOR_DELETE)
                        .bind(org_id.0)
                        .bind(user_id.0)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(storage)?;
                    if exists.is_none() {
                        return Err(Error::not_found("user"));
                    }
                    // Tokens first: `user_token` references `end_user` without a cascade.
                    let tokens = sqlx::query(user_token::DELETE_USER_TOKENS)
                        .bind(org_id.0)
                        .bind(user_id.0)
                        .execute(&mut *tx)
                        .await
                        .map_err(storage)?
                        .rows_affected();
                    sqlx::query(user::DELETE_USER)
                        .bind(org_id.0)
                        .bind(user_id.0)
                        .execute(&mut *tx)
                        .await
                        .map_err(storage)?;
                    tx.commit().await.map_err(storage)?;
                    Ok(tokens)
                }
            }
        };
    };
}

pub(crate) use impl_user_ops;
