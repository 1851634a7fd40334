//! Shared state of the REST API and the dashboard's server functions.

use std::{
    net::IpAddr,
    sync::{
        atomic::{AtomicU8, Ordering},
        Arc,
    },
    time::Duration,
};

use tessera_core::{OrgSlug, RevocationEvent, Store};

use crate::{
    client_addr::TrustedProxies,
    crypto::KeyRing,
    group_commit::TokenWriter,
    services::{
        api_keys::{ApiKeyCache, API_KEY_FAILURE_BURST, API_KEY_FAILURE_REFILL, KEY_CACHE_TTL},
        tokens::TokenRows,
        users::UserIdentities,
    },
    throttle::Throttle,
};

/// Settings the API needs from the server's configuration.
#[derive(Clone, Debug)]
pub struct ApiConfig {
    /// Public base URL of this deployment without a trailing slash, e.g. `https://tokens.example.com`.
    /// Issuer URLs are `{public_url}/o/{org_slug}`.
    pub public_url: String,
    /// How long API keys and token rows read from the database are trusted without reading them
    /// again: [`KEY_CACHE_TTL`] (1 s) unless set (`tessera serve --cache-ttl-seconds`).
    /// Revocations through this process, and those of other processes as soon as their notice
    /// arrives ([`Store::watch_revocations`]), take effect at once whatever this is; this bounds
    /// the wait only when notices cannot be received.
    pub cache_ttl: Duration,
    /// Reverse proxies whose forwarding header names the client's address (for throttling
    /// failures per client); none unless set (`tessera serve --trusted-proxies`).
    pub trusted_proxies: TrustedProxies,
}

impl ApiConfig {
    /// Normalizes `public_url` (drops trailing slashes); `cache_ttl` is [`KEY_CACHE_TTL`]; no
    /// proxy is trusted.
    pub fn new(public_url: &str) -> Self {
        Self {
            public_url: public_url.trim_end_matches('/').to_owned(),
            cache_ttl: KEY_CACHE_TTL,
            trusted_proxies: TrustedProxies::default(),
        }
    }

    /// The `iss` of an org's tokens: `{public_url}/o/{slug}`.
    pub fn issuer(&self, slug: &OrgSlug) -> String {
        format!("{}/o/{}", self.public_url, slug)
    }
}

/// Everything a handler or service needs; cheap to clone (one reference count: axum clones the
/// state for every request, several times). Its parts are read through `Deref`
/// (`state.store`, `state.keys`, …).
#[derive(Clone)]
pub struct AppState(Arc<AppParts>);

/// The parts of [`AppState`].
pub struct AppParts {
    /// The storage backend.
    pub store: Arc<dyn Store>,
    /// Decrypted signing keys.
    pub keys: Arc<KeyRing>,
    /// Settings.
    pub config: Arc<ApiConfig>,
    /// Recently authenticated API keys.
    pub api_key_cache: Arc<ApiKeyCache>,
    /// Failed API-key authentications per client address (see
    /// [`crate::services::api_keys::authenticate`]).
    pub api_key_failures: Arc<Throttle<IpAddr>>,
    /// Inserts new token rows with group commit.
    pub token_writer: Arc<TokenWriter>,
    /// Users recently named by id, for the immutable part of their claims.
    pub user_identities: Arc<UserIdentities>,
    /// Token rows recently read by introspection.
    pub token_rows: Arc<TokenRows>,
    /// Whether other processes' revocation notices are being received (for `/readyz`).
    pub revocation_notices: NoticeStatus,
}

/// Whether this process hears about revocations that other processes commit
/// ([`Store::watch_revocations`]), as `/readyz` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoticeState {
    /// Notices arrive: caches hold what the database holds, give or take a millisecond.
    Listening,
    /// Not yet, or no longer, listening (the database is unreachable or restarting): the caches
    /// were emptied when the connection was lost and are emptied again once it listens, and
    /// meanwhile trust what they read for the cache TTL only.
    Reconnecting,
    /// This store delivers no notices (an in-memory SQLite database, or a notice file that cannot
    /// be watched): caches rely on their TTL.
    Off,
}

impl NoticeState {
    /// As `/readyz` writes it: `listening`, `reconnecting` or `off`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Listening => "listening",
            Self::Reconnecting => "reconnecting",
            Self::Off => "off",
        }
    }
}

/// The current [`NoticeState`], shared between the notice listener and `/readyz`.
#[derive(Debug)]
pub struct NoticeStatus(AtomicU8);

impl NoticeStatus {
    /// A status that starts at `state`.
    pub fn new(state: NoticeState) -> Self {
        Self(AtomicU8::new(state as u8))
    }

    /// The state now.
    pub fn get(&self) -> NoticeState {
        match self.0.load(Ordering::SeqCst) {
            s if s == NoticeState::Listening as u8 => NoticeState::Listening,
            s if s == NoticeState::Reconnecting as u8 => NoticeState::Reconnecting,
            _ => NoticeState::Off,
        }
    }

    fn set(&self, state: NoticeState) {
        self.0.store(state as u8, Ordering::SeqCst);
    }
}

impl std::ops::Deref for AppState {
    type Target = AppParts;

    fn deref(&self) -> &AppParts {
        &self.0
    }
}

impl From<AppParts> for AppState {
    /// The state of parts assembled by the caller (a tool or a test that brings its own token
    /// writer); unlike [`AppState::new`], it starts no task and listens for no notices.
    fn from(parts: AppParts) -> Self {
        Self(Arc::new(parts))
    }
}

impl AppState {
    /// Bundles the parts, starts the token writer task and, where the store delivers them,
    /// listens for other processes' revocations ([`Store::watch_revocations`]): each notice
    /// clears the API-key cache and the token-row cache, and so does the loss of the listening
    /// connection and its return (notices in between went unheard), which also set
    /// [`AppParts::revocation_notices`]. The listener stops once the last clone of this state is
    /// dropped (at its next event).
    ///
    /// # Panics
    /// Outside a Tokio runtime.
    pub fn new(store: Arc<dyn Store>, keys: KeyRing, config: ApiConfig) -> Self {
        let token_writer = Arc::new(TokenWriter::spawn(store.clone()));
        let parts = Arc::new(AppParts {
            store,
            keys: Arc::new(keys),
            api_key_cache: Arc::new(ApiKeyCache::new(config.cache_ttl)),
            api_key_failures: Arc::new(Throttle::new(API_KEY_FAILURE_BURST, API_KEY_FAILURE_REFILL)),
            token_rows: Arc::new(TokenRows::new(config.cache_ttl)),
            config: Arc::new(config),
            token_writer,
            user_identities: Arc::default(),
            revocation_notices: NoticeStatus::new(NoticeState::Reconnecting),
        });
        let weak = Arc::downgrade(&parts);
        let watching = parts.store.watch_revocations(Box::new(move |event| {
            let Some(parts) = weak.upgrade() else { return false };
            parts.api_key_cache.clear();
            parts.token_rows.forget_all();
            match event {
                RevocationEvent::Listening => parts.revocation_notices.set(NoticeState::Listening),
                RevocationEvent::Lost => parts.revocation_notices.set(NoticeState::Reconnecting),
                RevocationEvent::Notice => {}
            }
            true
        }));
        if !watching {
            parts.revocation_notices.set(NoticeState::Off);
        }
        Self(parts)
    }
}
