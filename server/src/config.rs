//! Runtime configuration that is more than a flag: the master key, the public URL, logging.

use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::{bail, Context};
use secrecy::{ExposeSecret, SecretString};
use tessera_api::crypto::MasterKey;

use crate::cli::LogFormat;

/// File name of the generated master key inside the data directory.
pub const MASTER_KEY_FILE: &str = "master.key";

/// The master key: `given` (`--master-key` / `TESSERA_MASTER_KEY`, base64 of 32 bytes) or, when
/// absent, `{data_dir}/master.key`, generated with mode 0600 on first use.
///
/// # Errors
/// A malformed key, or a key file that cannot be read or written.
pub fn master_key(given: Option<&SecretString>, data_dir: &Path, database_url: &str) -> anyhow::Result<MasterKey> {
    if let Some(text) = given {
        return MasterKey::from_base64(text.expose_secret()).context("--master-key / TESSERA_MASTER_KEY");
    }
    let path = data_dir.join(MASTER_KEY_FILE);
    if database_url.starts_with("postgres") {
        tracing::warn!(
            "no --master-key / TESSERA_MASTER_KEY: using {}; every instance sharing this PostgreSQL database needs the same key",
            path.display()
        );
    }
    if let Some(key) = read_key_file(&path)? {
        return Ok(key);
    }
    std::fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    let key = MasterKey::generate()?;
    // Written in full to a private temporary file (mode 0600) beside it, then linked into place
    // only if no key file exists yet: no process ever reads a half-written key, and of processes
    // starting at once exactly one key wins.
    let mut file = tempfile::Builder::new()
        .prefix(".master.key.")
        .tempfile_in(data_dir)
        .with_context(|| format!("creating a temporary file in {}", data_dir.display()))?;
    file.write_all(key.to_base64().as_bytes())?;
    file.as_file().sync_all()?;
    match file.persist_noclobber(&path) {
        Ok(_) => {
            tracing::info!(path = %path.display(), "generated a new master key; back it up: signing keys cannot be decrypted without it");
            Ok(key)
        }
        // Another process linked its key first: use theirs.
        Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => {
            read_key_file(&path)?.with_context(|| format!("master key file {} vanished", path.display()))
        }
        Err(e) => Err(e.error).with_context(|| format!("writing {}", path.display())),
    }
}

/// The master key in the file at `path`, or `None` if there is no such file.
///
/// # Errors
/// A file that group or others may read (on Unix: any of the mode bits `0o077`), since that key
/// may have leaked; a malformed key; a file that cannot be read.
fn read_key_file(path: &Path) -> anyhow::Result<Option<MasterKey>> {
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            bail!(
                "master key file {} is readable by group or others (mode {mode:03o}); the key may have leaked: \
                 run `chmod 600 {}` if it has not",
                path.display(),
                path.display()
            );
        }
    }
    #[cfg(not(unix))]
    let _ = metadata;
    // The file's text is the key: wiped once parsed.
    let text =
        zeroize::Zeroizing::new(std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?);
    MasterKey::from_base64(&text).with_context(|| format!("master key file {}", path.display())).map(Some)
}

/// Where `serve` listens when neither `--listen` nor `TESSERA_LISTEN` says: 127.0.0.1:3000.
pub const DEFAULT_LISTEN: std::net::SocketAddr =
    std::net::SocketAddr::V4(std::net::SocketAddrV4::new(std::net::Ipv4Addr::LOCALHOST, 3000));

/// The address to listen on: `given` (flag or `TESSERA_LISTEN`), else `leptos_site_addr` (the
/// value of `LEPTOS_SITE_ADDR`, set by cargo-leptos for the server it starts), else
/// [`DEFAULT_LISTEN`].
///
/// # Errors
/// A `LEPTOS_SITE_ADDR` that is not an `IP:port` address.
pub fn listen_addr(
    given: Option<std::net::SocketAddr>,
    leptos_site_addr: Option<&str>,
) -> anyhow::Result<std::net::SocketAddr> {
    match (given, leptos_site_addr) {
        (Some(addr), _) => Ok(addr),
        (None, Some(text)) => text.trim().parse().with_context(|| format!("LEPTOS_SITE_ADDR `{text}` is not IP:port")),
        (None, None) => Ok(DEFAULT_LISTEN),
    }
}

/// The public base URL: the given one (checked to be http(s) without a query), or
/// `http://{listen}` with an unspecified address shown as 127.0.0.1.
///
/// # Errors
/// A URL that is not `http://` or `https://`.
pub fn public_url(given: Option<&str>, listen: std::net::SocketAddr) -> anyhow::Result<String> {
    match given {
        Some(url) => {
            let url = url.trim().trim_end_matches('/');
            if !(url.starts_with("http://") || url.starts_with("https://")) || url.contains(['?', '#', ' ']) {
                bail!("--public-url must be an http:// or https:// URL without query or fragment, e.g. https://tokens.example.com");
            }
            Ok(url.to_owned())
        }
        None => {
            let mut addr = listen;
            if addr.ip().is_unspecified() {
                addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
            }
            Ok(format!("http://{addr}"))
        }
    }
}

/// Installs the tracing subscriber: `RUST_LOG`-style filter (default `info`), to stderr, coloured
/// only when stderr is a terminal and `NO_COLOR` is unset or empty (<https://no-color.org/>): a
/// log file, a pipe or journald gets plain text, without ANSI escape sequences.
pub fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let ansi = std::io::stderr().is_terminal() && !no_color;
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_url_defaults_to_the_listen_address() {
        let any: std::net::SocketAddr = "0.0.0.0:8080".parse().unwrap();
        assert_eq!(public_url(None, any).unwrap(), "http://127.0.0.1:8080");
        assert_eq!(public_url(Some("https://t.example.com/"), any).unwrap(), "https://t.example.com");
        assert!(public_url(Some("ftp://x"), any).is_err());
    }

    #[test]
    fn listen_address_prefers_the_flag_then_leptos_site_addr() {
        let flag: std::net::SocketAddr = "0.0.0.0:8080".parse().unwrap();
        assert_eq!(listen_addr(Some(flag), Some("127.0.0.1:3100")).unwrap(), flag);
        assert_eq!(listen_addr(None, Some("127.0.0.1:3100")).unwrap().to_string(), "127.0.0.1:3100");
        assert_eq!(listen_addr(None, None).unwrap(), DEFAULT_LISTEN);
        assert!(listen_addr(None, Some("nope")).is_err());
    }

    #[test]
    fn master_key_file_is_generated_once_with_private_mode() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("nested");
        let first = master_key(None, &data, "sqlite://x").unwrap();
        let second = master_key(None, &data, "sqlite://x").unwrap();
        assert_eq!(first.to_base64(), second.to_base64());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(data.join(MASTER_KEY_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    /// Issue 14, finding 9: a key file others may read is a leaked key.
    #[cfg(unix)]
    #[test]
    fn a_key_file_readable_by_group_or_others_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let key = master_key(None, dir.path(), "sqlite://x").unwrap().to_base64();
        let path = dir.path().join(MASTER_KEY_FILE);
        for mode in [0o640, 0o604, 0o644] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            let err = master_key(None, dir.path(), "sqlite://x").err().map(|e| format!("{e:#}"));
            let err = err.unwrap_or_else(|| panic!("mode {mode:o} was accepted"));
            assert!(err.contains("readable by group or others") && err.contains("chmod 600"), "{err}");
            assert!(!err.contains(key.as_str()), "the error shows the key: {err}");
        }
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(master_key(None, dir.path(), "sqlite://x").unwrap().to_base64(), key);
    }

    /// Issue 14, finding 9: processes starting at once on a fresh data folder all get the one
    /// key that was written, and none reads a half-written file.
    #[test]
    fn concurrent_first_starts_agree_on_one_key() {
        for _ in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let start = std::sync::Arc::new(std::sync::Barrier::new(16));
            let keys: Vec<String> = std::thread::scope(|scope| {
                let runs: Vec<_> = (0..16)
                    .map(|_| {
                        let (start, data) = (start.clone(), dir.path().to_path_buf());
                        scope.spawn(move || {
                            start.wait();
                            master_key(None, &data, "sqlite://x")
                                .map(|k| k.to_base64().to_string())
                                .map_err(|e| format!("{e:#}"))
                        })
                    })
                    .collect();
                runs.into_iter().map(|run| run.join().unwrap().expect("every start gets a key")).collect()
            });
            assert!(keys.iter().all(|k| k == &keys[0]), "two different keys were handed out");
        }
    }

    #[test]
    fn a_given_master_key_wins_and_no_file_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let key = MasterKey::generate().unwrap().to_base64();
        let given = SecretString::from(key.to_string());
        assert_eq!(master_key(Some(&given), dir.path(), "sqlite://x").unwrap().to_base64(), key);
        assert!(!dir.path().join(MASTER_KEY_FILE).exists());
        let err = master_key(Some(&SecretString::from("c2hvcnQ=")), dir.path(), "sqlite://x").unwrap_err();
        assert!(format!("{err:#}").contains("TESSERA_MASTER_KEY"), "{err:#}");
    }
}
