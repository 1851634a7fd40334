//! The dashboard's pages rendered on the server, driven over HTTP with `oneshot` through the same
//! Leptos routes `tessera-server` serves, on a fresh SQLite database (compiled with `ssr` only).

// The page types of the whole app are deep, as in `tessera-server`'s main.rs.
#![recursion_limit = "256"]

mod headers;
mod redirects;
