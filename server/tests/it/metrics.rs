//! `GET /metrics` of the real binary (issue 14, "Metrics"): on the main listener by default, and
//! only on its own listener when `--metrics-listen` is set.

use std::net::TcpListener;

use crate::durability::{agent, Server};

/// A server on a fresh SQLite file with these settings.
fn server(env: &[(&str, &str)]) -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("tessera.db").display());
    (Server::start_with(&url, dir.path(), env), dir)
}

/// The status and body of `GET url`.
fn get(url: &str) -> (u16, String) {
    match agent().get(url).call() {
        Ok(resp) => (resp.status(), resp.into_string().unwrap()),
        Err(ureq::Error::Status(status, resp)) => (status, resp.into_string().unwrap_or_default()),
        Err(e) => panic!("GET {url}: {e}"),
    }
}

#[test]
fn metrics_are_served_on_the_main_listener_by_default() {
    let (server, _dir) = server(&[]);
    let (status, body) = get(&format!("{}/metrics", server.base));
    assert_eq!(status, 200, "{body}");
    // The start-up polled /readyz until it answered 200.
    assert!(
        body.lines().any(|l| l.starts_with("http_requests_total{")
            && l.contains(r#"route="/readyz""#)
            && l.contains(r#"status="200""#)),
        "{body}"
    );
    assert!(body.contains(r#"db_pool_connections{state="idle"}"#), "{body}");
    assert!(body.contains("# TYPE http_request_duration_seconds histogram"), "{body}");
}

#[test]
fn with_metrics_listen_metrics_are_served_only_there() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let metrics_addr = format!("127.0.0.1:{port}");
    let (server, _dir) = server(&[("TESSERA_METRICS_LISTEN", &metrics_addr)]);
    let (status, body) = get(&format!("{}/metrics", server.base));
    assert_eq!(status, 404, "the main listener serves /metrics: {body}");
    let (status, body) = get(&format!("http://{metrics_addr}/metrics"));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#"route="/readyz""#), "requests on the main listener are counted: {body}");
    let (status, _) = get(&format!("http://{metrics_addr}/readyz"));
    assert_eq!(status, 404, "the metrics listener serves nothing but /metrics");
}
