//! The dashboard's pages rendered on the server, driven over HTTP with `oneshot` through the same
//! Leptos routes `tessera-server` serves, on a fresh SQLite database (compiled with `ssr` only).

mod redirects;
