//! The administrative commands: `migrate`, `org create`, `member add`, `api-key create|list|revoke`.
//! They call the same services as the REST API, against the same database a running server uses,
//! so a key created or revoked here takes effect in the server at once.

use anyhow::Context;
use secrecy::SecretString;
use tessera_api::{services, ApiConfig, AppState};
use tessera_core::{Org, Role};

use crate::cli::{ApiKeyCommand, MemberCommand, OrgCommand, StorageArgs};
use crate::config;

/// Public URL the administrative commands build their state with (they print no issuer, except
/// `org create`, which takes `--public-url`).
const CLI_PUBLIC_URL: &str = "http://127.0.0.1:3000";

/// Opens the store (applying migrations) and builds the services' state with `api`'s settings.
///
/// # Errors
/// Database or master key problems, with context.
pub async fn state(storage: &StorageArgs, api: ApiConfig) -> anyhow::Result<AppState> {
    let store = tessera_store::open_with(&storage.database_url, storage.store_options()).await?;
    let master = config::master_key(storage.master_key.as_ref(), &storage.data_dir, &storage.database_url)?;
    Ok(AppState::new(store, tessera_api::crypto::KeyRing::new(master), api))
}

async fn org(state: &AppState, slug: &str) -> anyhow::Result<Org> {
    services::orgs::by_slug(state, slug).await.with_context(|| format!("organization `{slug}`"))
}

/// `tessera migrate`.
pub async fn migrate(storage: StorageArgs) -> anyhow::Result<()> {
    let applied = tessera_store::migrate(&storage.database_url).await?;
    eprintln!("database is up to date ({applied} migration(s) applied)");
    Ok(())
}

/// `tessera org …`.
pub async fn org_command(command: OrgCommand, storage: StorageArgs) -> anyhow::Result<()> {
    match command {
        OrgCommand::Create { slug, name, public_url } => {
            let public_url = config::public_url(Some(&public_url), "127.0.0.1:3000".parse()?)?;
            let state = state(&storage, ApiConfig::new(&public_url)).await?;
            let org = services::orgs::create(&state, &slug, &name).await?;
            let issuer = state.config.issuer(&org.slug);
            println!("{}", org.slug);
            eprintln!("created organization `{}` ({})", org.name, org.id);
            eprintln!("issuer: {issuer}");
            eprintln!("JWKS:   {issuer}/.well-known/jwks.json");
            Ok(())
        }
    }
}

/// `tessera member …`.
pub async fn member_command(command: MemberCommand, storage: StorageArgs) -> anyhow::Result<()> {
    match command {
        MemberCommand::Add { org: slug, email, role, password } => {
            let state = state(&storage, ApiConfig::new(CLI_PUBLIC_URL)).await?;
            let org = org(&state, &slug).await?;
            let password = match password {
                Some(password) => password,
                None => prompt_password()?,
            };
            let member = services::members::add(&state, org.id, &email, role, password).await?;
            eprintln!("added {} to `{}` as {}", member.email.as_str(), org.slug, role_name(member.role));
            println!("{}", member.id);
            Ok(())
        }
    }
}

fn role_name(role: Role) -> &'static str {
    role.as_str()
}

/// Asks for a new member's password twice on the terminal, without echo.
fn prompt_password() -> anyhow::Result<SecretString> {
    let pw = rpassword::prompt_password("Password (at least 12 characters): ")
        .context("no terminal to prompt for a password; set TESSERA_MEMBER_PASSWORD")?;
    let again = rpassword::prompt_password("Password again: ").context("reading the password")?;
    anyhow::ensure!(pw == again, "the passwords do not match");
    Ok(SecretString::from(pw))
}

/// `tessera api-key …`.
pub async fn api_key_command(command: ApiKeyCommand, storage: StorageArgs) -> anyhow::Result<()> {
    match command {
        ApiKeyCommand::Create { org: slug, name, expires_in_days } => {
            let state = state(&storage, ApiConfig::new(CLI_PUBLIC_URL)).await?;
            let org = org(&state, &slug).await?;
            let expires_at = expires_in_days.map(|d| services::now() + time::Duration::days(i64::from(d)));
            let created = services::api_keys::create(&state, org.id, &name, None, expires_at).await?;
            // The key alone on stdout, so `KEY=$(tessera api-key create …)` works.
            println!("{}", created.secret.expose());
            eprintln!(
                "created API key `{}` (tsk_{}…) for `{}`; it is shown only this once",
                created.key.name, created.key.prefix, org.slug
            );
            Ok(())
        }
        ApiKeyCommand::List { org: slug } => {
            let state = state(&storage, ApiConfig::new(CLI_PUBLIC_URL)).await?;
            let org = org(&state, &slug).await?;
            let keys = services::api_keys::list(&state, org.id).await?;
            if keys.is_empty() {
                eprintln!(
                    "`{}` has no API keys; create one with `tessera api-key create --org {} --name NAME`",
                    org.slug, org.slug
                );
                return Ok(());
            }
            println!("{:<10} {:<8} {:<21} {:<21} {:<21} NAME", "PREFIX", "STATUS", "CREATED", "LAST USED", "EXPIRES");
            let now = services::now();
            let fmt = |t: Option<time::OffsetDateTime>| {
                t.and_then(|t| t.replace_nanosecond(0).ok())
                    .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
                    .unwrap_or_else(|| "-".into())
            };
            for k in keys {
                let status = if k.revoked_at.is_some() {
                    "revoked"
                } else if k.is_usable(now) {
                    "active"
                } else {
                    "expired"
                };
                println!(
                    "{:<10} {:<8} {:<21} {:<21} {:<21} {}",
                    k.prefix,
                    status,
                    fmt(Some(k.created_at)),
                    fmt(k.last_used_at),
                    fmt(k.expires_at),
                    k.name
                );
            }
            Ok(())
        }
        ApiKeyCommand::Revoke { org: slug, prefix } => {
            let state = state(&storage, ApiConfig::new(CLI_PUBLIC_URL)).await?;
            let org = org(&state, &slug).await?;
            let key = services::api_keys::revoke(&state, org.id, &prefix).await?;
            eprintln!("revoked API key `{}` (tsk_{}…) of `{}`", key.name, key.prefix, org.slug);
            Ok(())
        }
    }
}
