//! The command line: `tessera-bench hello` and `tessera-bench run`.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::bail;
use clap::{Args, Parser, Subcommand, ValueEnum};

/// Default PostgreSQL server on which `run` creates (and afterwards drops) its database.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Load generator and benchmark for Tessera's hot REST calls.
#[derive(Debug, Parser)]
#[command(
    name = "tessera-bench",
    version,
    about = "Benchmark Tessera's hot REST calls (issue, GET /token, introspect) on SQLite and PostgreSQL",
    long_about = "Benchmark Tessera's hot REST calls.\n\n\
`run` starts a release `tessera serve` on a fresh database per backend, seeds users and tokens over \
HTTP, then measures POST /v1/user-tokens, GET /token and POST /v1/tokens/introspect with a \
keep-alive HTTP/1.1 load generator (one connection per task, requests sent one after another on \
it), plus a bare axum `hello` server as the ceiling of the machine. It prints req/s, p50/p99 \
latency, errors and the server's peak resident memory per call, and writes a Markdown report.\n\n\
Usually started through `scripts/bench`, which builds both binaries first."
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve a bare axum 0.8 `GET /` answering `hello`: the ceiling of this machine.
    Hello(HelloArgs),
    /// Seed and measure a Tessera server on each chosen backend, then print and write the report.
    Run(RunArgs),
}

/// Options of `tessera-bench hello`.
#[derive(Debug, Clone, Args)]
pub struct HelloArgs {
    /// Address and port to listen on.
    #[arg(long, default_value = "127.0.0.1:4001")]
    pub addr: SocketAddr,
}

/// Which database backends `run` measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendChoice {
    /// An SQLite file in a temporary directory.
    Sqlite,
    /// A database `tessera_bench_<uuid>` created on `--postgres-url` and dropped at the end.
    Postgres,
    /// SQLite, then PostgreSQL.
    Both,
}

/// A database backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl Backend {
    /// The name shown in reports: `SQLite` or `PostgreSQL`.
    pub fn display_name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

impl BackendChoice {
    /// The backends to measure, in order.
    pub fn backends(self) -> Vec<Backend> {
        match self {
            BackendChoice::Sqlite => vec![Backend::Sqlite],
            BackendChoice::Postgres => vec![Backend::Postgres],
            BackendChoice::Both => vec![Backend::Sqlite, Backend::Postgres],
        }
    }
}

/// Options of `tessera-bench run`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// The `tessera` binary to benchmark (build it with `--release`).
    #[arg(long, value_name = "PATH", default_value = "target/release/tessera")]
    pub tessera: PathBuf,
    /// Which backends to measure.
    #[arg(long, value_enum, default_value = "both")]
    pub backend: BackendChoice,
    /// PostgreSQL server URL; the benchmark creates a database `tessera_bench_<uuid>` there and
    /// drops it at the end (the URL's own database is only used to connect).
    #[arg(long, value_name = "URL", env = "TESSERA_BENCH_POSTGRES_URL", default_value = DEFAULT_POSTGRES_URL, hide_env_values = true)]
    pub postgres_url: String,
    /// Users to seed with `POST /v1/users` (each also gets one token row).
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    pub users: u64,
    /// Token rows the org holds after seeding, counting the users' own tokens; the rest come from
    /// `POST /v1/user-tokens`, spread over the users.
    #[arg(long, value_name = "N", default_value_t = 1_000_000)]
    pub tokens: u64,
    /// Measured seconds per call.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub duration: u64,
    /// Warm-up seconds per call before measuring (not recorded).
    #[arg(long, value_name = "SECONDS", default_value_t = 2)]
    pub warmup: u64,
    /// Keep-alive connections of the measured calls, each sending one request after another.
    #[arg(long, value_name = "N", default_value_t = 64)]
    pub connections: usize,
    /// Keep-alive connections used for seeding; default: `--connections`.
    #[arg(long, value_name = "N")]
    pub seed_connections: Option<usize>,
    /// How many live JWTs, collected while seeding, the introspection call rotates over.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub introspect_pool: usize,
    /// Folder for the reports: `<YYYY-MM-DD>-<HHMM>.md` and `latest.md`.
    #[arg(long, value_name = "DIR", default_value = "bench/results")]
    pub out: PathBuf,
    /// `RUST_LOG` given to the server. Its log goes to a file in the run's temporary directory
    /// (removed at the end); its last lines are shown when the server fails.
    #[arg(long, value_name = "FILTER", default_value = "warn")]
    pub server_log: String,
}

impl RunArgs {
    /// Checks the figures that clap cannot: sizes, durations and their relations.
    ///
    /// # Errors
    /// A one-line explanation of the first bad value.
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.users == 0 {
            bail!("--users must be at least 1");
        }
        if self.tokens < self.users {
            bail!(
                "--tokens ({}) must be at least --users ({}): POST /v1/users already issues one token per user",
                self.tokens,
                self.users
            );
        }
        if self.duration == 0 {
            bail!("--duration must be at least 1 second");
        }
        if self.connections == 0 || self.connections > 4096 {
            bail!("--connections must be between 1 and 4096");
        }
        if self.seed_connections.is_some_and(|n| n == 0 || n > 4096) {
            bail!("--seed-connections must be between 1 and 4096");
        }
        if self.introspect_pool == 0 {
            bail!("--introspect-pool must be at least 1");
        }
        if self.backend != BackendChoice::Sqlite && !self.postgres_url.starts_with("postgres") {
            bail!("--postgres-url must be a postgres:// URL");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> RunArgs {
        let mut argv = vec!["tessera-bench", "run"];
        argv.extend_from_slice(args);
        match Cli::try_parse_from(argv).expect("arguments parse").command {
            Command::Run(run) => run,
            Command::Hello(_) => panic!("expected run"),
        }
    }

    #[test]
    fn defaults_are_the_issue_sizes() {
        let args = parse(&[]);
        assert_eq!((args.users, args.tokens), (100_000, 1_000_000));
        assert_eq!((args.duration, args.warmup, args.connections), (10, 2, 64));
        assert_eq!(args.backend.backends(), vec![Backend::Sqlite, Backend::Postgres]);
        assert!(args.validate().is_ok());
    }

    #[test]
    fn fewer_tokens_than_users_is_refused() {
        let err = parse(&["--users", "10", "--tokens", "9"]).validate().unwrap_err();
        assert!(err.to_string().contains("--tokens (9) must be at least --users (10)"), "{err}");
        assert!(parse(&["--users", "10", "--tokens", "10"]).validate().is_ok());
    }

    #[test]
    fn zero_sizes_and_durations_are_refused() {
        assert!(parse(&["--users", "0", "--tokens", "0"]).validate().is_err());
        assert!(parse(&["--duration", "0"]).validate().is_err());
        assert!(parse(&["--connections", "0"]).validate().is_err());
        assert!(parse(&["--seed-connections", "0"]).validate().is_err());
        assert!(parse(&["--seed-connections", "256"]).validate().is_ok());
        assert!(parse(&["--introspect-pool", "0"]).validate().is_err());
        assert!(parse(&["--warmup", "0"]).validate().is_ok(), "no warm-up is allowed");
    }

    #[test]
    fn postgres_url_must_be_postgres_unless_only_sqlite_runs() {
        assert!(parse(&["--postgres-url", "mysql://x/y"]).validate().is_err());
        assert!(parse(&["--backend", "sqlite", "--postgres-url", "mysql://x/y"]).validate().is_ok());
    }

    #[test]
    fn unknown_backend_is_a_parse_error() {
        assert!(Cli::try_parse_from(["tessera-bench", "run", "--backend", "mysql"]).is_err());
    }
}
