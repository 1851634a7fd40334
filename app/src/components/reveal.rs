//! The one-time reveal of a secret (an API key, a user token): a warning, the secret in a
//! selectable box with a copy button, and the button that closes it for good.

use leptos::prelude::*;

/// The body of a reveal dialog. `on_close` runs when the member says they have copied it; the
/// caller then drops the secret (e.g. clears its action), so it is gone from the page.
#[component]
pub fn RevealBox(
    /// The secret, shown in full.
    secret: String,
    /// `data-testid` of the box holding the secret (browser tests read it there).
    testid: &'static str,
    /// A sentence after the warning, e.g. what Tessera keeps of the secret.
    note: &'static str,
    /// Called by "I have copied it".
    on_close: Callback<()>,
) -> impl IntoView {
    let copied = RwSignal::new(false);
    let copy = {
        let secret = secret.clone();
        move |_| {
            #[cfg(feature = "hydrate")]
            if let Some(window) = web_sys::window() {
                let _promise = window.navigator().clipboard().write_text(&secret);
                copied.set(true);
            }
            #[cfg(not(feature = "hydrate"))]
            let _ = &secret;
        }
    };
    view! {
        <div class="mt-4 flex items-start gap-2 rounded-lg border border-amber-300 bg-amber-50 px-3 py-2.5 text-sm text-amber-900" role="note">
            <p>
                <strong class="font-semibold">"Copy it now: you will not see this again."</strong>
                " " {note}
            </p>
        </div>
        <div class="mt-4 flex items-stretch gap-2">
            <code
                data-testid=testid
                class="block max-h-48 flex-1 select-all overflow-y-auto break-all rounded-lg bg-slate-900 px-3 py-2.5 font-mono text-sm text-emerald-300"
            >
                {secret}
            </code>
            <button
                type="button"
                on:click=copy
                class="rounded-lg border border-slate-300 bg-white px-3 text-sm font-semibold text-slate-700 shadow-sm hover:bg-slate-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
            >
                {move || if copied.get() { "Copied" } else { "Copy" }}
            </button>
        </div>
        <div class="mt-6 flex justify-end">
            <button
                type="button"
                on:click=move |_| {
                    copied.set(false);
                    on_close.run(());
                }
                class="rounded-lg bg-slate-900 px-4 py-2 text-sm font-semibold text-white shadow-sm hover:bg-slate-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-2"
            >
                "I have copied it"
            </button>
        </div>
    }
}
