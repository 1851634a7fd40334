//! A modal dialog: a dimmed backdrop and a centred panel with a title.

use leptos::prelude::*;

/// A modal dialog labelled by `title` (rendered as its heading).
#[component]
pub fn Dialog(
    /// Heading, also the dialog's accessible name.
    title: &'static str,
    /// Id of the heading (must be unique on the page).
    title_id: &'static str,
    /// Body.
    children: Children,
) -> impl IntoView {
    view! {
        <div class="fixed inset-0 z-40 flex items-end justify-center bg-slate-900/50 p-4 backdrop-blur-sm sm:items-center">
            <div
                role="dialog"
                aria-modal="true"
                aria-labelledby=title_id
                class="w-full max-w-lg rounded-2xl bg-white p-6 shadow-2xl ring-1 ring-slate-900/10"
            >
                <h2 id=title_id class="text-lg font-semibold text-slate-900">
                    {title}
                </h2>
                <div class="mt-3">{children()}</div>
            </div>
        </div>
    }
}
