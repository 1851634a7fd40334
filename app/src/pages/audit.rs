//! `/audit` (admins and owners): the org's audit log, newest first, a page at a time. The
//! filters are a plain GET form, so every view is a URL (`?action=&actor=&since=&until=&cursor=`)
//! that can be bookmarked and works without JavaScript; each row opens (`<details>`) to its
//! `changes` and request. "Export" downloads the filtered view, streamed by the server, as JSON
//! Lines or CSV.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Form, hooks::use_query_map};
use tessera_core::audit::ACTIONS;

use super::with_query;
use crate::components::{Dashboard, EmptyState, Nav, TABLE_BOX, TD, TH};
use crate::error::AppError;
use crate::server_fns::{
    audit::{list_audit_events, AuditList, AuditRow},
    auth::Me,
};

/// The URL's view of the table (each may be empty).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct View {
    action: String,
    actor: String,
    since: String,
    until: String,
    cursor: String,
    limit: String,
}

impl View {
    fn filtered(&self) -> bool {
        [&self.action, &self.actor, &self.since, &self.until].iter().any(|f| !f.trim().is_empty())
    }

    fn filters(&self) -> [(&'static str, &str); 4] {
        [("action", &self.action), ("actor", &self.actor), ("since", &self.since), ("until", &self.until)]
    }

    /// This view's URL with another cursor (empty: the first page).
    fn href(&self, cursor: &str) -> String {
        let mut pairs = self.filters().to_vec();
        pairs.extend([("limit", self.limit.as_str()), ("cursor", cursor)]);
        with_query("/audit", &pairs)
    }

    /// The download of this view's every event (all pages) in `format` (`jsonl` or `csv`).
    fn export_href(&self, format: &'static str) -> String {
        let mut pairs = vec![("format", format)];
        pairs.extend(self.filters());
        with_query("/audit/export", &pairs)
    }
}

/// The audit log page.
#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let view_of_url = Memo::new(move |_| {
        let q = query.read();
        let get = |name: &str| q.get(name).unwrap_or_default();
        View {
            action: get("action"),
            actor: get("actor"),
            since: get("since"),
            until: get("until"),
            cursor: get("cursor"),
            limit: get("limit"),
        }
    });
    // Created here, beside the session gate's own resource (see `KeysPage`).
    let events = Resource::new(
        move || view_of_url.get(),
        |v| list_audit_events(v.action, v.actor, v.since, v.until, v.cursor, v.limit),
    );
    view! {
        <Title text="Audit log · Tessera"/>
        <Dashboard
            active=Nav::Audit
            title="Audit log"
            page=Callback::new(move |_me: Me| view! { <Audit view_of_url events/> }.into_any())
        />
    }
}

#[component]
fn Audit(view_of_url: Memo<View>, events: Resource<Result<AuditList, AppError>>) -> impl IntoView {
    view! {
        <div class="space-y-6">
            <p class="max-w-2xl text-sm text-slate-600">
                "Every change to this organization, who made it and from where. Each event is chained to the one before it by its hash, so "
                <code class="font-mono text-xs">"tessera audit verify"</code> " detects an edited or deleted event."
            </p>
            {move || view! { <FilterForm current=view_of_url.get()/> }}
            <Suspense fallback=|| view! { <p class="text-sm text-slate-500">"Loading events…"</p> }>
                {move || {
                    let current = view_of_url.get();
                    Suspend::new(async move {
                        match events.await {
                            Ok(list) => view! { <EventTable list current/> }.into_any(),
                            Err(e) => view! { <ListError e/> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </div>
    }
}

const INPUT: &str = "block w-full rounded-lg border border-slate-300 bg-white px-3 py-2 text-sm text-slate-900 shadow-sm placeholder:text-slate-400 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-1";

/// The action filter's choices: every family (`member.*`), then every action.
fn action_choices() -> Vec<(String, String)> {
    let mut families: Vec<&str> = ACTIONS.iter().filter_map(|a| a.split_once('.').map(|(f, _)| f)).collect();
    families.dedup();
    families
        .into_iter()
        .map(|f| (format!("{f}.*"), format!("{f}.* (all)")))
        .chain(ACTIONS.iter().map(|a| ((*a).to_owned(), (*a).to_owned())))
        .collect()
}

/// Re-rendered on every URL change, so the inputs always show the URL's filters.
#[component]
fn FilterForm(current: View) -> impl IntoView {
    let filtered = current.filtered();
    let selected = current.action.clone();
    view! {
        <section aria-label="Filter events" class="rounded-2xl bg-white p-4 shadow-sm ring-1 ring-slate-900/5 sm:p-5">
            <Form method="get" action="/audit" attr:role="search" attr:class="grid gap-3 sm:grid-cols-2 lg:grid-cols-[14rem_1fr_10rem_10rem_auto] lg:items-end">
                <div class="space-y-1.5">
                    <label for="action" class="block text-sm font-medium text-slate-800">"Action"</label>
                    <select id="action" name="action" class=INPUT>
                        <option value="" selected=selected.is_empty()>"Any action"</option>
                        {action_choices()
                            .into_iter()
                            .map(|(value, label)| {
                                let is = value == selected;
                                view! { <option value=value selected=is>{label}</option> }
                            })
                            .collect_view()}
                    </select>
                </div>
                <div class="space-y-1.5">
                    <label for="actor" class="block text-sm font-medium text-slate-800">"Actor"</label>
                    <input id="actor" name="actor" type="search" value=current.actor.clone() placeholder="Email, key prefix or CLI user" class=INPUT/>
                </div>
                <div class="space-y-1.5">
                    <label for="since" class="block text-sm font-medium text-slate-800">"From (UTC)"</label>
                    <input id="since" name="since" type="date" value=current.since.clone() class=INPUT/>
                </div>
                <div class="space-y-1.5">
                    <label for="until" class="block text-sm font-medium text-slate-800">"To (UTC)"</label>
                    <input id="until" name="until" type="date" value=current.until.clone() class=INPUT/>
                </div>
                {(!current.limit.is_empty()).then(|| view! { <input type="hidden" name="limit" value=current.limit.clone()/> })}
                <div class="flex items-center gap-2">
                    <button
                        type="submit"
                        class="inline-flex items-center justify-center rounded-lg bg-indigo-600 px-4 py-2 text-sm font-semibold text-white shadow-sm transition hover:bg-indigo-500 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-2"
                    >
                        "Filter"
                    </button>
                    {filtered.then(|| view! {
                        <a href="/audit" class="rounded-lg px-3 py-2 text-sm font-semibold text-slate-700 hover:bg-slate-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500">
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
    let forbidden = matches!(e, AppError::Forbidden(_));
    view! {
        <div role="alert" class="rounded-lg border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-800">
            <p class="font-medium">{e.summary()}</p>
            <ul class="mt-1 list-disc pl-5">{fields.into_iter().map(|f| view! { <li>{f}</li> }).collect_view()}</ul>
            {(!forbidden).then(|| view! { <a href="/audit" class="mt-2 inline-block font-semibold underline">"Show all events"</a> })}
        </div>
    }
}

/// The form's label for a field the server named.
fn label_of(field: &str) -> &str {
    match field {
        "action" => "Action",
        "actor" => "Actor",
        "since" => "From",
        "until" => "To",
        "cursor" => "Page",
        "limit" => "Page size",
        other => other,
    }
}

#[component]
fn EventTable(list: AuditList, current: View) -> impl IntoView {
    if list.events.is_empty() {
        let (title, body) = if current.filtered() {
            ("No events match these filters", "Try another action, actor or time range.")
        } else if !current.cursor.is_empty() {
            ("No more events", "This page is past the oldest event kept.")
        } else {
            ("No events yet", "Changes made in this dashboard, with the CLI or with an API key appear here.")
        };
        let reset = (current.filtered() || !current.cursor.is_empty()).then_some(("/audit", "Show all events"));
        return view! { <EmptyState title body reset/> }.into_any();
    }
    let next = list.next_cursor.as_deref().map(|c| current.href(c));
    let first = (!current.cursor.is_empty()).then(|| current.href(""));
    let count = list.events.len();
    // Each part is type-erased: one nested view type of the whole table is deeper than the
    // compiler's limit for the browser build.
    let bar = view! {
        <div class="flex flex-wrap items-center justify-between gap-3">
            <p class="text-sm text-slate-600" data-testid="events-shown">
                {format!("{count} event{} on this page", if count == 1 { "" } else { "s" })}
            </p>
            <div class="flex items-center gap-2 text-sm" role="group" aria-label="Export">
                <span class="text-slate-600">{if current.filtered() { "Export these events:" } else { "Export all events:" }}</span>
                <a href=current.export_href("jsonl") download="audit-events.jsonl" class=PAGER>"JSON Lines"</a>
                <a href=current.export_href("csv") download="audit-events.csv" class=PAGER>"CSV"</a>
            </div>
        </div>
    }
    .into_any();
    let table = view! {
        <div class=TABLE_BOX>
            <table class="min-w-full divide-y divide-slate-200">
                <thead class="bg-slate-50">
                    <tr>
                        <th scope="col" class=TH>"#"</th>
                        <th scope="col" class=TH>"Time"</th>
                        <th scope="col" class=TH>"Actor"</th>
                        <th scope="col" class=TH>"Action"</th>
                        <th scope="col" class=TH>"Target"</th>
                        <th scope="col" class=TH>"Details"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">
                    {list.events.into_iter().map(|e| view! { <Row e/> }.into_any()).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any();
    let pager = view! {
        <nav aria-label="Pages" class="flex flex-wrap items-center justify-end gap-2 text-sm">
            {first.map(|href| view! { <a href=href class=PAGER>"Newest events"</a> })}
            {next.map(|href| view! { <a href=href rel="next" class=PAGER>"Older events"</a> })}
        </nav>
    }
    .into_any();
    view! { {bar} {table} {pager} }.into_any()
}

const PAGER: &str = "rounded-lg border border-slate-300 bg-white px-3 py-1.5 font-semibold text-slate-700 shadow-sm hover:bg-slate-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500";

#[component]
fn Row(e: AuditRow) -> impl IntoView {
    let td = TD;
    let cells = view! {
        <td class=format!("{td} font-mono text-xs text-slate-500")>{e.seq}</td>
        <td class=td><time datetime=e.occurred_at.clone() title=e.occurred_at.clone()>{e.occurred.clone()}</time></td>
        <td class=td>
            <span class="block font-medium text-slate-900">{e.actor_label.clone()}</span>
            <span class="text-xs text-slate-500">{e.actor_type.clone()}</span>
        </td>
        <td class=td>
            <span class="rounded-md bg-slate-100 px-2 py-0.5 font-mono text-xs text-slate-800">{e.action.clone()}</span>
        </td>
        <td class=td>
            <span class="block text-xs text-slate-500">{e.target_type.clone()}</span>
            // Ids are long: the first characters, the whole id on hover and in the export.
            <span class="block max-w-[9rem] truncate font-mono text-xs" title=e.target_id.clone()>{e.target_id.clone()}</span>
        </td>
    }
    .into_any();
    let (seq, action) = (e.seq.to_string(), e.action.clone());
    view! {
        <tr data-seq=seq data-action=action class="align-top">
            {cells}
            <td class="min-w-[16rem] px-4 py-3 text-sm text-slate-700"><Details e/></td>
        </tr>
    }
}

/// A row's `changes` and request, behind a `<details>` (opens without JavaScript).
#[component]
fn Details(e: AuditRow) -> impl IntoView {
    let dt = "text-xs font-semibold uppercase tracking-wide text-slate-500";
    let dd = "font-mono text-xs text-slate-800 break-all";
    let request =
        [("Client address", e.ip), ("User agent", e.user_agent), ("Request id", e.request_id), ("Hash", Some(e.hash))];
    let list = request
        .into_iter()
        .filter_map(|(label, value)| value.map(|v| view! { <div><dt class=dt>{label}</dt><dd class=dd>{v}</dd></div> }))
        .collect_view()
        .into_any();
    view! {
        <details class="group max-w-md">
            <summary class="cursor-pointer rounded font-semibold text-indigo-700 hover:underline focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500">
                "Changes"
            </summary>
            <pre class="mt-2 whitespace-pre-wrap break-all rounded-lg bg-slate-900 p-3 font-mono text-xs text-slate-100" data-testid="changes">{e.changes}</pre>
            <dl class="mt-2 space-y-1">{list}</dl>
        </details>
    }
    .into_any()
}
