//! `/keys`: the org's API keys: table, "Generate key" with a one-time reveal dialog, and revoke
//! with a confirmation (`/keys?revoke=<prefix>`, so it works without JavaScript too).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::{
    form_errors, Dashboard, Dialog, EmptyState, ErrorBanner, Field, FormErrors, Lifecycle, Nav, RevealBox, StatusBadge,
    SubmitButton, TABLE_BOX, TD, TH,
};
use crate::error::AppError;
use crate::server_fns::{
    auth::Me,
    keys::{list_keys, GenerateKey, GeneratedKey, KeyList, KeyRow, KeyStatus, RevokeKey, EXPIRY_CHOICES},
};

/// The API keys page.
#[component]
pub fn KeysPage() -> impl IntoView {
    // Created here, beside the session gate's own resource, not inside its Suspense: a resource
    // created while a Suspend resolves does not see the request's context on the server.
    let generate = ServerAction::<GenerateKey>::new();
    let revoke = ServerAction::<RevokeKey>::new();
    let keys = Resource::new(move || (generate.version().get(), revoke.version().get()), |_| list_keys());
    view! {
        <Title text="API keys · Tessera"/>
        <Dashboard
            active=Nav::Keys
            title="API keys"
            page=Callback::new(move |_me: Me| view! { <Keys generate revoke keys/> }.into_any())
        />
    }
}

#[component]
fn Keys(
    generate: ServerAction<GenerateKey>,
    revoke: ServerAction<RevokeKey>,
    keys: Resource<Result<KeyList, AppError>>,
) -> impl IntoView {
    let query = use_query_map();
    let revoking = move || query.read().get("revoke");
    view! {
        <div class="space-y-6">
            <p class="max-w-2xl text-sm text-slate-600">
                "Your backend sends an API key as " <code class="font-mono text-xs">"Authorization: Bearer tsk_…"</code>
                " to create users and tokens. A key is shown once, when it is generated; Tessera keeps only its hash and the prefix below."
            </p>
            <Suspense fallback=|| view! { <p class="text-sm text-slate-500">"Loading keys…"</p> }>
                {move || {
                    // Read outside the async block so a change of `?revoke=` re-renders.
                    let revoking = revoking();
                    Suspend::new(async move {
                    match keys.await {
                        Ok(list) => {
                            let confirm = revoking
                                .and_then(|p| list.keys.iter().find(|k| k.prefix == p && k.status == KeyStatus::Active).cloned())
                                .filter(|_| list.can_manage);
                            view! {
                                {list.can_manage.then(|| view! { <GenerateForm action=generate/> })}
                                <KeyTable keys=list.keys.clone() can_manage=list.can_manage/>
                                {confirm.map(|key| view! { <RevokeDialog key action=revoke/> })}
                            }
                                .into_any()
                        }
                        Err(e) => view! { <p role="alert" class="text-sm text-red-700">{e.summary()}</p> }.into_any(),
                    }
                })
                }}
            </Suspense>
            <RevealDialog action=generate/>
        </div>
    }
}

#[component]
fn GenerateForm(action: ServerAction<GenerateKey>) -> impl IntoView {
    let query = use_query_map();
    // After a plain-form revoke fails, the query (`?revoke=…&error=…`) belongs to the dialog.
    let errors = Memo::new(move |_| {
        let (latest, q) = (action.value().get(), query.read());
        if latest.is_none() && q.get("revoke").is_some() {
            FormErrors::default()
        } else {
            form_errors(latest, &q)
        }
    });
    let field = move |name: &'static str| Signal::derive(move || errors.read().field(name));
    view! {
        <section class="rounded-2xl bg-white p-5 shadow-sm ring-1 ring-slate-900/5 sm:p-6" aria-labelledby="generate-heading">
            <h2 id="generate-heading" class="text-base font-semibold text-slate-900">"Generate key"</h2>
            <ActionForm action=action attr:class="mt-4 space-y-4">
                <ErrorBanner message=Signal::derive(move || errors.read().summary.clone())/>
                <div class="grid gap-4 sm:grid-cols-[1fr_12rem_auto] sm:items-start">
                    <Field label="Name" name="name" placeholder="production backend" hint="Who or what uses it." required=true error=field("name")/>
                    <div class="space-y-1.5">
                        <label for="expires_in_days" class="block text-sm font-medium text-slate-800">"Expires"</label>
                        <select
                            id="expires_in_days"
                            name="expires_in_days"
                            class="block w-full rounded-lg border border-slate-300 bg-white px-3 py-2 text-sm text-slate-900 shadow-sm focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
                        >
                            {EXPIRY_CHOICES.iter().map(|(value, label)| view! { <option value=*value>{*label}</option> }).collect_view()}
                        </select>
                        {move || field("expires_in_days").get().map(|e| view! { <p class="text-sm font-medium text-red-700">{e}</p> })}
                    </div>
                    <div class="sm:pt-7">
                        <SubmitButton label="Generate key" busy_label="Generating…" pending=action.pending()/>
                    </div>
                </div>
            </ActionForm>
        </section>
    }
}

#[component]
fn KeyTable(keys: Vec<KeyRow>, can_manage: bool) -> impl IntoView {
    if keys.is_empty() {
        let body = if can_manage {
            "Generate one above and give it to your backend."
        } else {
            "An admin or owner can generate one."
        };
        return view! { <EmptyState title="No API keys yet" body/> }.into_any();
    }
    let th = TH;
    let td = TD;
    // Who and when may wrap, so that the status and the revoke link fit at 1280 px.
    let td_wrap = "px-4 py-3 text-sm text-slate-700";
    view! {
        <div class=TABLE_BOX>
            <table class="min-w-full divide-y divide-slate-200">
                <thead class="bg-slate-50">
                    <tr>
                        <th scope="col" class=th>"Name"</th>
                        <th scope="col" class=th>"Prefix"</th>
                        <th scope="col" class=th>"Created by"</th>
                        <th scope="col" class=th>"Created"</th>
                        <th scope="col" class=th>"Last used"</th>
                        <th scope="col" class=th>"Expires"</th>
                        <th scope="col" class=th>"Status"</th>
                        {can_manage.then(|| view! { <th scope="col" class=th><span class="sr-only">"Actions"</span></th> })}
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">
                    {keys
                        .into_iter()
                        .map(|k| {
                            let lifecycle = match k.status {
KeyStatus::Active => Lifecycle::Active,
KeyStatus::Expired => Lifecycle::Expired,
KeyStatus::Revoked => Lifecycle::Revoked,
};
                            let revoke_href = format!("/keys?revoke={}", k.prefix);
                            let active = k.status == KeyStatus::Active;
                            view! {
                                <tr data-prefix=k.prefix.clone()>
                                    <td class=format!("{td} font-medium text-slate-900")>{k.name.clone()}</td>
                                    <td class=td><code class="font-mono text-xs text-slate-700">"tsk_" {k.prefix.clone()} "…"</code></td>
                                    <td class=td_wrap>{k.created_by.clone().unwrap_or_else(|| "command line".into())}</td>
                                    <td class=td_wrap>{k.created.clone()}</td>
                                    <td class=td_wrap>{k.last_used.clone().unwrap_or_else(|| "Never".into())}</td>
                                    <td class=td_wrap>{k.expires.clone().unwrap_or_else(|| "Never".into())}</td>
                                    <td class=td>
                                        <StatusBadge status=lifecycle/>
                                    </td>
                                    {can_manage.then(|| view! {
                                        <td class=format!("{td} text-right")>
                                            {active.then(|| view! {
                                                <a
                                                    href=revoke_href.clone()
                                                    aria-label=format!("Revoke key {}", k.name)
                                                    class="rounded-md px-2 py-1 text-sm font-semibold text-red-700 hover:bg-red-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-red-500"
                                                >
                                                    "Revoke"
                                                </a>
                                            })}
                                        </td>
                                    })}
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
        .into_any()
}

#[component]
fn RevokeDialog(key: KeyRow, action: ServerAction<RevokeKey>) -> impl IntoView {
    let query = use_query_map();
    let errors = Memo::new(move |_| form_errors(action.value().get(), &query.read()));
    view! {
        <Dialog title="Revoke this API key?" title_id="revoke-heading">
            <p class="text-sm text-slate-600">
                "Requests that use " <span class="font-medium text-slate-900">{key.name.clone()}</span> " ("
                <code class="font-mono text-xs">"tsk_" {key.prefix.clone()} "…"</code>
                ") will be refused at once. This cannot be undone."
            </p>
            <ActionForm action=action attr:class="mt-5 space-y-4">
                <ErrorBanner message=Signal::derive(move || errors.read().summary.clone())/>
                <input type="hidden" name="prefix" value=key.prefix.clone()/>
                <div class="flex flex-col-reverse gap-3 sm:flex-row sm:justify-end">
                    <a
                        href="/keys"
                        class="inline-flex justify-center rounded-lg border border-slate-300 bg-white px-4 py-2 text-sm font-semibold text-slate-700 shadow-sm hover:bg-slate-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
                    >
                        "Cancel"
                    </a>
                    <SubmitButton label="Revoke key" busy_label="Revoking…" pending=action.pending() danger=true/>
                </div>
            </ActionForm>
        </Dialog>
    }
}

/// Shows a just-generated key once; closing it drops the key from the page's memory.
#[component]
fn RevealDialog(action: ServerAction<GenerateKey>) -> impl IntoView {
    move || {
        let Some(Ok(GeneratedKey { name, prefix, secret })) = action.value().get() else {
            return None;
        };
        Some(view! {
            <Dialog title="Your new API key" title_id="reveal-heading">
                <p class="text-sm text-slate-600">
                    "Key " <span class="font-medium text-slate-900">{name}</span> " (" <code class="font-mono text-xs">"tsk_" {prefix} "…"</code> ")."
                </p>
                <RevealBox
                    secret
                    testid="new-api-key"
                    note="Tessera stores only a hash of it."
                    on_close=Callback::new(move |_| action.clear())
                />
            </Dialog>
        })
    }
}
