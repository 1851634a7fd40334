//! Figures of each measured call, the targets of issue 4, and the Markdown report.

use std::fmt::Write as _;

use crate::cli::Backend;
use crate::load::LoadResult;
use crate::procfs::Memory;

/// Resident-memory target for the Tessera server under load, in MiB.
pub const RSS_TARGET_MIB: f64 = 150.0;

/// The measured calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    /// The bare axum `GET /` of `tessera-bench hello`.
    Hello,
    /// `POST /v1/user-tokens`.
    IssueToken,
    /// `GET /token` for existing users.
    GetToken,
    /// `POST /v1/tokens/introspect` with live tokens.
    Introspect,
}

impl Call {
    /// The label shown in reports.
    pub fn label(self) -> &'static str {
        match self {
            Call::Hello => "hello (bare axum, ceiling)",
            Call::IssueToken => "POST /v1/user-tokens",
            Call::GetToken => "GET /token",
            Call::Introspect => "POST /v1/tokens/introspect",
        }
    }

    /// The target of issue 4 for this call on `backend`; `None` for `hello`.
    pub fn target(self, backend: Backend) -> Option<Target> {
        let (min_rate, max_p99_ms) = match (self, backend) {
            (Call::Hello, _) => return None,
            (Call::IssueToken, Backend::Sqlite) => (15_000.0, Some(15.0)),
            (Call::IssueToken, Backend::Postgres) => (10_000.0, Some(15.0)),
            (Call::GetToken, Backend::Sqlite) => (15_000.0, None),
            (Call::GetToken, Backend::Postgres) => (10_000.0, None),
            (Call::Introspect, Backend::Sqlite) => (25_000.0, None),
            (Call::Introspect, Backend::Postgres) => (20_000.0, None),
        };
        Some(Target { min_rate, max_p99_ms, max_rss_mib: RSS_TARGET_MIB })
    }
}

/// A target: throughput, optionally p99 latency, and peak resident memory.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Target {
    /// Minimum req/s.
    pub min_rate: f64,
    /// Maximum p99 latency, in ms.
    pub max_p99_ms: Option<f64>,
    /// Maximum peak resident set of the server, in MiB.
    pub max_rss_mib: f64,
}

impl Target {
    /// `≥ 15,000 req/s, p99 ≤ 15 ms, RSS ≤ 150 MiB`.
    pub fn describe(&self) -> String {
        let mut text = format!("≥ {} req/s", thousands(self.min_rate));
        if let Some(p99) = self.max_p99_ms {
            let _ = write!(text, ", p99 ≤ {p99} ms");
        }
        let _ = write!(text, ", RSS ≤ {} MiB", self.max_rss_mib);
        text
    }

    /// Whether `figures` meet the target: no errors, the rate, the p99 and the memory.
    pub fn met_by(&self, figures: &Figures) -> bool {
        figures.errors == 0
            && figures.rate >= self.min_rate
            && self.max_p99_ms.is_none_or(|max| figures.p99_ms.is_some_and(|p99| p99 <= max))
            && figures.memory.is_some_and(|m| m.peak_mib <= self.max_rss_mib)
    }
}

/// The figures of one measured call.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    /// Which call.
    pub call: Call,
    /// Successful requests per second.
    pub rate: f64,
    /// Median latency, in ms (`None` without any success).
    pub p50_ms: Option<f64>,
    /// 99th-percentile latency, in ms (`None` without any success).
    pub p99_ms: Option<f64>,
    /// Failed requests in the measured window (non-2xx, bad body, transport).
    pub errors: u64,
    /// Failed requests during the warm-up.
    pub warmup_errors: u64,
    /// The server's resident memory after the call (peak over the call when the reset worked).
    pub memory: Option<Memory>,
    /// CPU time per successful request over the measured window, when it could be read.
    pub cpu: Option<CpuPerRequest>,
}

/// CPU time used per successful request over a measured window, in µs: a figure that holds up
/// better than req/s when the machine's speed varies from run to run (it does not count time
/// spent waiting), and that shows where the time goes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CpuPerRequest {
    /// The measured server process (Tessera, with SQLite inside it; or the hello server).
    pub server_us: f64,
    /// Every `postgres` process, on the PostgreSQL backend.
    pub database_us: Option<f64>,
}

impl CpuPerRequest {
    /// From clock-tick differences over a window in which `requests` succeeded; `None` without
    /// any success.
    pub fn from_ticks(server_ticks: u64, database_ticks: Option<u64>, requests: u64) -> Option<Self> {
        if requests == 0 {
            return None;
        }
        let us = |ticks: u64| ticks as f64 / crate::procfs::TICKS_PER_SECOND * 1e6 / requests as f64;
        Some(Self { server_us: us(server_ticks), database_us: database_ticks.map(us) })
    }

    /// `85` (server only) or `60 + 45` (server + database).
    pub fn describe(&self) -> String {
        match self.database_us {
            Some(db) => format!("{:.0} + {:.0}", self.server_us, db),
            None => format!("{:.0}", self.server_us),
        }
    }
}

impl Figures {
    /// The figures of `result` for `call`, with the server's memory and CPU time per request.
    pub fn from_load(call: Call, result: &LoadResult, memory: Option<Memory>, cpu: Option<CpuPerRequest>) -> Self {
        Self {
            call,
            rate: result.rate(),
            p50_ms: result.latency_ms(0.50),
            p99_ms: result.latency_ms(0.99),
            errors: result.errors.total(),
            warmup_errors: result.warmup_errors.total(),
            memory,
            cpu,
        }
    }

    /// One console line: `call: 12,345 req/s, p50 1.23 ms, p99 4.56 ms, errors 0, RSS peak 80.1 MiB (now 75.0 MiB)`.
    pub fn console_line(&self) -> String {
        let mut line = format!(
            "{}: {} req/s, p50 {} ms, p99 {} ms, errors {}",
            self.call.label(),
            thousands(self.rate),
            opt_ms(self.p50_ms),
            opt_ms(self.p99_ms),
            self.errors
        );
        if self.warmup_errors > 0 {
            let _ = write!(line, " (+{} during warm-up)", self.warmup_errors);
        }
        match self.memory {
            Some(m) => {
                let _ = write!(line, ", RSS peak {:.1} MiB (now {:.1} MiB)", m.peak_mib, m.current_mib);
            }
            None => line.push_str(", RSS unknown"),
        }
        if let Some(cpu) = self.cpu {
            let _ = write!(line, ", CPU {:.0} µs/request", cpu.server_us);
            if let Some(db) = cpu.database_us {
                let _ = write!(line, " + PostgreSQL {db:.0} µs");
            }
        }
        if self.errors > 0 {
            line.push_str("  <-- ERRORS: these figures are not valid throughput");
        }
        line
    }
}

/// The measured calls of one backend, with its seeding.
#[derive(Debug, Clone)]
pub struct BackendReport {
    /// Which backend.
    pub backend: Backend,
    /// Seeded users.
    pub users: u64,
    /// Seeded token rows.
    pub token_rows: u64,
    /// Seeding wall time, in seconds.
    pub seed_seconds: f64,
    /// The Tessera calls, in order.
    pub rows: Vec<Figures>,
}

/// What the report header states about the run and the machine.
#[derive(Debug, Clone)]
pub struct Header {
    /// `YYYY-MM-DD HH:MM UTC`.
    pub date: String,
    /// Short git commit of the working tree, if known.
    pub commit: Option<String>,
    /// Logical CPUs.
    pub nproc: usize,
    /// CPU model from `/proc/cpuinfo`.
    pub cpu: String,
    /// Keep-alive connections.
    pub connections: usize,
    /// Warm-up per call, in seconds.
    pub warmup_secs: u64,
    /// Measured window per call, in seconds.
    pub duration_secs: u64,
    /// Seeded users.
    pub users: u64,
    /// Seeded token rows.
    pub tokens: u64,
}

/// The whole Markdown report: header, then one table per backend with the hello ceiling first.
pub fn markdown(header: &Header, hello: Option<&Figures>, backends: &[BackendReport]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Tessera benchmark, {}\n", header.date);
    let _ = writeln!(out, "- commit: {}", header.commit.as_deref().unwrap_or("unknown"));
    let _ = writeln!(out, "- machine: {} × {}", header.nproc, header.cpu);
    let _ = writeln!(
        out,
        "- load: {} keep-alive HTTP/1.1 connections (tessera-bench, same machine), {} s warm-up + {} s measured per call",
        header.connections, header.warmup_secs, header.duration_secs
    );
    let _ = writeln!(
        out,
        "- seed: {} users, {} token rows",
        thousands(header.users as f64),
        thousands(header.tokens as f64)
    );
    let _ = writeln!(out, "- RSS: the server's peak resident set (`VmHWM`) during each call");
    let _ = writeln!(
        out,
        "- CPU: user + system time per successful request over the measured window, in µs: the server's \
         (SQLite runs inside it), plus every `postgres` process's on PostgreSQL (`a + b`); it holds up better \
         than req/s when the machine's speed varies"
    );
    let _ = writeln!(
        out,
        "- calls: `POST /v1/user-tokens` adds a token row for a seeded user; `GET /token` is a returning user's \
         (their permanent token was created while seeding); introspection rotates over live JWTs"
    );
    for backend in backends {
        let _ = writeln!(
            out,
            "\n## {} ({} users and {} token rows seeded over HTTP in {:.0} s)\n",
            backend.backend.display_name(),
            thousands(backend.users as f64),
            thousands(backend.token_rows as f64),
            backend.seed_seconds
        );
        out.push_str(
            "| call | req/s | p50 ms | p99 ms | errors | peak RSS MiB | CPU µs/req | target (issue 4) | met |\n",
        );
        out.push_str("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |\n");
        for figures in hello.into_iter().chain(&backend.rows) {
            let target = figures.call.target(backend.backend);
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                figures.call.label(),
                thousands(figures.rate),
                opt_ms(figures.p50_ms),
                opt_ms(figures.p99_ms),
                figures.errors,
                figures.memory.map_or_else(|| "–".to_owned(), |m| format!("{:.1}", m.peak_mib)),
                figures.cpu.map_or_else(|| "–".to_owned(), |c| c.describe()),
                target.map_or_else(|| "–".to_owned(), |t| t.describe()),
                target.map_or("–", |t| if t.met_by(figures) { "yes" } else { "**no**" }),
            );
        }
    }
    out
}

/// A rate rounded to a whole number with `,` between thousands: `15,234`.
pub fn thousands(value: f64) -> String {
    let rounded = value.round().max(0.0) as u64;
    let digits = rounded.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn opt_ms(value: Option<f64>) -> String {
    value.map_or_else(|| "–".to_owned(), |ms| format!("{ms:.2}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures(call: Call, rate: f64, p99_ms: f64, errors: u64, peak_mib: f64) -> Figures {
        Figures {
            call,
            rate,
            p50_ms: Some(1.234),
            p99_ms: Some(p99_ms),
            errors,
            warmup_errors: 0,
            memory: Some(Memory { peak_mib, current_mib: peak_mib - 10.0 }),
            cpu: CpuPerRequest::from_ticks(300, Some(200), 10_000),
        }
    }

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0.0), "0");
        assert_eq!(thousands(999.4), "999");
        assert_eq!(thousands(1_000.0), "1,000");
        assert_eq!(thousands(15_234.6), "15,235");
        assert_eq!(thousands(1_000_000.0), "1,000,000");
    }

    #[test]
    fn targets_are_those_of_issue_4() {
        let issue = Call::IssueToken.target(Backend::Sqlite).unwrap();
        assert_eq!(issue.describe(), "≥ 15,000 req/s, p99 ≤ 15 ms, RSS ≤ 150 MiB");
        assert_eq!(Call::IssueToken.target(Backend::Postgres).unwrap().min_rate, 10_000.0);
        assert_eq!(Call::GetToken.target(Backend::Postgres).unwrap().describe(), "≥ 10,000 req/s, RSS ≤ 150 MiB");
        assert_eq!(Call::Introspect.target(Backend::Sqlite).unwrap().min_rate, 25_000.0);
        assert_eq!(Call::Introspect.target(Backend::Postgres).unwrap().min_rate, 20_000.0);
        assert_eq!(Call::Hello.target(Backend::Sqlite), None);
    }

    #[test]
    fn a_target_needs_rate_p99_memory_and_no_errors() {
        let target = Call::IssueToken.target(Backend::Sqlite).unwrap();
        assert!(target.met_by(&figures(Call::IssueToken, 15_000.0, 15.0, 0, 150.0)));
        assert!(!target.met_by(&figures(Call::IssueToken, 14_999.0, 10.0, 0, 100.0)));
        assert!(!target.met_by(&figures(Call::IssueToken, 20_000.0, 15.1, 0, 100.0)));
        assert!(!target.met_by(&figures(Call::IssueToken, 20_000.0, 10.0, 0, 150.1)));
        assert!(!target.met_by(&figures(Call::IssueToken, 20_000.0, 10.0, 1, 100.0)));
        let unknown_memory = Figures { memory: None, ..figures(Call::IssueToken, 20_000.0, 10.0, 0, 100.0) };
        assert!(!target.met_by(&unknown_memory));
    }

    #[test]
    fn cpu_per_request_is_ticks_over_requests_in_microseconds() {
        // 150 ticks = 1.5 s of CPU over 5,000 requests: 300 µs each.
        let cpu = CpuPerRequest::from_ticks(150, None, 5_000).unwrap();
        assert_eq!((cpu.server_us, cpu.database_us), (300.0, None));
        assert_eq!(cpu.describe(), "300");
        assert_eq!(CpuPerRequest::from_ticks(150, Some(50), 5_000).unwrap().describe(), "300 + 100");
        assert_eq!(CpuPerRequest::from_ticks(150, Some(50), 0), None);
    }

    #[test]
    fn console_line_flags_errors() {
        let clean = figures(Call::GetToken, 16_000.4, 9.876, 0, 80.0).console_line();
        assert_eq!(
            clean,
            "GET /token: 16,000 req/s, p50 1.23 ms, p99 9.88 ms, errors 0, RSS peak 80.0 MiB (now 70.0 MiB), CPU 300 µs/request + PostgreSQL 200 µs"
        );
        let mut failing = figures(Call::GetToken, 16_000.0, 9.0, 3, 80.0);
        failing.warmup_errors = 2;
        let line = failing.console_line();
        assert!(line.contains("errors 3 (+2 during warm-up)"), "{line}");
        assert!(line.ends_with("<-- ERRORS: these figures are not valid throughput"), "{line}");
    }

    #[test]
    fn markdown_has_header_and_one_table_per_backend() {
        let header = Header {
            date: "2026-11-21 16:05 UTC".into(),
            commit: Some("abc1234".into()),
            nproc: 2,
            cpu: "Example CPU @ 2.00GHz".into(),
            connections: 64,
            warmup_secs: 2,
            duration_secs: 10,
            users: 100_000,
            tokens: 1_000_000,
        };
        let hello = figures(Call::Hello, 60_000.0, 2.0, 0, 5.0);
        let sqlite = BackendReport {
            backend: Backend::Sqlite,
            users: 100_000,
            token_rows: 1_000_000,
            seed_seconds: 181.4,
            rows: vec![
                figures(Call::IssueToken, 16_000.0, 12.0, 0, 90.0),
                figures(Call::GetToken, 9_000.0, 20.0, 0, 95.0),
                figures(Call::Introspect, 26_000.0, 5.0, 2, 99.0),
            ],
        };
        let postgres = BackendReport { backend: Backend::Postgres, ..sqlite.clone() };
        let text = markdown(&header, Some(&hello), &[sqlite, postgres]);
        assert!(text.starts_with("# Tessera benchmark, 2026-11-21 16:05 UTC\n"), "{text}");
        assert!(text.contains("- commit: abc1234\n"));
        assert!(text.contains("- machine: 2 × Example CPU @ 2.00GHz\n"));
        assert!(text.contains("64 keep-alive HTTP/1.1 connections"));
        assert!(text.contains("2 s warm-up + 10 s measured per call"));
        assert!(text.contains("- seed: 100,000 users, 1,000,000 token rows\n"));
        assert!(text.contains("\n## SQLite (100,000 users and 1,000,000 token rows seeded over HTTP in 181 s)\n"));
        assert!(text.contains("\n## PostgreSQL (100,000 users and 1,000,000 token rows seeded over HTTP in 181 s)\n"));
        assert_eq!(
            text.matches("| hello (bare axum, ceiling) | 60,000 | 1.23 | 2.00 | 0 | 5.0 | 300 + 200 | – | – |").count(),
            2
        );
        assert!(text.contains(
            "| POST /v1/user-tokens | 16,000 | 1.23 | 12.00 | 0 | 90.0 | 300 + 200 | ≥ 15,000 req/s, p99 ≤ 15 ms, RSS ≤ 150 MiB | yes |"
        ));
        assert!(text.contains(
            "| GET /token | 9,000 | 1.23 | 20.00 | 0 | 95.0 | 300 + 200 | ≥ 15,000 req/s, RSS ≤ 150 MiB | **no** |"
        ));
        // Errors fail the row even when the rate is enough.
        assert!(text.contains(
            "| POST /v1/tokens/introspect | 26,000 | 1.23 | 5.00 | 2 | 99.0 | 300 + 200 | ≥ 25,000 req/s, RSS ≤ 150 MiB | **no** |"
        ));
        // PostgreSQL's lower targets.
        assert!(text.contains(
            "| GET /token | 9,000 | 1.23 | 20.00 | 0 | 95.0 | 300 + 200 | ≥ 10,000 req/s, RSS ≤ 150 MiB | **no** |"
        ));
        assert!(text.contains("| POST /v1/user-tokens | 16,000 | 1.23 | 12.00 | 0 | 90.0 | 300 + 200 | ≥ 10,000 req/s, p99 ≤ 15 ms, RSS ≤ 150 MiB | yes |"));
    }
}
