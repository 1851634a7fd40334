//! The audit log's storage: every audited method records its event in the change's own
//! transaction (a failure after the change's statements leaves neither), `seq` stays gapless
//! with concurrent writers on separate pools, the chain verifies, retention keeps it verifiable,
//! and the list filters and pages.

use std::sync::Arc;

use sqlx::{Connection, Executor};
use tessera_core::audit::GENESIS_HASH;
use tessera_core::{
    Actor, ActorType, AuditContext, AuditEvent, AuditQuery, AuditRecord, ChainVerifier, Email, Error, NewMember,
    NewSession, OrgId, Role, SessionToken, Store, UserPatch,
};

use crate::fixtures::*;
use crate::harness::{Backend, TestDb};

contract!(
    every_audited_change_records_its_event_and_no_op_changes_record_none,
    a_failure_after_the_change_leaves_neither_the_change_nor_its_event,
    seq_is_gapless_with_concurrent_writers_on_two_pools,
    retention_keeps_the_chain_verifiable_from_the_oldest_event_kept,
    events_are_filtered_and_paged_newest_first,
    the_first_run_records_the_owner_as_actor,
    a_checkpoint_is_taken_once_a_day_from_the_head,
);

/// Every event of the org, oldest first.
async fn all_events(s: &dyn Store, org_id: OrgId) -> Vec<AuditEvent> {
    s.audit_events_after(org_id, 0, 10_000).await.unwrap()
}

fn actions(events: &[AuditEvent]) -> Vec<&str> {
    events.iter().map(|e| e.action.as_str()).collect()
}

fn verify(events: &[AuditEvent]) -> u64 {
    let mut verifier = ChainVerifier::new();
    for event in events {
        verifier.check(event).unwrap_or_else(|e| panic!("{e}"));
    }
    verifier.checked()
}

fn member_context() -> AuditContext {
    let actor = Actor { type_: ActorType::Member, id: Some(id()), label: "ada@example.com".into() };
    AuditContext::new(actor, t(1)).with_request(Some("203.0.113.9".into()), Some("Firefox"), Some("req-1"))
}

async fn every_audited_change_records_its_event_and_no_op_changes_record_none(db: &TestDb) {
    let s = db.store();
    let org = s.create_org(&new_org("acme"), &new_signing_key(), &audit()).await.unwrap();
    let ctx = member_context();
    let member = s.create_member(org.id, &new_member("bob@example.com"), &ctx).await.unwrap();
    s.change_member_role(org.id, member.id, Role::Viewer, &ctx).await.unwrap();
    s.change_member_role(org.id, member.id, Role::Viewer, &ctx).await.unwrap(); // no change
    let token = SessionToken::generate(&mut rand::rngs::OsRng);
    let session = NewSession { hash: token.hash(), member_id: member.id, created_at: t(2), expires_at: t(3600) };
    s.create_session(org.id, &session, &ctx).await.unwrap();
    assert!(s.delete_session(&token.hash(), &ctx).await.unwrap());
    assert!(!s.delete_session(&token.hash(), &ctx).await.unwrap()); // already gone
    let key = s.create_api_key(org.id, &new_api_key("tsk_a1b2", t(1)), &ctx).await.unwrap();
    s.revoke_api_key(org.id, &key.prefix, t(5), &ctx).await.unwrap();
    s.revoke_api_key(org.id, &key.prefix, t(6), &ctx).await.unwrap(); // already revoked
    let signing_key = s.signing_keys(org.id).await.unwrap().remove(0);
    let (user, _) = s.upsert_user(org.id, &upsert("web", "u1", t(1))).await.unwrap();
    let patch = UserPatch { display_name: Some(Some("Ada".into())), metadata: None, now: t(7) };
    s.update_user(org.id, user.id, &patch, &ctx).await.unwrap();
    s.update_user(org.id, user.id, &UserPatch { now: t(8), ..patch.clone() }, &ctx).await.unwrap(); // same name
    let one = s.insert_user_token(org.id, &new_token(user.id, signing_key.id, t(1), None)).await.unwrap();
    s.insert_user_token(org.id, &new_token(user.id, signing_key.id, t(2), None)).await.unwrap();
    s.revoke_user_token(org.id, one.id, t(9), &ctx).await.unwrap();
    s.revoke_user_token(org.id, one.id, t(10), &ctx).await.unwrap(); // already revoked
    assert_eq!(s.revoke_user_tokens(org.id, user.id, t(11), t(11), &ctx).await.unwrap(), 1);
    assert_eq!(s.revoke_user_tokens(org.id, user.id, t(11), t(12), &ctx).await.unwrap(), 0); // none left
    s.remove_member(org.id, member.id, &ctx).await.unwrap();
    s.delete_user(org.id, user.id, &ctx).await.unwrap();

    let events = all_events(s, org.id).await;
    assert_eq!(
        actions(&events),
        [
            "org.created",
            "member.added",
            "member.role_changed",
            "member.signed_in",
            "member.signed_out",
            "api_key.created",
            "api_key.revoked",
            "user.updated",
            "user_token.revoked",
            "user_tokens.revoked",
            "member.removed",
            "user.deleted",
        ]
    );
    assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), (1..=12).collect::<Vec<_>>());
    assert_eq!(events[0].prev_hash, GENESIS_HASH);
    assert_eq!(verify(&events), 12);
    assert_eq!(s.audit_head(org.id).await.unwrap(), Some((12, events[11].hash.clone())));

    assert_eq!(events[0].actor, Actor::cli("test"));
    let role = &events[2];
    assert_eq!((role.target.type_.as_str(), role.target.id.clone()), ("member", member.id.to_string()));
    assert_eq!(role.changes["role"], serde_json::json!({"old": "admin", "new": "viewer"}));
    assert_eq!(role.actor, ctx.actor);
    assert_eq!(
        (role.ip.as_deref(), role.user_agent.as_deref(), role.request_id.as_deref()),
        (Some("203.0.113.9"), Some("Firefox"), Some("req-1"))
    );
    assert_eq!(role.occurred_at, t(1));
    assert_eq!(events[5].changes["prefix"], "tsk_a1b2");
    assert_eq!(events[7].changes["fields"], serde_json::json!(["display_name"]));
    assert_eq!(events[9].changes["revoked"], 1);
    assert_eq!(events[11].changes["tokens_revoked"], 2);
    // What the rows hold survives a reading: the stored event hashes as it did when written.
    let listed = s.list_audit_events(org.id, &AuditQuery { limit: 200, ..AuditQuery::default() }).await.unwrap();
    assert_eq!(listed.iter().rev().cloned().collect::<Vec<_>>(), events);
}

/// Makes every insert of an `action` event fail, as a full disk or a lost connection would,
/// after the change's own statements have run in the transaction.
async fn refuse_events(db: &TestDb, action: &str) {
    match db.backend {
        Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(&db.fresh.url).await.unwrap();
            let sql = format!(
                "create trigger refuse_event before insert on audit_pending when new.action = '{action}' \
                 begin select raise(abort, 'injected failure'); end"
            );
            conn.execute(sql.as_str()).await.unwrap();
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&db.fresh.url).await.unwrap();
            conn.execute(
                "create function refuse_event() returns trigger language plpgsql as \
                 $$ begin raise exception 'injected failure'; end $$",
            )
            .await
            .unwrap();
            let sql = format!(
                "create trigger refuse_event before insert on audit_pending for each row \
                 when (new.action = '{action}') execute function refuse_event()"
            );
            conn.execute(sql.as_str()).await.unwrap();
        }
    }
}

async fn a_failure_after_the_change_leaves_neither_the_change_nor_its_event(db: &TestDb) {
    let s = db.store();
    let org = s.create_org(&new_org("acme"), &new_signing_key(), &audit()).await.unwrap();
    let member = s.create_member(org.id, &new_member("bob@example.com"), &audit()).await.unwrap();
    let key = s.create_api_key(org.id, &new_api_key("tsk_a1b2", t(1)), &audit()).await.unwrap();
    let (user, _) = s.upsert_user(org.id, &upsert("web", "u1", t(1))).await.unwrap();
    let before = all_events(s, org.id).await;
    for action in ["member.role_changed", "member.removed", "api_key.revoked", "user.deleted", "member.added"] {
        refuse_events(db, action).await;
        let outcome = match action {
            "member.role_changed" => s.change_member_role(org.id, member.id, Role::Owner, &audit()).await.map(drop),
            "member.removed" => s.remove_member(org.id, member.id, &audit()).await,
            "api_key.revoked" => s.revoke_api_key(org.id, &key.prefix, t(5), &audit()).await.map(drop),
            "user.deleted" => s.delete_user(org.id, user.id, &audit()).await.map(drop),
            _ => s.create_member(org.id, &new_member("carol@example.com"), &audit()).await.map(drop),
        };
        assert!(matches!(outcome, Err(Error::Storage(_))), "{action}: {outcome:?}");
        // Drop the trigger again (its name is reused by the next action).
        match db.backend {
            Backend::Sqlite => {
                let mut conn = sqlx::SqliteConnection::connect(&db.fresh.url).await.unwrap();
                conn.execute("drop trigger refuse_event").await.unwrap();
            }
            Backend::Postgres => {
                let mut conn = sqlx::PgConnection::connect(&db.fresh.url).await.unwrap();
                conn.execute("drop trigger refuse_event on audit_pending; drop function refuse_event()").await.unwrap();
            }
        }
    }
    let member_now = s.member_by_id(org.id, member.id).await.unwrap().expect("the member was not removed");
    assert_eq!(member_now.role, member.role, "the role change was rolled back");
    let keys = s.list_api_keys(org.id).await.unwrap();
    assert_eq!(keys[0].revoked_at, None, "the revocation was rolled back");
    assert!(s.user_by_id(org.id, user.id).await.unwrap().is_some(), "the deletion was rolled back");
    assert!(s.member_by_email(org.id, "carol@example.com").await.unwrap().is_none(), "the insert was rolled back");
    let after = all_events(s, org.id).await;
    assert_eq!(after, before, "no event was recorded");
    assert_eq!(s.audit_head(org.id).await.unwrap().map(|(seq, _)| seq), Some(before.len() as u64), "seq has no gap");
    // The next change records the next seq.
    s.change_member_role(org.id, member.id, Role::Viewer, &audit()).await.unwrap();
    let last = all_events(s, org.id).await.pop().unwrap();
    assert_eq!((last.seq, last.action.as_str()), (before.len() as u64 + 1, "member.role_changed"));
}

async fn seq_is_gapless_with_concurrent_writers_on_two_pools(db: &TestDb) {
    // 40 writers, each numbering after its change, half on each pool: two instances' numberers
    // race, and the log must still count 1..=41 with every event chained to the one before.
    let org = db.store().create_org(&new_org("acme"), &new_signing_key(), &audit()).await.unwrap();
    // A second pool on the same database, as a second instance would have.
    let other: Arc<dyn Store> = tessera_store::open(&db.fresh.url).await.unwrap();
    let stores = [db.store.clone(), other];
    let mut tasks = Vec::new();
    for i in 0..40 {
        let store = stores[i % 2].clone();
        tasks.push(tokio::spawn(async move {
            let email = format!("m{i}@example.com");
            let member = NewMember { email: Email::parse(&email).unwrap(), ..new_member("x@example.com") };
            store.create_member(org.id, &member, &audit()).await.unwrap();
            // Numbering from both pools at once, as every instance's numberer does.
            store.number_audit_events().await.unwrap();
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let events = all_events(db.store(), org.id).await;
    assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), (1..=41).collect::<Vec<_>>());
    assert_eq!(verify(&events), 41);
}

async fn retention_keeps_the_chain_verifiable_from_the_oldest_event_kept(db: &TestDb) {
    let s = db.store();
    let org =
        s.create_org(&new_org("acme"), &new_signing_key(), &AuditContext::new(Actor::cli("t"), t(0))).await.unwrap();
    let other =
        s.create_org(&new_org("beta"), &new_signing_key(), &AuditContext::new(Actor::cli("t"), t(0))).await.unwrap();
    for i in 1..10 {
        let ctx = AuditContext::new(Actor::system("test"), t(i * 10));
        let record = AuditRecord::org_created(org.id, "acme", &format!("rename {i}"));
        s.record_audit_event(org.id, &ctx, record).await.unwrap();
    }
    let head = s.audit_head(org.id).await.unwrap();
    // Events at t(0) … t(40) go (and beta's, at t(0)); t(50) … t(90) stay.
    assert_eq!(s.purge_audit_events(t(50)).await.unwrap(), 6);
    let kept = all_events(s, org.id).await;
    assert_eq!(kept.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![6, 7, 8, 9, 10]);
    assert_eq!(verify(&kept), 5);
    assert_eq!(s.audit_head(org.id).await.unwrap(), head, "the head survives retention");
    assert!(all_events(s, other.id).await.is_empty());
    // The chain goes on from the head, not from what is left.
    let next = s.record_audit_event(org.id, &audit(), AuditRecord::org_created(org.id, "acme", "x")).await.unwrap();
    assert_eq!((next.seq, next.prev_hash.as_str()), (11, head.unwrap().1.as_str()));
}

async fn events_are_filtered_and_paged_newest_first(db: &TestDb) {
    let s = db.store();
    let org =
        s.create_org(&new_org("acme"), &new_signing_key(), &AuditContext::new(Actor::cli("t"), t(0))).await.unwrap();
    let other = s.create_org(&new_org("beta"), &new_signing_key(), &audit()).await.unwrap();
    let ctx = AuditContext { now: t(10), ..member_context() };
    let bob = s.create_member(org.id, &new_member("bob@example.com"), &ctx).await.unwrap();
    s.change_member_role(org.id, bob.id, Role::Viewer, &AuditContext { now: t(20), ..ctx.clone() }).await.unwrap();
    let key = s
        .create_api_key(org.id, &new_api_key("tsk_a1b2", t(1)), &AuditContext::new(Actor::cli("t"), t(30)))
        .await
        .unwrap();
    s.create_member(other.id, &new_member("eve@example.com"), &ctx).await.unwrap();

    let query = |f: fn(&mut AuditQuery)| {
        let mut q = AuditQuery { limit: 50, ..AuditQuery::default() };
        f(&mut q);
        q
    };
    let list = |q: AuditQuery| async move { s.list_audit_events(org.id, &q).await.unwrap() };
    let seqs = |events: Vec<AuditEvent>| events.iter().map(|e| e.seq).collect::<Vec<_>>();

    assert_eq!(seqs(list(query(|_| {})).await), vec![4, 3, 2, 1], "newest first, one org only");
    assert_eq!(seqs(list(query(|q| q.action = Some("member.added".into()))).await), vec![2]);
    assert_eq!(seqs(list(query(|q| q.action = Some("member.*".into()))).await), vec![3, 2]);
    // `_` is not a wildcard: `api.key.` matches nothing.
    assert!(list(query(|q| q.action = Some("api.key.*".into()))).await.is_empty());
    assert_eq!(seqs(list(query(|q| q.action = Some("api_key.".into()))).await), vec![4]);
    assert_eq!(seqs(list(query(|q| q.actor = Some("ada@example.com".into()))).await), vec![3, 2]);
    let actor_id = ctx.actor.id.unwrap().to_string();
    let mut by_id = query(|_| {});
    by_id.actor = Some(actor_id);
    assert_eq!(seqs(list(by_id).await), vec![3, 2]);
    let mut by_target = query(|_| {});
    by_target.target = Some(bob.id.to_string());
    assert_eq!(seqs(list(by_target).await), vec![3, 2]);
    let mut by_key = query(|_| {});
    by_key.target = Some(key.id.to_string());
    assert_eq!(seqs(list(by_key).await), vec![4]);
    let mut window = query(|_| {});
    (window.since, window.until) = (Some(t(10)), Some(t(30)));
    assert_eq!(seqs(list(window).await), vec![3, 2], "since inclusive, until exclusive");
    let mut page = query(|_| {});
    page.limit = 2;
    assert_eq!(seqs(list(page.clone()).await), vec![4, 3]);
    page.before_seq = Some(3);
    assert_eq!(seqs(list(page).await), vec![2, 1]);
}

async fn the_first_run_records_the_owner_as_actor(db: &TestDb) {
    let s = db.store();
    let owner = NewMember { role: Role::Owner, ..new_member("ada@example.com") };
    let (org, member) =
        s.create_first_org(&new_org("acme"), &new_signing_key(), &owner, &member_context()).await.unwrap();
    let events = all_events(s, org.id).await;
    assert_eq!(actions(&events), ["org.created", "member.added"]);
    assert!(events.iter().all(|e| e.actor == Actor::member(&member)), "{events:?}");
    assert_eq!(events[0].ip.as_deref(), Some("203.0.113.9"));
}

async fn a_checkpoint_is_taken_once_a_day_from_the_head(db: &TestDb) {
    let s = db.store();
    let day = time::Duration::DAY.whole_seconds();
    // Seconds from the start of T0's UTC day.
    let t = |secs: i64| t(0).replace_time(time::Time::MIDNIGHT) + time::Duration::seconds(secs);
    let ctx = |at: i64| AuditContext::new(Actor::cli("t"), t(at));
    let org = s.create_org(&new_org("acme"), &new_signing_key(), &ctx(0)).await.unwrap();
    let other = s.create_org(&new_org("beta"), &new_signing_key(), &ctx(0)).await.unwrap();
    s.purge_audit_events(t(1)).await.unwrap();
    // An org whose log is empty (here: purged) still gets a checkpoint, of its head.
    let head = s.audit_head(org.id).await.unwrap().unwrap();
    let first = s.audit_checkpoint(org.id, t(10)).await.unwrap();
    assert_eq!((first.seq, first.hash.as_str(), first.taken_at), (head.0, head.1.as_str(), t(10)));

    // Later the same day: the same checkpoint, whatever was appended since.
    let rename = |name: &str| AuditRecord::org_created(org.id, "acme", name);
    let e2 = s.record_audit_event(org.id, &ctx(20), rename("two")).await.unwrap();
    assert_eq!(s.audit_checkpoint(org.id, t(day - 1)).await.unwrap(), first);
    // The next day: a new one, from the head then.
    let e3 = s.record_audit_event(org.id, &ctx(day), rename("three")).await.unwrap();
    let next = s.audit_checkpoint(org.id, t(day + 5)).await.unwrap();
    assert_eq!((next.seq, next.hash.as_str(), next.taken_at), (e3.seq, e3.hash.as_str(), t(day + 5)));
    assert!(e2.seq < e3.seq);
    // Each org has its own; one without events has seq 0 and the genesis hash.
    let fresh = s.create_org(&new_org("gamma"), &new_signing_key(), &ctx(0)).await.unwrap();
    assert_eq!(s.audit_checkpoint(other.id, t(10)).await.unwrap().seq, 1);
    let never = OrgId(id());
    let none = s.audit_checkpoint(never, t(10)).await.unwrap();
    assert_eq!((none.seq, none.hash.as_str()), (0, GENESIS_HASH));
    assert_eq!(s.audit_checkpoint(fresh.id, t(10)).await.unwrap().seq, 1);
}
