//! `/users/:id`: one end user: profile, metadata and tokens. Admins and owners issue a token (its
//! JWT is shown once, in a dialog) and revoke one (`?revoke=<token id>`) or all of them
//! (`?revoke_all=1`) after a confirmation that works without JavaScript. `?tokens=<cursor>`
//! shows older tokens.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use tessera_core::TokenStatus;

use super::with_query;
use crate::components::{
    form_errors, Dashboard, Dialog, EmptyState, ErrorBanner, FormErrors, Lifecycle, Nav, RevealBox, StatusBadge,
    SubmitButton, TABLE_BOX, TD, TH,
};
use crate::error::AppError;
use crate::server_fns::{
    auth::Me,
    users::{get_user, IssueToken, IssuedToken, RevokeAllTokens, RevokeToken, TokenRow, UserDetail, LIFETIME_CHOICES},
};

/// The user page.
#[component]
pub fn UserPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    // Created here, beside the session gate's own resource (see `KeysPage`).
    let issue = ServerAction::<IssueToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let revoke_all = ServerAction::<RevokeAllTokens>::new();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let cursor = Memo::new(move |_| query.read().get("tokens").unwrap_or_default());
    let detail = Resource::new(
        move || (id.get(), cursor.get(), issue.version().get(), revoke.version().get(), revoke_all.version().get()),
        |(id, cursor, ..)| get_user(id, cursor),
    );
    let actions = Actions { issue, revoke, revoke_all };
    view! {
        <Title text="User · Tessera"/>
        <Dashboard
            active=Nav::Users
            title="User"
            page=Callback::new(move |_me: Me| view! { <UserView detail actions cursor/> }.into_any())
        />
    }
}

/// The page's forms.
#[derive(Clone, Copy)]
struct Actions {
    issue: ServerAction<IssueToken>,
    revoke: ServerAction<RevokeToken>,
    revoke_all: ServerAction<RevokeAllTokens>,
}

#[component]
fn UserView(detail: Resource<Result<UserDetail, AppError>>, actions: Actions, cursor: Memo<String>) -> impl IntoView {
    let query = use_query_map();
    view! {
        <div class="space-y-6">
            <a
                href="/users"
                class="inline-flex items-center gap-1 rounded text-sm font-semibold text-indigo-700 hover:underline focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
            >
                <span aria-hidden="true">"←"</span>
                " All users"
            </a>
            <Suspense fallback=|| view! { <p class="text-sm text-slate-500">"Loading user…"</p> }>
                {move || {
                    // Read outside the async block so a change of the query re-renders.
                    let (revoking, revoking_all) = {
                        let q = query.read();
                        (q.get("revoke"), q.get("revoke_all").is_some())
                    };
                    let cursor = cursor.get();
                    Suspend::new(async move {
                        match detail.await {
                            Ok(d) => {
                                let confirm = revoking
                                    .and_then(|id| d.tokens.iter().find(|t| t.id == id && t.status == TokenStatus::Active).cloned())
                                    .filter(|_| d.can_manage);
                                let confirm_all = revoking_all && d.can_manage && d.has_active;
                                let page = with_query(&format!("/users/{}", d.id), &[("tokens", &cursor)]);
                                view! {
                                    <Profile d=d.clone()/>
                                    <Tokens d=d.clone() issue=actions.issue page=page.clone() cursor=cursor.clone()/>
                                    {confirm.map(|token| view! { <RevokeDialog user_id=d.id.clone() token action=actions.revoke back=page.clone()/> })}
                                    {confirm_all.then(|| view! { <RevokeAllDialog d=d.clone() action=actions.revoke_all back=page.clone()/> })}
                                }
                                    .into_any()
                            }
                            Err(AppError::NotFound(_)) => view! { <UserNotFound/> }.into_any(),
                            Err(e) => view! { <p role="alert" class="text-sm text-red-700">{e.summary()}</p> }.into_any(),
                        }
                    })
                }}
            </Suspense>
            <IssuedDialog action=actions.issue/>
        </div>
    }
}

#[component]
fn UserNotFound() -> impl IntoView {
    view! {
        <section class="rounded-2xl bg-white px-6 py-12 text-center shadow-sm ring-1 ring-slate-900/5">
            <p class="font-mono text-sm font-semibold text-indigo-600">"404"</p>
            <h2 class="mt-2 text-2xl font-semibold tracking-tight text-slate-900">"User not found"</h2>
            <p class="mt-2 text-sm text-slate-600">"Your organization has no user with this id."</p>
            <a
                href="/users"
                class="mt-6 inline-block rounded-lg bg-slate-900 px-4 py-2.5 text-sm font-semibold text-white hover:bg-slate-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-2"
            >
                "Back to users"
            </a>
        </section>
    }
}

#[component]
fn Profile(d: UserDetail) -> impl IntoView {
    let item = |label: &'static str, value: AnyView| {
        view! {
            <div class="min-w-0">
                <dt class="text-xs font-semibold uppercase tracking-wide text-slate-500">{label}</dt>
                <dd class="mt-1 break-words text-sm text-slate-900">{value}</dd>
            </div>
        }
    };
    let heading = d.display_name.clone().unwrap_or_else(|| d.account.clone());
    view! {
        <section class="rounded-2xl bg-white p-5 shadow-sm ring-1 ring-slate-900/5 sm:p-6" aria-labelledby="profile-heading">
            <h2 id="profile-heading" class="break-words text-lg font-semibold text-slate-900" data-testid="user-heading">{heading}</h2>
            <dl class="mt-4 grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
                {item("Account", view! { <span class="font-medium">{d.account.clone()}</span> }.into_any())}
                {item("Platform", view! { <span class="rounded-md bg-slate-100 px-2 py-0.5 font-mono text-xs">{d.platform.clone()}</span> }.into_any())}
                {item("Display name", d.display_name.clone().unwrap_or_else(|| "—".into()).into_any())}
                {item("User id", view! { <code class="font-mono text-xs">{d.id.clone()}</code> }.into_any())}
                {item("Created", d.created.clone().into_any())}
                {item("Updated", d.updated.clone().into_any())}
            </dl>
            <h3 class="mt-6 text-xs font-semibold uppercase tracking-wide text-slate-500">"Metadata"</h3>
            <pre class="mt-2 max-h-72 overflow-auto rounded-lg bg-slate-900 p-3 font-mono text-xs leading-relaxed text-slate-100" data-testid="user-metadata">
                {d.metadata.clone()}
            </pre>
        </section>
    }
}

#[component]
fn Tokens(d: UserDetail, issue: ServerAction<IssueToken>, page: String, cursor: String) -> impl IntoView {
    let base = format!("/users/{}", d.id);
    let older = d.next_tokens_cursor.as_deref().map(|c| with_query(&base, &[("tokens", c)]));
    let newest = (!cursor.is_empty()).then(|| base.clone());
    let revoke_all_href = with_query(&page, &[("revoke_all", "1")]);
    view! {
        <section class="space-y-4" aria-labelledby="tokens-heading">
            <div class="flex flex-wrap items-center justify-between gap-3">
                <h2 id="tokens-heading" class="text-base font-semibold text-slate-900">"Tokens"</h2>
                {(d.can_manage && d.has_active).then(|| view! {
                    <a
                        href=revoke_all_href
                        class="rounded-lg border border-red-200 bg-white px-3 py-1.5 text-sm font-semibold text-red-700 shadow-sm hover:bg-red-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-red-500"
                    >
                        "Revoke all"
                    </a>
                })}
            </div>
            {d.can_manage.then(|| view! { <IssueForm user_id=d.id.clone() action=issue/> })}
            <TokenTable tokens=d.tokens.clone() can_manage=d.can_manage page=page.clone()/>
            {(older.is_some() || newest.is_some()).then(|| view! {
                <nav aria-label="Token pages" class="flex justify-end gap-2 text-sm">
                    {newest.map(|href| view! { <a href=href class=PAGER>"Newest tokens"</a> })}
                    {older.map(|href| view! { <a href=href rel="next" class=PAGER>"Older tokens"</a> })}
                </nav>
            })}
        </section>
    }
}

const PAGER: &str = "rounded-lg border border-slate-300 bg-white px-3 py-1.5 font-semibold text-slate-700 shadow-sm hover:bg-slate-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500";

#[component]
fn IssueForm(user_id: String, action: ServerAction<IssueToken>) -> impl IntoView {
    let query = use_query_map();
    // After a plain-form revoke fails, the query's error belongs to that dialog.
    let errors = Memo::new(move |_| {
        let (latest, q) = (action.value().get(), query.read());
        if latest.is_none() && (q.get("revoke").is_some() || q.get("revoke_all").is_some()) {
            FormErrors::default()
        } else {
            form_errors(latest, &q)
        }
    });
    view! {
        <div class="rounded-2xl bg-white p-4 shadow-sm ring-1 ring-slate-900/5 sm:p-5">
            <ActionForm action=action attr:class="space-y-3">
                <ErrorBanner message=Signal::derive(move || errors.read().summary.clone())/>
                <input type="hidden" name="user_id" value=user_id/>
                <div class="flex flex-wrap items-end gap-3">
                    <div class="space-y-1.5">
                        <label for="lifetime" class="block text-sm font-medium text-slate-800">"Lifetime"</label>
                        <select
                            id="lifetime"
                            name="lifetime"
                            class="block w-48 rounded-lg border border-slate-300 bg-white px-3 py-2 text-sm text-slate-900 shadow-sm focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
                        >
                            {LIFETIME_CHOICES.iter().map(|(value, label)| view! { <option value=*value>{*label}</option> }).collect_view()}
                        </select>
                    </div>
                    <SubmitButton label="Issue token" busy_label="Issuing…" pending=action.pending()/>
                </div>
                {move || errors.read().field("lifetime").map(|e| view! { <p class="text-sm font-medium text-red-700">{e}</p> })}
            </ActionForm>
        </div>
    }
}

#[component]
fn TokenTable(tokens: Vec<TokenRow>, can_manage: bool, page: String) -> impl IntoView {
    if tokens.is_empty() {
        return view! { <EmptyState title="No tokens" body="Tokens issued to this user, by your backend or here, are listed here."/> }
            .into_any();
    }
    let th = TH;
    let td = TD;
    view! {
        <div class=TABLE_BOX>
            <table class="min-w-full divide-y divide-slate-200">
                <thead class="bg-slate-50">
                    <tr>
                        <th scope="col" class=th>"Token"</th>
                        <th scope="col" class=th>"Status"</th>
                        <th scope="col" class=th>"Issued"</th>
                        <th scope="col" class=th>"Expires"</th>
                        <th scope="col" class=th>"Issued by"</th>
                        {can_manage.then(|| view! { <th scope="col" class=th><span class="sr-only">"Actions"</span></th> })}
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">
                    {tokens
                        .into_iter()
                        .map(|t| {
                            let lifecycle = match t.status {
TokenStatus::Active => Lifecycle::Active,
TokenStatus::Expired => Lifecycle::Expired,
TokenStatus::Revoked => Lifecycle::Revoked,
};
                            let short = short_id(&t.id);
                            let revoke_href = with_query(&page, &[("revoke", &t.id)]);
                            let active = t.status == TokenStatus::Active;
                            view! {
                                <tr data-token-id=t.id.clone()>
                                    <td class=td>
                                        <code class="font-mono text-xs text-slate-700" title=t.id.clone()>"…" {short.clone()}</code>
                                        {t.is_default.then(|| view! {
                                            <span class="ml-2 rounded-md bg-indigo-50 px-1.5 py-0.5 text-xs font-medium text-indigo-700" title="The permanent token GET /token hands out">
                                                "GET /token"
                                            </span>
                                        })}
                                    </td>
                                    <td class=td>
                                        <StatusBadge status=lifecycle/>
                                        {t.revoked.clone().map(|at| view! { <span class="ml-2 text-xs text-slate-500">{at}</span> })}
                                    </td>
                                    <td class=td>{t.issued.clone()}</td>
                                    <td class=td>{t.expires.clone().unwrap_or_else(|| "Never".into())}</td>
                                    <td class="min-w-48 px-4 py-3 text-sm text-slate-700">{t.issued_by.clone().unwrap_or_else(|| "—".into())}</td>
                                    {can_manage.then(|| view! {
                                        <td class=format!("{td} text-right")>
                                            {active.then(|| view! {
                                                <a
                                                    href=revoke_href.clone()
                                                    aria-label=format!("Revoke token {short}")
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

/// The last 8 characters of a token id, which is how the page names a token (ids are UUIDv7,
/// whose first characters are a timestamp shared by tokens issued together).
fn short_id(id: &str) -> String {
    let skip = id.chars().count().saturating_sub(8);
    id.chars().skip(skip).collect()
}

#[component]
fn RevokeDialog(user_id: String, token: TokenRow, action: ServerAction<RevokeToken>, back: String) -> impl IntoView {
    let query = use_query_map();
    let errors = Memo::new(move |_| form_errors(action.value().get(), &query.read()));
    view! {
        <Dialog title="Revoke this token?" title_id="revoke-heading">
            <p class="text-sm text-slate-600">
                "Token " <code class="font-mono text-xs text-slate-900">"…" {short_id(&token.id)}</code>
                ", issued " {token.issued.clone()}
                ", will be reported inactive by introspection at once. This cannot be undone."
            </p>
            <p class="mt-2 text-xs text-slate-500">
                "Services that verify tokens offline with your JWKS do not see revocations; they accept it until it expires."
            </p>
            <ActionForm action=action attr:class="mt-5 space-y-4">
                <ErrorBanner message=Signal::derive(move || errors.read().summary.clone())/>
                <input type="hidden" name="user_id" value=user_id/>
                <input type="hidden" name="token_id" value=token.id.clone()/>
                <DialogButtons back label="Revoke token" busy_label="Revoking…" pending=action.pending()/>
            </ActionForm>
        </Dialog>
    }
}

#[component]
fn RevokeAllDialog(d: UserDetail, action: ServerAction<RevokeAllTokens>, back: String) -> impl IntoView {
    let query = use_query_map();
    let errors = Memo::new(move |_| form_errors(action.value().get(), &query.read()));
    view! {
        <Dialog title="Revoke all tokens of this user?" title_id="revoke-all-heading">
            <p class="text-sm text-slate-600">
                "Every token of " <span class="font-medium text-slate-900">{d.account.clone()}</span>
                " issued until now is revoked, including the permanent one "
                <code class="font-mono text-xs">"GET /token"</code>
                " hands out (the next call there issues a new one). This cannot be undone."
            </p>
            <ActionForm action=action attr:class="mt-5 space-y-4">
                <ErrorBanner message=Signal::derive(move || errors.read().summary.clone())/>
                <input type="hidden" name="user_id" value=d.id.clone()/>
                <DialogButtons back label="Revoke all tokens" busy_label="Revoking…" pending=action.pending()/>
            </ActionForm>
        </Dialog>
    }
}

/// "Cancel" (a link back to `back`) and the dialog's red submit button.
#[component]
fn DialogButtons(
    back: String,
    label: &'static str,
    busy_label: &'static str,
    #[prop(into)] pending: Signal<bool>,
) -> impl IntoView {
    view! {
        <div class="flex flex-col-reverse gap-3 sm:flex-row sm:justify-end">
            <a
                href=back
                class="inline-flex justify-center rounded-lg border border-slate-300 bg-white px-4 py-2 text-sm font-semibold text-slate-700 shadow-sm hover:bg-slate-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
            >
                "Cancel"
            </a>
            <SubmitButton label busy_label pending danger=true/>
        </div>
    }
}

/// Shows a just-issued token once; closing it drops the token from the page's memory.
#[component]
fn IssuedDialog(action: ServerAction<IssueToken>) -> impl IntoView {
    move || {
        let Some(Ok(IssuedToken { id, jwt, expires })) = action.value().get() else {
            return None;
        };
        let lifetime = match expires {
            Some(at) => format!("It expires {at}."),
            None => "It never expires; revoke it when it is no longer needed.".to_owned(),
        };
        Some(view! {
            <Dialog title="Your new user token" title_id="issued-heading">
                <p class="text-sm text-slate-600">
                    "Token " <code class="font-mono text-xs">"…" {short_id(&id)}</code> ". " {lifetime}
                </p>
                <RevealBox
                    secret=jwt
                    testid="new-user-token"
                    note="This is the only time the dashboard shows it."
                    on_close=Callback::new(move |_| action.clear())
                />
            </Dialog>
        })
    }
}
