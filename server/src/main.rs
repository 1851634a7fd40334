//! The `tessera` binary: parses the command line and hands over to the command. Everything else
//! lives in the modules: `cli` (flags), `config` (master key, public URL, logging), `commands`
//! (administration), `serve` (the HTTP server), `http` (its accept loop and connection limits), `web` (the dashboard's Leptos wiring).

// Leptos view types of the dashboard nest deeply; the default limit (128) is too low for them.
#![recursion_limit = "256"]

mod cli;
mod commands;
mod config;
mod http;
mod serve;
mod web;

use cli::{Cli, Command};

/// mimalloc instead of glibc's malloc: a request allocates and frees many small buffers on
/// several threads (Tokio's workers, sqlx's SQLite workers), where glibc's arenas and their
/// locks showed as about a tenth of the server's CPU in profiles of the hot calls.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse_checked();
    let log_format = match &cli.command {
        Some(Command::Serve(args)) => args.log_format,
        _ => cli.serve.log_format,
    };
    config::init_logging(log_format);
    let result = match cli.command {
        None => serve::run(cli.serve, cli.storage).await,
        Some(Command::Serve(args)) => serve::run(args, cli.storage).await,
        Some(Command::Migrate) => commands::migrate(cli.storage).await,
        Some(Command::Org(c)) => commands::org_command(c, cli.storage).await,
        Some(Command::Member(c)) => commands::member_command(c, cli.storage).await,
        Some(Command::ApiKey(c)) => commands::api_key_command(c, cli.storage).await,
        Some(Command::Audit(c)) => commands::audit_command(c, cli.storage).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // One clear line: the error and its causes, never a backtrace.
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
