//! The administrative commands: `migrate`, `org create`, `member add`, `api-key create|list|revoke`,
//! `audit export|verify`.
//! They call the same services as the REST API, against the same database a running server uses,
//! so a key created or revoked here takes effect in the server at once.

use anyhow::Context;
use secrecy::SecretString;
use tessera_api::{services, ApiConfig, AppState};
use tessera_core::{Actor, AuditContext, AuditEvent, ChainVerifier, Org, Role};

use std::io::{BufRead, IsTerminal, Write};

use crate::cli::{ApiKeyCommand, AuditCommand, MemberCommand, OrgCommand, StorageArgs};
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

/// The audit context of a change made by this command: actor `cli`, labelled with the
/// operating-system user who runs it.
fn cli_audit() -> AuditContext {
    AuditContext::new(Actor::cli(&os_user()), services::now())
}

/// The user running this process: `$USER` or `$LOGNAME`, else `uid N` (from `/proc/self`).
fn os_user() -> String {
    use std::os::unix::fs::MetadataExt;
    ["USER", "LOGNAME"]
        .into_iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
        .or_else(|| std::fs::metadata("/proc/self").ok().map(|m| format!("uid {}", m.uid())))
        .unwrap_or_else(|| "unknown".to_owned())
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
            let org = services::orgs::create(&state, &slug, &name, &cli_audit()).await?;
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
            let member = services::members::add(&state, org.id, &email, role, password, &cli_audit()).await?;
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
            let created = services::api_keys::create(&state, org.id, &name, None, expires_at, &cli_audit()).await?;
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
            let key = services::api_keys::revoke(&state, org.id, &prefix, &cli_audit()).await?;
            eprintln!("revoked API key `{}` (tsk_{}…) of `{}`", key.name, key.prefix, org.slug);
            Ok(())
        }
    }
}

/// Events read per page by `audit export` and `audit verify`: memory stays bounded whatever the
/// log's size.
const AUDIT_PAGE: u32 = 1000;

/// `tessera audit export|verify|checkpoint`.
///
/// # Errors
/// Database problems, an unknown org, an unreadable or malformed export file, and (for
/// `verify`) the first event that breaks the chain: each exits 1.
pub async fn audit_command(command: AuditCommand, storage: StorageArgs) -> anyhow::Result<()> {
    match command {
        AuditCommand::Export { org: slug, since } => {
            let state = state(&storage, ApiConfig::new(CLI_PUBLIC_URL)).await?;
            let org = org(&state, &slug).await?;
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let progress = Progress::new("exported");
            let (mut after, mut written) = (0, 0u64);
            loop {
                let page = state.store.audit_events_after(org.id, after, AUDIT_PAGE).await?;
                let Some(last) = page.last() else { break };
                after = last.seq;
                for event in page.iter().filter(|e| since.is_none_or(|t| e.occurred_at >= t)) {
                    serde_json::to_writer(&mut out, event)?;
                    out.write_all(b"\n")?;
                    written += 1;
                }
                progress.show(written);
            }
            out.flush()?;
            progress.done(written);
            eprintln!("exported {written} audit events of `{}`", org.slug);
            Ok(())
        }
        AuditCommand::Checkpoint { org: slug, public_url } => {
            let public_url = config::public_url(Some(&public_url), "127.0.0.1:3000".parse()?)?;
            let state = state(&storage, ApiConfig::new(&public_url)).await?;
            let token =
                services::audit::checkpoint(&state, &slug).await.with_context(|| format!("organization `{slug}`"))?;
            println!("{token}");
            Ok(())
        }
        AuditCommand::Verify { org: slug, file, checkpoint } => {
            // The database is read for the events (without --file) and for the org's keys (with
            // --checkpoint); an export alone is checked without one.
            let state = match (&file, &checkpoint) {
                (Some(_), None) => None,
                _ => Some(state(&storage, ApiConfig::new(CLI_PUBLIC_URL)).await?),
            };
            let org = match &state {
                Some(state) => Some(org(state, &slug).await?),
                None => None,
            };
            let mut anchor = match (&checkpoint, &state, &org) {
                (Some(path), Some(state), Some(org)) => Some(Anchor::load(state, org, path).await?),
                _ => None,
            };
            let mut verifier = ChainVerifier::new();
            let mut check = |event: &AuditEvent, verifier: &mut ChainVerifier| -> anyhow::Result<()> {
                verifier.check(event).map_err(|e| anyhow::anyhow!("{e}"))?;
                anchor.as_mut().map_or(Ok(()), |a| a.observe(event))
            };
            let source = match (&file, &state, &org) {
                (Some(file), ..) => {
                    let reader = std::io::BufReader::new(
                        std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?,
                    );
                    let mut org_id = org.as_ref().map(|o| o.id);
                    for (n, line) in reader.lines().enumerate() {
                        let line = line.with_context(|| format!("reading {}", file.display()))?;
                        if line.trim().is_empty() {
                            continue;
                        }
                        let at = || format!("{} line {}", file.display(), n + 1);
                        let event: AuditEvent =
                            serde_json::from_str(&line).with_context(|| format!("{}: not an audit event", at()))?;
                        if *org_id.get_or_insert(event.org_id) != event.org_id {
                            anyhow::bail!("{}: an event of another org ({})", at(), event.org_id);
                        }
                        check(&event, &mut verifier).map_err(|e| anyhow::anyhow!("{}: {e}", at()))?;
                    }
                    format!(" in {}", file.display())
                }
                (None, Some(state), Some(org)) => {
                    let progress = Progress::new("checked");
                    let mut after = 0;
                    loop {
                        let page = state.store.audit_events_after(org.id, after, AUDIT_PAGE).await?;
                        let Some(last) = page.last() else { break };
                        after = last.seq;
                        for event in &page {
                            check(event, &mut verifier)?;
                        }
                        progress.show(verifier.checked());
                    }
                    progress.done(verifier.checked());
                    check_head(state, org, &verifier).await?;
                    String::new()
                }
                _ => unreachable!("the database is opened whenever no export is given"),
            };
            let anchored = match &anchor {
                Some(a) => a.finish(&verifier)?,
                None => String::new(),
            };
            println!("ok: {} events of `{slug}` checked{source}{}{anchored}", verifier.checked(), last_of(&verifier));
            Ok(())
        }
    }
}

/// The head names the latest event ever appended: events cut from the end of the log leave a
/// chain that verifies but stops short of it.
async fn check_head(state: &AppState, org: &Org, verifier: &ChainVerifier) -> anyhow::Result<()> {
    if let Some((head_seq, head_hash)) = state.store.audit_head(org.id).await? {
        match verifier.last() {
            Some((seq, hash)) if seq == head_seq && hash == head_hash => {}
            Some((seq, _)) => anyhow::bail!(
                "the log ends at seq {seq}, but its head records seq {head_seq}: the latest events were removed or \
                 altered"
            ),
            None if head_seq > 0 => anyhow::bail!("no events are left, but the log's head records seq {head_seq}"),
            None => {}
        }
    }
    Ok(())
}

/// A saved checkpoint (`audit verify --checkpoint`), and whether the events checked agree with it.
struct Anchor {
    claims: tessera_api::crypto::CheckpointClaims,
    /// Whether the event at the checkpoint's `seq` (or the one after it, by its `prev_hash`) was
    /// seen and agreed.
    seen: bool,
}

impl Anchor {
    async fn load(state: &AppState, org: &Org, path: &std::path::Path) -> anyhow::Result<Self> {
        let token = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let claims = services::audit::verify_checkpoint(state, org, &token)
            .await
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        Ok(Self { claims, seen: false })
    }

    fn observe(&mut self, event: &AuditEvent) -> anyhow::Result<()> {
        let (seq, hash) = (self.claims.seq, &self.claims.hash);
        let held = if event.seq == seq {
            Some(event.hash == *hash)
        } else if event.seq == seq + 1 {
            Some(event.prev_hash == *hash)
        } else {
            None
        };
        match held {
            Some(true) => self.seen = true,
            Some(false) => anyhow::bail!(
                "event seq {} does not match the checkpoint of seq {seq} (hash {hash}): the history before the \
                 checkpoint was rewritten",
                event.seq
            ),
            None => {}
        }
        Ok(())
    }

    /// `, matching the checkpoint of seq N`, or why the checkpoint could not be matched.
    fn finish(&self, verifier: &ChainVerifier) -> anyhow::Result<String> {
        let seq = self.claims.seq;
        if !self.seen && seq > 0 {
            match verifier.last() {
                Some((last, _)) if last < seq => anyhow::bail!(
                    "the log ends at seq {last}, before the checkpoint's seq {seq}: events after it were removed"
                ),
                Some(_) => anyhow::bail!(
                    "the checkpoint's seq {seq} is older than the oldest event checked: it cannot be matched"
                ),
                None => anyhow::bail!("no events to check against the checkpoint's seq {seq}"),
            }
        }
        Ok(format!(", matching the checkpoint of seq {seq}"))
    }
}

/// `, up to seq N (hash H)` for the last event checked, if any.
fn last_of(verifier: &ChainVerifier) -> String {
    verifier.last().map(|(seq, hash)| format!(", up to seq {seq} (hash {hash})")).unwrap_or_default()
}

/// A count rewritten in place on stderr, only when stderr is a terminal.
struct Progress {
    what: &'static str,
    terminal: bool,
}

impl Progress {
    fn new(what: &'static str) -> Self {
        Self { what, terminal: std::io::stderr().is_terminal() }
    }

    fn show(&self, n: u64) {
        if self.terminal {
            eprint!("\r{} {n} events…", self.what);
        }
    }

    fn done(&self, n: u64) {
        if self.terminal {
            eprintln!("\r{} {n} events.  ", self.what);
        }
    }
}
