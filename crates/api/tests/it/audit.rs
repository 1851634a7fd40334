//! The audit events that REST calls, the dashboard's services and sign-ins record: who (the API
//! key's prefix, the member), from where (the request's id and user agent), and never a secret,
//! a token or a password.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use secrecy::SecretString;
use serde_json::json;
use tessera_api::extract::RequestInfo;
use tessera_api::services::{self, setup, sign_in};
use tessera_core::{ActorType, AuditEvent, Role};

use crate::helpers::{audit, send_to, TestApp};

const PASSWORD: &str = "correct horse battery staple";

fn pw(p: &str) -> SecretString {
    SecretString::from(p.to_owned())
}

async fn events(app: &TestApp, org_id: tessera_core::OrgId) -> Vec<AuditEvent> {
    app.state.store.audit_events_after(org_id, 0, 1000).await.unwrap()
}

#[tokio::test]
async fn rest_calls_and_sign_ins_are_recorded_and_no_event_holds_a_secret() {
    let app = TestApp::new().await;
    let (org, owner) =
        setup::first_run(&app.state, "Acme", "acme", "owner@example.com", pw(PASSWORD), &audit()).await.unwrap();
    let guard = sign_in::SignInGuard::new();
    let from = RequestInfo { user_agent: Some("Firefox/140".into()), ..RequestInfo::default() };
    let wrong = sign_in::sign_in(&app.state, &guard, "", "owner@example.com", pw("not the password"), &from).await;
    assert!(wrong.is_err());
    let session = sign_in::sign_in(&app.state, &guard, "", "owner@example.com", pw(PASSWORD), &from).await.unwrap();
    let key = services::api_keys::create(&app.state, org.id, "backend", Some(owner.id), None, &audit()).await.unwrap();
    let secret = key.secret.expose().to_owned();
    services::members::add(&app.state, org.id, "v@example.com", Role::Viewer, pw("another long password"), &audit())
        .await
        .unwrap();

    let created = app.post("/v1/users", &secret, json!({"account": "a1", "display_name": "Ada"})).await;
    assert_eq!(created.status, StatusCode::CREATED);
    let (user_id, jwt) =
        (created.body["id"].as_str().unwrap().to_owned(), created.body["user_token"].as_str().unwrap().to_owned());
    let issued = app.post("/v1/user-tokens", &secret, json!({"user": user_id})).await;
    let token_id = issued.body["id"].as_str().unwrap().to_owned();
    let second_jwt = issued.body["user_token"].as_str().unwrap().to_owned();
    // A revocation with a request id and a user agent of its own.
    let request = Request::builder()
        .method(Method::DELETE)
        .uri(format!("/v1/user-tokens/{token_id}"))
        .header(header::AUTHORIZATION, format!("Bearer {secret}"))
        .header(header::USER_AGENT, "integrator-backend/2.1")
        .header("x-request-id", "req-revoke-1")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send_to(&app.router, request).await.status, StatusCode::NO_CONTENT);
    let patched = app
        .call(
            Method::PATCH,
            &format!("/v1/users/{user_id}"),
            Some(&secret),
            Some(json!({"metadata": {"plan": "platinum-tier-7"}})),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK);
    let revoked = app.post(&format!("/v1/users/{user_id}/revoke-tokens"), &secret, json!({})).await;
    assert_eq!(revoked.body["revoked"], 1);
    assert_eq!(
        app.call(Method::DELETE, &format!("/v1/users/{user_id}"), Some(&secret), None).await.status,
        StatusCode::NO_CONTENT
    );
    // Reads, issuing and upserts record nothing.
    assert_eq!(app.get(&format!("/v1/users/{user_id}"), &secret).await.status, StatusCode::NOT_FOUND);
    services::sessions::end(&app.state, session.token.expose(), &audit()).await.unwrap();

    let events = events(&app, org.id).await;
    let actions: Vec<_> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "org.created",
            "member.added",
            "member.sign_in_failed",
            "member.signed_in",
            "api_key.created",
            "member.added",
            "user_token.revoked",
            "user.updated",
            "user_tokens.revoked",
            "user.deleted",
            "member.signed_out",
        ]
    );
    let failed = &events[2];
    assert_eq!((failed.actor.type_, failed.actor.label.as_str()), (ActorType::Member, "owner@example.com"));
    assert_eq!(failed.user_agent.as_deref(), Some("Firefox/140"));
    let revocation = &events[6];
    assert_eq!(revocation.actor.type_, ActorType::ApiKey);
    assert_eq!(revocation.actor.label, key.key.prefix);
    assert_eq!(revocation.actor.id, Some(key.key.id.0));
    assert_eq!(revocation.target.id, token_id);
    assert_eq!(
        (revocation.user_agent.as_deref(), revocation.request_id.as_deref()),
        (Some("integrator-backend/2.1"), Some("req-revoke-1"))
    );
    assert_eq!(events[7].changes["fields"], json!(["metadata"]));

    let everything = serde_json::to_string(&events).unwrap();
    for (what, secret) in [
        ("the API key", secret.as_str()),
        ("a user token", jwt.as_str()),
        ("another user token", second_jwt.as_str()),
        ("the owner's password", PASSWORD),
        ("the viewer's password", "another long password"),
        ("the session token", session.token.expose()),
        ("the password hash", owner.password_hash.as_str()),
        ("the metadata's values", "platinum-tier-7"),
    ] {
        assert!(!everything.contains(secret), "{what} is in the audit log: {everything}");
    }
    let mut verifier = tessera_core::ChainVerifier::new();
    for event in &events {
        verifier.check(event).unwrap();
    }
}
