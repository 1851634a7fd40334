//! Tessera's domain: the product's words as types, the rules that make them valid
//! (`docs/architecture.md`, "Rules the code cites"), the API key and user-token formats, and the
//! [`Store`] traits that both storage backends implement.
//!
//! This crate has no I/O, no clock and no randomness source of its own (callers pass `now` and an
//! RNG), so it builds for `wasm32-unknown-unknown` and its rules are easy to test.

pub mod api_key;
pub mod audit;
pub mod error;
pub mod idempotency;
pub mod ids;
pub mod member;
pub mod org;
pub mod page;
pub mod session;
pub mod signing_key;
pub mod store;
pub mod user;
pub mod user_token;

pub use api_key::{ApiKey, ApiKeyFormatError, ApiKeyHash, ApiKeySecret, NewApiKey};
pub use audit::{
    Actor, ActorType, AuditCheckpoint, AuditContext, AuditEvent, AuditQuery, AuditRecord, ChainBreak, ChainVerifier,
    Target,
};
pub use error::{Entity, Error, FieldError, Result};
pub use idempotency::{IdempotencyClaim, IdempotencyRecord, StoredResponse};
pub use ids::{ApiKeyId, MemberId, OrgId, SigningKeyId, UserId, UserTokenId};
pub use member::{Email, Member, NewMember, Role};
pub use org::{NewOrg, Org, OrgSlug, DEFAULT_TOKEN_TTL_SECONDS};
pub use page::{Cursor, Page, PageRequest};
pub use session::{NewSession, OrgCounts, Session, SessionHash, SessionToken};
pub use signing_key::{NewSigningKey, SigningKey};
pub use store::{
    ApiKeyStore, AuditStore, IdempotencyStore, MemberStore, OrgStore, OverviewStore, PoolStats, RevocationEvent,
    RevocationNotice, Store, TokenStore, UserStore,
};
pub use user::{Account, Metadata, Platform, User, UserPatch, UserQuery, UserUpsert};
pub use user_token::{IssuedBy, NewUserToken, TokenQuery, TokenStatus, UserToken, UserTokenClaims};

/// A point in time, always in UTC. Serialized as an RFC 3339 string.
pub type Timestamp = time::OffsetDateTime;
