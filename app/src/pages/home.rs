//! The public landing page at `/`: what Tessera is, how to start, where the API lives.

use leptos::prelude::*;

use crate::components::{FeatureGrid, HowItWorks, QuickStart, SiteFooter, SiteHeader, TokenPreview};

/// Landing page: dark hero with a decoded token, how it works, quick start, features.
#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <div class="relative overflow-hidden bg-slate-950">
            // A faint tile pattern: the mosaic the product is named after.
            <div
                class="pointer-events-none absolute inset-0 opacity-[0.08] [mask-image:radial-gradient(ellipse_at_top,black,transparent_70%)] [background-image:linear-gradient(to_right,#fff_1px,transparent_1px),linear-gradient(to_bottom,#fff_1px,transparent_1px)] [background-size:48px_48px]"
                aria-hidden="true"
            ></div>
            <div
                class="pointer-events-none absolute -top-40 left-1/2 h-[36rem] w-[36rem] -translate-x-1/2 rounded-full bg-indigo-600/30 blur-3xl"
                aria-hidden="true"
            ></div>
            <SiteHeader/>
            <div class="relative mx-auto grid max-w-6xl items-center gap-12 px-6 pb-20 pt-10 lg:grid-cols-[1.1fr_1fr] lg:pb-24 lg:pt-14">
                <div>
                    <p class="inline-flex items-center gap-2 rounded-full border border-white/10 bg-white/5 px-3 py-1 text-xs font-medium text-slate-300">
                        <span class="h-1.5 w-1.5 rounded-full bg-emerald-400"></span>
                        "Self-hosted · multi-tenant · Apache-2.0"
                    </p>
                    <h1 class="mt-6 text-4xl font-semibold tracking-tight text-white sm:text-5xl">
                        "Tessera — "
                        <span class="bg-gradient-to-r from-indigo-300 via-sky-300 to-emerald-300 bg-clip-text text-transparent">
                            "user tokens"
                        </span>
                        " for your product"
                    </h1>
                    <p class="mt-6 max-w-xl text-lg leading-8 text-slate-300">
                        "Your backend asks Tessera for a signed token for each of your users. Your widget, SDK or embedded page carries it, and any service can verify it — offline with your org's public keys, or online, revocations included."
                    </p>
                    <div class="mt-8 flex flex-wrap items-center gap-3">
                        <a
                            href="#quick-start"
                            class="rounded-lg bg-indigo-500 px-5 py-3 text-sm font-semibold text-white shadow-lg shadow-indigo-500/25 transition hover:bg-indigo-400"
                        >
                            "Get started"
                        </a>
                        <a
                            href="/docs"
                            rel="external"
                            class="rounded-lg border border-white/15 px-5 py-3 text-sm font-semibold text-slate-200 transition hover:border-white/30 hover:bg-white/5"
                        >
                            "REST API docs"
                        </a>
                    </div>
                    <dl class="mt-10 grid max-w-lg grid-cols-3 gap-6 border-t border-white/10 pt-6 text-sm">
                        <div>
                            <dt class="text-slate-400">"Signing"</dt>
                            <dd class="mt-1 font-mono text-white">"EdDSA · JWKS"</dd>
                        </div>
                        <div>
                            <dt class="text-slate-400">"Storage"</dt>
                            <dd class="mt-1 font-mono text-white">"SQLite · Postgres"</dd>
                        </div>
                        <div>
                            <dt class="text-slate-400">"Health"</dt>
                            <dd class="mt-1">
                                <a href="/healthz" rel="external" class="font-mono text-emerald-300 underline decoration-emerald-300/30 underline-offset-4 hover:decoration-emerald-300">
                                    "/healthz"
                                </a>
                            </dd>
                        </div>
                    </dl>
                </div>
                <TokenPreview/>
            </div>
        </div>

        <main class="mx-auto max-w-6xl space-y-20 px-6 py-20">
            <section aria-labelledby="how-heading">
                <h2 id="how-heading" class="text-sm font-semibold uppercase tracking-wider text-slate-500">
                    "How it works"
                </h2>
                <div class="mt-6">
                    <HowItWorks/>
                </div>
            </section>

            <QuickStart/>

            <section aria-labelledby="features-heading">
                <h2 id="features-heading" class="text-2xl font-semibold tracking-tight text-slate-900">
                    "Built for the teams who own the keys"
                </h2>
                <p class="mt-2 max-w-2xl text-slate-600">
                    "Org admins manage API keys, users and tokens from the dashboard; integrators use the REST API; security reviewers get the guarantees below."
                </p>
                <div class="mt-10">
                    <FeatureGrid/>
                </div>
            </section>
        </main>

        <SiteFooter/>
    }
}
