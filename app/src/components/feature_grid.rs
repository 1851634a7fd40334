//! "How it works" and the feature list of the landing page.

use leptos::prelude::*;

/// A titled paragraph in the feature grid.
struct Feature {
    title: &'static str,
    text: &'static str,
}

const FEATURES: &[Feature] = &[
    Feature {
        title: "Tenants isolated by construction",
        text: "Every user, key and token belongs to one organization, and every query starts from its id. One org's key never sees another org's data.",
    },
    Feature {
        title: "API keys shown once",
        text: "Keys carry a fixed tsk_ prefix and a checksum, so typos fail fast and secret scanners find leaks. Only a SHA-256 hash is stored.",
    },
    Feature {
        title: "Standard, verifiable tokens",
        text: "EdDSA-signed JWTs with a kid, an issuer per org and a public JWKS, so any language's JWT library verifies them offline.",
    },
    Feature {
        title: "Revocation at three levels",
        text: "Revoke one token, everything a user holds, or everything an org issued before a date. Introspection sees it on the next call.",
    },
    Feature {
        title: "SQLite to PostgreSQL",
        text: "Starts on an embedded SQLite file. Point it at PostgreSQL to run several stateless instances behind a load balancer.",
    },
    Feature {
        title: "Drop-in compatible",
        text: "A claimr-style GET /token and Argyle-style users and user-tokens endpoints, so existing integrations move over with little change.",
    },
];

/// Three numbered steps: what the org, its backend and its front end each do.
#[component]
pub fn HowItWorks() -> impl IntoView {
    let steps = [
        ("Your backend asks", "With its secret API key, your server asks Tessera for a token for one of your users."),
        (
            "Your front end carries it",
            "Your widget, SDK or embedded page sends the token along, so the user needs no second login.",
        ),
        (
            "Any service checks it",
            "Verify offline against the org's JWKS, or call introspection to also honour revocations.",
        ),
    ];
    view! {
        <ol class="grid gap-4 md:grid-cols-3">
            {steps
                .into_iter()
                .enumerate()
                .map(|(index, (title, text))| {
                    view! {
                        <li class="rounded-2xl border border-slate-200 bg-white p-6 shadow-sm">
                            <span class="font-mono text-sm font-semibold text-indigo-600">{format!("0{}", index + 1)}</span>
                            <h3 class="mt-2 font-semibold text-slate-900">{title}</h3>
                            <p class="mt-1 text-sm leading-6 text-slate-600">{text}</p>
                        </li>
                    }
                })
                .collect_view()}
        </ol>
    }
}

/// The grid of product guarantees.
#[component]
pub fn FeatureGrid() -> impl IntoView {
    view! {
        <div class="grid gap-x-10 gap-y-8 sm:grid-cols-2 lg:grid-cols-3">
            {FEATURES
                .iter()
                .map(|feature| {
                    view! {
                        <div class="border-l-2 border-indigo-200 pl-5">
                            <h3 class="font-semibold text-slate-900">{feature.title}</h3>
                            <p class="mt-2 text-sm leading-6 text-slate-600">{feature.text}</p>
                        </div>
                    }
                })
                .collect_view()}
        </div>
    }
}
