//! Dashboard sign-in: email and password (argon2id), without user enumeration, with repeated
//! failures slowed down per email and per client address.
//!
//! - A wrong email and a wrong password give the same [`SignInError::WrongCredentials`] and cost
//!   the same: an unknown email is verified against a dummy hash made with the same parameters.
//! - Failures are counted by two [`governor`] rate limiters (GCRA), keyed by the normalized email
//!   and by the client's IP address. Once a key has used its allowance, attempts for it are
//!   refused with [`SignInError::TooManyAttempts`] (no password is verified) until the allowance
//!   refills. Successful sign-ins are not counted.

use std::{
    collections::HashMap,
    hash::Hash,
    net::IpAddr,
    num::NonZeroU32,
    sync::Mutex,
    time::{Duration, Instant},
};

use argon2::{password_hash::SaltString, Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use governor::{
    clock::{Clock, DefaultClock},
    DefaultKeyedRateLimiter, Quota, RateLimiter,
};
use secrecy::{ExposeSecret, SecretString};
use tessera_core::{Email, Error, Member};

use super::{
    orgs,
    sessions::{self, SignedInMember},
    setup::{self, SetupStatus},
};
use crate::AppState;

/// Failed sign-ins allowed for one email before attempts must wait: 5.
pub const EMAIL_FAILURE_BURST: u32 = 5;
/// After the burst, one more failed sign-in per email is allowed every 60 seconds.
pub const EMAIL_FAILURE_REFILL: Duration = Duration::from_secs(60);
/// Failed sign-ins allowed from one IP address before attempts must wait: 20.
pub const CLIENT_FAILURE_BURST: u32 = 20;
/// After the burst, one more failed sign-in per IP address is allowed every 6 seconds.
pub const CLIENT_FAILURE_REFILL: Duration = Duration::from_secs(6);

/// Why a sign-in was refused. Messages are safe to show: they never say whether the email
/// exists and never contain the password.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Unknown email, wrong password, or unknown org: deliberately indistinguishable.
    #[error("wrong email or password")]
    WrongCredentials,
    /// Too many recent failures for this email or address.
    #[error("too many failed sign-ins; try again in {retry_after_seconds} seconds")]
    TooManyAttempts {
        /// Seconds until the next attempt is allowed (at least 1).
        retry_after_seconds: u64,
    },
    /// Several orgs exist and the form did not say which one.
    #[error("enter your organization")]
    OrgRequired,
    /// No org exists yet: the first-run setup must run first.
    #[error("this server has no organization yet")]
    NeedsSetup,
    /// Storage or hashing failure.
    #[error(transparent)]
    Failed(#[from] Error),
}

/// A successful sign-in: the cookie's token (stored nowhere) and the member.
#[derive(Debug)]
pub struct SignedIn {
    /// Session token for the `Set-Cookie` header.
    pub token: tessera_core::SessionToken,
    /// Who signed in.
    pub member: SignedInMember,
}

/// The failure limiters and the dummy hash, shared by all sign-ins of one server process.
/// Create one at startup ([`SignInGuard::new`] hashes once, about 50 ms).
pub struct SignInGuard {
    by_email: Throttle<String>,
    by_client: Throttle<IpAddr>,
    dummy_hash: String,
}

impl std::fmt::Debug for SignInGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInGuard").finish_non_exhaustive()
    }
}

impl Default for SignInGuard {
    fn default() -> Self {
        Self::new()
    }
}

impl SignInGuard {
    /// Limiters with the documented allowances, and a dummy argon2id hash with the same
    /// parameters as members' hashes (of a random password nobody knows).
    pub fn new() -> Self {
        Self::with_limits(EMAIL_FAILURE_BURST, EMAIL_FAILURE_REFILL, CLIENT_FAILURE_BURST, CLIENT_FAILURE_REFILL)
    }

    /// Like [`SignInGuard::new`] with other allowances (tests use small ones). A zero burst or
    /// refill is taken as 1 (one failure; one nanosecond).
    pub fn with_limits(email_burst: u32, email_refill: Duration, client_burst: u32, client_refill: Duration) -> Self {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        let random = SaltString::generate(&mut rand::rngs::OsRng);
        let dummy_hash = Argon2::default()
            .hash_password(random.as_str().as_bytes(), &salt)
            .map(|h| h.to_string())
            .expect("argon2 with default parameters hashes any short input");
        Self {
            by_email: Throttle::new(email_burst, email_refill),
            by_client: Throttle::new(client_burst, client_refill),
            dummy_hash,
        }
    }

    /// Forgets limiter state that no longer limits anything (call now and then; the server does
    /// it hourly) so memory does not grow with every email ever tried.
    pub fn forget_old(&self) {
        self.by_email.forget_old();
        self.by_client.forget_old();
    }
}

/// One keyed failure counter: a GCRA limiter plus, for keys that ran out, when they may try
/// again (the limiter itself cannot be asked without consuming).
struct Throttle<K: Hash + Eq + Clone> {
    failures: DefaultKeyedRateLimiter<K>,
    blocked_until: Mutex<HashMap<K, Instant>>,
}

impl<K: Hash + Eq + Clone> Throttle<K> {
    fn new(burst: u32, refill: Duration) -> Self {
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        let quota =
            Quota::with_period(refill.max(Duration::from_nanos(1))).expect("a non-zero period").allow_burst(burst);
        Self { failures: RateLimiter::keyed(quota), blocked_until: Mutex::new(HashMap::new()) }
    }

    /// How long `key` must still wait, if it must.
    fn wait(&self, key: &K) -> Option<Duration> {
        let mut blocked = self.blocked_until.lock().unwrap_or_else(|e| e.into_inner());
        let until = *blocked.get(key)?;
        let now = Instant::now();
        if until > now {
            Some(until - now)
        } else {
            blocked.remove(key);
            None
        }
    }

    /// Counts a failure for `key`; if that exhausts its allowance, blocks it until the next
    /// allowance.
    fn failed(&self, key: K) {
        if let Err(not_until) = self.failures.check_key(&key) {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let mut blocked = self.blocked_until.lock().unwrap_or_else(|e| e.into_inner());
            blocked.insert(key, Instant::now() + wait);
        }
    }

    fn forget_old(&self) {
        self.failures.retain_recent();
        let now = Instant::now();
        self.blocked_until.lock().unwrap_or_else(|e| e.into_inner()).retain(|_, until| *until > now);
    }
}

/// Signs a member in with `email` and `password` and starts a session.
///
/// `org_slug` names the member's org; it may be empty when the server has exactly one org.
/// `client` is the caller's IP address, when known (the socket's peer address).
///
/// # Errors
/// [`SignInError::WrongCredentials`] for an unknown org or email or a wrong password, all after
/// the same argon2id work; [`SignInError::TooManyAttempts`] while the email or the address is
/// throttled (checked before any verification); [`SignInError::OrgRequired`],
/// [`SignInError::NeedsSetup`]; [`SignInError::Failed`] for storage errors.
pub async fn sign_in(
    state: &AppState,
    guard: &SignInGuard,
    org_slug: &str,
    email: &str,
    password: SecretString,
    client: Option<IpAddr>,
) -> Result<SignedIn, SignInError> {
    let email_key = email.trim().to_lowercase();
    let waits = [guard.by_email.wait(&email_key), client.and_then(|ip| guard.by_client.wait(&ip))];
    if let Some(wait) = waits.into_iter().flatten().max() {
        return Err(SignInError::TooManyAttempts { retry_after_seconds: wait.as_secs().max(1) });
    }

    let org = match (org_slug.trim(), setup::status(state).await?) {
        (_, SetupStatus::NeedsSetup) => return Err(SignInError::NeedsSetup),
        ("", SetupStatus::SingleOrg(org)) => Some(org),
        ("", SetupStatus::ManyOrgs) => return Err(SignInError::OrgRequired),
        // A malformed slug is an unknown org: the same failure, after the same work, no query.
        (slug, _) => orgs::find_by_slug(state, slug).await?,
    };
    let member = match (&org, Email::parse(email)) {
        (Some(org), Ok(email)) => state.store.member_by_email(org.id, email.as_str()).await?,
        _ => None,
    };

    let hash = member.as_ref().map_or_else(|| guard.dummy_hash.clone(), |m| m.password_hash.clone());
    let verified = verify(password, hash).await?;
    let (Some(org), Some(member), true) = (org, member, verified) else {
        guard.by_email.failed(email_key);
        if let Some(ip) = client {
            guard.by_client.failed(ip);
        }
        return Err(SignInError::WrongCredentials);
    };
    let (token, _session) = sessions::start(state, &member).await?;
    Ok(SignedIn { token, member: signed_in(org, member) })
}

fn signed_in(org: tessera_core::Org, member: Member) -> SignedInMember {
    SignedInMember { org, member_id: member.id, email: member.email, role: member.role }
}

/// Verifies `password` against the PHC string `hash` on a blocking thread.
async fn verify(password: SecretString, hash: String) -> Result<bool, Error> {
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&hash)
            .map_err(|_| Error::Internal("a stored password hash is not a PHC string".into()))?;
        Ok(Argon2::default().verify_password(password.expose_secret().as_bytes(), &parsed).is_ok())
    })
    .await
    .map_err(|e| Error::Internal(format!("password verification task failed: {e}")))?
}
