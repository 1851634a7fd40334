//! What every dashboard table shares: the box around it, its cells' classes, and the status
//! badge of keys and tokens.

use leptos::prelude::*;

/// The rounded box around a table; a table wider than the page scrolls inside it.
pub const TABLE_BOX: &str = "relative overflow-x-auto rounded-2xl bg-white shadow-sm ring-1 ring-slate-900/5";
/// A header cell.
pub const TH: &str = "px-4 py-3 text-left text-xs font-semibold uppercase tracking-wide text-slate-500";
/// A body cell whose text does not wrap.
pub const TD: &str = "px-4 py-3 text-sm text-slate-700 whitespace-nowrap";

/// What a table shows instead of rows: a dashed box with a `title`, a `body`, and optionally a
/// link (`href`, `label`) back to the unfiltered list.
#[component]
pub fn EmptyState(
    /// One line: what is missing.
    title: &'static str,
    /// What to do about it.
    body: &'static str,
    /// A link back, e.g. `("/users", "Show all users")`.
    #[prop(default = None)]
    reset: Option<(&'static str, &'static str)>,
) -> impl IntoView {
    view! {
        <div class="rounded-2xl border border-dashed border-slate-300 bg-white px-6 py-12 text-center">
            <p class="text-base font-semibold text-slate-900">{title}</p>
            <p class="mt-1 text-sm text-slate-600">{body}</p>
            {reset.map(|(href, label)| view! {
                <a href=href class="mt-4 inline-block text-sm font-semibold text-indigo-700 hover:underline focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500">
                    {label}
                </a>
            })}
        </div>
    }
}

/// Where an API key or a user token stands, as its badge shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lifecycle {
    /// Usable: green "Active".
    Active,
    /// Past its expiry: amber "Expired".
    Expired,
    /// Revoked: grey "Revoked".
    Revoked,
}

/// The rounded status badge of a key or token row.
#[component]
pub fn StatusBadge(status: Lifecycle) -> impl IntoView {
    let (colors, label) = match status {
        Lifecycle::Active => ("bg-emerald-50 text-emerald-700 ring-emerald-600/20", "Active"),
        Lifecycle::Expired => ("bg-amber-50 text-amber-800 ring-amber-600/20", "Expired"),
        Lifecycle::Revoked => ("bg-slate-100 text-slate-600 ring-slate-500/20", "Revoked"),
    };
    view! {
        <span class=format!("inline-flex rounded-full px-2 py-0.5 text-xs font-semibold ring-1 ring-inset {colors}")>{label}</span>
    }
}
