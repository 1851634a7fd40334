//! The centred card that frames the signed-out pages (setup and sign-in).

use leptos::prelude::*;

use crate::components::Logo;

/// A centred card with the logo, a heading and a lead paragraph above `children`.
#[component]
pub fn AuthCard(
    /// Heading (the page's `h1`).
    heading: &'static str,
    /// One sentence under the heading.
    lead: &'static str,
    /// The form.
    children: Children,
) -> impl IntoView {
    view! {
        <main class="flex min-h-screen flex-col items-center justify-center bg-gradient-to-b from-slate-100 to-slate-50 px-4 py-10">
            <div class="w-full max-w-md">
                <div class="mb-8 flex justify-center">
                    <Logo/>
                </div>
                <div class="rounded-2xl bg-white p-6 shadow-xl shadow-slate-900/5 ring-1 ring-slate-900/5 sm:p-8">
                    <h1 class="text-2xl font-semibold tracking-tight text-slate-900">{heading}</h1>
                    <p class="mt-2 text-sm text-slate-600">{lead}</p>
                    <div class="mt-6">{children()}</div>
                </div>
                <p class="mt-6 text-center text-xs text-slate-500">
                    "Integrating? The REST API is documented at "
                    <a href="/docs" rel="external" class="font-medium text-indigo-700 underline-offset-2 hover:underline">
                        "/docs"
                    </a>
                    "."
                </p>
            </div>
        </main>
    }
}
