//! The `tessera` CLI contract, run as a real process against a real SQLite file: what goes to
//! stdout and stderr, exit codes, and that the API key exists only on the creator's stdout.

mod audit;
mod durability;
mod limits;
mod metrics;
mod settings;
mod shutdown;

use std::path::Path;
use std::process::{Command, Output};

struct Cli {
    dir: tempfile::TempDir,
}

impl Cli {
    fn new() -> Self {
        Self { dir: tempfile::tempdir().unwrap() }
    }

    fn db(&self) -> std::path::PathBuf {
        self.dir.path().join("tessera.db")
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_env(args, &[])
    }

    fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tessera"));
        cmd.args(args)
            .env("TESSERA_DATABASE_URL", format!("sqlite://{}", self.db().display()))
            .env("TESSERA_DATA_DIR", self.dir.path().join("data"))
            .env_remove("TESSERA_MASTER_KEY")
            .env_remove("TESSERA_MEMBER_PASSWORD")
            // The default log filter and colour choice, whatever the caller's environment says.
            .env_remove("RUST_LOG")
            .env_remove("NO_COLOR")
            .stdin(std::process::Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

#[track_caller]
fn assert_ok(o: &Output) {
    assert!(o.status.success(), "exit {:?}\nstdout: {}\nstderr: {}", o.status, stdout(o), stderr(o));
}

#[track_caller]
fn assert_one_line_error(o: &Output, needle: &str) {
    assert_eq!(o.status.code(), Some(1), "stderr: {}", stderr(o));
    let err = stderr(o);
    let lines: Vec<_> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(lines.len(), 1, "one error line: {err}");
    assert!(lines[0].contains(needle), "{err}");
}

fn file_contains(path: &Path, needle: &str) -> bool {
    let mut found = false;
    for p in [path.to_path_buf(), path.with_extension("db-wal")] {
        if let Ok(bytes) = std::fs::read(&p) {
            found |= bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
        }
    }
    found
}

#[test]
fn api_key_create_prints_the_key_alone_and_stores_only_its_hash() {
    let cli = Cli::new();
    let org = cli.run(&["org", "create", "--slug", "acme", "--name", "Acme Inc."]);
    assert_ok(&org);
    assert_eq!(stdout(&org), "acme\n");
    assert!(stderr(&org).contains("/o/acme/.well-known/jwks.json"));

    let created = cli.run(&["api-key", "create", "--org", "acme", "--name", "backend"]);
    assert_ok(&created);
    let out = stdout(&created);
    let key = out.trim_end();
    assert_eq!(out.lines().count(), 1, "only the key on stdout: {out:?}");
    let parsed = tessera_core::ApiKeySecret::parse(key).expect("a well-formed key");
    assert!(stderr(&created).contains(&parsed.display_prefix()));
    assert!(!stderr(&created).contains(key), "the key is not repeated on stderr");
    assert!(!file_contains(&cli.db(), key), "the plaintext key is not in the database");

    let listed = cli.run(&["api-key", "list", "--org", "acme"]);
    assert_ok(&listed);
    let table = stdout(&listed);
    assert!(
        table.contains(&parsed.display_prefix()) && table.contains("active") && table.contains("backend"),
        "{table}"
    );
    assert!(!table.contains(key));

    let revoked = cli.run(&["api-key", "revoke", "--org", "acme", "--prefix", &parsed.display_prefix()]);
    assert_ok(&revoked);
    let table = stdout(&cli.run(&["api-key", "list", "--org", "acme"]));
    assert!(table.contains("revoked"), "{table}");
}

#[test]
fn logs_to_a_pipe_carry_no_colour_codes() {
    // `output()` pipes stderr, as a log file or journald would take it: not a terminal.
    let created = Cli::new().run(&["org", "create", "--slug", "acme", "--name", "Acme"]);
    assert_ok(&created);
    let err = stderr(&created);
    assert!(err.contains("INFO") && err.contains("generated a new master key"), "a log line: {err:?}");
    assert!(!err.contains("\x1b["), "no ANSI escape sequences: {err:?}");
}

#[test]
fn errors_are_one_line_and_exit_non_zero() {
    let cli = Cli::new();
    assert_ok(&cli.run(&["org", "create", "--slug", "acme", "--name", "Acme"]));
    assert_one_line_error(&cli.run(&["org", "create", "--slug", "acme", "--name", "Again"]), "already exists");
    assert_one_line_error(&cli.run(&["org", "create", "--slug", "Bad Slug", "--name", "X"]), "slug");
    assert_one_line_error(&cli.run(&["api-key", "list", "--org", "nobody"]), "not found");
    assert_one_line_error(&cli.run(&["api-key", "revoke", "--org", "acme", "--prefix", "short"]), "prefix");
    assert_one_line_error(&cli.run(&["api-key", "revoke", "--org", "acme", "--prefix", "AAAAAAAA"]), "not found");
    assert_one_line_error(
        &cli.run(&["migrate", "--database-url", "mysql://u:hunter2@db/x"]),
        "unsupported database URL",
    );
    let leaked = cli.run(&["migrate", "--database-url", "mysql://u:hunter2@db/x"]);
    assert!(!stderr(&leaked).contains("hunter2"), "passwords in URLs are redacted");
}

#[test]
fn member_add_takes_the_password_from_the_environment_never_from_argv() {
    let cli = Cli::new();
    assert_ok(&cli.run(&["org", "create", "--slug", "acme", "--name", "Acme"]));
    let no_tty = cli.run(&["member", "add", "--org", "acme", "--email", "ada@example.com", "--role", "owner"]);
    assert_one_line_error(&no_tty, "TESSERA_MEMBER_PASSWORD");
    let short = cli.run_env(
        &["member", "add", "--org", "acme", "--email", "ada@example.com", "--role", "owner"],
        &[("TESSERA_MEMBER_PASSWORD", "short")],
    );
    assert_one_line_error(&short, "at least 12");
    let pw = "correct horse battery staple";
    let added = cli.run_env(
        &["member", "add", "--org", "acme", "--email", "Ada@Example.com", "--role", "admin"],
        &[("TESSERA_MEMBER_PASSWORD", pw)],
    );
    assert_ok(&added);
    assert!(stderr(&added).contains("ada@example.com") && stderr(&added).contains("admin"));
    assert!(!file_contains(&cli.db(), pw), "only the argon2id hash is stored");
    assert!(file_contains(&cli.db(), "$argon2id$"));
    let again = cli.run_env(
        &["member", "add", "--org", "acme", "--email", "ada@example.com", "--role", "viewer"],
        &[("TESSERA_MEMBER_PASSWORD", pw)],
    );
    assert_eq!(again.status.code(), Some(1));
    let bad_role = cli.run(&["member", "add", "--org", "acme", "--email", "b@example.com", "--role", "root"]);
    assert!(!bad_role.status.success());
    assert!(stderr(&bad_role).contains("owner, admin, viewer"));
}

#[test]
fn every_command_has_help_and_migrate_is_idempotent() {
    let cli = Cli::new();
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["migrate", "--help"],
        vec!["org", "create", "--help"],
        vec!["member", "add", "--help"],
        vec!["api-key", "create", "--help"],
        vec!["api-key", "list", "--help"],
        vec!["api-key", "revoke", "--help"],
    ] {
        let o = cli.run(&args);
        assert_ok(&o);
        assert!(stdout(&o).contains("--database-url"), "{args:?}: {}", stdout(&o));
    }
    let applied = |o: &Output| -> usize {
        let err = stderr(o);
        let n = err.split('(').nth(1).and_then(|rest| rest.split(' ').next()).and_then(|n| n.parse().ok());
        n.unwrap_or_else(|| panic!("no migration count in {err:?}"))
    };
    let first = cli.run(&["migrate"]);
    assert_ok(&first);
    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations/sqlite")).unwrap().count();
    assert_eq!(applied(&first), migrations, "a new database gets every migration");
    let second = cli.run(&["migrate"]);
    assert_ok(&second);
    assert_eq!(applied(&second), 0, "a second run applies nothing");
}
