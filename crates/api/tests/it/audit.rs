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

/// The checkpoint's claims, verified with the org's JWKS alone, as a copy kept elsewhere would.
async fn verify_checkpoint_with_jwks(app: &TestApp, slug: &str, token: &str) -> serde_json::Value {
    let jwks = app.call(Method::GET, &format!("/o/{slug}/.well-known/jwks.json"), None, None).await;
    let kid = jsonwebtoken::decode_header(token).unwrap().kid.unwrap();
    let jwk = jwks.body["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid.as_str()).unwrap().clone();
    let key = jsonwebtoken::DecodingKey::from_ed_components(jwk["x"].as_str().unwrap()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    validation.set_required_spec_claims(&["iss", "iat"]);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.set_issuer(&[format!("{}/o/{slug}", crate::helpers::PUBLIC_URL)]);
    jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation).unwrap().claims
}

#[tokio::test]
async fn the_checkpoint_signs_the_head_of_the_day_and_verifies_with_the_jwks() {
    let app = TestApp::new().await;
    let org = app.with_org("acme").await;
    let key = app.with_api_key(&org).await;
    let r = app.call(Method::GET, "/o/acme/audit/checkpoint", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.content_type(), "application/json");
    assert_eq!(r.headers[header::CACHE_CONTROL], "public, max-age=3600");
    let token = r.body["checkpoint"].as_str().unwrap().to_owned();
    let claims = verify_checkpoint_with_jwks(&app, "acme", &token).await;
    let (seq, hash) = app.state.store.audit_head(org.id).await.unwrap().unwrap();
    assert_eq!((claims["seq"].as_u64().unwrap(), claims["hash"].as_str().unwrap()), (seq, hash.as_str()));
    assert!(seq >= 2, "org.created and api_key.created at least: {seq}");

    // A change later the same day does not move today's checkpoint: the same token.
    let (user_token, _) = app.claimr_token(&key, "a1").await;
    let jti = app.introspect(&key, &user_token).await["jti"].as_str().unwrap().to_owned();
    let revoke = app.call(Method::DELETE, &format!("/v1/user-tokens/{jti}"), Some(&key), None).await;
    assert_eq!(revoke.status, StatusCode::NO_CONTENT);
    assert!(app.state.store.audit_head(org.id).await.unwrap().unwrap().0 > seq);
    let again = app.call(Method::GET, "/o/acme/audit/checkpoint", None, None).await;
    assert_eq!(again.body["checkpoint"].as_str(), Some(token.as_str()));

    // The service that `audit verify --checkpoint` uses accepts it and refuses anything else.
    let checked = services::audit::verify_checkpoint(&app.state, &org, &format!("{token}\n")).await.unwrap();
    assert_eq!((checked.seq, checked.hash.as_str()), (seq, hash.as_str()));
    // The whole answer, saved as it came, works too.
    let saved = again.body.to_string();
    assert_eq!(services::audit::verify_checkpoint(&app.state, &org, &saved).await.unwrap().seq, seq);
    let beta = app.with_org("beta").await;
    let theirs = app.call(Method::GET, "/o/beta/audit/checkpoint", None, None).await;
    for not_acmes in [theirs.body["checkpoint"].as_str().unwrap(), user_token.as_str(), &token.replace('.', ".x")] {
        assert!(services::audit::verify_checkpoint(&app.state, &org, not_acmes).await.is_err());
    }
    assert!(services::audit::verify_checkpoint(&app.state, &beta, &token).await.is_err());

    // An unknown org is a 404, a malformed slug a 4xx, neither touches the store.
    app.call(Method::GET, "/o/nobody/audit/checkpoint", None, None).await.assert_problem(404, "org_not_found");
    let bad = app.call(Method::GET, "/o/a%00b/audit/checkpoint", None, None).await;
    assert!(bad.status.is_client_error(), "{}", bad.status);
}
