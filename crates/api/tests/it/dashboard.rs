//! The dashboard's services: first-run setup, sign-in (same answer for a wrong email and a wrong
//! password, throttling), sessions and role checks, and the `OrgMember` extractor the server
//! functions start from.

use std::{
    net::IpAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    body::Body,
    http::{header, Request, StatusCode},
    routing::get,
    Router,
};
use secrecy::SecretString;
use tessera_api::{
    extract::OrgMember,
    services::{
        self, sessions,
        setup::{self, SetupStatus},
        sign_in::{self, SignInError, SignInGuard, SignInLimits},
    },
};
use tessera_core::{Entity, Error, Role};

use crate::helpers::TestApp;

const PASSWORD: &str = "correct horse battery";

fn pw(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

async fn set_up(app: &TestApp) -> tessera_core::Org {
    setup::first_run(&app.state, "Acme Inc.", "acme", "Owner@Example.com", pw(PASSWORD), &crate::helpers::audit())
        .await
        .unwrap()
        .0
}

/// Adds the viewer `v@example.com` to `org` and signs them in.
async fn add_and_sign_in_viewer(
    app: &TestApp,
    org: &tessera_core::Org,
    guard: &SignInGuard,
) -> (tessera_core::Member, sign_in::SignedIn) {
    let viewer = services::members::add(
        &app.state,
        org.id,
        "v@example.com",
        Role::Viewer,
        pw(PASSWORD),
        &crate::helpers::audit(),
    )
    .await
    .unwrap();
    let signed_in = sign_in::sign_in(
        &app.state,
        guard,
        "",
        "v@example.com",
        pw(PASSWORD),
        &tessera_api::extract::RequestInfo::from(None),
    )
    .await
    .unwrap();
    (viewer, signed_in)
}

#[tokio::test]
async fn first_run_creates_the_org_and_owner_once() {
    let app = TestApp::new().await;
    assert_eq!(setup::status(&app.state).await.unwrap(), SetupStatus::NeedsSetup);

    let err =
        setup::first_run(&app.state, " ", "Bad Slug", "nope", pw("short"), &crate::helpers::audit()).await.unwrap_err();
    let Error::Invalid(fields) = err else { panic!("{err:?}") };
    let names: Vec<_> = fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(names, ["org_name", "slug", "email", "password"]);
    assert_eq!(setup::status(&app.state).await.unwrap(), SetupStatus::NeedsSetup, "nothing was written");

    let (org, owner) =
        setup::first_run(&app.state, "Acme Inc.", "acme", "Owner@Example.com", pw(PASSWORD), &crate::helpers::audit())
            .await
            .unwrap();
    assert_eq!((org.slug.as_str(), owner.email.as_str(), owner.role), ("acme", "owner@example.com", Role::Owner));
    assert!(owner.password_hash.starts_with("$argon2id$"), "hashed, not stored in clear");
    assert_eq!(setup::status(&app.state).await.unwrap(), SetupStatus::SingleOrg(org));

    let err = setup::first_run(&app.state, "Evil", "evil", "evil@example.com", pw(PASSWORD), &crate::helpers::audit())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Conflict { code: "setup_done", .. }), "{err:?}");
}

#[tokio::test]
async fn concurrent_first_runs_give_one_org() {
    let app = TestApp::new().await;
    let runs: Vec<_> = (0..4)
        .map(|i| {
            let state = app.state.clone();
            tokio::spawn(async move {
                setup::first_run(
                    &state,
                    "Org",
                    &format!("org-{i}"),
                    "o@example.com",
                    pw(PASSWORD),
                    &crate::helpers::audit(),
                )
                .await
            })
        })
        .collect();
    let mut ok = 0;
    for run in runs {
        match run.await.unwrap() {
            Ok(_) => ok += 1,
            Err(Error::Conflict { code: "setup_done", .. }) => {}
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(ok, 1);
    assert!(matches!(setup::status(&app.state).await.unwrap(), SetupStatus::SingleOrg(_)));
}

#[tokio::test]
async fn wrong_email_and_wrong_password_get_the_same_answer() {
    let app = TestApp::new().await;
    let guard = SignInGuard::new();
    let err = sign_in::sign_in(
        &app.state,
        &guard,
        "",
        "owner@example.com",
        pw(PASSWORD),
        &tessera_api::extract::RequestInfo::from(None),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, SignInError::NeedsSetup), "{err:?}");
    set_up(&app).await;

    let wrong_password = sign_in::sign_in(
        &app.state,
        &guard,
        "",
        "owner@example.com",
        pw("not the password"),
        &tessera_api::extract::RequestInfo::from(None),
    )
    .await
    .unwrap_err();
    let wrong_email = sign_in::sign_in(
        &app.state,
        &guard,
        "",
        "nobody@example.com",
        pw(PASSWORD),
        &tessera_api::extract::RequestInfo::from(None),
    )
    .await
    .unwrap_err();
    let wrong_org = sign_in::sign_in(
        &app.state,
        &guard,
        "other",
        "owner@example.com",
        pw(PASSWORD),
        &tessera_api::extract::RequestInfo::from(None),
    )
    .await
    .unwrap_err();
    for err in [&wrong_password, &wrong_email, &wrong_org] {
        assert!(matches!(err, SignInError::WrongCredentials), "{err:?}");
        assert_eq!(err.to_string(), "wrong email or password");
    }

    let ok = sign_in::sign_in(
        &app.state,
        &guard,
        "",
        " OWNER@example.com ",
        pw(PASSWORD),
        &tessera_api::extract::RequestInfo::from(None),
    )
    .await
    .unwrap();
    assert_eq!((ok.member.email.as_str(), ok.member.role), ("owner@example.com", Role::Owner));
    let again = sign_in::sign_in(
        &app.state,
        &guard,
        "acme",
        "owner@example.com",
        pw(PASSWORD),
        &tessera_api::extract::RequestInfo::from(None),
    )
    .await
    .unwrap();
    assert_ne!(again.token.expose(), ok.token.expose(), "each sign-in gets its own session");
}

/// On PostgreSQL a NUL byte in a query parameter fails the query (a storage error), so there this
/// also shows that a malformed slug never reaches the store.
#[tokio::test]
async fn a_malformed_org_slug_fails_like_a_wrong_org() {
    let app = TestApp::new().await;
    set_up(&app).await;
    let long = "a".repeat(64);
    for slug in ["a\0b", "acme\0", "ACME", long.as_str()] {
        // A guard each, so the email's throttle does not answer first.
        let guard = SignInGuard::new();
        let err = sign_in::sign_in(
            &app.state,
            &guard,
            slug,
            "owner@example.com",
            pw(PASSWORD),
            &tessera_api::extract::RequestInfo::from(None),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, SignInError::WrongCredentials), "{slug:?}: {err:?}");
        assert_eq!(err.to_string(), "wrong email or password");
    }
    let guard = SignInGuard::new();
    let signed_in = sign_in::sign_in(
        &app.state,
        &guard,
        " acme ",
        "owner@example.com",
        pw(PASSWORD),
        &tessera_api::extract::RequestInfo::from(None),
    )
    .await;
    assert_eq!(signed_in.unwrap().member.org.slug.as_str(), "acme", "a padded slug still names its org");
}

#[tokio::test]
async fn unknown_emails_cost_a_password_verification() {
    let app = TestApp::new().await;
    set_up(&app).await;
    let guard = SignInGuard::new();
    let time = |email: &'static str| {
        let (state, guard) = (&app.state, &guard);
        async move {
            let start = std::time::Instant::now();
            for _ in 0..3 {
                let _ = sign_in::sign_in(
                    state,
                    guard,
                    "",
                    email,
                    pw("wrong password!"),
                    &tessera_api::extract::RequestInfo::from(None),
                )
                .await;
            }
            start.elapsed()
        }
    };
    let known = time("owner@example.com").await;
    let unknown = time("nobody@example.com").await;
    // Both verify an argon2id hash (tens of milliseconds each); without the dummy hash the
    // unknown email would answer in well under a millisecond.
    let ratio = unknown.as_secs_f64() / known.as_secs_f64();
    assert!(ratio > 0.5, "known {known:?}, unknown {unknown:?}");
}

#[tokio::test]
async fn repeated_failures_are_throttled_per_email_and_address_per_email_and_per_address() {
    let app = TestApp::new().await;
    set_up(&app).await;
    let ip: IpAddr = "203.0.113.7".parse().unwrap();
    let other_ip: IpAddr = "203.0.113.8".parse().unwrap();
    let third_ip: IpAddr = "203.0.113.9".parse().unwrap();
    let hour = Duration::from_secs(3600);
    let guard = SignInGuard::with_limits(SignInLimits {
        email_burst: 2,
        email_refill: hour,
        email_total_burst: 3,
        email_total_refill: hour,
        client_burst: 4,
        client_refill: hour,
        ..SignInLimits::default()
    });
    let attempt = |email: &'static str, password: &'static str, ip: IpAddr| {
        let (state, guard) = (&app.state, &guard);
        async move {
            sign_in::sign_in(state, guard, "", email, pw(password), &tessera_api::extract::RequestInfo::from(Some(ip)))
                .await
        }
    };

    // The burst (2) of failures for the email from one address is verified; then that address
    // must wait for that email, even with the right password.
    for _ in 0..2 {
        assert!(matches!(attempt("owner@example.com", "wrong", ip).await, Err(SignInError::WrongCredentials)));
    }
    let err = attempt("owner@example.com", PASSWORD, ip).await.unwrap_err();
    let SignInError::TooManyAttempts { retry_after_seconds } = err else { panic!("{err:?}") };
    assert!((1..=3600).contains(&retry_after_seconds));
    // From another address the owner still gets in.
    assert!(attempt("owner@example.com", PASSWORD, other_ip).await.is_ok());
    // The email's total (3) over all addresses: one more failure elsewhere locks it everywhere.
    assert!(matches!(attempt("owner@example.com", "wrong", other_ip).await, Err(SignInError::WrongCredentials)));
    let err = attempt("owner@example.com", PASSWORD, third_ip).await.unwrap_err();
    assert!(matches!(err, SignInError::TooManyAttempts { .. }), "{err:?}");

    // The address has 2 failures; 2 more (other emails) exhaust it, and then it is refused for
    // every email.
    for email in ["a@example.com", "b@example.com"] {
        assert!(matches!(attempt(email, "wrong", ip).await, Err(SignInError::WrongCredentials)));
    }
    assert!(matches!(attempt("c@example.com", "wrong", ip).await, Err(SignInError::TooManyAttempts { .. })));
    // Another address with another email is still verified (and told it is wrong).
    assert!(matches!(attempt("someone@example.com", "wrong", other_ip).await, Err(SignInError::WrongCredentials)));
}

/// Issue 14, finding 1: beyond the hashing threads and their queue, attempts are refused as
/// busy instead of piling up.
#[tokio::test]
async fn attempts_beyond_the_hashing_queue_are_refused_as_busy() {
    let app = TestApp::new().await;
    set_up(&app).await;
    let guard = Arc::new(SignInGuard::with_limits(SignInLimits {
        hashing_threads: 1,
        hashing_queue: 1,
        ..SignInLimits::default()
    }));
    // Distinct emails and addresses, so no throttle answers first.
    let attempts: Vec<_> = (0..20)
        .map(|i| {
            let (state, guard) = (app.state.clone(), guard.clone());
            tokio::spawn(async move {
                let (email, ip) = (format!("u{i}@example.com"), IpAddr::from([198, 51, 100, i]));
                sign_in::sign_in(
                    &state,
                    &guard,
                    "",
                    &email,
                    pw("wrong password!"),
                    &tessera_api::extract::RequestInfo::from(Some(ip)),
                )
                .await
            })
        })
        .collect();
    let (mut wrong, mut busy) = (0, 0);
    for attempt in attempts {
        match attempt.await.unwrap() {
            Err(SignInError::WrongCredentials) => wrong += 1,
            Err(SignInError::Busy { retry_after_seconds: 1 }) => busy += 1,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(wrong + busy, 20);
    assert_eq!(guard.verifications(), wrong, "busy attempts verify nothing");
    assert!(busy > 0 && wrong >= 2, "wrong {wrong}, busy {busy}");
    // Once the queue has drained, attempts are verified again.
    let err = sign_in::sign_in(
        &app.state,
        &guard,
        "",
        "late@example.com",
        pw("x"),
        &tessera_api::extract::RequestInfo::from(None),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, SignInError::WrongCredentials), "{err:?}");
}

#[tokio::test]
async fn sessions_authenticate_until_signed_out() {
    let app = TestApp::new().await;
    let org = set_up(&app).await;
    let guard = SignInGuard::new();
    let signed_in = sign_in::sign_in(
        &app.state,
        &guard,
        "",
        "owner@example.com",
        pw(PASSWORD),
        &tessera_api::extract::RequestInfo::from(None),
    )
    .await
    .unwrap();
    let token = signed_in.token.expose().to_owned();

    let member = sessions::authenticate(&app.state, &token).await.unwrap().expect("live session");
    assert_eq!((member.org.id, member.role), (org.id, Role::Owner));
    assert!(sessions::authenticate(&app.state, "not-a-token").await.unwrap().is_none());
    assert!(sessions::authenticate(&app.state, &"A".repeat(43)).await.unwrap().is_none());

    sessions::end(&app.state, &token, &crate::helpers::audit()).await.unwrap();
    assert!(sessions::authenticate(&app.state, &token).await.unwrap().is_none(), "sign-out deletes the session");
    assert_eq!(sessions::purge_expired(&app.state).await.unwrap(), 0);
}

#[tokio::test]
async fn roles_are_checked_in_order() {
    let app = TestApp::new().await;
    let org = set_up(&app).await;
    let guard = SignInGuard::new();
    let (viewer, signed_in) = add_and_sign_in_viewer(&app, &org, &guard).await;
    let v = signed_in.member;
    assert_eq!(v.member_id, viewer.id);
    assert!(v.require(Role::Viewer).is_ok());
    let err = v.require(Role::Admin).unwrap_err();
    assert!(matches!(err, Error::Forbidden(ref m) if m.contains("admin")), "{err:?}");
    let owner = sign_in::sign_in(
        &app.state,
        &guard,
        "",
        "owner@example.com",
        pw(PASSWORD),
        &tessera_api::extract::RequestInfo::from(None),
    )
    .await
    .unwrap()
    .member;
    assert!(owner.require(Role::Owner).is_ok() && owner.require(Role::Admin).is_ok());
}

#[tokio::test]
async fn roles_change_and_members_go_but_the_last_owner_stays() {
    let app = TestApp::new().await;
    let org = set_up(&app).await;
    let other = app.with_org("other").await;
    let owner = app.state.store.member_by_email(org.id, "owner@example.com").await.unwrap().unwrap();
    let ada = services::members::add(
        &app.state,
        org.id,
        "ada@example.com",
        Role::Viewer,
        pw(PASSWORD),
        &crate::helpers::audit(),
    )
    .await
    .unwrap();

    // The only owner can be neither demoted nor removed; nothing changes.
    for result in [
        services::members::change_role(&app.state, org.id, owner.id, Role::Admin, &crate::helpers::audit())
            .await
            .map(|_| ()),
        services::members::remove(&app.state, org.id, owner.id, &crate::helpers::audit()).await,
    ] {
        let err = result.unwrap_err();
        assert!(matches!(err, Error::Conflict { code: "last_owner", .. }), "{err:?}");
    }
    assert_eq!(app.state.store.member_by_id(org.id, owner.id).await.unwrap().unwrap().role, Role::Owner);

    // Another org's id for the member is "not found", and changes nothing.
    let err = services::members::change_role(&app.state, other.id, ada.id, Role::Owner, &crate::helpers::audit())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { entity: Entity::Member }), "{err:?}");
    let err = services::members::remove(&app.state, other.id, ada.id, &crate::helpers::audit()).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { entity: Entity::Member }), "{err:?}");

    // A second owner frees the first one, whose signed-in session then ends with the removal.
    let ada = services::members::change_role(&app.state, org.id, ada.id, Role::Owner, &crate::helpers::audit())
        .await
        .unwrap();
    assert_eq!(ada.role, Role::Owner);
    let guard = SignInGuard::new();
    let session = sign_in::sign_in(
        &app.state,
        &guard,
        "acme",
        "owner@example.com",
        pw(PASSWORD),
        &tessera_api::extract::RequestInfo::from(None),
    )
    .await
    .unwrap();
    assert_eq!(
        services::members::change_role(&app.state, org.id, owner.id, Role::Viewer, &crate::helpers::audit())
            .await
            .unwrap()
            .role,
        Role::Viewer
    );
    let seen = sessions::authenticate(&app.state, session.token.expose()).await.unwrap().unwrap();
    assert_eq!(seen.role, Role::Viewer, "the new role applies to the next request");
    services::members::remove(&app.state, org.id, owner.id, &crate::helpers::audit()).await.unwrap();
    assert!(sessions::authenticate(&app.state, session.token.expose()).await.unwrap().is_none());
    let emails: Vec<_> =
        services::members::list(&app.state, org.id).await.unwrap().into_iter().map(|m| m.email).collect();
    assert_eq!(emails.iter().map(|e| e.as_str()).collect::<Vec<_>>(), ["ada@example.com"]);
    let err = services::members::remove(&app.state, org.id, ada.id, &crate::helpers::audit()).await.unwrap_err();
    assert!(matches!(err, Error::Conflict { code: "last_owner", .. }), "{err:?}");
}

/// A route that answers with what [`OrgMember`] extracted, logging one event inside the
/// request's span (so the test can see the fields recorded on it).
fn whoami_router(app: &TestApp) -> Router {
    async fn whoami(member: OrgMember) -> axum::Json<serde_json::Value> {
        tracing::info!("whoami");
        axum::Json(serde_json::json!({
            "org_id": member.org.id.to_string(),
            "member_id": member.member_id.to_string(),
            "role": member.role.as_str(),
        }))
    }
    tessera_api::http_layers(Router::new().route("/whoami", get(whoami)).with_state(app.state.clone()))
}

/// Log lines written by a `fmt` subscriber, shared with the test.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn whoami(router: &Router, cookie: Option<&str>) -> (StatusCode, serde_json::Value) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let mut request = Request::builder().uri("/whoami");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    let response = router.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test]
async fn org_member_is_the_signed_in_member_of_a_live_session() {
    let app = TestApp::new().await;
    let org = set_up(&app).await;
    let (viewer, signed_in) = add_and_sign_in_viewer(&app, &org, &SignInGuard::new()).await;
    let cookie = format!("other=1; {}={}", sessions::SESSION_COOKIE, signed_in.token.expose());
    let router = whoami_router(&app);

    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt().with_writer({
        let logs = logs.clone();
        move || logs.clone()
    });
    let (status, body) = {
        let _default = tracing::subscriber::set_default(subscriber.with_ansi(false).finish());
        whoami(&router, Some(&cookie)).await
    };
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        serde_json::json!({ "org_id": org.id.to_string(), "member_id": viewer.id.to_string(), "role": "viewer" })
    );
    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let line = logs.lines().find(|l| l.contains("whoami")).unwrap_or_else(|| panic!("no whoami event in {logs}"));
    assert!(
        line.contains(&format!("org_id={}", org.id)) && line.contains(&format!("member_id={}", viewer.id)),
        "{line}"
    );

    // The role is the member's own, checked by `require` with the services' message.
    let member = OrgMember { org: org.clone(), member_id: viewer.id, email: viewer.email.clone(), role: Role::Viewer };
    assert!(member.require(Role::Viewer).is_ok());
    let err = member.require(Role::Admin).unwrap_err();
    assert!(matches!(err, Error::Forbidden(ref m) if m == "this needs the admin role; you are a viewer"), "{err:?}");
}

#[tokio::test]
async fn org_member_refuses_a_missing_ended_or_unknown_session() {
    let app = TestApp::new().await;
    set_up(&app).await;
    let guard = SignInGuard::new();
    let signed_in = sign_in::sign_in(
        &app.state,
        &guard,
        "",
        "owner@example.com",
        pw(PASSWORD),
        &tessera_api::extract::RequestInfo::from(None),
    )
    .await
    .unwrap();
    let cookie = format!("{}={}", sessions::SESSION_COOKIE, signed_in.token.expose());
    let router = whoami_router(&app);
    assert_eq!(whoami(&router, Some(&cookie)).await.0, StatusCode::OK);

    for (cookie, code) in [
        (None, "session_missing"),
        (Some("other=1".to_owned()), "session_missing"),
        (Some(format!("{}=not-a-token", sessions::SESSION_COOKIE)), "session_ended"),
        (Some(format!("{}={}", sessions::SESSION_COOKIE, "A".repeat(43))), "session_ended"),
    ] {
        let (status, body) = whoami(&router, cookie.as_deref()).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some(code)), "{cookie:?}: {body}");
    }

    // Past its absolute lifetime (and idle too long), the same cookie is refused.
    app.connect_db().await.execute("update member_session set expires_at = 0, last_seen_at = 0").await;
    let (status, body) = whoami(&router, Some(&cookie)).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("session_ended")), "{body}");
}
