//! The command line: `tessera [serve]`, `migrate`, `org create`, `member add`, `api-key …`.
//! Every flag also reads a `TESSERA_*` environment variable.

use std::net::SocketAddr;

use clap::{Args, Parser, Subcommand};
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

/// Where the data lives; accepted by every command.
#[derive(Debug, Clone, Args)]
pub struct StorageArgs {
    /// Database URL: `sqlite://PATH` (file created if missing) or `postgres://…`.
    #[arg(long, env = "TESSERA_DATABASE_URL", default_value = tessera_store::DEFAULT_DATABASE_URL, hide_env_values = true, global = true)]
    pub database_url: String,
    /// Folder for local state: the generated master key (`master.key`) when `TESSERA_MASTER_KEY` is unset.
    #[arg(long, env = "TESSERA_DATA_DIR", default_value = "data", global = true)]
    pub data_dir: std::path::PathBuf,
}

/// Options of `tessera serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address and port to listen on. Default: `LEPTOS_SITE_ADDR` when set (as `cargo leptos
    /// serve` and `end-to-end` do), else 127.0.0.1:3000.
    #[arg(long, env = "TESSERA_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Public base URL of this server, used in token issuers (`{public-url}/o/{org}`).
    /// Default: `http://` + the listen address (with 0.0.0.0 shown as 127.0.0.1).
    #[arg(long, env = "TESSERA_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Log format.
    #[arg(long, env = "TESSERA_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
}

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
    /// Add a member. The password comes from TESSERA_MEMBER_PASSWORD or is prompted (not echoed).
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
