//! The page footer: product line, licence and the machine-readable endpoints.

use leptos::prelude::*;

use super::Logo;

/// Footer with links to the endpoints operators and integrators look for first.
#[component]
pub fn SiteFooter() -> impl IntoView {
    view! {
        <footer class="border-t border-slate-200 bg-white">
            <div class="mx-auto flex max-w-6xl flex-col gap-6 px-6 py-10 text-sm text-slate-500 md:flex-row md:items-center md:justify-between">
                <div class="flex items-center gap-4">
                    <Logo/>
                    <span>"Self-hosted user tokens · Apache-2.0"</span>
                </div>
                <nav class="flex flex-wrap gap-x-6 gap-y-2" aria-label="Endpoints">
                    <a class="hover:text-slate-900" href="/docs" rel="external">"API reference"</a>
                    <a class="hover:text-slate-900" href="/openapi.json" rel="external">"OpenAPI"</a>
                    <a class="hover:text-slate-900" href="/healthz" rel="external">"Health check"</a>
                </nav>
            </div>
        </footer>
    }
}
