//! The audit log (`../shared/DESIGN.md`, "Audit events"): who changed what, recorded by the
//! store in the same transaction as the change, numbered per org without gaps (`seq`) and
//! chained by SHA-256 so that an edited, inserted or removed event is detected.
//!
//! The parts:
//! - [`AuditContext`]: who acts and from where (actor, client address, user agent, request id).
//!   Callers hand it to every store method that changes something an org would want to audit.
//! - [`AuditRecord`]: what happened (action, target, changes). The store builds it from the
//!   change it makes, with the constructors here, so every backend records the same thing.
//! - [`AuditEvent`]: a recorded event with its `seq`, `prev_hash` and `hash`.
//! - [`event_hash`] and [`verify_chain`]: the chain's rule, used by the store when it appends and
//!   by `tessera audit verify` when it checks.
//!
//! # The hash
//! `hash = SHA-256(canonical(event without hash))`, lowercase hex, where the canonical form is
//! the event's JSON object (every field of [`AuditEvent`] but `hash`, `prev_hash` included) with
//! object keys sorted by their UTF-16 code units, no whitespace, and strings escaped as RFC 8785
//! (JSON Canonicalization Scheme, §3.2.2.2) does. Audit events hold no floating-point numbers, so
//! the result is RFC 8785's. Times are RFC 3339 in UTC with exactly six fractional digits
//! (`2026-12-01T16:00:00.123456Z`), as stored. The first event of an org has
//! `prev_hash` = [`GENESIS_HASH`] (64 zeros).
//!
//! `changes` never holds a secret, a token or a password: the constructors take only what may be
//! shown to every owner and admin of the org.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{ApiKey, Error, Member, OrgId, Result, Role, Timestamp, User, UserId, UserPatch, UserToken};

/// `prev_hash` of an org's first event: 32 zero bytes in hex.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Longest `user_agent` kept, in bytes; longer ones are cut at a character boundary.
pub const MAX_USER_AGENT_BYTES: usize = 512;

/// Who acts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorType {
    /// A member, in the dashboard: `id` is the member id, `label` the email.
    Member,
    /// An API key, over REST: `id` is the key id, `label` the key's prefix.
    ApiKey,
    /// The `tessera` command line: no `id`, `label` the operating-system user.
    Cli,
    /// Tessera itself (retention, automatic rotation): no `id`, `label` what ran.
    System,
}

impl ActorType {
    /// The name used in the API and the database (`member`, `api_key`, `cli`, `system`).
    pub fn as_str(self) -> &'static str {
        match self {
            ActorType::Member => "member",
            ActorType::ApiKey => "api_key",
            ActorType::Cli => "cli",
            ActorType::System => "system",
        }
    }

    /// Parses [`ActorType::as_str`]'s names.
    ///
    /// # Errors
    /// [`Error::Invalid`] on field `actor_type` for any other string.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "member" => Ok(ActorType::Member),
            "api_key" => Ok(ActorType::ApiKey),
            "cli" => Ok(ActorType::Cli),
            "system" => Ok(ActorType::System),
            _ => Err(Error::invalid("actor_type", "must be one of member, api_key, cli, system")),
        }
    }
}

/// The actor of an event: `{type, id, label}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// What kind of actor.
    #[serde(rename = "type")]
    pub type_: ActorType,
    /// The member or API key id; `None` for the CLI and the system.
    pub id: Option<Uuid>,
    /// The member's email, the key's prefix, the OS user or the system task.
    pub label: String,
}

impl Actor {
    /// A member acting in the dashboard.
    pub fn member(member: &Member) -> Self {
        Self { type_: ActorType::Member, id: Some(member.id.0), label: member.email.as_str().to_owned() }
    }

    /// An API key acting over REST.
    pub fn api_key(key: &ApiKey) -> Self {
        Self { type_: ActorType::ApiKey, id: Some(key.id.0), label: key.prefix.clone() }
    }

    /// The command line, run by operating-system user `os_user`.
    pub fn cli(os_user: &str) -> Self {
        Self { type_: ActorType::Cli, id: None, label: os_user.to_owned() }
    }

    /// Tessera itself, running `task` (`retention`, `rotation`).
    pub fn system(task: &str) -> Self {
        Self { type_: ActorType::System, id: None, label: task.to_owned() }
    }
}

/// Who acts and from where: what a caller passes to every audited store method.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditContext {
    /// Who acts.
    pub actor: Actor,
    /// The client's address (after trusted proxies), when there is a request.
    pub ip: Option<String>,
    /// The request's `User-Agent`, at most [`MAX_USER_AGENT_BYTES`] bytes.
    pub user_agent: Option<String>,
    /// The request's `x-request-id`.
    pub request_id: Option<String>,
    /// When the change happens (the event's `occurred_at`).
    pub now: Timestamp,
}

impl AuditContext {
    /// A context without a request (CLI, system), at `now`.
    pub fn new(actor: Actor, now: Timestamp) -> Self {
        Self { actor, ip: None, user_agent: None, request_id: None, now }
    }

    /// Adds the request's client address, user agent (cut to [`MAX_USER_AGENT_BYTES`]) and id.
    #[must_use]
    pub fn with_request(mut self, ip: Option<String>, user_agent: Option<&str>, request_id: Option<&str>) -> Self {
        self.ip = ip;
        self.user_agent = user_agent.map(|ua| {
            let mut end = ua.len().min(MAX_USER_AGENT_BYTES);
            while !ua.is_char_boundary(end) {
                end -= 1;
            }
            ua[..end].to_owned()
        });
        self.request_id = request_id.map(str::to_owned);
        self
    }
}

/// What an event is about: `{type, id}` (`member`, `api_key`, `user`, `user_token`, `org`,
/// `session`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// The kind of thing.
    #[serde(rename = "type")]
    pub type_: String,
    /// Its id.
    pub id: String,
}

impl Target {
    fn new(type_: &str, id: impl ToString) -> Self {
        Self { type_: type_.to_owned(), id: id.to_string() }
    }
}

/// What happened, without who and when: built by the store from the change it makes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRecord {
    /// Dotted action name, e.g. `member.role_changed`.
    pub action: &'static str,
    /// What it is about.
    pub target: Target,
    /// A JSON object summarising the change (never a secret).
    pub changes: Map<String, Value>,
}

/// Every action Tessera records, by name (the `action` filter accepts these).
pub const ACTIONS: &[&str] = &[
    "org.created",
    "member.added",
    "member.role_changed",
    "member.removed",
    "member.signed_in",
    "member.sign_in_failed",
    "member.signed_out",
    "api_key.created",
    "api_key.revoked",
    "user.updated",
    "user.deleted",
    "user_token.revoked",
    "user_tokens.revoked",
];

fn changes(pairs: impl IntoIterator<Item = (&'static str, Value)>) -> Map<String, Value> {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

fn time_value(t: Timestamp) -> Value {
    Value::String(format_time(t))
}

impl AuditRecord {
    /// `org.created`: `{slug, name}`.
    pub fn org_created(org_id: OrgId, slug: &str, name: &str) -> Self {
        Self {
            action: "org.created",
            target: Target::new("org", org_id),
            changes: changes([("slug", slug.into()), ("name", name.into())]),
        }
    }

    /// `member.added`: `{email, role}`.
    pub fn member_added(member: &Member) -> Self {
        Self {
            action: "member.added",
            target: Target::new("member", member.id),
            changes: changes([("email", member.email.as_str().into()), ("role", member.role.as_str().into())]),
        }
    }

    /// `member.role_changed`: `{email, role: {old, new}}`.
    pub fn member_role_changed(member: &Member, old: Role) -> Self {
        let role = changes([("old", old.as_str().into()), ("new", member.role.as_str().into())]);
        Self {
            action: "member.role_changed",
            target: Target::new("member", member.id),
            changes: changes([("email", member.email.as_str().into()), ("role", Value::Object(role))]),
        }
    }

    /// `member.removed`: `{email, role}`.
    pub fn member_removed(member: &Member) -> Self {
        Self { action: "member.removed", ..Self::member_added(member) }
    }

    /// `member.signed_in`: `{}` (never the session's token).
    pub fn member_signed_in(member_id: crate::MemberId) -> Self {
        Self { action: "member.signed_in", target: Target::new("member", member_id), changes: Map::new() }
    }

    /// `member.sign_in_failed`: `{reason}` (`wrong_password`).
    pub fn member_sign_in_failed(member: &Member, reason: &str) -> Self {
        Self {
            action: "member.sign_in_failed",
            target: Target::new("member", member.id),
            changes: changes([("reason", reason.into())]),
        }
    }

    /// `member.signed_out`: `{}`.
    pub fn member_signed_out(member_id: crate::MemberId) -> Self {
        Self { action: "member.signed_out", target: Target::new("member", member_id), changes: Map::new() }
    }

    /// `api_key.created`: `{name, prefix, expires_at}` (never the secret or its hash).
    pub fn api_key_created(key: &ApiKey) -> Self {
        Self {
            action: "api_key.created",
            target: Target::new("api_key", key.id),
            changes: changes([
                ("name", key.name.as_str().into()),
                ("prefix", key.prefix.as_str().into()),
                ("expires_at", key.expires_at.map_or(Value::Null, time_value)),
            ]),
        }
    }

    /// `api_key.revoked`: `{name, prefix}`.
    pub fn api_key_revoked(key: &ApiKey) -> Self {
        Self {
            action: "api_key.revoked",
            target: Target::new("api_key", key.id),
            changes: changes([("name", key.name.as_str().into()), ("prefix", key.prefix.as_str().into())]),
        }
    }

    /// `user.updated`: `{fields}`, the names of the patched fields (not their values, which may
    /// be personal data the org keeps in `metadata`).
    pub fn user_updated(user: &User, patch: &UserPatch) -> Self {
        let mut fields = Vec::new();
        if patch.display_name.is_some() {
            fields.push(Value::from("display_name"));
        }
        if patch.metadata.is_some() {
            fields.push(Value::from("metadata"));
        }
        Self {
            action: "user.updated",
            target: Target::new("user", user.id),
            changes: changes([("fields", Value::Array(fields))]),
        }
    }

    /// `user.deleted`: `{account, platform, tokens_revoked}`.
    pub fn user_deleted(user: &User, tokens_revoked: u64) -> Self {
        Self {
            action: "user.deleted",
            target: Target::new("user", user.id),
            changes: changes([
                ("account", user.account.as_str().into()),
                ("platform", user.platform.as_str().into()),
                ("tokens_revoked", tokens_revoked.into()),
            ]),
        }
    }

    /// `user_token.revoked`: `{user_id}`.
    pub fn user_token_revoked(token: &UserToken) -> Self {
        Self {
            action: "user_token.revoked",
            target: Target::new("user_token", token.id),
            changes: changes([("user_id", token.user_id.to_string().into())]),
        }
    }

    /// `user_tokens.revoked` (a user's tokens at once): `{issued_before, revoked}`.
    pub fn user_tokens_revoked(user_id: UserId, issued_before: Timestamp, revoked: u64) -> Self {
        Self {
            action: "user_tokens.revoked",
            target: Target::new("user", user_id),
            changes: changes([("issued_before", time_value(issued_before)), ("revoked", revoked.into())]),
        }
    }
}

/// An org's audit checkpoint of one UTC day: where its log stood when the day's checkpoint was
/// first asked for. Signed, it is served at `{iss}/audit/checkpoint`; a copy kept elsewhere
/// detects a history rewritten afterwards, even one whose hashes were all recomputed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditCheckpoint {
    /// `seq` of the org's latest event then (0 before its first).
    pub seq: u64,
    /// `hash` of that event ([`GENESIS_HASH`] before the first).
    pub hash: String,
    /// When it was taken.
    pub taken_at: Timestamp,
}

/// A recorded event, as stored, listed and exported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Unique id (UUIDv7).
    pub id: Uuid,
    /// The org whose log holds it.
    pub org_id: OrgId,
    /// Position in the org's log: 1, 2, 3, … without gaps.
    pub seq: u64,
    /// When the change happened (microsecond precision).
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: Timestamp,
    /// Who acted.
    pub actor: Actor,
    /// Dotted action name ([`ACTIONS`]).
    pub action: String,
    /// What it is about.
    pub target: Target,
    /// The client's address, when there was a request.
    pub ip: Option<String>,
    /// The request's user agent.
    pub user_agent: Option<String>,
    /// The request's id.
    pub request_id: Option<String>,
    /// A JSON object summarising the change.
    pub changes: Map<String, Value>,
    /// `hash` of the org's previous event, or [`GENESIS_HASH`].
    pub prev_hash: String,
    /// [`event_hash`] of this event.
    pub hash: String,
}

impl AuditEvent {
    /// Builds the event that follows `prev_hash` at `seq`, with its hash computed.
    pub fn chained(
        id: Uuid,
        org_id: OrgId,
        seq: u64,
        prev_hash: &str,
        context: &AuditContext,
        record: AuditRecord,
    ) -> Self {
        let mut event = Self {
            id,
            org_id,
            seq,
            occurred_at: truncate_to_micros(context.now),
            actor: context.actor.clone(),
            action: record.action.to_owned(),
            target: record.target,
            ip: context.ip.clone(),
            user_agent: context.user_agent.clone(),
            request_id: context.request_id.clone(),
            changes: record.changes,
            prev_hash: prev_hash.to_owned(),
            hash: String::new(),
        };
        event.hash = event_hash(&event);
        event
    }

    /// The JSON object [`event_hash`] hashes: every field but `hash`.
    fn hashed_value(&self) -> Value {
        let actor = Value::Object(changes([
            ("type", self.actor.type_.as_str().into()),
            ("id", self.actor.id.map_or(Value::Null, |id| id.to_string().into())),
            ("label", self.actor.label.as_str().into()),
        ]));
        let target = Value::Object(changes([
            ("type", self.target.type_.as_str().into()),
            ("id", self.target.id.as_str().into()),
        ]));
        let opt = |v: &Option<String>| v.as_deref().map_or(Value::Null, Value::from);
        Value::Object(changes([
            ("id", self.id.to_string().into()),
            ("org_id", self.org_id.to_string().into()),
            ("seq", self.seq.into()),
            ("occurred_at", time_value(self.occurred_at)),
            ("actor", actor),
            ("action", self.action.as_str().into()),
            ("target", target),
            ("ip", opt(&self.ip)),
            ("user_agent", opt(&self.user_agent)),
            ("request_id", opt(&self.request_id)),
            ("changes", Value::Object(self.changes.clone())),
            ("prev_hash", self.prev_hash.as_str().into()),
        ]))
    }
}

/// Drops what a microsecond cannot hold: what the databases store, so that an event hashes the
/// same before and after a round trip.
pub fn truncate_to_micros(t: Timestamp) -> Timestamp {
    let t = t.to_offset(time::UtcOffset::UTC);
    t.replace_nanosecond(t.nanosecond() / 1000 * 1000).unwrap_or(t)
}

/// RFC 3339 in UTC with six fractional digits: `2026-12-01T16:00:00.123456Z`.
pub fn format_time(t: Timestamp) -> String {
    let t = truncate_to_micros(t);
    let date = t.date();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        date.year(),
        u8::from(date.month()),
        date.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    )
}

/// The event's hash: lowercase hex SHA-256 of its canonical JSON without `hash` (module docs).
pub fn event_hash(event: &AuditEvent) -> String {
    let mut canonical = String::with_capacity(512);
    write_canonical(&event.hashed_value(), &mut canonical);
    let digest = Sha256::digest(canonical.as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in digest {
        hex.push_str(&format!("{byte:02x}"));
    }
    hex
}

/// Writes `value` in canonical form: keys sorted by UTF-16 code units (RFC 8785 §3.2.3), no
/// whitespace, strings escaped as RFC 8785 §3.2.2.2. Integers only (audit events have no floats).
fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|(a, _), (b, _)| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                write_canonical(item, out);
            }
            out.push('}');
        }
    }
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c < '\u{20}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Where a chain check stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChainBreak {
    /// The event's `hash` is not the hash of its contents: it was edited.
    HashMismatch {
        /// Its `seq`.
        seq: u64,
        /// Its id.
        id: Uuid,
    },
    /// The event's `prev_hash` is not the previous event's `hash`, or its `seq` does not follow
    /// the previous one: an event before it was removed, inserted or edited.
    Broken {
        /// Its `seq`.
        seq: u64,
        /// Its id.
        id: Uuid,
    },
}

impl std::fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainBreak::HashMismatch { seq, id } => {
                write!(f, "event seq {seq} (id {id}): its hash does not match its contents")
            }
            ChainBreak::Broken { seq, id } => {
                write!(f, "event seq {seq} (id {id}): it does not follow the event before it (seq or prev_hash)")
            }
        }
    }
}

/// Checks events in `seq` order, one at a time, so a caller can stream millions of them.
///
/// The first event is trusted as an anchor unless it is `seq` 1, which must follow
/// [`GENESIS_HASH`] (retention removes the oldest events; the oldest one kept anchors the rest).
#[derive(Debug, Default)]
pub struct ChainVerifier {
    last: Option<(u64, String)>,
    checked: u64,
}

impl ChainVerifier {
    /// A verifier that has seen nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks the next event.
    ///
    /// # Errors
    /// The first [`ChainBreak`].
    pub fn check(&mut self, event: &AuditEvent) -> std::result::Result<(), ChainBreak> {
        if event_hash(event) != event.hash {
            return Err(ChainBreak::HashMismatch { seq: event.seq, id: event.id });
        }
        let follows = match &self.last {
            Some((seq, hash)) => event.seq == seq + 1 && event.prev_hash == *hash,
            None => event.seq > 1 || (event.seq == 1 && event.prev_hash == GENESIS_HASH),
        };
        if !follows {
            return Err(ChainBreak::Broken { seq: event.seq, id: event.id });
        }
        self.last = Some((event.seq, event.hash.clone()));
        self.checked += 1;
        Ok(())
    }

    /// How many events passed.
    pub fn checked(&self) -> u64 {
        self.checked
    }

    /// `seq` and `hash` of the last event that passed.
    pub fn last(&self) -> Option<(u64, &str)> {
        self.last.as_ref().map(|(seq, hash)| (*seq, hash.as_str()))
    }
}

/// Filters and page of [`crate::AuditStore::list_audit_events`]: newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Only this action (exact), or actions under this prefix when it ends with `.` or `*`
    /// (`member.*`).
    pub action: Option<String>,
    /// Only events whose actor's id or label equals this.
    pub actor: Option<String>,
    /// Only events whose target id equals this.
    pub target: Option<String>,
    /// Only events at or after this time.
    pub since: Option<Timestamp>,
    /// Only events before this time.
    pub until: Option<Timestamp>,
    /// Only events with a `seq` below this one (the cursor: the last `seq` of the previous page).
    pub before_seq: Option<u64>,
    /// Page size, 1 to [`crate::page::MAX_LIMIT`].
    pub limit: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn context() -> AuditContext {
        AuditContext::new(Actor::cli("root"), datetime!(2026-12-01 16:00:00.123456789 UTC))
    }

    fn record() -> AuditRecord {
        AuditRecord::org_created(OrgId(Uuid::nil()), "acme", "Acme \"Inc\"\n")
    }

    fn chain(n: u64) -> Vec<AuditEvent> {
        let mut events: Vec<AuditEvent> = Vec::new();
        for seq in 1..=n {
            let prev = events.last().map_or(GENESIS_HASH.to_owned(), |e| e.hash.clone());
            events.push(AuditEvent::chained(
                Uuid::from_u128(u128::from(seq)),
                OrgId(Uuid::nil()),
                seq,
                &prev,
                &context(),
                record(),
            ));
        }
        events
    }

    #[test]
    fn the_canonical_form_sorts_keys_and_escapes_as_rfc_8785() {
        let value =
            serde_json::json!({"b": [1, "x\u{1f}"], "a": {"é": null, "Z": true}, "\u{10000}": 0, "\u{ffff}": 1});
        let mut out = String::new();
        write_canonical(&value, &mut out);
        // U+10000 is the surrogate pair D800 DC00, which sorts before U+FFFF in UTF-16.
        assert_eq!(out, "{\"a\":{\"Z\":true,\"é\":null},\"b\":[1,\"x\\u001f\"],\"\u{10000}\":0,\"\u{ffff}\":1}");
    }

    #[test]
    fn times_are_microseconds_in_utc() {
        assert_eq!(format_time(datetime!(2026-12-01 17:00:00.1234567 +01:00)), "2026-12-01T16:00:00.123456Z");
    }

    #[test]
    fn an_intact_chain_verifies_and_any_edit_is_named() {
        let events = chain(5);
        let mut verifier = ChainVerifier::new();
        for event in &events {
            verifier.check(event).unwrap();
        }
        assert_eq!(verifier.checked(), 5);
        assert_eq!(verifier.last(), Some((5, events[4].hash.as_str())));

        let mut edited = events.clone();
        edited[2].changes.insert("name".into(), "Evil".into());
        let mut verifier = ChainVerifier::new();
        let first_bad = edited.iter().find_map(|e| verifier.check(e).err());
        assert_eq!(first_bad, Some(ChainBreak::HashMismatch { seq: 3, id: edited[2].id }));

        // Rewritten with a recomputed hash: the next event no longer follows it.
        edited[2].hash = event_hash(&edited[2]);
        let mut verifier = ChainVerifier::new();
        let first_bad = edited.iter().find_map(|e| verifier.check(e).err());
        assert_eq!(first_bad, Some(ChainBreak::Broken { seq: 4, id: edited[3].id }));

        // A removed event breaks the chain at the one after it.
        let mut removed = events.clone();
        removed.remove(1);
        let mut verifier = ChainVerifier::new();
        assert_eq!(
            removed.iter().find_map(|e| verifier.check(e).err()),
            Some(ChainBreak::Broken { seq: 3, id: events[2].id })
        );
    }

    #[test]
    fn a_chain_may_start_after_retention_but_seq_one_must_follow_genesis() {
        let events = chain(4);
        let mut verifier = ChainVerifier::new();
        for event in &events[2..] {
            verifier.check(event).unwrap();
        }
        let mut forged = events[0].clone();
        forged.prev_hash = events[1].hash.clone();
        forged.hash = event_hash(&forged);
        assert_eq!(ChainVerifier::new().check(&forged), Err(ChainBreak::Broken { seq: 1, id: forged.id }));
    }

    #[test]
    fn a_user_agent_is_cut_at_a_character_boundary() {
        let long = "é".repeat(MAX_USER_AGENT_BYTES);
        let context = context().with_request(None, Some(&long), Some("r"));
        let ua = context.user_agent.unwrap();
        assert!(ua.len() <= MAX_USER_AGENT_BYTES && ua.len() >= MAX_USER_AGENT_BYTES - 1, "{}", ua.len());
    }

    #[test]
    fn the_hash_survives_a_json_round_trip() {
        let event = chain(1).remove(0);
        let back: AuditEvent = serde_json::from_str(&serde_json::to_string(&event).unwrap()).unwrap();
        assert_eq!(event_hash(&back), event.hash);
    }
}
