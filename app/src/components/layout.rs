//! The signed-in frame of every dashboard page: a sidebar (a top bar on phones) with the
//! navigation and the member's menu, and the session gate in front of it.

use leptos::prelude::*;
use leptos_router::components::Redirect;
use tessera_core::Role;

use super::Logo;
use crate::server_fns::auth::{get_viewer, Me, SignOut, Viewer};

/// Which navigation entry is current.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nav {
    /// `/`.
    Overview,
    /// `/keys`.
    Keys,
    /// `/users` and `/users/:id`.
    Users,
    /// `/members`.
    Members,
    /// `/audit` (shown to admins and owners).
    Audit,
}

/// The session gate and frame: loads who is looking; redirects to `/setup` when no org exists
/// and to `/sign-in` when signed out; otherwise renders the frame around `page(me)`.
#[component]
pub fn Dashboard(
    /// Current navigation entry.
    active: Nav,
    /// Page heading.
    title: &'static str,
    /// Renders the page for the signed-in member.
    page: Callback<Me, AnyView>,
) -> impl IntoView {
    let viewer = Resource::new(|| (), |_| get_viewer());
    view! {
        <Suspense fallback=|| view! { <p class="p-8 text-sm text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match viewer.await {
                    Ok(Viewer::SignedIn(me)) => {
                        view! { <Frame me=me.clone() active title>{page.run(me)}</Frame> }.into_any()
                    }
                    Ok(Viewer::NeedsSetup) => view! { <Redirect path="/setup"/> }.into_any(),
                    Ok(Viewer::SignedOut { .. }) => view! { <Redirect path="/sign-in"/> }.into_any(),
                    Err(e) => {
                        view! {
                            <main class="mx-auto max-w-lg p-8">
                                <p role="alert" class="rounded-lg border border-red-200 bg-red-50 p-4 text-red-800">
                                    {e.summary()}
                                </p>
                            </main>
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn Frame(me: Me, active: Nav, title: &'static str, children: Children) -> impl IntoView {
    let sign_out = ServerAction::<SignOut>::new();
    let link = move |nav: Nav, href: &'static str, label: &'static str, icon: &'static str| {
        let current = nav == active;
        view! {
            <a
                href=href
                aria-current=if current { Some("page") } else { None }
                class=format!(
                    "flex items-center gap-3 rounded-lg px-3 py-2 text-sm font-medium transition focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-400 {}",
                    if current { "bg-white/10 text-white" } else { "text-slate-300 hover:bg-white/5 hover:text-white" },
                )
            >
                <svg class="h-5 w-5 flex-none opacity-80" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.8" aria-hidden="true">
                    <path stroke-linecap="round" stroke-linejoin="round" d=icon></path>
                </svg>
                <span class="whitespace-nowrap">{label}</span>
            </a>
        }
    };
    let role_badge = match me.role {
        Role::Owner => "bg-indigo-50 text-indigo-700 ring-indigo-600/20",
        Role::Admin => "bg-sky-50 text-sky-700 ring-sky-600/20",
        Role::Viewer => "bg-slate-100 text-slate-700 ring-slate-600/20",
    };
    // On wide screens the sidebar is a column of the page, as tall as the page however long it
    // is (a fixed one would cover only the first screen of a full-page capture), and its
    // contents stick to the top of the viewport while the page scrolls.
    view! {
        <div class="min-h-screen lg:flex">
            <aside class="bg-slate-900 lg:w-64 lg:flex-none">
                <div class="lg:sticky lg:top-0 lg:flex lg:h-screen lg:flex-col lg:overflow-y-auto">
                    <div class="flex items-center justify-between gap-4 px-4 py-4 lg:px-5 lg:py-6">
                        <a href="/" class="rounded-md focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-400">
                            <Logo dark=true/>
                        </a>
                        <span class="truncate rounded-md bg-white/5 px-2 py-1 text-xs font-medium text-slate-300 lg:hidden">
                            {me.org_name.clone()}
                        </span>
                    </div>
                    <nav aria-label="Dashboard" class="flex flex-wrap gap-1 px-3 pb-3 lg:flex-1 lg:flex-col lg:flex-nowrap lg:px-3 lg:pb-0">
                        {link(Nav::Overview, "/", "Overview", "M3 13h8V3H3v10Zm0 8h8v-6H3v6Zm10 0h8V11h-8v10Zm0-18v6h8V3h-8Z")}
                        {link(Nav::Users, "/users", "Users", "M15 19.128a9.38 9.38 0 0 0 2.625.372 9.337 9.337 0 0 0 4.121-.952 4.125 4.125 0 0 0-7.533-2.493M15 19.128v-.003c0-1.113-.285-2.16-.786-3.07M15 19.128v.106A12.318 12.318 0 0 1 8.624 21c-2.331 0-4.512-.645-6.374-1.766l-.001-.109a6.375 6.375 0 0 1 11.964-3.07M12 6.375a3.375 3.375 0 1 1-6.75 0 3.375 3.375 0 0 1 6.75 0Zm8.25 2.25a2.625 2.625 0 1 1-5.25 0 2.625 2.625 0 0 1 5.25 0Z")}
                        {link(Nav::Keys, "/keys", "API keys", "M15.75 5.25a3 3 0 0 1 3 3m3 0a6 6 0 0 1-7.03 5.91c-.57-.1-1.17.03-1.58.44L10.5 17.25H8.25v2.25H6v2.25H2.25v-2.81c0-.6.24-1.17.66-1.59l5.96-5.96c.41-.41.54-1.01.44-1.58A6 6 0 1 1 21.75 8.25Z")}
                        {link(Nav::Members, "/members", "Members", "M9 12.75 11.25 15 15 9.75m-3-7.036A11.959 11.959 0 0 1 3.598 6 11.99 11.99 0 0 0 3 9.749c0 5.592 3.824 10.29 9 11.623 5.176-1.332 9-6.03 9-11.622 0-1.31-.21-2.571-.598-3.751h-.152c-3.196 0-6.1-1.248-8.25-3.285Z")}
                        {me.role.at_least(Role::Admin).then(|| link(Nav::Audit, "/audit", "Audit log", "M9 12h3.75M9 15h3.75M9 18h3.75m3 .75H18a2.25 2.25 0 0 0 2.25-2.25V6.108c0-1.135-.845-2.098-1.976-2.192a48.424 48.424 0 0 0-1.123-.08m-5.801 0c-.065.21-.1.433-.1.664 0 .414.336.75.75.75h4.5a.75.75 0 0 0 .75-.75 2.25 2.25 0 0 0-.1-.664m-5.8 0A2.251 2.251 0 0 1 13.5 2.25H15c1.012 0 1.867.668 2.15 1.586m-5.8 0c-.376.023-.75.05-1.124.08C9.095 4.01 8.25 4.973 8.25 6.108V8.25m0 0H4.875c-.621 0-1.125.504-1.125 1.125v11.25c0 .621.504 1.125 1.125 1.125h9.75c.621 0 1.125-.504 1.125-1.125V9.375c0-.621-.504-1.125-1.125-1.125H8.25ZM6.75 12h.008v.008H6.75V12Zm0 3h.008v.008H6.75V15Zm0 3h.008v.008H6.75V18Z"))}
                        <a
                            href="/docs"
                            rel="external"
                            class="flex items-center gap-3 rounded-lg px-3 py-2 text-sm font-medium text-slate-300 transition hover:bg-white/5 hover:text-white focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-400"
                        >
                            <svg class="h-5 w-5 flex-none opacity-80" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.8" aria-hidden="true">
                                <path stroke-linecap="round" stroke-linejoin="round" d="M17.25 6.75 22.5 12l-5.25 5.25m-10.5 0L1.5 12l5.25-5.25m7.5-3-4.5 16.5"></path>
                            </svg>
                            <span class="whitespace-nowrap">"API docs"</span>
                        </a>
                    </nav>
                    <div class="hidden border-t border-white/10 p-4 lg:block">
                        <p class="text-xs uppercase tracking-wider text-slate-500">"Organization"</p>
                        <p class="mt-1 truncate text-sm font-medium text-white">{me.org_name.clone()}</p>
                        <p class="font-mono text-xs text-slate-400">{me.org_slug.clone()}</p>
                    </div>
                </div>
            </aside>
            <div class="min-w-0 flex-1">
                <header class="flex flex-wrap items-center justify-between gap-3 border-b border-slate-200 bg-white px-4 py-3 sm:px-8">
                    <h1 class="text-xl font-semibold tracking-tight text-slate-900">{title}</h1>
                    <div class="flex items-center gap-3">
                        <span class="hidden text-sm text-slate-600 sm:inline" data-testid="member-email">{me.email.clone()}</span>
                        <span class=format!("rounded-full px-2 py-0.5 text-xs font-semibold uppercase tracking-wide ring-1 ring-inset {role_badge}") data-testid="member-role">
                            {me.role.as_str()}
                        </span>
                        <ActionForm action=sign_out>
                            <button
                                type="submit"
                                class="rounded-lg border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium text-slate-700 shadow-sm transition hover:bg-slate-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
                            >
                                "Sign out"
                            </button>
                        </ActionForm>
                    </div>
                </header>
                <main class="px-4 py-6 sm:px-8 sm:py-8">{children()}</main>
            </div>
        </div>
    }
}
