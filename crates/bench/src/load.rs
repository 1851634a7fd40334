//! The keep-alive HTTP/1.1 load generator: one task per connection, each sending its requests
//! one after another on its own connection (hyper 1 client connections), latencies in an HDR
//! histogram. Every response is checked; failures are counted by kind, never as throughput.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use hdrhistogram::Histogram;
use http::{header, HeaderValue, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::time::Instant;

/// Longest wait for one response before it counts as a transport error, in seconds.
pub const REQUEST_TIMEOUT_SECS: u64 = 10;
/// Highest latency the histograms record, in µs (60 s); longer ones are clamped to it.
const MAX_LATENCY_US: u64 = 60_000_000;

/// One request to send: method, origin-form path with query, optional JSON body.
#[derive(Debug, Clone)]
pub struct RequestSpec {
    /// HTTP method.
    pub method: Method,
    /// Path and query, e.g. `/token?account=u1&platform=bench`.
    pub path: String,
    /// A JSON body, sent with `Content-Type: application/json`.
    pub json: Option<Bytes>,
}

impl RequestSpec {
    /// A `GET` of `path`.
    pub fn get(path: impl Into<String>) -> Self {
        Self { method: Method::GET, path: path.into(), json: None }
    }

    /// A `POST` of `body` (JSON) to `path`.
    pub fn post_json(path: impl Into<String>, body: &serde_json::Value) -> Self {
        Self { method: Method::POST, path: path.into(), json: Some(Bytes::from(body.to_string())) }
    }
}

/// Where requests go and how they authenticate.
#[derive(Debug, Clone)]
pub struct Target {
    /// The server's address.
    pub addr: SocketAddr,
    /// `Host` header value.
    host: HeaderValue,
    /// `Authorization` header value, if any.
    auth: Option<HeaderValue>,
}

impl Target {
    /// A target at `addr`, sending `Authorization: Bearer <api_key>` when a key is given.
    ///
    /// # Errors
    /// The key contains characters a header cannot carry.
    pub fn new(addr: SocketAddr, api_key: Option<&str>) -> anyhow::Result<Self> {
        let host = HeaderValue::from_str(&addr.to_string()).context("host header")?;
        let auth = api_key
            .map(|key| HeaderValue::from_str(&format!("Bearer {key}")))
            .transpose()
            .context("the API key is not a valid header value")?;
        Ok(Self { addr, host, auth })
    }

    /// Builds the hyper request for `spec`.
    ///
    /// # Errors
    /// The path is not a valid URI.
    pub fn request(&self, spec: RequestSpec) -> anyhow::Result<Request<Full<Bytes>>> {
        let mut builder =
            Request::builder().method(spec.method).uri(&spec.path).header(header::HOST, self.host.clone());
        if let Some(auth) = &self.auth {
            builder = builder.header(header::AUTHORIZATION, auth.clone());
        }
        let body = match spec.json {
            Some(json) => {
                builder = builder.header(header::CONTENT_TYPE, "application/json");
                json
            }
            None => Bytes::new(),
        };
        builder.body(Full::new(body)).with_context(|| format!("bad request path {:?}", spec.path))
    }
}

/// A keep-alive HTTP/1.1 connection.
pub struct Connection {
    sender: SendRequest<Full<Bytes>>,
}

impl Connection {
    /// Opens a connection to `addr` (TCP_NODELAY) and drives it on a background task.
    ///
    /// # Errors
    /// Connection refused, or the HTTP/1.1 handshake fails.
    pub async fn open(addr: SocketAddr) -> anyhow::Result<Self> {
        let stream = tokio::net::TcpStream::connect(addr).await.with_context(|| format!("cannot connect to {addr}"))?;
        stream.set_nodelay(true).context("TCP_NODELAY")?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.context("HTTP/1.1 handshake")?;
        tokio::spawn(async move {
            // Ends when the sender is dropped or the server closes; errors surface on the sender.
            let _ = connection.await;
        });
        Ok(Self { sender })
    }

    /// Sends one request and reads the whole response, within [`REQUEST_TIMEOUT_SECS`].
    ///
    /// # Errors
    /// Transport failures and timeouts; the connection should then be reopened.
    pub async fn send(&mut self, request: Request<Full<Bytes>>) -> anyhow::Result<(StatusCode, Bytes)> {
        let exchange = async {
            self.sender.ready().await.context("connection closed")?;
            let response = self.sender.send_request(request).await.context("request failed")?;
            let status = response.status();
            let body = response.into_body().collect().await.context("reading the response body")?.to_bytes();
            anyhow::Ok((status, body))
        };
        tokio::time::timeout(Duration::from_secs(REQUEST_TIMEOUT_SECS), exchange)
            .await
            .map_err(|_| anyhow::anyhow!("no response within {REQUEST_TIMEOUT_SECS} s"))?
    }
}

/// How a measured call's responses are judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Any 2xx.
    Success,
    /// A 2xx whose body contains `"active":true` (introspection of a live token).
    Active,
}

impl Check {
    /// Whether `body` passes the check (the status is judged separately).
    pub fn body_ok(self, body: &[u8]) -> bool {
        match self {
            Check::Success => true,
            Check::Active => contains(body, br#""active":true"#),
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

/// Failures seen while measuring, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Errors {
    /// Responses with a status outside 2xx.
    pub non_2xx: u64,
    /// 2xx responses whose body failed the [`Check`].
    pub bad_body: u64,
    /// Connection failures, broken responses and timeouts.
    pub transport: u64,
}

impl Errors {
    /// All failures.
    pub fn total(&self) -> u64 {
        self.non_2xx + self.bad_body + self.transport
    }

    fn add(&mut self, other: &Errors) {
        self.non_2xx += other.non_2xx;
        self.bad_body += other.bad_body;
        self.transport += other.transport;
    }
}

/// Connections and phases of one measured call.
#[derive(Debug, Clone, Copy)]
pub struct LoadConfig {
    /// Concurrent keep-alive connections.
    pub connections: usize,
    /// Warm-up before measuring; its requests are not recorded (errors are counted apart).
    pub warmup: Duration,
    /// The measured window.
    pub duration: Duration,
}

/// What one measured call produced.
#[derive(Debug, Clone)]
pub struct LoadResult {
    /// Successful requests started inside the measured window.
    pub ok: u64,
    /// Failures inside the measured window.
    pub errors: Errors,
    /// Failures during warm-up (not part of the figures, shown when non-zero).
    pub warmup_errors: Errors,
    /// Latencies of the successful measured requests, in µs.
    pub histogram: Histogram<u64>,
    /// Length of the measured window, in seconds.
    pub seconds: f64,
    /// One example failure (status and start of the body, or the transport error), if any.
    pub first_error: Option<String>,
}

impl LoadResult {
    /// Successful requests per second.
    pub fn rate(&self) -> f64 {
        if self.seconds > 0.0 {
            self.ok as f64 / self.seconds
        } else {
            0.0
        }
    }

    /// The latency at `quantile` (0–1), in ms; `None` without any successful request.
    pub fn latency_ms(&self, quantile: f64) -> Option<f64> {
        quantile_ms(&self.histogram, quantile)
    }
}

/// A new latency histogram (µs, 1 µs to 60 s, 3 significant digits).
pub fn new_histogram() -> Histogram<u64> {
    // The bounds are constants that hdrhistogram accepts.
    Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("valid histogram bounds")
}

/// Records one latency (clamped to the histogram's range).
pub fn record(histogram: &mut Histogram<u64>, latency: Duration) {
    let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX).clamp(1, MAX_LATENCY_US);
    histogram.saturating_record(us);
}

/// The value at `quantile` (0–1) of a µs histogram, in ms; `None` when it is empty.
pub fn quantile_ms(histogram: &Histogram<u64>, quantile: f64) -> Option<f64> {
    if histogram.is_empty() {
        None
    } else {
        Some(histogram.value_at_quantile(quantile) as f64 / 1000.0)
    }
}

/// Describes a failed response for the error sample: status and the start of the body.
pub fn describe_failure(status: StatusCode, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(200)]);
    format!("{status}: {}", text.trim())
}

/// Drives `config.connections` keep-alive connections against `target` for the warm-up and the
/// measured window; request `n` (counted over all connections, from 0) is `make(n)`.
///
/// # Errors
/// No connection could be opened at all.
pub async fn measure<F>(target: &Target, config: LoadConfig, check: Check, make: F) -> anyhow::Result<LoadResult>
where
    F: Fn(u64) -> RequestSpec + Send + Sync + 'static,
{
    // Open every connection first so that connecting is not measured.
    let mut connections = Vec::with_capacity(config.connections);
    for _ in 0..config.connections {
        connections.push(Connection::open(target.addr).await?);
    }
    let make = Arc::new(make);
    let sequence = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let measure_from = start + config.warmup;
    let end = measure_from + config.duration;
    let mut tasks = tokio::task::JoinSet::new();
    for connection in connections {
        let (target, make, sequence) = (target.clone(), make.clone(), sequence.clone());
        tasks.spawn(connection_loop(target, connection, check, make, sequence, measure_from, end));
    }
    let mut result = LoadResult {
        ok: 0,
        errors: Errors::default(),
        warmup_errors: Errors::default(),
        histogram: new_histogram(),
        seconds: config.duration.as_secs_f64(),
        first_error: None,
    };
    while let Some(joined) = tasks.join_next().await {
        let part = joined.context("a load task panicked")?;
        result.ok += part.ok;
        result.errors.add(&part.errors);
        result.warmup_errors.add(&part.warmup_errors);
        result.histogram.add(&part.histogram).context("merging histograms")?;
        if result.first_error.is_none() {
            result.first_error = part.first_error;
        }
    }
    Ok(result)
}

async fn connection_loop<F>(
    target: Target,
    connection: Connection,
    check: Check,
    make: Arc<F>,
    sequence: Arc<AtomicU64>,
    measure_from: Instant,
    end: Instant,
) -> LoadResult
where
    F: Fn(u64) -> RequestSpec + Send + Sync + 'static,
{
    let mut part = LoadResult {
        ok: 0,
        errors: Errors::default(),
        warmup_errors: Errors::default(),
        histogram: new_histogram(),
        seconds: 0.0,
        first_error: None,
    };
    let mut connection = Some(connection);
    loop {
        let started = Instant::now();
        if started >= end {
            break;
        }
        let measured = started >= measure_from;
        let errors = if measured { &mut part.errors } else { &mut part.warmup_errors };
        let conn = match connection.as_mut() {
            Some(conn) => conn,
            None => match Connection::open(target.addr).await {
                Ok(conn) => connection.insert(conn),
                Err(e) => {
                    errors.transport += 1;
                    part.first_error.get_or_insert_with(|| format!("{e:#}"));
                    // Do not spin on a refused connection.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let request = match target.request(make(sequence.fetch_add(1, Ordering::Relaxed))) {
            Ok(request) => request,
            Err(e) => {
                errors.transport += 1;
                part.first_error.get_or_insert_with(|| format!("{e:#}"));
                continue;
            }
        };
        match conn.send(request).await {
            Ok((status, body)) => {
                if !status.is_success() {
                    errors.non_2xx += 1;
                    part.first_error.get_or_insert_with(|| describe_failure(status, &body));
                } else if !check.body_ok(&body) {
                    errors.bad_body += 1;
                    part.first_error.get_or_insert_with(|| describe_failure(status, &body));
                } else if measured {
                    part.ok += 1;
                    record(&mut part.histogram, started.elapsed());
                }
            }
            Err(e) => {
                errors.transport += 1;
                part.first_error.get_or_insert_with(|| format!("{e:#}"));
                connection = None;
            }
        }
    }
    part
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_come_back_in_ms() {
        let mut histogram = new_histogram();
        for ms in 1..=100u64 {
            record(&mut histogram, Duration::from_millis(ms));
        }
        let p50 = quantile_ms(&histogram, 0.5).unwrap();
        let p99 = quantile_ms(&histogram, 0.99).unwrap();
        // Three significant digits: within 0.1 %.
        assert!((p50 - 50.0).abs() <= 0.05, "p50 = {p50}");
        assert!((p99 - 99.0).abs() <= 0.1, "p99 = {p99}");
        assert_eq!(quantile_ms(&new_histogram(), 0.5), None);
    }

    #[test]
    fn out_of_range_latencies_are_clamped_not_lost() {
        let mut histogram = new_histogram();
        record(&mut histogram, Duration::ZERO);
        record(&mut histogram, Duration::from_secs(3600));
        assert_eq!(histogram.len(), 2);
        assert_eq!(histogram.min(), 1);
        assert!(quantile_ms(&histogram, 1.0).unwrap() >= 59_000.0);
    }

    #[test]
    fn rate_is_successes_over_the_measured_seconds() {
        let result = LoadResult {
            ok: 30_000,
            errors: Errors { non_2xx: 5, bad_body: 1, transport: 2 },
            warmup_errors: Errors::default(),
            histogram: new_histogram(),
            seconds: 2.0,
            first_error: None,
        };
        assert_eq!(result.rate(), 15_000.0);
        assert_eq!(result.errors.total(), 8);
        assert_eq!(result.latency_ms(0.5), None);
    }

    #[test]
    fn introspection_check_wants_an_active_token() {
        assert!(Check::Active.body_ok(br#"{"active":true,"sub":"x"}"#));
        assert!(!Check::Active.body_ok(br#"{"active":false}"#));
        assert!(!Check::Active.body_ok(b""));
        assert!(Check::Success.body_ok(b""));
    }

    #[test]
    fn requests_carry_host_auth_and_json() {
        let target = Target::new("127.0.0.1:4010".parse().unwrap(), Some("tsk_abc")).unwrap();
        let request =
            target.request(RequestSpec::post_json("/v1/user-tokens", &serde_json::json!({"user": "u"}))).unwrap();
        assert_eq!(request.method(), Method::POST);
        assert_eq!(request.uri(), "/v1/user-tokens");
        assert_eq!(request.headers()[header::HOST], "127.0.0.1:4010");
        assert_eq!(request.headers()[header::AUTHORIZATION], "Bearer tsk_abc");
        assert_eq!(request.headers()[header::CONTENT_TYPE], "application/json");
        let get = target.request(RequestSpec::get("/token?account=1&platform=bench")).unwrap();
        assert!(get.headers().get(header::CONTENT_TYPE).is_none());
        assert!(Target::new("127.0.0.1:1".parse().unwrap(), Some("bad\nkey")).is_err());
    }

    async fn serve(app: axum::Router) -> Target {
        let listener = crate::server::bind_free_port().await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Target::new(addr, None).unwrap()
    }

    fn short() -> LoadConfig {
        LoadConfig { connections: 4, warmup: Duration::from_millis(50), duration: Duration::from_millis(200) }
    }

    #[tokio::test]
    async fn measures_successes_into_the_histogram() {
        let target = serve(crate::hello::router()).await;
        let result = measure(&target, short(), Check::Success, |_| RequestSpec::get("/")).await.unwrap();
        assert!(result.ok > 0);
        assert_eq!(result.errors, Errors::default());
        assert_eq!(result.histogram.len(), result.ok, "one latency per measured success");
        assert_eq!(result.seconds, 0.2);
        assert!(result.first_error.is_none());
    }

    #[tokio::test]
    async fn non_2xx_and_bad_bodies_are_errors_not_throughput() {
        let app = axum::Router::new()
            .route("/missing", axum::routing::get(|| async { (StatusCode::NOT_FOUND, "nope") }))
            .route("/inactive", axum::routing::get(|| async { r#"{"active":false}"# }));
        let target = serve(app).await;
        let missing = measure(&target, short(), Check::Success, |_| RequestSpec::get("/missing")).await.unwrap();
        assert_eq!(missing.ok, 0);
        assert!(missing.errors.non_2xx > 0);
        assert!(missing.warmup_errors.non_2xx > 0, "warm-up failures are counted apart");
        assert_eq!(missing.first_error.as_deref(), Some("404 Not Found: nope"));
        assert_eq!(missing.latency_ms(0.99), None);
        let inactive = measure(&target, short(), Check::Active, |_| RequestSpec::get("/inactive")).await.unwrap();
        assert_eq!(inactive.ok, 0);
        assert!(inactive.errors.bad_body > 0);
        assert_eq!(inactive.errors.non_2xx, 0);
    }

    #[tokio::test]
    async fn transport_errors_are_counted_and_the_connection_reopened() {
        // Every response closes the connection: the next request on it fails and reconnects.
        let app =
            axum::Router::new().route("/", axum::routing::get(|| async { ([(header::CONNECTION, "close")], "bye") }));
        let target = serve(app).await;
        let result = measure(&target, short(), Check::Success, |_| RequestSpec::get("/")).await.unwrap();
        assert!(result.ok > 0, "requests succeed on reopened connections");
        assert!(result.errors.transport > 0, "a closed keep-alive connection is not silently ignored");
        let dead = Target::new(crate::server::unused_port().unwrap(), None).unwrap();
        assert!(measure(&dead, short(), Check::Success, |_| RequestSpec::get("/")).await.is_err(), "nothing listens");
    }

    #[test]
    fn failures_are_described_briefly() {
        let body = format!("{{\"title\":\"{}\"}}", "x".repeat(500));
        let text = describe_failure(StatusCode::SERVICE_UNAVAILABLE, body.as_bytes());
        assert!(text.starts_with("503 Service Unavailable: {\"title\""), "{text}");
        assert!(text.len() < 240);
    }
}
