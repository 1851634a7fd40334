//! The one shutdown signal of Tessera's processes: `tessera serve` stops accepting and drains its
//! connections on it, and `tessera-bench` stops its runs (and its child servers) on it. A crate of
//! its own so that both depend on it without the benchmark depending on the server's crates.

/// Resolves on the first SIGINT (Ctrl-C) or, on Unix, SIGTERM (what `kill`, systemd and
/// container runtimes send). If a handler cannot be installed, that signal is simply not
/// awaited (the other still is).
pub async fn signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

#[cfg(test)]
mod tests {
    #[cfg(unix)]
    #[tokio::test]
    async fn sigterm_resolves_the_signal() {
        let waiting = tokio::spawn(super::signal());
        // Let the task install its handlers before the signal is sent.
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let status = std::process::Command::new("kill")
            .args(["-TERM", &std::process::id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
        tokio::time::timeout(std::time::Duration::from_secs(5), waiting)
            .await
            .expect("the signal resolved within 5 s")
            .unwrap();
    }
}
