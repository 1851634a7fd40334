//! Tessera's mark: four mosaic tiles (a *tessera* is one tile of a mosaic) and the word mark.

use leptos::prelude::*;

/// The logo mark followed by the product name; `dark` picks colours for dark backgrounds.
#[component]
pub fn Logo(#[prop(optional)] dark: bool) -> impl IntoView {
    let word = if dark { "text-white" } else { "text-slate-900" };
    view! {
        <span class="inline-flex items-center gap-2.5">
            <svg
                class="h-8 w-8"
                viewBox="0 0 32 32"
                aria-hidden="true"
                xmlns="http://www.w3.org/2000/svg"
            >
                <rect x="2" y="2" width="13" height="13" rx="3" fill="#6366f1"/>
                <rect x="17" y="2" width="13" height="13" rx="3" fill="#38bdf8"/>
                <rect x="2" y="17" width="13" height="13" rx="3" fill="#34d399"/>
                <rect x="17" y="17" width="13" height="13" rx="3" fill="#a5b4fc" opacity="0.55"/>
            </svg>
            <span class=format!("text-lg font-semibold tracking-tight {word}")>"Tessera"</span>
        </span>
    }
}
