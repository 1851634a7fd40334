//! `tessera audit export|verify`: the export is JSON Lines, and verification names the first
//! event altered behind Tessera's back, in the database or in an export.

use sqlx::Connection;
use tessera_core::AuditEvent;

use super::{assert_ok, stderr, stdout, Cli};

/// Runs one statement on the CLI's SQLite file, as someone with access to the database could.
async fn tamper(cli: &Cli, sql: &str, binds: &[&str]) {
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", cli.db().display())).await.unwrap();
    let mut query = sqlx::query(sql);
    for bind in binds {
        query = query.bind(*bind);
    }
    let done = query.execute(&mut conn).await.unwrap();
    assert_eq!(done.rows_affected(), 1, "{sql}");
}

fn export(cli: &Cli) -> Vec<AuditEvent> {
    let out = cli.run(&["audit", "export", "--org", "acme"]);
    assert_ok(&out);
    stdout(&out).lines().map(|line| serde_json::from_str(line).unwrap()).collect()
}

#[track_caller]
fn assert_refused(o: &std::process::Output, needle: &str) {
    assert_eq!(o.status.code(), Some(1), "stdout: {}\nstderr: {}", stdout(o), stderr(o));
    assert!(stderr(o).contains(needle), "{needle:?} in {}", stderr(o));
}

#[tokio::test]
async fn verify_names_the_first_event_altered_in_the_database_or_in_an_export() {
    let cli = Cli::new();
    assert_ok(&cli.run(&["org", "create", "--slug", "acme", "--name", "Acme"]));
    let key = stdout(&cli.run(&["api-key", "create", "--org", "acme", "--name", "backend"])).trim().to_owned();
    let prefix = tessera_core::ApiKeySecret::parse(&key).unwrap().display_prefix();
    assert_ok(&cli.run(&["api-key", "revoke", "--org", "acme", "--prefix", &prefix]));

    let events = export(&cli);
    let actions: Vec<_> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["org.created", "api_key.created", "api_key.revoked"]);
    assert!(events.iter().all(|e| e.actor.type_ == tessera_core::ActorType::Cli), "{events:?}");
    let ok = cli.run(&["audit", "verify", "--org", "acme"]);
    assert_ok(&ok);
    assert!(stdout(&ok).contains("3 events"), "{}", stdout(&ok));

    // An export verifies on its own; an edited line is named.
    let file = cli.dir.path().join("events.jsonl");
    let lines: Vec<String> = events.iter().map(|e| serde_json::to_string(e).unwrap()).collect();
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    assert_ok(&cli.run(&["audit", "verify", "--org", "acme", "--file", file.to_str().unwrap()]));
    let edited = lines[1].replace("backend", "nothing to see");
    assert_ne!(edited, lines[1]);
    std::fs::write(&file, [lines[0].clone(), edited, lines[2].clone()].join("\n")).unwrap();
    assert_refused(
        &cli.run(&["audit", "verify", "--org", "acme", "--file", file.to_str().unwrap()]),
        "line 2: event seq 2",
    );

    // A row changed in the database: its hash no longer matches.
    tamper(&cli, "update audit_event set changes = replace(changes, 'backend', 'other') where seq = 2", &[]).await;
    assert_refused(&cli.run(&["audit", "verify", "--org", "acme"]), "event seq 2");

    // Changed with a recomputed hash: the next event no longer follows it.
    let mut forged = events[1].clone();
    forged.changes.insert("name".into(), "other".into());
    forged.hash = tessera_core::audit::event_hash(&forged);
    tamper(&cli, "update audit_event set hash = $1 where seq = 2", &[&forged.hash]).await;
    let out = cli.run(&["audit", "verify", "--org", "acme"]);
    assert_refused(&out, "event seq 3");
    assert!(stderr(&out).contains("does not follow"), "{}", stderr(&out));

    // The latest event removed: the rest verifies up to it, but the head knows better.
    let cli = Cli::new();
    assert_ok(&cli.run(&["org", "create", "--slug", "acme", "--name", "Acme"]));
    assert_ok(&cli.run(&["api-key", "create", "--org", "acme", "--name", "backend"]));
    // Reading the log numbers what the commands recorded (see `AuditStore::number_audit_events`).
    assert_ok(&cli.run(&["audit", "verify", "--org", "acme"]));
    tamper(&cli, "delete from audit_event where seq = 2", &[]).await;
    assert_refused(&cli.run(&["audit", "verify", "--org", "acme"]), "head records seq 2");
}

#[test]
fn export_and_verify_need_a_known_org() {
    let cli = Cli::new();
    assert_ok(&cli.run(&["org", "create", "--slug", "acme", "--name", "Acme"]));
    super::assert_one_line_error(&cli.run(&["audit", "export", "--org", "nobody"]), "not found");
    super::assert_one_line_error(&cli.run(&["audit", "verify", "--org", "nobody"]), "not found");
    let missing = cli.dir.path().join("missing.jsonl");
    super::assert_one_line_error(
        &cli.run(&["audit", "verify", "--org", "acme", "--file", missing.to_str().unwrap()]),
        "missing.jsonl",
    );
    let out = cli.run(&["audit", "export", "--org", "acme", "--since", "yesterday"]);
    assert_eq!(out.status.code(), Some(2), "a bad --since is a usage error: {}", stderr(&out));
}

#[tokio::test]
async fn a_saved_checkpoint_catches_a_history_rewritten_with_recomputed_hashes() {
    let cli = Cli::new();
    assert_ok(&cli.run(&["org", "create", "--slug", "acme", "--name", "Acme"]));
    assert_ok(&cli.run(&["api-key", "create", "--org", "acme", "--name", "backend"]));
    let saved = cli.dir.path().join("acme.jwt");
    let out = cli.run(&["audit", "checkpoint", "--org", "acme", "--public-url", "https://tessera.example"]);
    assert_ok(&out);
    std::fs::write(&saved, stdout(&out)).unwrap();
    assert_ok(&cli.run(&["api-key", "create", "--org", "acme", "--name", "later"]));
    let saved_arg = saved.to_str().unwrap();
    let ok = cli.run(&["audit", "verify", "--org", "acme", "--checkpoint", saved_arg]);
    assert_ok(&ok);
    assert!(
        stdout(&ok).contains("3 events") && stdout(&ok).contains("matching the checkpoint of seq 2"),
        "{}",
        stdout(&ok)
    );

    // Someone with write access rewrites event 2 and recomputes every hash after it, and the head:
    // the chain alone verifies again.
    let mut events = export(&cli);
    events[1].changes.insert("name".into(), "nothing to see".into());
    for i in 1..events.len() {
        events[i].prev_hash = events[i - 1].hash.clone();
        events[i].hash = tessera_core::audit::event_hash(&events[i]);
        let changes = serde_json::Value::Object(events[i].changes.clone()).to_string();
        let seq = events[i].seq.to_string();
        tamper(
            &cli,
            "update audit_event set changes = $1, prev_hash = $2, hash = $3 where seq = cast($4 as integer)",
            &[&changes, &events[i].prev_hash, &events[i].hash, &seq],
        )
        .await;
    }
    tamper(&cli, "update audit_head set hash = $1", &[&events[2].hash]).await;
    assert_ok(&cli.run(&["audit", "verify", "--org", "acme"]));

    // The saved checkpoint knows better, from the database and from an export.
    assert_refused(
        &cli.run(&["audit", "verify", "--org", "acme", "--checkpoint", saved_arg]),
        "event seq 2 does not match",
    );
    let file = cli.dir.path().join("rewritten.jsonl");
    std::fs::write(&file, stdout(&cli.run(&["audit", "export", "--org", "acme"]))).unwrap();
    let from_file =
        cli.run(&["audit", "verify", "--org", "acme", "--file", file.to_str().unwrap(), "--checkpoint", saved_arg]);
    assert_refused(&from_file, "history before the checkpoint was rewritten");

    // A file that is not this org's checkpoint is refused, naming the file.
    let bogus = cli.dir.path().join("bogus.jwt");
    std::fs::write(&bogus, "eyJhbGciOiJub25lIn0.e30.").unwrap();
    assert_refused(
        &cli.run(&["audit", "verify", "--org", "acme", "--checkpoint", bogus.to_str().unwrap()]),
        "is not an audit checkpoint signed by this org's keys",
    );
}
