//! The top navigation bar shown on every public page.

use leptos::prelude::*;

use super::Logo;

/// Navigation over the dark hero: the logo, in-page and server links, and the running version.
///
/// `/docs` and `/healthz` are served by the REST API, not by the Leptos router, hence
/// `rel="external"` (it makes the client router leave those clicks to the browser).
#[component]
pub fn SiteHeader() -> impl IntoView {
    view! {
        <header class="relative z-10">
            <nav
                class="mx-auto flex max-w-6xl items-center justify-between px-6 py-5"
                aria-label="Main"
            >
                <a href="/" class="rounded-md focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-400">
                    <Logo dark=true/>
                </a>
                <div class="flex items-center gap-1 text-sm font-medium text-slate-300 sm:gap-2">
                    <a href="#quick-start" class="rounded-md px-3 py-2 hover:bg-white/5 hover:text-white">
                        "Quick start"
                    </a>
                    <a
                        href="/docs"
                        rel="external"
                        class="hidden items-center gap-2 rounded-md px-3 py-2 hover:bg-white/5 hover:text-white sm:inline-flex"
                    >
                        "API docs"
                    </a>
                    <a href="/healthz" rel="external" class="rounded-md px-3 py-2 hover:bg-white/5 hover:text-white">
                        "Status"
                    </a>
                    <span class="ml-2 hidden rounded-full border border-white/10 px-2.5 py-1 font-mono text-xs text-slate-400 md:inline">
                        {concat!("v", env!("CARGO_PKG_VERSION"))}
                    </span>
                </div>
            </nav>
        </header>
    }
}
