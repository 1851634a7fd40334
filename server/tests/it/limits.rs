//! Connection limits of `tessera serve` against hostile or idle clients (issue 14, finding 5):
//! the header-read timeout, the idle keep-alive timeout and the connection cap, on raw TCP
//! connections to the real binary. Short settings keep the tests within seconds.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::durability::Server;

/// A server on a fresh SQLite file with these settings.
fn server(env: &[(&str, &str)]) -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("tessera.db").display());
    (Server::start_with(&url, dir.path(), env), dir)
}

const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: tessera.test\r\n\r\n";

/// What became of a connection a client waited on for at most `wait`.
#[derive(Debug, PartialEq)]
enum Outcome {
    /// The server closed it (end of stream or reset) after this long.
    Closed(Duration),
    /// It sent bytes.
    Data(String),
    /// Nothing happened: still open.
    Open,
}

fn wait_on(conn: &mut TcpStream, wait: Duration) -> Outcome {
    conn.set_read_timeout(Some(wait)).unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 4096];
    match conn.read(&mut buf) {
        Ok(0) => Outcome::Closed(started.elapsed()),
        Ok(n) => Outcome::Data(String::from_utf8_lossy(&buf[..n]).into_owned()),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => Outcome::Open,
        Err(e) if e.kind() == ErrorKind::ConnectionReset => Outcome::Closed(started.elapsed()),
        Err(e) => panic!("reading: {e}"),
    }
}

/// Sends `GET /healthz` on `conn` and reads its whole answer (headers and `Content-Length` body).
fn healthz(conn: &mut TcpStream) -> String {
    conn.write_all(HEALTHZ).unwrap();
    read_response(conn, Duration::from_secs(5))
}

fn read_response(conn: &mut TcpStream, wait: Duration) -> String {
    conn.set_read_timeout(Some(wait)).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&got).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned()))
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            if body.len() >= length {
                return text;
            }
        }
        let n = conn.read(&mut buf).unwrap_or_else(|e| panic!("reading an answer: {e}; got {text:?}"));
        assert!(n > 0, "the connection closed mid-answer: {text:?}");
        got.extend_from_slice(&buf[..n]);
    }
}

#[test]
fn a_client_that_stops_mid_head_is_disconnected_after_the_header_read_timeout() {
    let (server, _dir) =
        server(&[("TESSERA_HEADER_READ_TIMEOUT_SECONDS", "1"), ("TESSERA_IDLE_TIMEOUT_SECONDS", "30")]);

    // Half a request line, then nothing (slowloris).
    let mut slow = TcpStream::connect(&server.addr).unwrap();
    slow.write_all(b"GET /healthz HT").unwrap();
    match wait_on(&mut slow, Duration::from_secs(8)) {
        Outcome::Closed(after) => assert!(after >= Duration::from_millis(700), "closed too early: {after:?}"),
        other => panic!(
            "a client that sent half a request line for 8 s: {other:?}, not closed after the 1 s header-read timeout"
        ),
    }

    // The deadline is for the whole head: one sent in pieces within it is answered.
    let mut pieces = TcpStream::connect(&server.addr).unwrap();
    for piece in HEALTHZ.chunks(12) {
        pieces.write_all(piece).unwrap();
        std::thread::sleep(Duration::from_millis(100));
    }
    let answer = read_response(&mut pieces, Duration::from_secs(5));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[test]
fn an_idle_kept_alive_connection_is_closed_after_the_idle_timeout() {
    // The idle timeout is longer than the header-read timeout: waiting for the next request is
    // not bounded by the head's deadline.
    let (server, _dir) = server(&[("TESSERA_HEADER_READ_TIMEOUT_SECONDS", "1"), ("TESSERA_IDLE_TIMEOUT_SECONDS", "3")]);
    let mut conn = TcpStream::connect(&server.addr).unwrap();
    assert!(healthz(&mut conn).starts_with("HTTP/1.1 200"));
    std::thread::sleep(Duration::from_millis(1800));
    let again = healthz(&mut conn);
    assert!(again.starts_with("HTTP/1.1 200"), "still open after 1.8 s idle (> the header-read timeout): {again}");
    let answered = Instant::now();
    match wait_on(&mut conn, Duration::from_secs(10)) {
        Outcome::Closed(_) => {
            let idle = answered.elapsed();
            assert!(idle >= Duration::from_millis(2500) && idle < Duration::from_secs(6), "closed after {idle:?} idle");
        }
        other => panic!("a kept-alive connection idle for 10 s: {other:?}, not closed after the 3 s idle timeout"),
    }
}

#[test]
fn connections_over_the_cap_wait_until_one_closes() {
    let (server, _dir) = server(&[("TESSERA_MAX_CONNECTIONS", "2")]);
    let mut first = TcpStream::connect(&server.addr).unwrap();
    let mut second = TcpStream::connect(&server.addr).unwrap();
    assert!(healthz(&mut first).starts_with("HTTP/1.1 200"));
    assert!(healthz(&mut second).starts_with("HTTP/1.1 200"));

    // A third connection: the kernel completes the handshake, tessera does not take it.
    let mut third = TcpStream::connect(&server.addr).unwrap();
    third.write_all(HEALTHZ).unwrap();
    assert_eq!(wait_on(&mut third, Duration::from_millis(1500)), Outcome::Open, "the third connection is not served");

    drop(first);
    let answer = read_response(&mut third, Duration::from_secs(5));
    assert!(answer.starts_with("HTTP/1.1 200"), "served once a slot is free: {answer}");
    // The second connection is still served all along.
    assert!(healthz(&mut second).starts_with("HTTP/1.1 200"));
}
