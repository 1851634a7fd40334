//! `tessera-bench`: the benchmark of Tessera's hot REST calls.
//!
//! `run` creates a fresh database per backend, prepares it with the `tessera` CLI, starts
//! `tessera serve` as a child process, seeds users and tokens over HTTP, then measures each call
//! with a keep-alive HTTP/1.1 load generator and reports req/s, latency percentiles and the
//! server's resident memory. `hello` is a bare axum server, the ceiling of the machine.

pub mod cli;
pub mod hello;
pub mod load;
pub mod procfs;
pub mod report;
pub mod run;
pub mod seed;
pub mod server;
