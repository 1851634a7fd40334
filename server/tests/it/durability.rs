//! Durability under SIGKILL: every token whose issuing request got a 200 is in the database after
//! the server is killed mid-load and started again (issue 4: "a crash loses no token that a
//! client received"). Runs on SQLite, and on PostgreSQL when `TESSERA_TEST_POSTGRES_URL` names a
//! server where databases may be created.

use std::io::Read;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Concurrent clients issuing tokens when the server is killed.
const CLIENTS: usize = 16;
/// Tokens that must have been answered 200 before the kill, so that it lands mid-load.
const ANSWERED_BEFORE_KILL: usize = 400;

#[test]
fn sqlite_keeps_every_answered_token_across_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("tessera.db").display());
    keeps_every_answered_token_across_sigkill(&url, dir.path());
}

#[test]
fn postgres_keeps_every_answered_token_across_sigkill() {
    let Some(db) = tessera_testdb::TestDatabase::postgres() else {
        eprintln!("!!! {} is unset: the PostgreSQL SIGKILL test is SKIPPED !!!", tessera_testdb::POSTGRES_URL_VAR);
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    keeps_every_answered_token_across_sigkill(&db.url, dir.path());
}

fn keeps_every_answered_token_across_sigkill(database_url: &str, dir: &std::path::Path) {
    let cli = |args: &[&str]| {
        let out = tessera(database_url, dir).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    cli(&["org", "create", "--slug", "acme", "--name", "Acme"]);
    let key = cli(&["api-key", "create", "--org", "acme", "--name", "load"]);

    let mut server = Server::start(database_url, dir);
    let user: serde_json::Value = server.post("/v1/users", &key, r#"{"platform":"web","account":"u1"}"#);
    let user_id = user["id"].as_str().expect("user id").to_owned();

    // Clients issue tokens as fast as they can and keep every token answered with a 200.
    let answered = Arc::new(Mutex::new(Vec::<String>::new()));
    let count = Arc::new(AtomicUsize::new(0));
    let killed = Arc::new(AtomicBool::new(false));
    let body = format!(r#"{{"user":"{user_id}","ttl_seconds":3600}}"#);
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (answered, count, killed) = (answered.clone(), count.clone(), killed.clone());
            let (base, key, body) = (server.base.clone(), key.clone(), body.clone());
            std::thread::spawn(move || {
                let agent = agent();
                let mut after_kill_errors = 0;
                loop {
                    match agent
                        .post(&format!("{base}/v1/user-tokens"))
                        .set("Authorization", &format!("Bearer {key}"))
                        .set("Content-Type", "application/json")
                        .send_string(&body)
                    {
                        Ok(resp) => {
                            assert_eq!(resp.status(), 201, "a token is issued with 201");
                            let v: serde_json::Value = serde_json::from_str(&resp.into_string().unwrap()).unwrap();
                            answered.lock().unwrap().push(v["user_token"].as_str().unwrap().to_owned());
                            count.fetch_add(1, Ordering::Relaxed);
                        }
                        // Before the kill nothing may fail; after it, requests fail until the
                        // client notices and stops.
                        Err(e) => {
                            assert!(killed.load(Ordering::SeqCst), "a request failed before the kill: {e}");
                            after_kill_errors += 1;
                            if after_kill_errors > 2 {
                                return;
                            }
                        }
                    }
                }
            })
        })
        .collect();

    let deadline = Instant::now() + Duration::from_secs(60);
    while count.load(Ordering::Relaxed) < ANSWERED_BEFORE_KILL {
        assert!(Instant::now() < deadline, "only {} tokens in 60 s", count.load(Ordering::Relaxed));
        std::thread::sleep(Duration::from_millis(5));
    }
    killed.store(true, Ordering::SeqCst);
    server.kill(); // SIGKILL, mid-load: requests are in flight
    for c in clients {
        c.join().expect("client thread");
    }
    let answered = std::mem::take(&mut *answered.lock().unwrap());
    assert!(answered.len() >= ANSWERED_BEFORE_KILL);

    // Started again on the same database, the server knows every token it answered with 200.
    let server = Server::start(database_url, dir);
    let mut inactive = 0;
    for token in &answered {
        let v: serde_json::Value =
            server.post("/v1/tokens/introspect", &key, &serde_json::json!({ "token": token }).to_string());
        if v["active"] != serde_json::Value::Bool(true) {
            inactive += 1;
        }
    }
    assert_eq!(inactive, 0, "{inactive} of {} answered tokens were lost by the crash", answered.len());
    let listed: serde_json::Value = server.get(&format!("/v1/users/{user_id}/tokens?limit=1"), &key);
    assert!(listed["data"].as_array().is_some_and(|d| d.len() == 1), "the user's tokens are listed: {listed}");
}

/// The `tessera` binary with its database and data directory set.
pub(crate) fn tessera(database_url: &str, dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tessera"));
    cmd.env("TESSERA_DATABASE_URL", database_url)
        // Fixed, because issuers derive from it and the restarted server listens on another port.
        .env("TESSERA_PUBLIC_URL", "http://tessera.test")
        .env("TESSERA_DATA_DIR", dir.join("data"))
        .env_remove("TESSERA_MASTER_KEY")
        .stdin(Stdio::null());
    cmd
}

/// A client that opens a connection per request (keeps none idle: a kept-alive connection would
/// hold a slot under the server's connection cap).
pub(crate) fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new().timeout(Duration::from_secs(10)).max_idle_connections(0).build()
}

/// A running `tessera serve` on a free port.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) base: String,
    /// `127.0.0.1:{port}`.
    pub(crate) addr: String,
    agent: ureq::Agent,
}

impl Server {
    pub(crate) fn start(database_url: &str, dir: &std::path::Path) -> Self {
        Self::start_with(database_url, dir, &[])
    }

    /// Started with these extra environment variables (settings).
    pub(crate) fn start_with(database_url: &str, dir: &std::path::Path, env: &[(&str, &str)]) -> Self {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let addr = format!("127.0.0.1:{port}");
        let child = tessera(database_url, dir)
            .args(["serve", "--listen", &addr])
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut server = Self { child, base: format!("http://{addr}"), addr, agent: agent() };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if server.agent.get(&format!("{}/readyz", server.base)).call().is_ok() {
                return server;
            }
            if let Some(status) = server.child.try_wait().unwrap() {
                let mut err = String::new();
                server.child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
                panic!("tessera serve exited with {status}: {err}");
            }
            assert!(Instant::now() < deadline, "tessera serve did not become ready in 30 s");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The JSON body of a successful POST; panics on any failure.
    pub(crate) fn post(&self, path: &str, key: &str, body: &str) -> serde_json::Value {
        let resp = self
            .agent
            .post(&format!("{}{path}", self.base))
            .set("Authorization", &format!("Bearer {key}"))
            .set("Content-Type", "application/json")
            .send_string(body)
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        serde_json::from_str(&resp.into_string().unwrap()).unwrap()
    }

    /// The JSON body of a successful GET; panics on any failure.
    fn get(&self, path: &str, key: &str) -> serde_json::Value {
        let resp = self
            .agent
            .get(&format!("{}{path}", self.base))
            .set("Authorization", &format!("Bearer {key}"))
            .call()
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        serde_json::from_str(&resp.into_string().unwrap()).unwrap()
    }

    /// SIGKILL (`Child::kill` on Unix), then reap.
    fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
