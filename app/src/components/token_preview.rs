//! A decoded user token, shown in the hero so integrators see what they will receive.

use leptos::prelude::*;

/// One `"key": value` line of the decoded token; `string` quotes and colours the value.
#[component]
fn Claim(
    key: &'static str,
    value: &'static str,
    #[prop(optional)] string: bool,
    #[prop(optional)] last: bool,
) -> impl IntoView {
    let value_class = if string { "text-emerald-300" } else { "text-amber-300" };
    let shown = if string { format!("\"{value}\"") } else { value.to_string() };
    view! {
        <div class="pl-4">
            <span class="text-sky-300">{format!("\"{key}\"")}</span>
            <span class="text-slate-500">": "</span>
            <span class=value_class>{shown}</span>
            <span class="text-slate-500">{if last { "" } else { "," }}</span>
        </div>
    }
}

/// A card with a user token's JOSE header and claims, styled like a JWT debugger.
#[component]
pub fn TokenPreview() -> impl IntoView {
    view! {
        <figure class="overflow-hidden rounded-2xl border border-white/10 bg-slate-900/80 shadow-2xl shadow-indigo-950/50 ring-1 ring-white/5 backdrop-blur">
            <div class="flex items-center justify-between border-b border-white/10 px-4 py-3">
                <div class="flex gap-1.5" aria-hidden="true">
                    <span class="h-2.5 w-2.5 rounded-full bg-slate-600"></span>
                    <span class="h-2.5 w-2.5 rounded-full bg-slate-600"></span>
                    <span class="h-2.5 w-2.5 rounded-full bg-slate-600"></span>
                </div>
                <figcaption class="font-mono text-xs text-slate-400">"user_token · decoded"</figcaption>
            </div>
            <div class="space-y-4 p-5 font-mono text-[13px] leading-6">
                <div>
                    <p class="mb-1 text-[11px] font-sans font-semibold uppercase tracking-wider text-slate-500">"Header"</p>
                    <div class="text-slate-400">"{"</div>
                    <Claim key="alg" value="EdDSA" string=true/>
                    <Claim key="kid" value="0193a5c4-1f2e-7a3b-9c4d-5e6f7a8b9c0d" string=true last=true/>
                    <div class="text-slate-400">"}"</div>
                </div>
                <div>
                    <p class="mb-1 text-[11px] font-sans font-semibold uppercase tracking-wider text-slate-500">"Claims"</p>
                    <div class="text-slate-400">"{"</div>
                    <Claim key="iss" value="https://tessera.example.com/o/acme" string=true/>
                    <Claim key="aud" value="acme" string=true/>
                    <Claim key="sub" value="0190f3c2-7a41-7d2e-9b8c-5e1f0a2b3c4d" string=true/>
                    <Claim key="account" value="acct_4812" string=true/>
                    <Claim key="platform" value="web" string=true/>
                    <Claim key="iat" value="1767225600"/>
                    <Claim key="exp" value="1767229200" last=true/>
                    <div class="text-slate-400">"}"</div>
                </div>
                <p class="flex items-center gap-2 border-t border-white/10 pt-4 font-sans text-xs text-slate-400">
                    <span class="inline-block h-2 w-2 rounded-full bg-emerald-400"></span>
                    "Signature verified with the org's JWKS"
                </p>
            </div>
        </figure>
    }
}
