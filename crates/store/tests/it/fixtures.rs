//! Builders for the inputs of `Store` methods, with fixed times so assertions can be exact.

use tessera_core::{
    Account, Actor, ApiKeyHash, ApiKeyId, AuditContext, Email, IssuedBy, MemberId, NewApiKey, NewMember, NewOrg,
    NewSigningKey, NewUserToken, Org, OrgId, OrgSlug, Platform, Role, SigningKey, SigningKeyId, Store, Timestamp, User,
    UserId, UserTokenId, UserUpsert,
};
use time::macros::datetime;
use time::Duration;
use uuid::Uuid;

/// A reference instant with a non-zero microsecond part, to catch precision loss.
pub const T0: Timestamp = datetime!(2026-01-02 03:04:05.123456 UTC);

/// `T0` plus `secs` seconds.
pub fn t(secs: i64) -> Timestamp {
    T0 + Duration::seconds(secs)
}

/// Who acts in tests that are not about the audit log: the CLI as `test`, at [`T0`].
pub fn audit() -> AuditContext {
    AuditContext::new(Actor::cli("test"), T0)
}

/// A new time-ordered id.
pub fn id() -> Uuid {
    Uuid::now_v7()
}

pub fn new_org(slug: &str) -> NewOrg {
    NewOrg { id: OrgId(id()), slug: OrgSlug::parse(slug).unwrap(), name: format!("Org {slug}"), created_at: T0 }
}

pub fn new_signing_key() -> NewSigningKey {
    NewSigningKey {
        id: SigningKeyId(id()),
        algorithm: "EdDSA".into(),
        public_key: vec![7; 32],
        encrypted_private_key: vec![1, 2, 3, 4, 5],
        created_at: t(1),
    }
}

/// Creates an org with its signing key.
pub async fn org(store: &dyn Store, slug: &str) -> (Org, SigningKey) {
    let org = store.create_org(&new_org(slug), &new_signing_key(), &audit()).await.unwrap();
    let key = store.signing_keys(org.id).await.unwrap().remove(0);
    (org, key)
}

pub fn new_member(email: &str) -> NewMember {
    NewMember {
        id: MemberId(id()),
        email: Email::parse(email).unwrap(),
        role: Role::Admin,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        created_at: t(2),
    }
}

/// A key with a random hash and the given display prefix.
pub fn new_api_key(prefix: &str, created_at: Timestamp) -> NewApiKey {
    let mut hash = [0u8; 32];
    hash[..16].copy_from_slice(id().as_bytes());
    hash[16..].copy_from_slice(Uuid::new_v4().as_bytes());
    NewApiKey {
        id: ApiKeyId(id()),
        name: format!("key {prefix}"),
        hash: ApiKeyHash(hash),
        prefix: prefix.into(),
        created_by: None,
        created_at,
        expires_at: None,
    }
}

pub fn upsert(platform: &str, account: &str, now: Timestamp) -> UserUpsert {
    UserUpsert {
        id: UserId(id()),
        account: Account::parse(account).unwrap(),
        platform: Platform::parse(platform).unwrap(),
        display_name: None,
        metadata: None,
        now,
    }
}

/// Creates the user `("web", account)` in `org`.
pub async fn user(store: &dyn Store, org: OrgId, account: &str) -> User {
    store.upsert_user(org, &upsert("web", account, T0)).await.unwrap().0
}

pub fn new_token(user: UserId, key: SigningKeyId, issued_at: Timestamp, expires_at: Option<Timestamp>) -> NewUserToken {
    NewUserToken {
        id: UserTokenId(id()),
        user_id: user,
        signing_key_id: key,
        issued_at,
        expires_at,
        is_default: false,
        issued_by: None,
    }
}

/// A permanent default token, as `GET /token` issues.
pub fn new_default_token(user: UserId, key: SigningKeyId, issued_at: Timestamp) -> NewUserToken {
    NewUserToken { is_default: true, ..new_token(user, key, issued_at, None) }
}

/// `Some(IssuedBy)` helper for readability.
pub fn by_key(key: ApiKeyId) -> Option<IssuedBy> {
    Some(IssuedBy::ApiKey(key))
}
