//! SIGTERM under load (issue 14, "Shutdown and faults"): tessera takes no new connection, answers
//! every request in flight, commits the pending token rows and exits 0 within the shutdown
//! deadline; past the deadline it exits non-zero, saying so.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::durability::{agent, tessera, Server};

/// Concurrent clients issuing tokens when SIGTERM comes.
const CLIENTS: usize = 16;
/// Tokens answered 201 before the signal, so that it lands mid-load.
const ANSWERED_BEFORE_SIGNAL: usize = 300;

fn sigterm(server: &Server) {
    let status = std::process::Command::new("kill").args(["-TERM", &server.child.id().to_string()]).status().unwrap();
    assert!(status.success());
}

/// Waits at most `limit` for the server to exit; its status and stderr.
fn wait_for_exit(server: &mut Server, limit: Duration) -> (std::process::ExitStatus, String) {
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "tessera had not exited {limit:?} after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    server.child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    (status, err)
}

/// The outcome of one request of a load client.
enum Sent {
    /// 201, with the token.
    Issued(String),
    /// The connection was refused: tessera had stopped accepting; nothing was sent.
    Refused,
    /// Anything else: the request was cut or failed.
    Failed(String),
}

fn issue(agent: &ureq::Agent, base: &str, key: &str, body: &str) -> Sent {
    let sent = agent
        .post(&format!("{base}/v1/user-tokens"))
        .set("Authorization", &format!("Bearer {key}"))
        .set("Content-Type", "application/json")
        .send_string(body);
    match sent {
        Ok(resp) if resp.status() == 201 => match resp.into_string() {
            Ok(text) => match serde_json::from_str::<serde_json::Value>(&text) {
                Ok(v) => Sent::Issued(v["user_token"].as_str().unwrap_or_default().to_owned()),
                Err(e) => Sent::Failed(format!("a 201 with a cut body ({e}): {text:?}")),
            },
            Err(e) => Sent::Failed(format!("a 201 whose body could not be read: {e}")),
        },
        Ok(resp) => Sent::Failed(format!("status {}", resp.status())),
        Err(ureq::Error::Status(status, resp)) => {
            Sent::Failed(format!("status {status}: {}", resp.into_string().unwrap_or_default()))
        }
        Err(ureq::Error::Transport(t)) => {
            let refused = t.kind() == ureq::ErrorKind::ConnectionFailed
                && std::error::Error::source(&t)
                    .and_then(|s| s.downcast_ref::<std::io::Error>())
                    .is_some_and(|e| e.kind() == std::io::ErrorKind::ConnectionRefused);
            if refused {
                Sent::Refused
            } else {
                Sent::Failed(format!("transport error: {t}"))
            }
        }
    }
}

/// Creates the org `acme` with the CLI; its new API key.
fn org_and_key(url: &str, dir: &std::path::Path) -> String {
    let cli = |args: &[&str]| {
        let out = tessera(url, dir).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    cli(&["org", "create", "--slug", "acme", "--name", "Acme"]);
    cli(&["api-key", "create", "--org", "acme", "--name", "load"])
}

#[test]
fn sigterm_under_load_answers_every_request_keeps_every_token_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("tessera.db").display());
    let key = org_and_key(&url, dir.path());
    let mut server = Server::start_with(&url, dir.path(), &[("TESSERA_SHUTDOWN_TIMEOUT_SECONDS", "10")]);
    let user = server.post("/v1/users", &key, r#"{"platform":"web","account":"u1"}"#);
    let body = format!(r#"{{"user":"{}","ttl_seconds":3600}}"#, user["id"].as_str().expect("user id"));

    // Each client issues tokens back to back, each on a new connection, until it is refused.
    let issued = Arc::new(Mutex::new(Vec::<String>::new()));
    let failed = Arc::new(Mutex::new(Vec::<String>::new()));
    let count = Arc::new(AtomicUsize::new(0));
    let signalled = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (issued, failed, count, signalled) = (issued.clone(), failed.clone(), count.clone(), signalled.clone());
            let (base, key, body) = (server.base.clone(), key.clone(), body.clone());
            std::thread::spawn(move || {
                let agent = agent();
                let stop = Instant::now() + Duration::from_secs(60);
                while Instant::now() < stop {
                    match issue(&agent, &base, &key, &body) {
                        Sent::Issued(token) => {
                            issued.lock().unwrap().push(token);
                            count.fetch_add(1, Ordering::Relaxed);
                        }
                        Sent::Refused if signalled.load(Ordering::SeqCst) => return,
                        Sent::Refused => failed.lock().unwrap().push("refused before the signal".into()),
                        Sent::Failed(why) => failed.lock().unwrap().push(why),
                    }
                }
                failed.lock().unwrap().push("still answered 60 s on".into());
            })
        })
        .collect();

    let deadline = Instant::now() + Duration::from_secs(60);
    while count.load(Ordering::Relaxed) < ANSWERED_BEFORE_SIGNAL {
        assert!(Instant::now() < deadline, "only {} tokens in 60 s", count.load(Ordering::Relaxed));
        assert!(failed.lock().unwrap().is_empty(), "before the signal: {:?}", failed.lock().unwrap());
        std::thread::sleep(Duration::from_millis(5));
    }
    signalled.store(true, Ordering::SeqCst);
    let at_signal = count.load(Ordering::Relaxed);
    sigterm(&server);
    let (status, log) = wait_for_exit(&mut server, Duration::from_secs(20));
    for c in clients {
        c.join().expect("client thread");
    }
    let failed = std::mem::take(&mut *failed.lock().unwrap());
    let issued = std::mem::take(&mut *issued.lock().unwrap());
    assert!(failed.is_empty(), "{} requests cut or failed: {:?}", failed.len(), &failed[..failed.len().min(5)]);
    assert_eq!(status.code(), Some(0), "exit status after SIGTERM; log:\n{log}");
    assert!(log.contains("shutting down") && log.contains("stopped"), "{log}");
    eprintln!("{} tokens issued, {at_signal} of them before SIGTERM", issued.len());

    // Started again on the same database, every token answered 201 is active.
    let server = Server::start(&url, dir.path());
    let inactive = issued
        .iter()
        .filter(|token| {
            let v = server.post("/v1/tokens/introspect", &key, &serde_json::json!({ "token": token }).to_string());
            v["active"] != serde_json::Value::Bool(true)
        })
        .count();
    assert_eq!(inactive, 0, "{inactive} of {} tokens answered 201 are not active after the restart", issued.len());
}

#[test]
fn a_request_still_running_at_the_shutdown_deadline_makes_tessera_exit_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("tessera.db").display());
    let key = org_and_key(&url, dir.path());
    let mut server = Server::start_with(
        &url,
        dir.path(),
        &[("TESSERA_SHUTDOWN_TIMEOUT_SECONDS", "1"), ("TESSERA_REQUEST_TIMEOUT_SECONDS", "30")],
    );
    // A request whose body never comes: in flight until the 30 s request timeout.
    let mut stuck = TcpStream::connect(&server.addr).unwrap();
    let head = format!(
        "POST /v1/users HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\n\
         Content-Length: 100\r\n\r\n{{\"pla"
    );
    stuck.write_all(head.as_bytes()).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let signalled = Instant::now();
    sigterm(&server);
    let (status, log) = wait_for_exit(&mut server, Duration::from_secs(10));
    let took = signalled.elapsed();
    assert_eq!(status.code(), Some(1), "exit status past the deadline; log:\n{log}");
    assert!(log.contains("shutdown deadline"), "the log says why: {log}");
    assert!(took >= Duration::from_millis(900) && took < Duration::from_secs(5), "exited {took:?} after SIGTERM");
}
