//! Faults inside the process: the token writer panics (a bug in a store) and is supervised, and
//! `/readyz` says what it finds.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::http::{Method, StatusCode};
use serde_json::json;
use tessera_api::{
    group_commit::TokenWriter,
    state::{AppParts, NoticeState, NoticeStatus},
    AppState,
};
use tessera_core::{
    Account, AuditContext, Error, NewUserToken, OrgId, Page, Platform, Result, Store, Timestamp, TokenQuery,
    TokenStore, User, UserId, UserToken, UserTokenId,
};

use crate::helpers::{call_on, Backend, TestApp};

/// The real store, except that a batch holding the row `poison` panics, as a bug in a store
/// would (fault injection: every other call goes to the database).
struct PanicsOn {
    store: Arc<dyn Store>,
    poison: UserTokenId,
}

#[async_trait]
impl TokenStore for PanicsOn {
    async fn insert_user_token(&self, org_id: OrgId, token: &NewUserToken) -> Result<UserToken> {
        self.store.insert_user_token(org_id, token).await
    }
    async fn insert_user_tokens(&self, batch: &[(OrgId, NewUserToken)]) -> Result<Vec<Result<UserToken>>> {
        assert!(batch.iter().all(|(_, t)| t.id != self.poison), "injected panic: a bug in the store");
        self.store.insert_user_tokens(batch).await
    }
    async fn user_and_default_token(
        &self,
        org_id: OrgId,
        platform: &Platform,
        account: &Account,
    ) -> Result<Option<(User, Option<UserToken>)>> {
        self.store.user_and_default_token(org_id, platform, account).await
    }
    async fn default_user_token(&self, org_id: OrgId, user_id: UserId) -> Result<Option<UserToken>> {
        self.store.default_user_token(org_id, user_id).await
    }
    async fn user_token(&self, org_id: OrgId, token_id: UserTokenId) -> Result<Option<UserToken>> {
        self.store.user_token(org_id, token_id).await
    }
    async fn list_user_tokens(
        &self,
        org_id: OrgId,
        user_id: UserId,
        query: &TokenQuery,
        now: Timestamp,
    ) -> Result<Page<UserToken>> {
        self.store.list_user_tokens(org_id, user_id, query, now).await
    }
    async fn revoke_user_token(
        &self,
        org_id: OrgId,
        token_id: UserTokenId,
        at: Timestamp,
        audit: &AuditContext,
    ) -> Result<UserToken> {
        self.store.revoke_user_token(org_id, token_id, at, audit).await
    }
    async fn revoke_user_tokens(
        &self,
        org_id: OrgId,
        user_id: UserId,
        issued_before: Timestamp,
        at: Timestamp,
        audit: &AuditContext,
    ) -> Result<u64> {
        self.store.revoke_user_tokens(org_id, user_id, issued_before, at, audit).await
    }
}

/// A new token row for `user`, signed by the org's first key.
async fn new_row(app: &TestApp, org_id: OrgId, user: UserId) -> NewUserToken {
    let key = app.state.store.signing_keys(org_id).await.unwrap().remove(0);
    let now = time::OffsetDateTime::now_utc();
    NewUserToken {
        id: UserTokenId(uuid::Uuid::now_v7()),
        user_id: user,
        signing_key_id: key.id,
        issued_at: now,
        expires_at: Some(now + Duration::from_secs(600)),
        is_default: false,
        issued_by: None,
    }
}

#[tokio::test]
async fn a_panicking_token_writer_is_restarted_and_readyz_reports_it() {
    let app = TestApp::new().await;
    let org = app.with_org("acme").await;
    let key = app.with_api_key(&org).await;
    let r = app.post("/v1/users", &key, json!({"account": "ada"})).await;
    let user = UserId(r.body["id"].as_str().unwrap().parse().unwrap());
    let poisoned = new_row(&app, org.id, user).await;
    let writer = TokenWriter::spawn(Arc::new(PanicsOn { store: app.state.store.clone(), poison: poisoned.id }));

    // The batch the writer held when it panicked fails (its commit is unknown), as a storage error.
    let lost = tokio::time::timeout(Duration::from_secs(10), writer.insert(org.id, poisoned.clone())).await;
    assert!(matches!(lost, Ok(Err(Error::Storage(_)))), "{lost:?}");
    assert_eq!(app.state.store.user_token(org.id, poisoned.id).await.unwrap(), None);

    // The next rows go in: a new writer took over the queue.
    for _ in 0..3 {
        let row = new_row(&app, org.id, user).await;
        let inserted = writer.insert(org.id, row.clone()).await;
        assert!(inserted.is_ok(), "the writer should be started again after a panic: {inserted:?}");
        assert!(app.state.store.user_token(org.id, row.id).await.unwrap().is_some());
    }
    assert_eq!(writer.restarts(), 1);
    assert!(writer.is_running());

    // `/readyz` of a state with this writer: ready, and says the writer was restarted once.
    let s = &app.state;
    let state = AppState::from(AppParts {
        store: s.store.clone(),
        keys: s.keys.clone(),
        config: s.config.clone(),
        api_key_cache: s.api_key_cache.clone(),
        token_writer: Arc::new(writer),
        user_identities: s.user_identities.clone(),
        token_rows: s.token_rows.clone(),
        api_key_failures: s.api_key_failures.clone(),
        revocation_notices: NoticeStatus::new(NoticeState::Off),
    });
    let router = tessera_api::http_layers(tessera_api::router(state));
    let r = call_on(&router, Method::GET, "/readyz", None, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        (&r.body["token_writer"], &r.body["token_writer_restarts"], &r.body["revocation_notices"]),
        (&json!("restarted"), &json!(1), &json!("off")),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn readyz_reports_the_database_the_token_writer_and_revocation_notices() {
    let app = TestApp::new().await;
    // PostgreSQL's listener connects in the background; SQLite's file watch is set up at once.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let r = loop {
        let r = app.call(Method::GET, "/readyz", None, None).await;
        if r.body["revocation_notices"] == "listening" || tokio::time::Instant::now() > deadline {
            break r;
        }
        assert_eq!(app.backend, Backend::Postgres, "SQLite listens at once: {}", r.body);
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.body,
        json!({
            "status": "ok", "database": "ok", "token_writer": "ok", "token_writer_restarts": 0,
            "revocation_notices": "listening"
        })
    );

    // Its 503 (the database down) is in outage.rs, on a PostgreSQL server of its own.
}
