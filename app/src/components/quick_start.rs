//! The "Quick start" section: a button that reveals the curl commands an integrator runs first.
//!
//! The panel starts hidden in the server-rendered HTML. The button is rendered `disabled` and
//! is enabled by an effect, which only runs in the browser once the WASM client has hydrated
//! the page: it never pretends to work before it can, and the end-to-end test can wait for it.

use leptos::prelude::*;

/// One step of the walkthrough: a title, a sentence, and the shell lines to run.
struct Step {
    title: &'static str,
    text: &'static str,
    lines: &'static [&'static str],
}

const STEPS: &[Step] = &[
    Step {
        title: "Create (or find) a user and get a token",
        text: "Your backend calls Tessera with the org's API key; the user is upserted by platform and account.",
        lines: &[
            "curl -sS \"$TESSERA_URL/v1/users\" \\",
            "  -H \"Authorization: Bearer $TESSERA_API_KEY\" \\",
            "  -H \"Content-Type: application/json\" \\",
            "  -d '{\"account\": \"acct_4812\", \"platform\": \"web\", \"display_name\": \"Ada\"}'",
            "# 201 {\"id\": \"0190f3c2-…\", \"created\": true, \"user_token\": \"eyJhbGciOiJFZERTQSIs…\"}",
        ],
    },
    Step {
        title: "Verify it anywhere",
        text: "Offline with any JWT library and the org's JWKS, or online, where revocations are seen at once.",
        lines: &[
            "curl -sS \"$TESSERA_URL/o/acme/.well-known/jwks.json\"",
            "curl -sS \"$TESSERA_URL/v1/tokens/introspect\" \\",
            "  -H \"Authorization: Bearer $TESSERA_API_KEY\" \\",
            "  -H \"Content-Type: application/json\" \\",
            "  -d '{\"token\": \"eyJhbGciOiJFZERTQSIs…\"}'",
            "# 200 {\"active\": true, \"sub\": \"0190f3c2-…\", \"account\": \"acct_4812\", …}",
        ],
    },
];

/// A shell line, with comments (expected responses) dimmed.
fn shell_line(line: &'static str) -> impl IntoView {
    let class = if line.starts_with('#') { "text-slate-500" } else { "text-slate-100" };
    view! { <span class=format!("block {class}")>{line}</span> }
}

/// The section with its toggle button (`aria-expanded` follows the panel) and the commands.
#[component]
pub fn QuickStart() -> impl IntoView {
    let (open, set_open) = signal(false);
    let (hydrated, set_hydrated) = signal(false);
    // Effects do not run during server rendering, so this flips only in the browser.
    Effect::new(move |_| set_hydrated.set(true));

    view! {
        <section id="quick-start" class="scroll-mt-8 rounded-3xl border border-slate-200 bg-white p-8 shadow-sm sm:p-10">
            <div class="flex flex-col gap-6 sm:flex-row sm:items-center sm:justify-between">
                <div>
                    <p class="text-sm font-semibold text-indigo-600">"Quick start"</p>
                    <h2 class="mt-1 text-2xl font-semibold tracking-tight text-slate-900">
                        "Your first user token in two calls"
                    </h2>
                    <p class="mt-2 max-w-2xl text-slate-600">
                        "Create an API key in the dashboard (it is shown once), export it as "
                        <code class="rounded bg-slate-100 px-1.5 py-0.5 font-mono text-[13px] text-slate-800">"TESSERA_API_KEY"</code>
                        ", and point "
                        <code class="rounded bg-slate-100 px-1.5 py-0.5 font-mono text-[13px] text-slate-800">"TESSERA_URL"</code>
                        " at this server."
                    </p>
                </div>
                <button
                    type="button"
                    aria-controls="quick-start-panel"
                    aria-expanded=move || open.get().to_string()
                    disabled=move || !hydrated.get()
                    on:click=move |_| set_open.update(|open| *open = !*open)
                    class="inline-flex shrink-0 items-center justify-center gap-2 rounded-lg bg-slate-900 px-4 py-2.5 text-sm font-semibold text-white shadow-sm transition hover:bg-slate-700 disabled:cursor-wait disabled:opacity-70 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-2"
                >
                    <span class="font-mono text-indigo-300" aria-hidden="true">{move || if open.get() { "−" } else { ">_" }}</span>
                    {move || if open.get() { "Hide curl commands" } else { "Show curl commands" }}
                </button>
            </div>

            <div
                id="quick-start-panel"
                role="region"
                aria-label="Quick start commands"
                hidden=move || !open.get()
                class="mt-8 grid gap-8"
            >
                {STEPS
                    .iter()
                    .enumerate()
                    .map(|(index, step)| {
                        view! {
                            <div class="flex flex-col">
                                <h3 class="flex items-center gap-3 font-semibold text-slate-900">
                                    <span class="flex h-6 w-6 items-center justify-center rounded-full bg-indigo-50 text-xs font-bold text-indigo-600 ring-1 ring-indigo-200">
                                        {index + 1}
                                    </span>
                                    {step.title}
                                </h3>
                                <p class="mt-1 text-sm text-slate-600">{step.text}</p>
                                <pre class="mt-3 flex-1 overflow-x-auto rounded-xl bg-slate-950 p-4 font-mono text-[12.5px] leading-6 ring-1 ring-slate-800">
                                    <code>{step.lines.iter().map(|line| shell_line(line)).collect_view()}</code>
                                </pre>
                            </div>
                        }
                    })
                    .collect_view()}
            </div>
        </section>
    }
}
