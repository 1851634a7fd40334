//! `tessera-bench run`: the hello ceiling, then per backend a fresh database, the `tessera` CLI
//! setup, `tessera serve`, seeding and the measured calls; finally the report. Children are
//! killed and the PostgreSQL database dropped on every exit path (errors, Ctrl-C, SIGTERM).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use bytes::Bytes;
use http::Method;
use tessera_testdb::TestDatabase;

use crate::cli::{Backend, RunArgs};
use crate::load::{self, Check, LoadConfig, RequestSpec, Target};
use crate::procfs;
use crate::report::{self, BackendReport, Call, CpuPerRequest, Figures, Header};
use crate::seed;
use crate::server::{self, ChildProcess, Tessera};

/// Slug of the benchmark's organization.
const ORG: &str = "bench";

/// Runs the whole benchmark described by `args` and writes the report.
///
/// # Errors
/// Bad arguments, a missing binary, an interruption, or a backend that failed (the report of
/// the other backends is still printed and written first).
pub async fn run(args: RunArgs) -> anyhow::Result<()> {
    args.validate()?;
    if !args.tessera.is_file() {
        bail!(
            "{} not found: build it with `cargo build --release -p tessera-server` (scripts/bench does)",
            args.tessera.display()
        );
    }
    let config = LoadConfig {
        connections: args.connections,
        warmup: Duration::from_secs(args.warmup),
        duration: Duration::from_secs(args.duration),
    };
    let now = time::OffsetDateTime::now_utc();
    let header = Header {
        date: format_date(now, false),
        commit: git_commit(),
        nproc: std::thread::available_parallelism().map_or(1, |n| n.get()),
        cpu: std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|text| cpu_model(&text))
            .unwrap_or_else(|| "unknown CPU".to_owned()),
        connections: args.connections,
        warmup_secs: args.warmup,
        duration_secs: args.duration,
        users: args.users,
        tokens: args.tokens,
    };
    println!(
        "tessera-bench: {} connections, {} s warm-up + {} s per call, {} users, {} token rows; commit {}",
        args.connections,
        args.warmup,
        args.duration,
        args.users,
        args.tokens,
        header.commit.as_deref().unwrap_or("unknown")
    );

    println!("\n== hello (bare axum ceiling)");
    let hello = interruptible(measure_hello(config)).await?;
    println!("  {}", hello.console_line());

    let mut reports = Vec::new();
    let mut failures = Vec::new();
    for backend in args.backend.backends() {
        println!("\n== {}", backend.display_name());
        match run_backend(&args, backend, config).await {
            Ok(report) => reports.push(report),
            Err(e) if e.is::<Interrupted>() => return Err(e),
            Err(e) => {
                eprintln!("error: {}: {e:#}", backend.display_name());
                failures.push(format!("{}: {e:#}", backend.display_name()));
            }
        }
    }

    let text = report::markdown(&header, Some(&hello), &reports);
    println!("\n{text}");
    if !reports.is_empty() {
        write_report(&args.out, &format_date(now, true), &text)?;
    }
    if !failures.is_empty() {
        bail!("{} backend(s) failed: {}", failures.len(), failures.join("; "));
    }
    Ok(())
}

/// The error of a run stopped by Ctrl-C or SIGTERM.
#[derive(Debug)]
struct Interrupted;

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("interrupted; child processes stopped")
    }
}

impl std::error::Error for Interrupted {}

/// Runs `work` until it ends or SIGINT/SIGTERM arrives; on a signal, `work` is dropped (which
/// kills its child processes) and the result is an [`Interrupted`] error.
async fn interruptible<T>(work: impl std::future::Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::select! {
        result = work => result,
        () = tessera_shutdown::signal() => Err(Interrupted.into()),
    }
}

async fn measure_hello(config: LoadConfig) -> anyhow::Result<Figures> {
    let addr = server::free_port(&[])?;
    let mut hello = server::spawn_hello(addr)?;
    hello.wait_ready(addr, "/").await?;
    let target = Target::new(addr, None)?;
    let figures =
        measure_call(&mut hello, &target, config, Call::Hello, None, Check::Success, |_| RequestSpec::get("/")).await;
    hello.stop().await;
    figures
}

/// One backend: database, setup, server, seeding, calls; the database is removed afterwards
/// whatever happened.
async fn run_backend(args: &RunArgs, backend: Backend, config: LoadConfig) -> anyhow::Result<BackendReport> {
    // The data directory (master key) and the server's log; the database is elsewhere.
    let dir = tempfile::Builder::new().prefix("tessera-bench-").tempdir().context("creating a temporary directory")?;
    let database = match backend {
        Backend::Sqlite => TestDatabase::sqlite(),
        Backend::Postgres => {
            let admin_url = args.postgres_url.clone();
            let database = tokio::task::spawn_blocking(move || TestDatabase::postgres_on(&admin_url, "tessera_bench"))
                .await?
                .context("cannot create a database on PostgreSQL (--postgres-url / TESSERA_BENCH_POSTGRES_URL)")?;
            println!("  database {} (dropped at the end)", database.postgres_name().unwrap_or_default());
            database
        }
    };
    let outcome = interruptible(drive(args, backend, config, &database, dir.path())).await;
    if backend == Backend::Postgres {
        // Give the killed server a moment to let go of its connections; FORCE does the rest.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let name = database.postgres_name().map(str::to_owned);
    let removed = tokio::task::spawn_blocking(move || database.remove()).await?.context("removing the database");
    if let (Some(name), Ok(())) = (name, &removed) {
        println!("  dropped database {name}");
    }
    match (outcome, removed) {
        (Ok(report), Ok(())) => Ok(report),
        (Ok(_), Err(e)) => Err(e),
        (Err(e), Ok(())) => Err(e),
        (Err(e), Err(remove_error)) => Err(e.context(format!("and then: {remove_error:#}"))),
    }
}

async fn drive(
    args: &RunArgs,
    backend: Backend,
    config: LoadConfig,
    database: &TestDatabase,
    dir: &Path,
) -> anyhow::Result<BackendReport> {
    let tessera =
        Tessera { binary: args.tessera.clone(), database_url: database.url.clone(), data_dir: dir.join("data") };
    tessera.cli(&["migrate"]).await?;
    tessera.cli(&["org", "create", "--slug", ORG, "--name", "Tessera benchmark"]).await?;
    let key = tessera.cli(&["api-key", "create", "--org", ORG, "--name", "tessera-bench"]).await?;
    if !key.starts_with("tsk_") || key.contains(char::is_whitespace) {
        bail!("`tessera api-key create` printed something other than one key");
    }
    let addr = server::free_port(&[])?;
    let log_file = dir.join("server.log");
    let mut server = tessera.serve(addr, &args.server_log, &log_file)?;
    server.wait_ready(addr, "/readyz").await?;
    println!("  tessera serve on {addr} (pid {}), log {}", server.pid(), log_file.display());
    let target = Target::new(addr, Some(&key))?;

    let seed_connections = args.seed_connections.unwrap_or(args.connections);
    println!("  seeding {} users and {} token rows over {seed_connections} connections", args.users, args.tokens);
    let seeded = seed::seed(&target, seed_connections, args.users, args.tokens, args.introspect_pool).await?;
    server.check_alive()?;
    println!(
        "  seeded in {:.1} s; {} JWTs for introspection; server RSS {}",
        seeded.seconds,
        seeded.jwts.len(),
        procfs::memory(server.pid())
            .map_or_else(|e| format!("unknown ({e:#})"), |m| format!("{:.1} MiB", m.current_mib))
    );
    if let Some(sqlite_dir) = database.sqlite_dir() {
        println!("  SQLite files after seeding: {}", sqlite_file_sizes(sqlite_dir));
    }

    let issue_bodies: Arc<Vec<Bytes>> =
        Arc::new(seeded.user_ids.iter().map(|id| Bytes::from(serde_json::json!({"user": id}).to_string())).collect());
    let introspect_bodies: Arc<Vec<Bytes>> =
        Arc::new(seeded.jwts.iter().map(|jwt| Bytes::from(serde_json::json!({"token": jwt}).to_string())).collect());
    if introspect_bodies.is_empty() {
        bail!("seeding collected no JWT to introspect");
    }
    // Returning users: their permanent token exists, as on every page load after the first.
    let returning = seeded.returning_users;

    // The database's own processes, whose CPU time is counted beside the server's.
    let database_processes = (backend == Backend::Postgres).then_some("postgres");
    let mut rows = Vec::new();
    let bodies = issue_bodies.clone();
    rows.push(
        measure_call(&mut server, &target, config, Call::IssueToken, database_processes, Check::Success, move |n| {
            post(&bodies, n, "/v1/user-tokens")
        })
        .await?,
    );
    rows.push(
        measure_call(&mut server, &target, config, Call::GetToken, database_processes, Check::Success, move |n| {
            RequestSpec::get(format!("/token?account={}&platform={}", seed::account(n % returning), seed::PLATFORM))
        })
        .await?,
    );
    let bodies = introspect_bodies.clone();
    rows.push(
        measure_call(&mut server, &target, config, Call::Introspect, database_processes, Check::Active, move |n| {
            post(&bodies, n, "/v1/tokens/introspect")
        })
        .await?,
    );
    server.stop().await;
    if let Some(sqlite_dir) = database.sqlite_dir() {
        println!("  SQLite files at the end: {}", sqlite_file_sizes(sqlite_dir));
    }
    Ok(BackendReport { backend, users: args.users, token_rows: seeded.token_rows, seed_seconds: seeded.seconds, rows })
}

/// The `n`-th request of a rotation over prepared JSON bodies.
fn post(bodies: &[Bytes], n: u64, path: &str) -> RequestSpec {
    let body = bodies[(n % bodies.len() as u64) as usize].clone();
    RequestSpec { method: Method::POST, path: path.to_owned(), json: Some(body) }
}

/// Measures one call against the process `server`: resets its peak RSS, drives the load while
/// reading the CPU time of `server` (and of the processes named `database`, if any) at the start
/// and end of the measured window, checks the server is still alive, reads its memory and prints
/// the figures.
async fn measure_call<F>(
    server: &mut ChildProcess,
    target: &Target,
    config: LoadConfig,
    call: Call,
    database: Option<&'static str>,
    check: Check,
    make: F,
) -> anyhow::Result<Figures>
where
    F: Fn(u64) -> RequestSpec + Send + Sync + 'static,
{
    if call != Call::Hello {
        println!("  {} ({} s warm-up + {} s)…", call.label(), config.warmup.as_secs(), config.duration.as_secs());
    }
    if let Err(e) = procfs::reset_peak(server.pid()) {
        println!("  note: cannot reset the peak RSS ({e:#}); it counts from the server's start");
    }
    let window = tokio::spawn(cpu_over_window(server.pid(), database, config));
    let result = load::measure(target, config, check, make).await?;
    server.check_alive().with_context(|| format!("during {}", call.label()))?;
    let memory = procfs::memory(server.pid()).ok();
    let cpu = window.await.ok().flatten().and_then(|(s, d)| CpuPerRequest::from_ticks(s, d, result.ok));
    let figures = Figures::from_load(call, &result, memory, cpu);
    if call != Call::Hello {
        println!("  {}", figures.console_line());
    }
    if let Some(sample) = &result.first_error {
        println!("  first error: {sample}");
    }
    Ok(figures)
}

/// CPU time, in clock ticks, used by process `pid` and by the processes named `database` over
/// the measured window of a load started now with `config` (its warm-up is skipped; connecting
/// its connections, a few ms, shifts the window that much earlier). `None` if `/proc` could not
/// be read.
async fn cpu_over_window(pid: u32, database: Option<&str>, config: LoadConfig) -> Option<(u64, Option<u64>)> {
    let sample = || -> Option<(u64, Option<u64>)> {
        let server = procfs::cpu_ticks(pid).ok()?;
        let database = match database {
            Some(comm) => Some(procfs::cpu_ticks_of(comm).ok()?),
            None => None,
        };
        Some((server, database))
    };
    tokio::time::sleep(config.warmup).await;
    let (server0, database0) = sample()?;
    tokio::time::sleep(config.duration).await;
    let (server1, database1) = sample()?;
    let database = database1.zip(database0).map(|(after, before)| after.saturating_sub(before));
    Some((server1.saturating_sub(server0), database))
}

/// Sizes of `tessera.db`, `tessera.db-wal` and `tessera.db-shm` in `dir`, in MiB, e.g.
/// `tessera.db 52.3 MiB, tessera.db-wal 803.2 MiB` (a WAL that keeps growing means checkpoints
/// cannot finish under the write load).
pub fn sqlite_file_sizes(dir: &Path) -> String {
    ["tessera.db", "tessera.db-wal", "tessera.db-shm"]
        .iter()
        .filter_map(|name| {
            let bytes = std::fs::metadata(dir.join(name)).ok()?.len();
            Some(format!("{name} {:.1} MiB", bytes as f64 / (1024.0 * 1024.0)))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The first `model name` of `/proc/cpuinfo`.
pub fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == "model name").then(|| value.trim().to_owned())
    })
}

/// `YYYY-MM-DD HH:MM UTC`, or `YYYY-MM-DD-HHMM` for file names.
pub fn format_date(at: time::OffsetDateTime, for_file: bool) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    let (date, hour, minute) = (at.date(), at.hour(), at.minute());
    let (year, month, day) = (date.year(), u8::from(date.month()), date.day());
    if for_file {
        format!("{year:04}-{month:02}-{day:02}-{hour:02}{minute:02}")
    } else {
        format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02} UTC")
    }
}

/// `git rev-parse --short HEAD` of the current directory, `+dirty` when tracked files changed.
fn git_commit() -> Option<String> {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .filter(|output| output.status.success())
            .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
    };
    let commit = git(&["rev-parse", "--short", "HEAD"]).filter(|c| !c.is_empty())?;
    let dirty = git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    Some(if dirty { format!("{commit}+dirty") } else { commit })
}

/// Writes `text` to `<out>/<stamp>.md` (`<stamp>-2.md`, … when a run of the same minute wrote
/// one already) and to `<out>/latest.md`.
fn write_report(out: &Path, stamp: &str, text: &str) -> anyhow::Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let mut dated = out.join(format!("{stamp}.md"));
    for n in 2.. {
        if !dated.exists() {
            break;
        }
        dated = out.join(format!("{stamp}-{n}.md"));
    }
    std::fs::write(&dated, text).with_context(|| format!("writing {}", dated.display()))?;
    let latest = out.join("latest.md");
    std::fs::write(&latest, text).with_context(|| format!("writing {}", latest.display()))?;
    println!("report written to {} and {}", dated.display(), latest.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_files_are_listed_in_mib() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(sqlite_file_sizes(dir.path()), "");
        std::fs::write(dir.path().join("tessera.db"), vec![0u8; 3 << 19]).unwrap();
        std::fs::write(dir.path().join("tessera.db-wal"), vec![0u8; 1 << 20]).unwrap();
        assert_eq!(sqlite_file_sizes(dir.path()), "tessera.db 1.5 MiB, tessera.db-wal 1.0 MiB");
    }

    #[test]
    fn cpu_model_is_the_first_model_name() {
        let cpuinfo = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\n\nprocessor\t: 1\nmodel name\t: other\n";
        assert_eq!(cpu_model(cpuinfo).as_deref(), Some("Intel(R) Xeon(R) CPU @ 2.20GHz"));
        assert_eq!(cpu_model("processor\t: 0\n"), None);
    }

    #[test]
    fn dates_are_utc() {
        let at = time::macros::datetime!(2026-11-21 23:05:59 -02:00);
        assert_eq!(format_date(at, false), "2026-11-22 01:05 UTC");
        assert_eq!(format_date(at, true), "2026-11-22-0105");
    }

    #[test]
    fn rotation_wraps_over_the_bodies() {
        let bodies = [Bytes::from_static(b"a"), Bytes::from_static(b"b")];
        assert_eq!(post(&bodies, 0, "/p").json.unwrap(), "a");
        assert_eq!(post(&bodies, 3, "/p").json.unwrap(), "b");
        assert_eq!(post(&bodies, 3, "/p").path, "/p");
    }

    #[test]
    fn reports_go_to_a_dated_file_and_latest() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("results");
        write_report(&out, "2026-11-21-1605", "# report\n").unwrap();
        assert_eq!(std::fs::read_to_string(out.join("2026-11-21-1605.md")).unwrap(), "# report\n");
        assert_eq!(std::fs::read_to_string(out.join("latest.md")).unwrap(), "# report\n");
        // A second run in the same minute keeps the first one's file.
        write_report(&out, "2026-11-21-1605", "# second\n").unwrap();
        assert_eq!(std::fs::read_to_string(out.join("2026-11-21-1605.md")).unwrap(), "# report\n");
        assert_eq!(std::fs::read_to_string(out.join("2026-11-21-1605-2.md")).unwrap(), "# second\n");
        assert_eq!(std::fs::read_to_string(out.join("latest.md")).unwrap(), "# second\n");
    }
}
