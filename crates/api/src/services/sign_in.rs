//! Dashboard sign-in: email and password (argon2id), without user enumeration, with repeated
//! failures slowed down, and with the argon2 work bounded.
//!
//! - A wrong email and a wrong password give the same [`SignInError::WrongCredentials`] and cost
//!   the same: an unknown email is verified against a dummy hash made with the same parameters.
//!   An email longer than [`MAX_EMAIL_BYTES`] (which no member can have) is refused at once,
//!   before it is hashed or remembered anywhere.
//! - Failures are counted by three throttles ([`crate::throttle`]), keyed by the client's address
//!   (see [`crate::client_addr`]: the peer, or what a trusted proxy forwarded; IPv6 by /64):
//!   1. per email *and* address: [`EMAIL_FAILURE_BURST`] failures, then one per
//!      [`EMAIL_FAILURE_REFILL`];
//!   2. per email from all addresses together: [`EMAIL_TOTAL_FAILURE_BURST`], then one per
//!      [`EMAIL_TOTAL_FAILURE_REFILL`];
//!   3. per address, for all emails: [`CLIENT_FAILURE_BURST`], then one per
//!      [`CLIENT_FAILURE_REFILL`].
//!
//!   An attempt must fit into all three, or it is refused with [`SignInError::TooManyAttempts`]
//!   before any password is verified. So an attacker hammering a member's email from one address
//!   locks only that address out for that email (1), and never reaches the email's total (2),
//!   which is ten times larger and refills ten times faster: the member still signs in from
//!   anywhere else. Locking a member out everywhere takes failures from at least
//!   `EMAIL_TOTAL_FAILURE_BURST / EMAIL_FAILURE_BURST` = 10 addresses (IPv6: /64 networks) at
//!   once, kept up; (2) is what bounds the guesses such a distributed attacker gets per member.
//! - An attempt *reserves* its place in each throttle before hashing, and attempts in flight
//!   count against the allowance: N concurrent wrong sign-ins for one email cannot all pass a
//!   check made before any of them failed. Only failures are recorded; a success releases its
//!   reservation and leaves no trace (a member signing in all day is never throttled). An attempt
//!   cancelled while its password is being verified (the client went away) counts as a failure.
//! - At most [`SignInLimits::hashing_threads`] (the number of CPUs) passwords are verified at
//!   once, each holding argon2's 19 MiB; up to [`SignInLimits::hashing_queue`] more attempts wait.
//!   Beyond that the server is busy: [`SignInError::Busy`] (the dashboard answers 503 with
//!   `Retry-After: 1`) rather than queueing without bound.

use std::{
    net::IpAddr,
    sync::{
        atomic::{AtomicU64, AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use argon2::{password_hash::SaltString, Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use secrecy::{ExposeSecret, SecretString};
use tessera_core::{Actor, AuditRecord, Email, Error, Member};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::{
    orgs,
    sessions::{self, SignedInMember},
    setup::{self, SetupStatus},
};
use crate::{
    extract::RequestInfo,
    throttle::{address_key, Throttle},
    AppState,
};

/// Longest email accepted, in bytes: 254, the 256-byte path limit of RFC 5321 §4.5.3.1.3 less
/// its angle brackets. A longer one is refused as [`SignInError::WrongCredentials`] at once.
pub const MAX_EMAIL_BYTES: usize = 254;

/// Failed sign-ins allowed for one email from one client address before attempts must wait: 5.
pub const EMAIL_FAILURE_BURST: u32 = 5;
/// After that, one more failed sign-in per email and address is allowed every 60 seconds.
pub const EMAIL_FAILURE_REFILL: Duration = Duration::from_secs(60);
/// Failed sign-ins allowed for one email from all addresses together before attempts must wait:
/// 50.
pub const EMAIL_TOTAL_FAILURE_BURST: u32 = 50;
/// After that, one more failed sign-in per email is allowed every 6 seconds.
pub const EMAIL_TOTAL_FAILURE_REFILL: Duration = Duration::from_secs(6);
/// Failed sign-ins allowed from one client address (for any emails) before attempts must wait:
/// 20.
pub const CLIENT_FAILURE_BURST: u32 = 20;
/// After that, one more failed sign-in per address is allowed every 6 seconds.
pub const CLIENT_FAILURE_REFILL: Duration = Duration::from_secs(6);
/// Attempts that may wait for a hashing thread, per hashing thread: 8 (so at most 8 × the number
/// of CPUs wait, each for about 50 ms of argon2 per attempt ahead of it).
pub const HASHING_QUEUE_PER_THREAD: usize = 8;

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
    /// Every hashing thread is busy and the queue before them is full; nothing was verified.
    #[error("the server is busy; try again in {retry_after_seconds} seconds")]
    Busy {
        /// Seconds to wait before retrying: 1.
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

/// The allowances of a [`SignInGuard`]; [`Default`] is the documented constants. A zero burst or
/// refill is taken as 1 (one failure; one nanosecond), zero threads as 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignInLimits {
    /// Failures per email and client address: [`EMAIL_FAILURE_BURST`].
    pub email_burst: u32,
    /// One more per email and address after: [`EMAIL_FAILURE_REFILL`].
    pub email_refill: Duration,
    /// Failures per email from all addresses: [`EMAIL_TOTAL_FAILURE_BURST`].
    pub email_total_burst: u32,
    /// One more per email after: [`EMAIL_TOTAL_FAILURE_REFILL`].
    pub email_total_refill: Duration,
    /// Failures per client address: [`CLIENT_FAILURE_BURST`].
    pub client_burst: u32,
    /// One more per address after: [`CLIENT_FAILURE_REFILL`].
    pub client_refill: Duration,
    /// Passwords verified at once: the number of CPUs (`std::thread::available_parallelism`).
    pub hashing_threads: usize,
    /// Attempts that may wait for a hashing thread: [`HASHING_QUEUE_PER_THREAD`] × threads.
    pub hashing_queue: usize,
}

impl Default for SignInLimits {
    fn default() -> Self {
        let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        Self {
            email_burst: EMAIL_FAILURE_BURST,
            email_refill: EMAIL_FAILURE_REFILL,
            email_total_burst: EMAIL_TOTAL_FAILURE_BURST,
            email_total_refill: EMAIL_TOTAL_FAILURE_REFILL,
            client_burst: CLIENT_FAILURE_BURST,
            client_refill: CLIENT_FAILURE_REFILL,
            hashing_threads: threads,
            hashing_queue: HASHING_QUEUE_PER_THREAD * threads,
        }
    }
}

/// The failure throttles, the bound on argon2 work and the dummy hash, shared by all sign-ins of
/// one server process. Create one at startup ([`SignInGuard::new`] hashes once, about 50 ms).
pub struct SignInGuard {
    /// Per (email, client address).
    by_email_and_client: Throttle<(String, Option<IpAddr>)>,
    /// Per email.
    by_email: Throttle<String>,
    by_client: Throttle<IpAddr>,
    /// Permits to verify a password now.
    hashing: Arc<Semaphore>,
    /// Attempts admitted (verifying or waiting to), and the most allowed.
    admitted: AtomicUsize,
    max_admitted: usize,
    verifications: AtomicU64,
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
    /// A guard with the documented allowances ([`SignInLimits::default`]), and a dummy argon2id
    /// hash with the same parameters as members' hashes (of a random password nobody knows).
    pub fn new() -> Self {
        Self::with_limits(SignInLimits::default())
    }

    /// Like [`SignInGuard::new`] with other allowances (tests use small ones).
    pub fn with_limits(limits: SignInLimits) -> Self {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        let random = SaltString::generate(&mut rand::rngs::OsRng);
        let dummy_hash = Argon2::default()
            .hash_password(random.as_str().as_bytes(), &salt)
            .map(|h| h.to_string())
            .expect("argon2 with default parameters hashes any short input");
        let threads = limits.hashing_threads.max(1);
        Self {
            by_email_and_client: Throttle::new(limits.email_burst, limits.email_refill),
            by_email: Throttle::new(limits.email_total_burst, limits.email_total_refill),
            by_client: Throttle::new(limits.client_burst, limits.client_refill),
            hashing: Arc::new(Semaphore::new(threads)),
            admitted: AtomicUsize::new(0),
            max_admitted: threads.saturating_add(limits.hashing_queue),
            verifications: AtomicU64::new(0),
            dummy_hash,
        }
    }

    /// Forgets throttle state that no longer limits anything (the server calls it hourly; the
    /// throttles also sweep themselves as they grow) so memory does not grow with every email
    /// ever tried.
    pub fn forget_old(&self) {
        self.by_email_and_client.forget_old();
        self.by_email.forget_old();
        self.by_client.forget_old();
    }

    /// How many keys (emails, addresses, pairs of both) the throttles hold in memory.
    pub fn tracked_keys(&self) -> usize {
        self.by_email_and_client.len() + self.by_email.len() + self.by_client.len()
    }

    /// How many password verifications (argon2 runs) this guard has started since it was made.
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }

    /// Reserves an attempt for `email` from `client` in every throttle, or says how long to wait.
    fn reserve(&self, email: String, client: Option<IpAddr>) -> Result<Attempt<'_>, SignInError> {
        let client = client.map(address_key);
        let pair = (email, client);
        let refused = |wait: Duration| SignInError::TooManyAttempts { retry_after_seconds: seconds(wait) };
        self.by_email_and_client.reserve(&pair).map_err(refused)?;
        // From here on, dropping `attempt` releases whatever was reserved.
        let mut attempt = Attempt { guard: self, pair, email: false, client: None, state: AttemptState::Pending };
        self.by_email.reserve(&attempt.pair.0).map_err(refused)?;
        attempt.email = true;
        if let Some(ip) = client {
            self.by_client.reserve(&ip).map_err(refused)?;
            attempt.client = Some(ip);
        }
        Ok(attempt)
    }

    /// A place among the attempts allowed to verify or wait to verify, or [`SignInError::Busy`].
    fn admit(&self) -> Result<Admitted<'_>, SignInError> {
        let before = self.admitted.fetch_add(1, Ordering::AcqRel);
        let admitted = Admitted(self);
        if before >= self.max_admitted {
            return Err(SignInError::Busy { retry_after_seconds: 1 });
        }
        Ok(admitted)
    }

    /// Waits for a hashing thread to be free.
    async fn hashing_permit(&self) -> Result<OwnedSemaphorePermit, Error> {
        self.hashing
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Error::Internal("the hashing semaphore was closed".into()))
    }

    /// Verifies `password` against the PHC string `hash` on a blocking thread, holding `permit`.
    /// The permit goes with the thread, so a cancelled caller does not free it before the
    /// hashing ends.
    async fn verify(&self, permit: OwnedSemaphorePermit, password: SecretString, hash: String) -> Result<bool, Error> {
        self.verifications.fetch_add(1, Ordering::Relaxed);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let parsed = PasswordHash::new(&hash)
                .map_err(|_| Error::Internal("a stored password hash is not a PHC string".into()))?;
            Ok(Argon2::default().verify_password(password.expose_secret().as_bytes(), &parsed).is_ok())
        })
        .await
        .map_err(|e| Error::Internal(format!("password verification task failed: {e}")))?
    }
}

/// Whole seconds to wait, at least 1.
fn seconds(wait: Duration) -> u64 {
    wait.as_secs().saturating_add(u64::from(wait.subsec_nanos() > 0)).max(1)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AttemptState {
    /// Not (yet) verifying: ending now records nothing.
    Pending,
    /// Verifying the password: ending now (a cancelled future) counts as a failure.
    Verifying,
    /// Ended with a wrong email or password.
    Failed,
}

/// An attempt's reservations in the throttles; dropping it releases them, recording a failure
/// if it failed (or was cancelled while verifying).
struct Attempt<'a> {
    guard: &'a SignInGuard,
    pair: (String, Option<IpAddr>),
    /// Whether `by_email` holds a reservation.
    email: bool,
    /// The address `by_client` holds a reservation for.
    client: Option<IpAddr>,
    state: AttemptState,
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        let failed = self.state != AttemptState::Pending;
        let guard = self.guard;
        guard.by_email_and_client.release(&self.pair, failed);
        if self.email {
            guard.by_email.release(&self.pair.0, failed);
        }
        if let Some(ip) = self.client {
            guard.by_client.release(&ip, failed);
        }
    }
}

/// A place among the admitted attempts; dropping it frees the place.
struct Admitted<'a>(&'a SignInGuard);

impl Drop for Admitted<'_> {
    fn drop(&mut self) {
        self.0.admitted.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Signs a member in with `email` and `password` and starts a session.
///
/// `org_slug` names the member's org; it may be empty when the server has exactly one org.
/// `client` is the caller's address, when known ([`crate::client_addr::ClientAddr`]).
///
/// # Errors
/// [`SignInError::WrongCredentials`] for an unknown org or email or a wrong password, all after
/// the same argon2id work (and at once for an email over [`MAX_EMAIL_BYTES`]);
/// [`SignInError::TooManyAttempts`] while the email or the address is throttled, and
/// [`SignInError::Busy`] while the hashing queue is full (both checked before any verification);
/// [`SignInError::OrgRequired`], [`SignInError::NeedsSetup`]; [`SignInError::Failed`] for storage
/// errors.
pub async fn sign_in(
    state: &AppState,
    guard: &SignInGuard,
    org_slug: &str,
    email: &str,
    password: SecretString,
    request: &RequestInfo,
) -> Result<SignedIn, SignInError> {
    let client = request.ip;
    let email = email.trim();
    if email.len() > MAX_EMAIL_BYTES {
        return Err(SignInError::WrongCredentials);
    }
    let mut attempt = guard.reserve(email.to_lowercase(), client).inspect_err(|_| {
        metrics::counter!(crate::metrics::SIGN_IN_REFUSED, "reason" => "throttled").increment(1);
    })?;
    let _admitted = guard.admit().inspect_err(|_| {
        metrics::counter!(crate::metrics::SIGN_IN_REFUSED, "reason" => "busy").increment(1);
    })?;

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
    let permit = guard.hashing_permit().await?;
    attempt.state = AttemptState::Verifying;
    let verified = guard.verify(permit, password, hash).await.inspect_err(|_| attempt.state = AttemptState::Pending)?;
    let (Some(org), Some(member), true) = (org, &member, verified) else {
        attempt.state = AttemptState::Failed;
        drop(attempt);
        if let Some(member) = &member {
            // A wrong password for a real member is an event of their org: its actor is the
            // account that was tried (the client is not anyone yet), with where the try came from.
            let record = AuditRecord::member_sign_in_failed(member, "wrong_password");
            state.store.record_audit_event(member.org_id, &request.context(Actor::member(member)), record).await?;
        }
        return Err(SignInError::WrongCredentials);
    };
    attempt.state = AttemptState::Pending;
    drop(attempt);
    let (token, _session) = sessions::start(state, member, &request.context(Actor::member(member))).await?;
    Ok(SignedIn { token, member: signed_in(org, member.clone()) })
}

fn signed_in(org: tessera_core::Org, member: Member) -> SignedInMember {
    SignedInMember { org, member_id: member.id, email: member.email, role: member.role }
}
