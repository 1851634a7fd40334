//! `/`: the overview of the member's org (or a redirect to `/setup` or `/sign-in`).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::{Dashboard, Nav, TokensChart};
use crate::error::AppError;
use crate::server_fns::{
    auth::Me,
    overview::{get_overview, OverviewData},
};

/// Counts of users, active tokens and API keys, and tokens issued per day.
#[component]
pub fn OverviewPage() -> impl IntoView {
    // Created here, beside the session gate's own resource, not inside its Suspense: a resource
    // created while a Suspend resolves does not see the request's context on the server.
    let data = Resource::new(|| (), |_| get_overview());
    view! {
        <Title text="Overview · Tessera"/>
        <Dashboard
            active=Nav::Overview
            title="Overview"
            page=Callback::new(move |me: Me| view! { <Overview me data/> }.into_any())
        />
    }
}

#[component]
fn Overview(me: Me, data: Resource<Result<OverviewData, AppError>>) -> impl IntoView {
    view! {
        <div class="space-y-8">
            <p class="text-sm text-slate-600">
                "Signed in to " <span class="font-medium text-slate-900">{me.org_name}</span>
                " · Token issuer: " <code class="rounded bg-slate-100 px-1.5 py-0.5 font-mono text-xs text-slate-700">"/o/" {me.org_slug}</code>
            </p>
            <Suspense fallback=|| view! { <p class="text-sm text-slate-500">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(d) => {
                            view! {
                                <section aria-label="Counts" class="grid gap-4 sm:grid-cols-3">
                                    <Stat label="Users" value=d.users hint="End users registered by your backend" href="/users"/>
                                    <Stat label="Active tokens" value=d.active_tokens hint="Neither revoked nor expired" href="/docs"/>
                                    <Stat label="API keys" value=d.active_api_keys hint="Usable keys (not revoked or expired)" href="/keys"/>
                                </section>
                                <section class="rounded-2xl bg-white p-5 shadow-sm ring-1 ring-slate-900/5 sm:p-6" aria-labelledby="chart-heading">
                                    <h2 id="chart-heading" class="text-base font-semibold text-slate-900">"Tokens issued, last 30 days"</h2>
                                    <div class="mt-4">
                                        <TokensChart days=d.tokens_per_day/>
                                    </div>
                                </section>
                            }
                                .into_any()
                        }
                        Err(e) => view! { <p role="alert" class="text-sm text-red-700">{e.summary()}</p> }.into_any(),
                    }
                })}
            </Suspense>
            <section class="rounded-2xl border border-dashed border-slate-300 p-5 sm:p-6">
                <h2 class="text-base font-semibold text-slate-900">"Get a user token in one call"</h2>
                <ol class="mt-3 list-decimal space-y-1.5 pl-5 text-sm text-slate-700">
                    <li><a href="/keys" class="font-medium text-indigo-700 hover:underline">"Generate an API key"</a>" for your backend."</li>
                    <li>"Call " <code class="font-mono text-xs">"GET /token?account=42&platform=web"</code>" with " <code class="font-mono text-xs">"Authorization: Bearer tsk_…"</code>"."</li>
                    <li>"Verify tokens offline with your JWKS, or online with " <code class="font-mono text-xs">"POST /v1/tokens/introspect"</code>"."</li>
                </ol>
            </section>
        </div>
    }
}

#[component]
fn Stat(label: &'static str, value: u64, hint: &'static str, href: &'static str) -> impl IntoView {
    let external = href.starts_with("/docs").then_some("external");
    view! {
        <a
            href=href
            rel=external
            class="group rounded-2xl bg-white p-5 shadow-sm ring-1 ring-slate-900/5 transition hover:ring-indigo-300 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
        >
            <p class="text-sm font-medium text-slate-600">{label}</p>
            <p class="mt-2 text-3xl font-semibold tracking-tight text-slate-900" data-testid=format!("count-{}", label.to_lowercase().replace(' ', "-"))>
                {value.to_string()}
            </p>
            <p class="mt-1 text-xs text-slate-500">{hint}</p>
        </a>
    }
}
