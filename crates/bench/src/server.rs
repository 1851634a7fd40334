//! Child processes: the `tessera` CLI commands, `tessera serve` and `tessera-bench hello`, free
//! ports in 127.0.0.1:4000–4099, and waiting for readiness. Children are killed when dropped.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{bail, Context};
use tokio::process::{Child, Command};
use tokio::time::Instant;

use crate::load::{Connection, RequestSpec, Target};

/// The ports the benchmark may use: 127.0.0.1:4000–4099.
pub const PORTS: std::ops::Range<u16> = 4000..4100;
/// Longest wait for a server to answer its readiness check, in seconds.
const READY_TIMEOUT_SECS: u64 = 60;

/// A free port on 127.0.0.1 in [`PORTS`], skipping `taken`.
///
/// # Errors
/// Every port of the range is in use.
pub fn free_port(taken: &[u16]) -> anyhow::Result<SocketAddr> {
    for port in PORTS.filter(|port| !taken.contains(port)) {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        if TcpListener::bind(addr).is_ok() {
            return Ok(addr);
        }
    }
    bail!("no free port in 127.0.0.1:{}–{}", PORTS.start, PORTS.end - 1)
}

/// Binds a listener on the lowest free port of [`PORTS`] (no window for another process to take
/// the port between choosing and binding).
///
/// # Errors
/// Every port of the range is in use.
pub async fn bind_free_port() -> anyhow::Result<tokio::net::TcpListener> {
    for port in PORTS {
        if let Ok(listener) = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await {
            return Ok(listener);
        }
    }
    bail!("no free port in 127.0.0.1:{}–{}", PORTS.start, PORTS.end - 1)
}

/// A port of [`PORTS`] that nothing listens on, searched from the top so that it stays clear of
/// [`bind_free_port`] (for tests of refused connections).
pub fn unused_port() -> anyhow::Result<SocketAddr> {
    let taken: Vec<u16> = PORTS.take(PORTS.len() - 1).collect();
    let top = SocketAddr::from((Ipv4Addr::LOCALHOST, PORTS.end - 1));
    if TcpListener::bind(top).is_ok() {
        return Ok(top);
    }
    free_port(&taken).or_else(|_| free_port(&[]))
}

/// How to run the `tessera` binary against one database.
#[derive(Debug, Clone)]
pub struct Tessera {
    /// The binary.
    pub binary: PathBuf,
    /// `--database-url`.
    pub database_url: String,
    /// `--data-dir` (holds the generated master key, shared by every command of the run).
    pub data_dir: PathBuf,
}

impl Tessera {
    fn command(&self) -> Command {
        let mut command = Command::new(&self.binary);
        command
            .arg("--database-url")
            .arg(&self.database_url)
            .arg("--data-dir")
            .arg(&self.data_dir)
            // Flags win over the first two anyway; removed so that nothing surprising leaks in
            // (a longer cache TTL would flatter the figures).
            .env_remove("TESSERA_PUBLIC_URL")
            .env_remove("TESSERA_LISTEN")
            .env_remove("TESSERA_CACHE_TTL_SECONDS")
            .stdin(Stdio::null())
            .kill_on_drop(true);
        command
    }

    /// Runs `tessera <args>` to completion and returns its trimmed stdout.
    ///
    /// # Errors
    /// It cannot start or exits unsuccessfully (the message carries its stderr).
    pub async fn cli(&self, args: &[&str]) -> anyhow::Result<String> {
        let shown = format!("tessera {}", args.join(" "));
        let output = self
            .command()
            .args(args)
            .env("RUST_LOG", "warn")
            .output()
            .await
            .with_context(|| format!("cannot run {}", self.binary.display()))?;
        if !output.status.success() {
            bail!("`{shown}` failed ({}): {}", output.status, String::from_utf8_lossy(&output.stderr).trim());
        }
        String::from_utf8(output.stdout)
            .map(|s| s.trim().to_owned())
            .with_context(|| format!("`{shown}` printed non-UTF-8"))
    }

    /// Starts `tessera serve --listen <addr>` with `RUST_LOG=<log>` and its stderr in `log_file`.
    ///
    /// # Errors
    /// The binary cannot be started or the log file created.
    pub fn serve(&self, addr: SocketAddr, log: &str, log_file: &Path) -> anyhow::Result<ChildProcess> {
        let stderr = std::fs::File::create(log_file).with_context(|| format!("creating {}", log_file.display()))?;
        let child = self
            .command()
            .arg("serve")
            .arg("--listen")
            .arg(addr.to_string())
            .env("RUST_LOG", log)
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .with_context(|| format!("cannot start {} serve", self.binary.display()))?;
        ChildProcess::new("tessera serve", child, Some(log_file.to_owned()))
    }
}

/// Starts `<this binary> hello --addr <addr>`.
///
/// # Errors
/// This executable cannot be found or started.
pub fn spawn_hello(addr: SocketAddr) -> anyhow::Result<ChildProcess> {
    let exe = std::env::current_exe().context("cannot find the tessera-bench executable")?;
    let child = Command::new(exe)
        .arg("hello")
        .arg("--addr")
        .arg(addr.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("cannot start tessera-bench hello")?;
    ChildProcess::new("tessera-bench hello", child, None)
}

/// A running child process; killed (SIGKILL) when dropped, or politely by [`ChildProcess::stop`].
pub struct ChildProcess {
    name: &'static str,
    child: Child,
    pid: u32,
    log_file: Option<PathBuf>,
}

impl ChildProcess {
    fn new(name: &'static str, child: Child, log_file: Option<PathBuf>) -> anyhow::Result<Self> {
        let pid = child.id().with_context(|| format!("{name} exited at once"))?;
        Ok(Self { name, child, pid, log_file })
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Polls `path` over HTTP until it answers 2xx, within [`READY_TIMEOUT_SECS`].
    ///
    /// # Errors
    /// The process exits first, or the time runs out; the message carries the end of its log.
    pub async fn wait_ready(&mut self, addr: SocketAddr, path: &str) -> anyhow::Result<()> {
        let target = Target::new(addr, None)?;
        let deadline = Instant::now() + Duration::from_secs(READY_TIMEOUT_SECS);
        loop {
            if let Some(status) = self.child.try_wait().context("checking the child process")? {
                bail!("{} exited with {status} before it was ready{}", self.name, self.log_tail());
            }
            if let Ok(mut connection) = Connection::open(addr).await {
                if let Ok((status, _)) = connection.send(target.request(RequestSpec::get(path))?).await {
                    if status.is_success() {
                        return Ok(());
                    }
                }
            }
            if Instant::now() > deadline {
                bail!("{} did not answer {path} within {READY_TIMEOUT_SECS} s{}", self.name, self.log_tail());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Fails if the process has exited (e.g. crashed under load).
    ///
    /// # Errors
    /// It exited; the message carries the end of its log.
    pub fn check_alive(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait().context("checking the child process")? {
            bail!("{} exited with {status}{}", self.name, self.log_tail());
        }
        Ok(())
    }

    /// SIGTERM, up to 5 s for a clean exit, then SIGKILL; waits for the process to be gone.
    pub async fn stop(mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        let terminated = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(self.pid.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if terminated && tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await.is_ok() {
            return;
        }
        let _ = self.child.kill().await;
    }

    fn log_tail(&self) -> String {
        let Some(path) = &self.log_file else { return String::new() };
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(10)..].join("\n");
        if tail.is_empty() {
            String::new()
        } else {
            format!("; its log ends with:\n{tail}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_ports_are_in_the_allowed_range_and_skip_taken_ones() {
        let first = free_port(&[]).unwrap();
        assert!(first.ip().is_loopback());
        assert!(PORTS.contains(&first.port()));
        let second = free_port(&[first.port()]).unwrap();
        assert_ne!(first.port(), second.port());
        assert!(PORTS.contains(&second.port()));
    }

    #[tokio::test]
    async fn bound_ports_are_in_the_allowed_range() {
        let listener = bind_free_port().await.unwrap();
        let addr = listener.local_addr().unwrap();
        assert!(addr.ip().is_loopback() && PORTS.contains(&addr.port()), "{addr}");
        let other = bind_free_port().await.unwrap().local_addr().unwrap();
        assert_ne!(addr, other);
        assert!(PORTS.contains(&unused_port().unwrap().port()));
    }

    #[tokio::test]
    async fn a_failing_cli_command_reports_its_stderr() {
        let tessera = Tessera { binary: "sh".into(), database_url: "x".into(), data_dir: "y".into() };
        // `sh --database-url …` is refused by sh itself, with a message on stderr.
        let err = tessera.cli(&["-c", "true"]).await.unwrap_err().to_string();
        assert!(err.starts_with("`tessera -c true` failed (exit status: "), "{err}");
        let missing = Tessera { binary: "/nonexistent/tessera".into(), ..tessera };
        let err = missing.cli(&["migrate"]).await.unwrap_err().to_string();
        assert!(err.contains("cannot run /nonexistent/tessera"), "{err}");
    }
}
