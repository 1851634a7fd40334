//! Seeding over HTTP: users with `POST /v1/users`, then extra tokens with `POST /v1/user-tokens`
//! until the org holds the asked number of token rows, then the permanent (default) token of the
//! first users with claimr's `GET /token`, so that the measured `GET /token` calls are those of
//! returning users. Runs on the load generator's keep-alive
//! connections and prints progress every few seconds.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use tokio::time::Instant;

use crate::load::{describe_failure, Connection, RequestSpec, Target};

/// Platform of every seeded user.
pub const PLATFORM: &str = "bench";
/// How often progress is printed, in seconds.
const PROGRESS_EVERY_SECS: u64 = 5;
/// Attempts per seeding request before the seeding fails (transport errors only).
const ATTEMPTS: u32 = 3;

/// The account of seeded user `index`: `u<index>`.
pub fn account(index: u64) -> String {
    format!("u{index}")
}

/// What seeding produced, for the measured calls.
#[derive(Debug, Clone)]
pub struct Seeded {
    /// Ids of the seeded users, user `i` (account `u<i>`) at index `i`.
    pub user_ids: Vec<String>,
    /// Live JWTs for introspection.
    pub jwts: Vec<String>,
    /// Token rows the org holds (users' tokens and permanent tokens included).
    pub token_rows: u64,
    /// Users `0..returning_users` have their permanent token already (`GET /token` was called
    /// once for each while seeding).
    pub returning_users: u64,
    /// Wall time of the seeding, in seconds.
    pub seconds: f64,
}

/// Seeds `users` users and `tokens - users` extra tokens spread round-robin over them, keeping
/// up to `pool` JWTs (the extra tokens' first, then the users' own); then calls `GET /token` once
/// for each of the first `min(users, pool)` users, which creates their permanent tokens (that
/// many more token rows).
///
/// # Errors
/// Any seeding request that fails (non-2xx, or transport errors [`ATTEMPTS`] times in a row).
pub async fn seed(target: &Target, connections: usize, users: u64, tokens: u64, pool: usize) -> anyhow::Result<Seeded> {
    let started = Instant::now();
    let keep_user_jwts = pool as u64;
    let created = run_jobs(
        target,
        connections,
        users,
        "users",
        |i| RequestSpec::post_json("/v1/users", &serde_json::json!({"platform": PLATFORM, "account": account(i)})),
        move |i, body| {
            let value: serde_json::Value = serde_json::from_slice(body).context("POST /v1/users answered non-JSON")?;
            let id = value["id"].as_str().context("POST /v1/users answer has no \"id\"")?.to_owned();
            let jwt = if i < keep_user_jwts {
                Some(value["user_token"].as_str().context("POST /v1/users answer has no \"user_token\"")?.to_owned())
            } else {
                None
            };
            Ok((id, jwt))
        },
    )
    .await?;
    let mut user_jwts = Vec::new();
    let mut user_ids = Vec::with_capacity(created.len());
    for (id, jwt) in created {
        user_ids.push(id);
        user_jwts.extend(jwt);
    }
    let extra = tokens - users;
    let ids = Arc::new(user_ids);
    let ids_for_requests = ids.clone();
    let mut jwts = run_jobs(
        target,
        connections,
        extra,
        "tokens",
        move |i| {
            let user = &ids_for_requests[(i % ids_for_requests.len() as u64) as usize];
            RequestSpec::post_json("/v1/user-tokens", &serde_json::json!({"user": user}))
        },
        move |i, body| {
            if i >= keep_user_jwts {
                return Ok(None);
            }
            let value: serde_json::Value =
                serde_json::from_slice(body).context("POST /v1/user-tokens answered non-JSON")?;
            Ok(Some(
                value["user_token"].as_str().context("POST /v1/user-tokens answer has no \"user_token\"")?.to_owned(),
            ))
        },
    )
    .await?
    .into_iter()
    .flatten()
    .collect::<Vec<_>>();
    jwts.extend(user_jwts);
    jwts.truncate(pool);
    let returning_users = users.min(pool as u64);
    run_jobs(
        target,
        connections,
        returning_users,
        "permanent tokens",
        |i| RequestSpec::get(format!("/token?account={}&platform={PLATFORM}", account(i))),
        |_, _| Ok(()),
    )
    .await?;
    let user_ids = Arc::try_unwrap(ids).unwrap_or_else(|shared| shared.as_ref().clone());
    Ok(Seeded {
        user_ids,
        jwts,
        token_rows: tokens + returning_users,
        returning_users,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Sends requests `make(0..total)` over `connections` keep-alive connections, parses each 2xx
/// answer with `parse(i, body)` and returns the parsed values in index order. Prints progress.
///
/// # Errors
/// A non-2xx answer, a parse error, or repeated transport errors on one request.
pub async fn run_jobs<T, M, P>(
    target: &Target,
    connections: usize,
    total: u64,
    what: &'static str,
    make: M,
    parse: P,
) -> anyhow::Result<Vec<T>>
where
    T: Send + 'static,
    M: Fn(u64) -> RequestSpec + Send + Sync + 'static,
    P: Fn(u64, &[u8]) -> anyhow::Result<T> + Send + Sync + 'static,
{
    if total == 0 {
        return Ok(Vec::new());
    }
    let next = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicU64::new(0));
    let (make, parse) = (Arc::new(make), Arc::new(parse));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..connections.min(usize::try_from(total).unwrap_or(usize::MAX)) {
        let (target, next, done, make, parse) =
            (target.clone(), next.clone(), done.clone(), make.clone(), parse.clone());
        tasks.spawn(async move {
            let mut results = Vec::new();
            let mut connection: Option<Connection> = None;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let mut attempt = 0;
                let (status, body) = loop {
                    attempt += 1;
                    let outcome = async {
                        let conn = match connection.as_mut() {
                            Some(conn) => conn,
                            None => connection.insert(Connection::open(target.addr).await?),
                        };
                        conn.send(target.request(make(i))?).await
                    }
                    .await;
                    match outcome {
                        Ok(answer) => break answer,
                        Err(e) if attempt >= ATTEMPTS => {
                            return Err(e.context(format!("seeding {what}: request {i} failed {ATTEMPTS} times")))
                        }
                        Err(_) => {
                            connection = None;
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                    }
                };
                if !status.is_success() {
                    bail!("seeding {what}: request {i} answered {}", describe_failure(status, &body));
                }
                results.push((i, parse(i, &body).with_context(|| format!("seeding {what}: request {i}"))?));
                done.fetch_add(1, Ordering::Relaxed);
            }
            anyhow::Ok(results)
        });
    }
    let progress = tokio::spawn(report_progress(done.clone(), total, what, started));
    let mut all = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    let mut failure = None;
    while let Some(joined) = tasks.join_next().await {
        match joined.context("a seeding task panicked").and_then(|r| r) {
            Ok(results) => all.extend(results),
            Err(e) => {
                // Stop the other connections at once: the seeding is lost anyway.
                next.store(total, Ordering::Relaxed);
                failure.get_or_insert(e);
            }
        }
    }
    progress.abort();
    if let Some(e) = failure {
        return Err(e);
    }
    let seconds = started.elapsed().as_secs_f64();
    println!("  seeded {total} {what} in {seconds:.1} s ({:.0}/s)", total as f64 / seconds.max(1e-9));
    all.sort_unstable_by_key(|(i, _)| *i);
    Ok(all.into_iter().map(|(_, value)| value).collect())
}

async fn report_progress(done: Arc<AtomicU64>, total: u64, what: &'static str, started: Instant) {
    let mut every = tokio::time::interval(Duration::from_secs(PROGRESS_EVERY_SECS));
    every.tick().await;
    let (mut last_done, mut last_at) = (0, started);
    loop {
        every.tick().await;
        let now = Instant::now();
        let count = done.load(Ordering::Relaxed);
        let rate = (count - last_done) as f64 / (now - last_at).as_secs_f64().max(1e-9);
        println!("  seeding {what}: {count}/{total} ({:.0} %), {rate:.0}/s", 100.0 * count as f64 / total as f64);
        (last_done, last_at) = (count, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::atomic::AtomicU64;

    use std::collections::HashMap;

    use axum::{
        extract::{Query, State},
        http::StatusCode,
        routing::{get, post},
        Json, Router,
    };
    use serde_json::{json, Value};

    #[test]
    fn accounts_are_numbered() {
        assert_eq!(account(0), "u0");
        assert_eq!(account(99_999), "u99999");
    }

    /// A stand-in for Tessera's three seeding calls, counting the tokens it issued (permanent
    /// tokens included, each account's once).
    async fn fake_tessera(fail_tokens: bool) -> (Target, Arc<AtomicU64>) {
        let issued = Arc::new(AtomicU64::new(0));
        let app = Router::new()
            .route(
                "/v1/users",
                post(|State(issued): State<Arc<AtomicU64>>, Json(body): Json<Value>| async move {
                    let n = issued.fetch_add(1, Ordering::Relaxed);
                    let account = body["account"].as_str().unwrap_or("?").to_owned();
                    assert_eq!(body["platform"], PLATFORM);
                    (
                        StatusCode::CREATED,
                        Json(json!({"id": format!("id-{account}"), "user_token": format!("user-jwt-{n}")})),
                    )
                }),
            )
            .route(
                "/v1/user-tokens",
                post(move |State(issued): State<Arc<AtomicU64>>, Json(body): Json<Value>| async move {
                    if fail_tokens {
                        return (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"title": "busy"})));
                    }
                    issued.fetch_add(1, Ordering::Relaxed);
                    let user = body["user"].as_str().unwrap_or("?").to_owned();
                    (StatusCode::CREATED, Json(json!({"id": "t", "user_token": format!("token-of-{user}")})))
                }),
            )
            .route(
                "/token",
                get(|State(issued): State<Arc<AtomicU64>>, Query(q): Query<HashMap<String, String>>| async move {
                    assert_eq!(q.get("platform").map(String::as_str), Some(PLATFORM));
                    issued.fetch_add(1, Ordering::Relaxed);
                    Json(json!({"token": format!("permanent-of-{}", q["account"]), "user_id": "x"}))
                }),
            )
            .with_state(issued.clone());
        let listener = crate::server::bind_free_port().await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (Target::new(addr, Some("tsk_test")).unwrap(), issued)
    }

    #[tokio::test]
    async fn seeds_users_then_tokens_up_to_the_total() {
        let (target, issued) = fake_tessera(false).await;
        let seeded = seed(&target, 4, 10, 25, 12).await.unwrap();
        // User i has account u<i>, in order, whatever connection created it.
        let expected: Vec<String> = (0..10).map(|i| format!("id-u{i}")).collect();
        assert_eq!(seeded.user_ids, expected);
        // 10 users' tokens + 15 extra tokens + the 10 users' permanent tokens.
        assert_eq!(seeded.token_rows, 35);
        assert_eq!(seeded.returning_users, 10);
        assert_eq!(issued.load(Ordering::Relaxed), 35);
        // The pool holds the first extra tokens (spread round-robin over the users), then users' own.
        assert_eq!(seeded.jwts.len(), 12);
        assert_eq!(seeded.jwts[0], "token-of-id-u0");
        assert_eq!(seeded.jwts[9], "token-of-id-u9");
        assert_eq!(seeded.jwts[10], "token-of-id-u0");
        assert!(seeded.jwts[11].starts_with("token-of-"), "{:?}", seeded.jwts);
    }

    #[tokio::test]
    async fn the_pool_falls_back_to_the_users_tokens() {
        let (target, _) = fake_tessera(false).await;
        let seeded = seed(&target, 3, 5, 5, 100).await.unwrap();
        assert_eq!(seeded.jwts.len(), 5);
        assert_eq!(seeded.returning_users, 5, "no more returning users than users");
        assert!(seeded.jwts.iter().all(|jwt| jwt.starts_with("user-jwt-")), "{:?}", seeded.jwts);
    }

    #[tokio::test]
    async fn a_failing_seeding_call_stops_the_seeding_with_its_answer() {
        let (target, _) = fake_tessera(true).await;
        let err = seed(&target, 2, 3, 10, 5).await.unwrap_err().to_string();
        assert!(err.starts_with("seeding tokens: request "), "{err}");
        assert!(err.contains("503 Service Unavailable: {\"title\":\"busy\"}"), "{err}");
    }

    #[tokio::test]
    async fn a_server_that_is_not_there_fails_after_retries() {
        let target = Target::new(crate::server::unused_port().unwrap(), None).unwrap();
        let err = seed(&target, 1, 1, 1, 1).await.unwrap_err();
        assert!(format!("{err:#}").contains("failed 3 times"), "{err:#}");
    }
}
