//! The fallback page for paths no route matches.

use leptos::prelude::*;

/// "Page not found". The server's fallback handler (`file_and_error_handler`) renders the app
/// for unknown paths and sets the HTTP status to 404 itself.
#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <main class="mx-auto flex min-h-screen max-w-xl flex-col items-center justify-center px-6 text-center">
            <p class="font-mono text-sm font-semibold text-indigo-600">"404"</p>
            <h1 class="mt-2 text-3xl font-semibold tracking-tight text-slate-900">"Page not found"</h1>
            <p class="mt-3 text-slate-600">"There is nothing at this address."</p>
            <a href="/" class="mt-8 rounded-lg bg-slate-900 px-4 py-2.5 text-sm font-semibold text-white hover:bg-slate-700">
                "Back to the start page"
            </a>
        </main>
    }
}
