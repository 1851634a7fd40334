//! The command line: `tessera [serve]`, `migrate`, `org create`, `member add`, `api-key …`.
//! Every setting is a flag that also reads a `TESSERA_*` environment variable, and every
//! `TESSERA_*` variable the binary reads is one of these flags (see `--help`). Secrets are
//! [`SecretString`]s: redacted in `Debug`, and their environment values hidden in `--help`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use secrecy::SecretString;
use tessera_core::Role;

/// Tessera: a self-hostable, multi-tenant user-token service.
#[derive(Debug, Parser)]
#[command(name = "tessera", version, about = "Tessera: a self-hostable, multi-tenant user-token service", long_about = None)]
pub struct Cli {
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Where the data lives (every command; may come before or after the subcommand).
    #[command(flatten)]
    pub storage: StorageArgs,
    /// Options of `serve`, also accepted without the word `serve`.
    #[command(flatten)]
    pub serve: ServeArgs,
}

impl Cli {
    /// Parses the process's arguments as [`Parser::parse`] does (printing help, version or a
    /// usage error and exiting where it would), and also exits with a usage error when a secret
    /// ([`SECRETS`]) was given on the command line rather than in its environment variable.
    pub fn parse_checked() -> Self {
        let mut command = <Self as clap::CommandFactory>::command();
        let matches = command.get_matches_mut();
        if let Err(message) = secrets_from_environment(&matches) {
            clap::Error::raw(clap::error::ErrorKind::ArgumentConflict, message).format(&mut command).exit();
        }
        <Self as clap::FromArgMatches>::from_arg_matches(&matches).unwrap_or_else(|e| e.format(&mut command).exit())
    }
}

/// The arguments that hold secrets, with their environment variables: their values may come
/// from the environment but not from the command line (which other local users can read in
/// `ps` and which shells keep in their history).
pub const SECRETS: [(&str, &str); 2] = [("master_key", "TESSERA_MASTER_KEY"), ("password", "TESSERA_MEMBER_PASSWORD")];

/// `Err` with a message naming the variable to use when a [`SECRETS`] argument was given on the
/// command line of the (sub)command `matches` parsed.
fn secrets_from_environment(matches: &clap::ArgMatches) -> Result<(), String> {
    // Global arguments are copied down to the innermost subcommand, with where they came from.
    let mut innermost = matches;
    while let Some((_, sub)) = innermost.subcommand() {
        innermost = sub;
    }
    for (id, var) in SECRETS {
        let present = innermost.ids().any(|present| present.as_str() == id);
        if present && innermost.value_source(id) == Some(clap::parser::ValueSource::CommandLine) {
            let flag = format!("--{}", id.replace('_', "-"));
            return Err(format!(
                "{flag} is not accepted on the command line (other users could read it); set {var} instead"
            ));
        }
    }
    Ok(())
}

/// Where the data lives and the key that seals its secrets; accepted by every command.
#[derive(Debug, Clone, Args)]
pub struct StorageArgs {
    /// Database URL: `sqlite://PATH` (file created if missing) or `postgres://…`.
    #[arg(long, env = "TESSERA_DATABASE_URL", default_value = tessera_store::DEFAULT_DATABASE_URL, hide_env_values = true, global = true)]
    pub database_url: String,
    /// Folder for local state: the generated master key (`master.key`) when no `--master-key` is given.
    #[arg(long, env = "TESSERA_DATA_DIR", default_value = "data", global = true)]
    pub data_dir: PathBuf,
    /// Master key (base64 of 32 bytes) that seals the orgs' private signing keys; every instance
    /// on one database needs the same. Default: `{data-dir}/master.key`, generated (mode 0600) on
    /// first use, and refused if group or others may read it. From the environment only: on the
    /// command line it would be visible to other local users, so the flag is refused.
    #[arg(long, env = "TESSERA_MASTER_KEY", hide_env_values = true, global = true, value_name = "BASE64")]
    pub master_key: Option<SecretString>,
    /// PostgreSQL: how long, in seconds, a call waits for a database connection (opening one
    /// included) before it is answered 503 `storage_unavailable`; so while the database is down,
    /// calls are refused within this time instead of hanging. 1–60.
    #[arg(long, env = "TESSERA_DATABASE_ACQUIRE_TIMEOUT_SECONDS", value_name = "SECONDS", default_value_t = tessera_store::DEFAULT_ACQUIRE_TIMEOUT.as_secs(), value_parser = clap::value_parser!(u64).range(1..=60), global = true)]
    pub database_acquire_timeout_seconds: u64,
    /// PostgreSQL: the longest, in seconds, one statement may run (the server's
    /// `statement_timeout`; migrations are exempt), so a server that accepts work but does not
    /// finish it cannot hold a call; 0 turns it off. 0–3600.
    #[arg(long, env = "TESSERA_DATABASE_STATEMENT_TIMEOUT_SECONDS", value_name = "SECONDS", default_value_t = tessera_store::DEFAULT_STATEMENT_TIMEOUT.as_secs(), value_parser = clap::value_parser!(u64).range(0..=3600), global = true)]
    pub database_statement_timeout_seconds: u64,
}

impl StorageArgs {
    /// The store's connection settings these arguments give.
    pub fn store_options(&self) -> tessera_store::StoreOptions {
        tessera_store::StoreOptions {
            acquire_timeout: std::time::Duration::from_secs(self.database_acquire_timeout_seconds),
            statement_timeout: std::time::Duration::from_secs(self.database_statement_timeout_seconds),
        }
    }
}

/// Options of `tessera serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address and port to listen on. Default: `LEPTOS_SITE_ADDR` when set (as `cargo leptos
    /// serve` and `end-to-end` do), else 127.0.0.1:3000.
    #[arg(long, env = "TESSERA_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Address and port of a listener of its own for `GET /metrics` (Prometheus text format).
    /// When set, `/metrics` is served only there (plain HTTP, no other route) and the main
    /// listener answers 404 for it, so metrics can be kept off a public port. Default: none,
    /// `/metrics` is served on `--listen`.
    #[arg(long, env = "TESSERA_METRICS_LISTEN", value_name = "ADDR:PORT")]
    pub metrics_listen: Option<SocketAddr>,
    /// Public base URL of this server, used in token issuers (`{public-url}/o/{org}`).
    /// Default: `http://` + the listen address (with 0.0.0.0 shown as 127.0.0.1).
    #[arg(long, env = "TESSERA_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Log format, on stderr; `RUST_LOG` filters the lines (default `info`).
    #[arg(long, env = "TESSERA_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Folder with the dashboard's built assets (`pkg/`, `favicon.svg`). Default:
    /// `LEPTOS_SITE_ROOT` when set (as `cargo leptos serve` and `end-to-end` do), else `target/site`.
    #[arg(long, env = "TESSERA_SITE_ROOT", value_name = "DIR")]
    pub site_root: Option<PathBuf>,
    /// How long, in seconds, API keys (with their orgs) and token rows read from the database are
    /// trusted without reading them again; 0 reads them every time. Revocations apply sooner
    /// whatever this is: at once when made through this server, and when another process's
    /// revocation notice arrives (about a millisecond) otherwise; this bounds the wait only if
    /// notices cannot be received.
    #[arg(long, env = "TESSERA_CACHE_TTL_SECONDS", value_name = "SECONDS", default_value_t = DEFAULT_CACHE_TTL_SECONDS, value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub cache_ttl_seconds: u64,
    /// Seconds a client has to send a request's whole head (request line and headers), from the
    /// connection's accept or, on a kept-alive connection, from the next request's first byte;
    /// a connection that has not sent it by then is closed without an answer (slowloris).
    #[arg(long, env = "TESSERA_HEADER_READ_TIMEOUT_SECONDS", value_name = "SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub header_read_timeout_seconds: u64,
    /// Seconds a request may take from its head's arrival to its answer (reading the body
    /// included); past it the request is answered 503 `request_timeout` (problem+json) and its
    /// work is cancelled. At most 59: below the 60 s lease of an in-flight idempotency key, so a
    /// cancelled request has stopped before a retry with the same key may take its claim over.
    #[arg(long, env = "TESSERA_REQUEST_TIMEOUT_SECONDS", value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=MAX_REQUEST_TIMEOUT_SECONDS))]
    pub request_timeout_seconds: u64,
    /// Seconds a kept-alive connection may wait, after an answer, for the next request's first
    /// byte before it is closed; also how long an answer's write may make no progress (a client
    /// that stops reading). Keep it above the idle timeout of a reverse proxy that reuses
    /// connections to tessera, so that the proxy closes them first.
    #[arg(long, env = "TESSERA_IDLE_TIMEOUT_SECONDS", value_name = "SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub idle_timeout_seconds: u64,
    /// Most client connections served at once. Further connections wait in the listen backlog
    /// (the kernel holds them, unanswered) until one closes; none is accepted and dropped. Keep it
    /// below the open-file limit (`ulimit -n`) less the database pool and a few files.
    #[arg(long, env = "TESSERA_MAX_CONNECTIONS", value_name = "COUNT", default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_connections: u32,
    /// Seconds that SIGTERM or SIGINT leaves to finish: new connections are no longer taken,
    /// requests in flight are answered and the last token rows committed, then tessera exits 0;
    /// if that takes longer, it logs what was left and exits 1. Keep it at or above the request
    /// timeout, so every request in flight is answered, and below the time the process manager
    /// waits before SIGKILL (Kubernetes: `terminationGracePeriodSeconds`, default 30).
    #[arg(long, env = "TESSERA_SHUTDOWN_TIMEOUT_SECONDS", value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub shutdown_timeout_seconds: u64,
    /// Days an audit event is kept: once an hour, events older than this are deleted, on every
    /// org. The chain stays verifiable from the oldest event kept (`tessera audit verify`).
    #[arg(long, env = "TESSERA_AUDIT_RETENTION_DAYS", value_name = "DAYS", default_value_t = 365, value_parser = clap::value_parser!(u32).range(1..=36500))]
    pub audit_retention_days: u32,
    /// Reverse proxies whose forwarding header gives the client's address: comma-separated
    /// networks in CIDR notation or single addresses, e.g. `10.0.0.0/8,2001:db8::/32`. Failed
    /// sign-ins and failed API-key authentications are throttled per client address: without
    /// this, behind a proxy every client has the proxy's address. A request from a listed peer is
    /// taken to come from the right-most address in `--forwarded-header` that is not listed;
    /// from any other peer the header is ignored. Default: none (the socket peer is the client).
    #[arg(long, env = "TESSERA_TRUSTED_PROXIES", value_name = "CIDR,...", value_delimiter = ',', value_parser = tessera_api::client_addr::parse_network)]
    pub trusted_proxies: Vec<tessera_api::client_addr::IpNet>,
    /// The header the trusted proxies write the client's address to: `x-forwarded-for`, or
    /// `forwarded` (RFC 7239 `for=`). Only this one is read: a proxy passes the other one through
    /// from the client unchanged.
    #[arg(long, env = "TESSERA_FORWARDED_HEADER", value_enum, default_value = "x-forwarded-for")]
    pub forwarded_header: ForwardedHeaderArg,
}

/// `--forwarded-header`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ForwardedHeaderArg {
    /// `X-Forwarded-For: client, proxy1, …`.
    XForwardedFor,
    /// `Forwarded: for=client, for=proxy1, …` (RFC 7239).
    Forwarded,
}

impl From<ForwardedHeaderArg> for tessera_api::client_addr::ForwardedHeader {
    fn from(arg: ForwardedHeaderArg) -> Self {
        match arg {
            ForwardedHeaderArg::XForwardedFor => Self::XForwardedFor,
            ForwardedHeaderArg::Forwarded => Self::Forwarded,
        }
    }
}

/// Largest `--request-timeout-seconds`: 59, one second below
/// [`tessera_api::idempotency::IN_FLIGHT_LEASE`] (60 s).
pub const MAX_REQUEST_TIMEOUT_SECONDS: u64 =
    tessera_api::idempotency::IN_FLIGHT_LEASE.whole_seconds().unsigned_abs() - 1;

/// `--cache-ttl-seconds` when not given: the API's default, 1 second.
pub const DEFAULT_CACHE_TTL_SECONDS: u64 = tessera_api::services::api_keys::KEY_CACHE_TTL.as_secs();

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (REST API, JWKS, dashboard). The default command.
    Serve(ServeArgs),
    /// Apply pending database migrations and exit (`serve` also applies them on start).
    Migrate,
    /// Manage organizations.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Manage members who sign in to the dashboard.
    #[command(subcommand)]
    Member(MemberCommand),
    /// Manage an organization's API keys.
    #[command(subcommand, name = "api-key")]
    ApiKey(ApiKeyCommand),
    /// Read and check an organization's audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
}

/// `tessera audit …`
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Write the org's audit events to stdout as JSON Lines, oldest first (one event object per
    /// line, with `seq`, `prev_hash` and `hash`), streamed page by page; progress goes to stderr
    /// when it is a terminal.
    Export {
        /// The org's slug.
        #[arg(long)]
        org: String,
        /// Only events at or after this time (RFC 3339, e.g. 2026-12-01T00:00:00Z).
        #[arg(long, value_parser = parse_time)]
        since: Option<tessera_core::Timestamp>,
    },
    /// Recompute the org's hash chain, from the database or from an export, and print how many
    /// events it checked (exit 0) or the first event that does not match (exit 1).
    Verify {
        /// The org's slug (its events are read from the database unless --file is given).
        #[arg(long)]
        org: String,
        /// Check this JSON Lines export (`tessera audit export`) instead of the database.
        #[arg(long, value_name = "FILE")]
        file: Option<std::path::PathBuf>,
        /// Also check the log against this saved checkpoint (the JWT served at
        /// `{iss}/audit/checkpoint`): its signature by one of the org's keys, and that the event
        /// at its `seq` still has its `hash`. Catches a history rewritten with recomputed hashes.
        #[arg(long, value_name = "FILE")]
        checkpoint: Option<std::path::PathBuf>,
    },
    /// Print the org's signed audit checkpoint of today (the JWT that `tessera serve` answers
    /// at `{iss}/audit/checkpoint`), to keep somewhere the database's administrators cannot
    /// write, e.g. from a daily job: `tessera audit checkpoint --org acme > acme-$(date +%F).jwt`.
    Checkpoint {
        /// The org's slug.
        #[arg(long)]
        org: String,
        /// The public base URL the server runs under (the checkpoint's `iss` is `{it}/o/{slug}`).
        #[arg(long, env = "TESSERA_PUBLIC_URL", default_value = "http://127.0.0.1:3000")]
        public_url: String,
    },
}

fn parse_time(s: &str) -> Result<tessera_core::Timestamp, String> {
    tessera_core::Timestamp::parse(s, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("not an RFC 3339 time ({e}), e.g. 2026-12-01T00:00:00Z"))
}

/// `tessera org …`
#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an organization and its first signing key; prints its slug and issuer.
    Create {
        /// URL-safe short name: 2-63 of a-z, 0-9 and '-'.
        #[arg(long)]
        slug: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// Public base URL, to print the org's issuer and JWKS URL.
        #[arg(long, env = "TESSERA_PUBLIC_URL", default_value = "http://127.0.0.1:3000")]
        public_url: String,
    },
}

/// `tessera member …`
#[derive(Debug, Subcommand)]
pub enum MemberCommand {
    /// Add a member. The password comes from TESSERA_MEMBER_PASSWORD, else it is prompted for (not
    /// echoed).
    Add {
        /// The org's slug.
        #[arg(long)]
        org: String,
        /// Sign-in email.
        #[arg(long)]
        email: String,
        /// owner, admin or viewer.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// The member's password, at least 12 characters; prompted for when unset. From the
        /// environment only: on the command line it would be visible to other local users, so the
        /// flag is refused.
        #[arg(long, env = "TESSERA_MEMBER_PASSWORD", hide_env_values = true)]
        password: Option<SecretString>,
    },
}

/// `tessera api-key …`
#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Create a key and print it alone on stdout (it is shown only this once; details go to stderr).
    Create {
        /// The org's slug.
        #[arg(long)]
        org: String,
        /// A name to tell keys apart, e.g. "production backend".
        #[arg(long)]
        name: String,
        /// Make the key expire after this many days.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=3650))]
        expires_in_days: Option<u32>,
    },
    /// List the org's keys (never the secrets).
    List {
        /// The org's slug.
        #[arg(long)]
        org: String,
    },
    /// Revoke a key at once, by the 8 characters shown after `tsk_`.
    Revoke {
        /// The org's slug.
        #[arg(long)]
        org: String,
        /// The key's display prefix.
        #[arg(long)]
        prefix: String,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse().map_err(|_| "must be one of owner, admin, viewer".to_owned())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    fn check(args: &[&str]) -> Result<(), String> {
        let matches = Cli::command().try_get_matches_from(args).unwrap();
        secrets_from_environment(&matches)
    }

    #[test]
    fn secrets_on_the_command_line_are_refused() {
        let err = check(&["tessera", "serve", "--master-key", "x"]).unwrap_err();
        assert!(err.contains("--master-key") && err.contains("TESSERA_MASTER_KEY"), "{err}");
        assert!(check(&["tessera", "--master-key", "x", "migrate"]).unwrap_err().contains("TESSERA_MASTER_KEY"));
        assert!(check(&["tessera", "--master-key", "x"]).is_err());
        let add = ["tessera", "member", "add", "--org", "a", "--email", "e@x.io", "--role", "owner"];
        let err = check(&[&add[..], &["--password", "correct horse battery"]].concat()).unwrap_err();
        assert!(err.contains("TESSERA_MEMBER_PASSWORD"), "{err}");
        assert_eq!(check(&add), Ok(()));
        assert_eq!(check(&["tessera", "serve", "--listen", "127.0.0.1:3000"]), Ok(()));
        assert_eq!(check(&["tessera"]), Ok(()));
    }

    #[test]
    fn trusted_proxies_are_a_comma_separated_list_of_networks() {
        let parse = |args: &[&str]| Cli::try_parse_from([&["tessera", "serve"], args].concat());
        let cli = parse(&["--trusted-proxies", "10.0.0.0/8, 192.0.2.1,2001:db8::/32"]).unwrap();
        let Some(Command::Serve(serve)) = cli.command else { panic!("not serve") };
        let nets: Vec<String> = serve.trusted_proxies.iter().map(ToString::to_string).collect();
        assert_eq!(nets, ["10.0.0.0/8", "192.0.2.1/32", "2001:db8::/32"]);
        assert!(matches!(serve.forwarded_header, ForwardedHeaderArg::XForwardedFor));
        let err = parse(&["--trusted-proxies", "10.0.0.0/8,proxy.local"]).unwrap_err().to_string();
        assert!(err.contains("`proxy.local` is not an IP network"), "{err}");
        let cli = parse(&["--forwarded-header", "forwarded"]).unwrap();
        let Some(Command::Serve(serve)) = cli.command else { panic!("not serve") };
        assert!(serve.trusted_proxies.is_empty() && matches!(serve.forwarded_header, ForwardedHeaderArg::Forwarded));
    }

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }
}
