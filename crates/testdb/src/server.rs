//! A PostgreSQL server of one test's own ([`PgServer`]): `initdb` into a temporary folder, its
//! own port on 127.0.0.1 and its unix socket in that folder, so a test may stop and start it (a
//! database outage) without disturbing any other test or the machine's own server.
//!
//! The binaries are the machine's (`initdb`, `pg_ctl`, `postgres`; PostgreSQL 15 from Debian
//! lives in `/usr/lib/postgresql/15/bin`). PostgreSQL refuses to run as root, so when the test
//! runs as root every command runs as the `postgres` user (`runuser -u postgres`), in a folder
//! handed over to that user.

use std::net::TcpListener;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

/// Environment variable naming the folder of `initdb` and `pg_ctl`, when they are not in
/// [`DEFAULT_BIN_DIRS`].
pub const POSTGRES_BIN_VAR: &str = "TESSERA_TEST_POSTGRES_BIN";

/// Where Debian and Ubuntu install PostgreSQL's server binaries, newest version tried first
/// after 15 (the version CI has).
pub const DEFAULT_BIN_DIRS: [&str; 5] = [
    "/usr/lib/postgresql/15/bin",
    "/usr/lib/postgresql/17/bin",
    "/usr/lib/postgresql/16/bin",
    "/usr/lib/postgresql/14/bin",
    "/usr/lib/postgresql/13/bin",
];

/// The user PostgreSQL's commands run as when the test runs as root.
const SERVER_USER: &str = "postgres";

/// The folder holding `initdb` and `pg_ctl`: [`POSTGRES_BIN_VAR`] if set, else the first of
/// [`DEFAULT_BIN_DIRS`] that has both, else the folder `pg_config --bindir` names. `None` when
/// there is none (PostgreSQL's server is not installed).
pub fn postgres_bin_dir() -> Option<PathBuf> {
    let has_both = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(dir) = std::env::var_os(POSTGRES_BIN_VAR) {
        return Some(PathBuf::from(dir)).filter(|d| has_both(d));
    }
    if let Some(dir) = DEFAULT_BIN_DIRS.iter().map(PathBuf::from).find(|d| has_both(d)) {
        return Some(dir);
    }
    let out = Command::new("pg_config").arg("--bindir").output().ok()?;
    let dir = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    has_both(&dir).then_some(dir)
}

/// A running (or stopped) PostgreSQL server of its own in a temporary folder, with user
/// `postgres` allowed in without a password (`trust`) on 127.0.0.1 and its socket. Stopped
/// (`pg_ctl stop -m immediate`) and deleted when dropped.
pub struct PgServer {
    bin: PathBuf,
    /// Holds `data/` (the cluster), `socket/` and `server.log`.
    dir: TempDir,
    port: u16,
    /// `Some("postgres")` when commands must run as that user (the test runs as root).
    run_as: Option<&'static str>,
}

/// Why a [`PgServer`] could not be made, started or stopped: the command and what it printed.
#[derive(Debug)]
pub struct ServerError(pub String);

impl std::fmt::Display for ServerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ServerError {}

impl PgServer {
    /// Creates a cluster (`initdb`) in a new temporary folder and starts it on a free port.
    /// `None` when PostgreSQL's binaries are not installed ([`postgres_bin_dir`]).
    ///
    /// # Errors
    /// A command failed (its output is in the message), or the folder cannot be made or handed
    /// to the `postgres` user.
    pub fn start_new() -> Option<Result<Self, ServerError>> {
        let bin = postgres_bin_dir()?;
        Some(Self::init(bin).and_then(|server| server.start().map(|()| server)))
    }

    fn init(bin: PathBuf) -> Result<Self, ServerError> {
        let io = |what: &str, e: std::io::Error| ServerError(format!("{what}: {e}"));
        let dir = tempfile::Builder::new().prefix("tessera-pg-").tempdir().map_err(|e| io("temporary folder", e))?;
        let run_as =
            (std::fs::metadata(dir.path()).map_err(|e| io("temporary folder", e))?.uid() == 0).then_some(SERVER_USER);
        std::fs::create_dir(dir.path().join("socket")).map_err(|e| io("socket folder", e))?;
        if let Some(user) = run_as {
            let (uid, gid) = user_ids(user)?;
            for path in [dir.path().to_owned(), dir.path().join("socket")] {
                std::os::unix::fs::chown(&path, Some(uid), Some(gid)).map_err(|e| io("hand the folder over", e))?;
            }
        }
        let port = free_port().map_err(|e| io("a free port", e))?;
        let server = Self { bin, dir, port, run_as };
        let data = server.data_dir();
        server.run(
            "initdb",
            &[
                "-D",
                path_str(&data),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-sync",
                "--no-instructions",
            ],
        )?;
        Ok(server)
    }

    /// Starts the server (again) on its port and waits until it accepts connections
    /// (`pg_ctl start -w`). `fsync` is off: the server holds throwaway data.
    ///
    /// # Errors
    /// `pg_ctl` failed; its output and the server log's end are in the message.
    pub fn start(&self) -> Result<(), ServerError> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100",
            self.port,
            path_str(&self.dir.path().join("socket"))
        );
        let data = self.data_dir();
        let log = self.dir.path().join("server.log");
        self.run("pg_ctl", &["-D", path_str(&data), "-l", path_str(&log), "-o", &options, "-w", "-t", "60", "start"])
            .map_err(|e| ServerError(format!("{e}\nserver log:\n{}", self.log_tail())))
    }

    /// Stops the server with `pg_ctl stop -m {mode}` (`fast`: sessions are ended, or `immediate`:
    /// the server quits at once, as in a crash) and waits until it is gone.
    ///
    /// # Errors
    /// `pg_ctl` failed.
    pub fn stop(&self, mode: &str) -> Result<(), ServerError> {
        let data = self.data_dir();
        self.run("pg_ctl", &["-D", path_str(&data), "-m", mode, "-w", "-t", "60", "stop"])
    }

    /// The server's port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of database `name` as user `postgres` over TCP on 127.0.0.1, e.g.
    /// `postgres://postgres@127.0.0.1:40123/postgres`.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// The last 40 lines of the server's log, for failure messages.
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Runs `program` of the server's binaries with `args`, as [`SERVER_USER`] if needed.
    fn run(&self, program: &str, args: &[&str]) -> Result<(), ServerError> {
        let program_path = self.bin.join(program);
        let mut command = match self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&program_path);
                c
            }
            None => Command::new(&program_path),
        };
        // The server must not inherit the test's locale settings that `initdb` may not know.
        command.args(args).env("LC_ALL", "C").current_dir(self.dir.path());
        let out = command.output().map_err(|e| ServerError(format!("{}: {e}", program_path.display())))?;
        if out.status.success() {
            return Ok(());
        }
        Err(ServerError(format!(
            "{} {} failed ({}):\n{}{}",
            program_path.display(),
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )))
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        // Best effort; an already stopped server makes this fail, which is fine.
        let _ = self.stop("immediate");
    }
}

/// A port on 127.0.0.1 that nothing listens on right now.
fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// `user`'s uid and gid, from `/etc/passwd`.
fn user_ids(user: &str) -> Result<(u32, u32), ServerError> {
    let passwd = std::fs::read_to_string("/etc/passwd").map_err(|e| ServerError(format!("/etc/passwd: {e}")))?;
    passwd
        .lines()
        .map(|line| line.split(':').collect::<Vec<_>>())
        .find(|fields| fields.first() == Some(&user))
        .and_then(|fields| Some((fields.get(2)?.parse().ok()?, fields.get(3)?.parse().ok()?)))
        .ok_or_else(|| {
            ServerError(format!("running as root, PostgreSQL's commands need the user `{user}`, which does not exist"))
        })
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_of_its_own_starts_stops_and_starts_again() {
        let Some(server) = PgServer::start_new() else {
            eprintln!("PostgreSQL's server binaries are not installed (set {POSTGRES_BIN_VAR}): skipped");
            return;
        };
        let server = server.unwrap();
        let url = server.url("postgres");
        assert!(crate::admin_sql(&url, "select 1").is_ok(), "cannot connect to {url}\n{}", server.log_tail());
        server.stop("fast").unwrap();
        assert!(crate::admin_sql(&url, "select 1").is_err(), "{url} still answers after stop");
        server.start().unwrap();
        assert!(crate::admin_sql(&url, "select 1").is_ok(), "cannot connect to {url} after start");
    }
}
