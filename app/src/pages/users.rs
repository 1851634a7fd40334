//! `/users`: the org's end users, newest first, a page at a time. Search and the platform filter
//! are a plain GET form, so every view is a URL (`?q=&platform=&cursor=&limit=`) that can be
//! bookmarked and works without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Form, hooks::use_query_map};

use super::with_query;
use crate::components::{Dashboard, EmptyState, Nav, TABLE_BOX, TD, TH};
use crate::error::AppError;
use crate::server_fns::{
    auth::Me,
    users::{list_users, UserList, UserRow},
};

/// The URL's view of the table: search text, platform, cursor and page size (each may be empty).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct View {
    q: String,
    platform: String,
    cursor: String,
    limit: String,
}

impl View {
    fn filtered(&self) -> bool {
        !self.q.trim().is_empty() || !self.platform.trim().is_empty()
    }

    /// This view's URL with another cursor (empty: the first page).
    fn href(&self, cursor: &str) -> String {
        with_query(
            "/users",
            &[("q", &self.q), ("platform", &self.platform), ("limit", &self.limit), ("cursor", cursor)],
        )
    }
}

/// The users table with its search form.
#[component]
pub fn UsersPage() -> impl IntoView {
    let query = use_query_map();
    let view_of_url = Memo::new(move |_| {
        let q = query.read();
        let get = |name: &str| q.get(name).unwrap_or_default();
        View { q: get("q"), platform: get("platform"), cursor: get("cursor"), limit: get("limit") }
    });
    // Created here, beside the session gate's own resource (see `KeysPage`).
    let users = Resource::new(move || view_of_url.get(), |v| list_users(v.q, v.platform, v.cursor, v.limit));
    view! {
        <Title text="Users · Tessera"/>
        <Dashboard
            active=Nav::Users
            title="Users"
            page=Callback::new(move |_me: Me| view! { <Users view_of_url users/> }.into_any())
        />
    }
}

#[component]
fn Users(view_of_url: Memo<View>, users: Resource<Result<UserList, AppError>>) -> impl IntoView {
    view! {
        <div class="space-y-6">
            <p class="max-w-2xl text-sm text-slate-600">
                "End users are created by your backend (" <code class="font-mono text-xs">"GET /token"</code> ", "
                <code class="font-mono text-xs">"POST /v1/users"</code> "). Open one to see its tokens."
            </p>
            {move || view! { <SearchForm current=view_of_url.get()/> }}
            <Suspense fallback=|| view! { <p class="text-sm text-slate-500">"Loading users…"</p> }>
                {move || {
                    let current = view_of_url.get();
                    Suspend::new(async move {
                        match users.await {
                            Ok(list) => view! { <UserTable list current/> }.into_any(),
                            Err(e) => view! { <ListError e/> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </div>
    }
}

/// Re-rendered on every URL change, so the inputs always show the URL's search.
#[component]
fn SearchForm(current: View) -> impl IntoView {
    let input = "block w-full rounded-lg border border-slate-300 bg-white px-3 py-2 text-sm text-slate-900 shadow-sm placeholder:text-slate-400 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-1";
    let filtered = current.filtered();
    view! {
        <section aria-label="Search users" class="rounded-2xl bg-white p-4 shadow-sm ring-1 ring-slate-900/5 sm:p-5">
            <Form method="get" action="/users" attr:role="search" attr:class="grid gap-3 sm:grid-cols-[1fr_12rem_auto] sm:items-end">
                <div class="space-y-1.5">
                    <label for="q" class="block text-sm font-medium text-slate-800">"Search"</label>
                    <input id="q" name="q" type="search" value=current.q.clone() placeholder="Account or display name" class=input/>
                </div>
                <div class="space-y-1.5">
                    <label for="platform" class="block text-sm font-medium text-slate-800">"Platform"</label>
                    <input id="platform" name="platform" type="text" value=current.platform.clone() placeholder="any, e.g. web" class=input/>
                </div>
                {(!current.limit.is_empty()).then(|| view! { <input type="hidden" name="limit" value=current.limit.clone()/> })}
                <div class="flex items-center gap-2">
                    <button
                        type="submit"
                        class="inline-flex items-center justify-center rounded-lg bg-indigo-600 px-4 py-2 text-sm font-semibold text-white shadow-sm transition hover:bg-indigo-500 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-2"
                    >
                        "Search"
                    </button>
                    {filtered.then(|| view! {
                        <a
                            href="/users"
                            class="rounded-lg px-3 py-2 text-sm font-semibold text-slate-700 hover:bg-slate-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
                        >
                            "Clear"
                        </a>
                    })}
                </div>
            </Form>
        </section>
    }
}

#[component]
fn ListError(e: AppError) -> impl IntoView {
    let fields = match &e {
        AppError::Invalid(fields) => fields.iter().map(|f| format!("{}: {}", label_of(&f.field), f.message)).collect(),
        _ => vec![],
    };
    view! {
        <div role="alert" class="rounded-lg border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-800">
            <p class="font-medium">{e.summary()}</p>
            <ul class="mt-1 list-disc pl-5">{fields.into_iter().map(|f| view! { <li>{f}</li> }).collect_view()}</ul>
            <a href="/users" class="mt-2 inline-block font-semibold underline">"Show all users"</a>
        </div>
    }
}

/// The form's label for a field the server named.
fn label_of(field: &str) -> &str {
    match field {
        "q" => "Search",
        "platform" => "Platform",
        "cursor" => "Page",
        "limit" => "Page size",
        other => other,
    }
}

#[component]
fn UserTable(list: UserList, current: View) -> impl IntoView {
    if list.users.is_empty() {
        let (title, body) = if current.filtered() {
            ("No users match this search", "Try part of an account or a display name, or another platform.")
        } else if !current.cursor.is_empty() {
            ("No more users", "This page is past the last user.")
        } else {
            ("No users yet", "Your backend creates users with GET /token or POST /v1/users and an API key.")
        };
        let reset = (current.filtered() || !current.cursor.is_empty()).then_some(("/users", "Show all users"));
        return view! { <EmptyState title body reset/> }.into_any();
    }
    let th = TH;
    let td = TD;
    let next = list.next_cursor.as_deref().map(|c| current.href(c));
    let first = (!current.cursor.is_empty()).then(|| current.href(""));
    let count = list.users.len();
    view! {
        <div class=TABLE_BOX>
            <table class="min-w-full divide-y divide-slate-200">
                <thead class="bg-slate-50">
                    <tr>
                        <th scope="col" class=th>"Account"</th>
                        <th scope="col" class=th>"Platform"</th>
                        <th scope="col" class=th>"Display name"</th>
                        <th scope="col" class=th>"Created"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">
                    {list.users.into_iter().map(|u| view! { <Row u td/> }).collect_view()}
                </tbody>
            </table>
        </div>
        <nav aria-label="Pages" class="flex flex-wrap items-center justify-between gap-3 text-sm">
            <p class="text-slate-600" data-testid="users-shown">
                {format!("{count} user{} on this page", if count == 1 { "" } else { "s" })}
            </p>
            <div class="flex items-center gap-2">
                {first.map(|href| view! { <a href=href class=PAGER>"First page"</a> })}
                {next.map(|href| view! { <a href=href rel="next" class=PAGER>"Next page"</a> })}
            </div>
        </nav>
    }
    .into_any()
}

const PAGER: &str = "rounded-lg border border-slate-300 bg-white px-3 py-1.5 font-semibold text-slate-700 shadow-sm hover:bg-slate-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500";

#[component]
fn Row(u: UserRow, td: &'static str) -> impl IntoView {
    view! {
        <tr data-user-id=u.id.clone()>
            <td class=format!("{td} font-medium text-slate-900")>
                <a
                    href=format!("/users/{}", u.id)
                    class="rounded text-indigo-700 hover:underline focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
                >
                    {u.account.clone()}
                </a>
            </td>
            <td class=td>
                <span class="rounded-md bg-slate-100 px-2 py-0.5 font-mono text-xs text-slate-700">{u.platform.clone()}</span>
            </td>
            <td class=td>{u.display_name.clone().unwrap_or_else(|| "—".into())}</td>
            <td class=td>{u.created.clone()}</td>
        </tr>
    }
}
