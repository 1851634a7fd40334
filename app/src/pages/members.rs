//! `/members`: who can sign in to the org's dashboard. Owners add members, change roles and
//! remove members (after a confirmation, `?remove=<member id>`); every form works without
//! JavaScript. The server refuses to demote or remove the last owner, and the page shows why
//! next to the form that tried.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{hooks::use_query_map, params::ParamsMap};
use tessera_core::Role;

use crate::components::{
    form_errors, Dashboard, Dialog, ErrorBanner, Field, FormErrors, Nav, SubmitButton, TABLE_BOX, TH,
};
use crate::error::AppError;
use crate::server_fns::{
    auth::Me,
    members::{list_members, AddMember, ChangeMemberRole, MemberList, MemberRow, RemoveMember, ROLE_CHOICES},
};

const SELECT: &str = "block rounded-lg border border-slate-300 bg-white px-3 py-2 text-sm text-slate-900 shadow-sm focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500";

/// The members page.
#[component]
pub fn MembersPage() -> impl IntoView {
    // Created here, beside the session gate's own resource (see `KeysPage`).
    let add = ServerAction::<AddMember>::new();
    let remove = ServerAction::<RemoveMember>::new();
    // Bumped by a row's role form after a change (each row has its own action, for its own error).
    let changed = RwSignal::new(0u32);
    let members =
        Resource::new(move || (add.version().get(), remove.version().get(), changed.get()), |_| list_members());
    view! {
        <Title text="Members · Tessera"/>
        <Dashboard
            active=Nav::Members
            title="Members"
            page=Callback::new(move |_me: Me| view! { <Members add remove changed members/> }.into_any())
        />
    }
}

#[component]
fn Members(
    add: ServerAction<AddMember>,
    remove: ServerAction<RemoveMember>,
    changed: RwSignal<u32>,
    members: Resource<Result<MemberList, AppError>>,
) -> impl IntoView {
    let query = use_query_map();
    view! {
        <div class="space-y-6">
            <p class="max-w-2xl text-sm text-slate-600">
                "Members sign in to this dashboard. Viewers read everything but secrets; admins also manage API keys and user tokens; owners also manage members."
            </p>
            <Suspense fallback=|| view! { <p class="text-sm text-slate-500">"Loading members…"</p> }>
                {move || {
                    // Read outside the async block so a change of `?remove=` re-renders.
                    let removing = query.read().get("remove");
                    Suspend::new(async move {
                        match members.await {
                            Ok(list) => {
                                let confirm = removing
                                    .and_then(|id| list.members.iter().find(|m| m.id == id).cloned())
                                    .filter(|_| list.can_manage);
                                view! {
                                    {list.can_manage.then(|| view! { <AddForm action=add/> })}
                                    <MemberTable members=list.members.clone() can_manage=list.can_manage changed/>
                                    {confirm.map(|member| view! { <RemoveDialog member action=remove/> })}
                                }
                                    .into_any()
                            }
                            Err(e) => view! { <p role="alert" class="text-sm text-red-700">{e.summary()}</p> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </div>
    }
}

#[component]
fn AddForm(action: ServerAction<AddMember>) -> impl IntoView {
    let query = use_query_map();
    // After a plain-form role change or removal fails, the query's error belongs to that form.
    let errors = Memo::new(move |_| {
        let (latest, q) = (action.value().get(), query.read());
        if latest.is_none() && (q.get("remove").is_some() || q.get("member").is_some()) {
            FormErrors::default()
        } else {
            form_errors(latest, &q)
        }
    });
    let field = move |name: &'static str| Signal::derive(move || errors.read().field(name));
    view! {
        <section class="rounded-2xl bg-white p-5 shadow-sm ring-1 ring-slate-900/5 sm:p-6" aria-labelledby="add-heading">
            <h2 id="add-heading" class="text-base font-semibold text-slate-900">"Add member"</h2>
            <ActionForm action=action attr:class="mt-4 space-y-4" attr:novalidate=true>
                <ErrorBanner message=Signal::derive(move || errors.read().summary.clone())/>
                <div class="grid gap-4 lg:grid-cols-[1fr_10rem_1fr_auto] lg:items-start">
                    <Field label="Email" name="email" kind="email" placeholder="ada@example.com" required=true error=field("email")/>
                    <div class="space-y-1.5">
                        <label for="role" class="block text-sm font-medium text-slate-800">"Role"</label>
                        <select id="role" name="role" class=format!("{SELECT} w-full")>
                            {ROLE_CHOICES
                                .iter()
                                .map(|(role, label)| view! { <option value=role.as_str()>{*label}</option> })
                                .collect_view()}
                        </select>
                        {move || field("role").get().map(|e| view! { <p class="text-sm font-medium text-red-700">{e}</p> })}
                    </div>
                    <Field
                        label="Initial password"
                        name="password"
                        kind="password"
                        autocomplete="new-password"
                        hint="At least 12 characters. Give it to them privately."
                        required=true
                        error=field("password")
                    />
                    <div class="lg:pt-7">
                        <SubmitButton label="Add member" busy_label="Adding…" pending=action.pending()/>
                    </div>
                </div>
            </ActionForm>
        </section>
    }
}

#[component]
fn MemberTable(members: Vec<MemberRow>, can_manage: bool, changed: RwSignal<u32>) -> impl IntoView {
    let th = TH;
    view! {
        <div class=TABLE_BOX>
            <table class="min-w-full divide-y divide-slate-200">
                <thead class="bg-slate-50">
                    <tr>
                        <th scope="col" class=th>"Email"</th>
                        <th scope="col" class=th>"Role"</th>
                        <th scope="col" class=th>"Added"</th>
                        {can_manage.then(|| view! { <th scope="col" class=th><span class="sr-only">"Actions"</span></th> })}
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">
                    {members.into_iter().map(|m| view! { <Row m can_manage changed/> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn Row(m: MemberRow, can_manage: bool, changed: RwSignal<u32>) -> impl IntoView {
    let td = "px-4 py-3 text-sm text-slate-700 whitespace-nowrap align-middle";
    let badge = match m.role {
        Role::Owner => "bg-indigo-50 text-indigo-700 ring-indigo-600/20",
        Role::Admin => "bg-sky-50 text-sky-700 ring-sky-600/20",
        Role::Viewer => "bg-slate-100 text-slate-700 ring-slate-600/20",
    };
    view! {
        <tr data-member-email=m.email.clone()>
            <td class=format!("{td} font-medium text-slate-900")>
                {m.email.clone()}
                {m.is_you.then(|| view! { <span class="ml-2 rounded-md bg-slate-100 px-1.5 py-0.5 text-xs font-medium text-slate-600">"you"</span> })}
            </td>
            <td class=td>
                {if can_manage {
                    view! { <RoleForm m=m.clone() changed/> }.into_any()
                } else {
                    view! {
                        <span class=format!("rounded-full px-2 py-0.5 text-xs font-semibold uppercase tracking-wide ring-1 ring-inset {badge}")>
                            {m.role.as_str()}
                        </span>
                    }
                        .into_any()
                }}
            </td>
            <td class=td>{m.added.clone()}</td>
            {can_manage.then(|| view! {
                <td class=format!("{td} text-right")>
                    <a
                        href=format!("/members?remove={}", m.id)
                        aria-label=format!("Remove {}", m.email)
                        class="rounded-md px-2 py-1 text-sm font-semibold text-red-700 hover:bg-red-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-red-500"
                    >
                        "Remove"
                    </a>
                </td>
            })}
        </tr>
    }
}

/// A row's role select and "Save"; its error (e.g. the last owner) shows right below it.
#[component]
fn RoleForm(m: MemberRow, changed: RwSignal<u32>) -> impl IntoView {
    let action = ServerAction::<ChangeMemberRole>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = action.value().get() {
            changed.update(|n| *n += 1);
        }
    });
    let query = use_query_map();
    let id = m.id.clone();
    // A plain form post's error comes back as `?member=<id>&error=…`: only this row shows it.
    let error = Memo::new(move |_| {
        let (q, empty) = (query.read(), ParamsMap::new());
        let mine = q.get("member").is_some_and(|m| m == id);
        form_errors(action.value().get(), if mine { &q } else { &empty }).summary
    });
    let select_id = format!("role-{}", m.id);
    let error_id = format!("role-error-{}", m.id);
    view! {
        <ActionForm action=action attr:class="space-y-1.5">
            <input type="hidden" name="member_id" value=m.id.clone()/>
            <div class="flex items-center gap-2">
                <label for=select_id.clone() class="sr-only">{format!("Role of {}", m.email)}</label>
                <select
                    id=select_id
                    name="role"
                    class=SELECT
                    aria-invalid=move || if error.read().is_some() { "true" } else { "false" }
                    aria-describedby=move || error.read().is_some().then(|| error_id.clone())
                >
                    {ROLE_CHOICES
                        .iter()
                        .map(|(role, label)| view! { <option value=role.as_str() selected=*role == m.role>{*label}</option> })
                        .collect_view()}
                </select>
                <button
                    type="submit"
                    aria-label=format!("Save role of {}", m.email)
                    disabled=move || action.pending().get()
                    class="rounded-lg border border-slate-300 bg-white px-3 py-2 text-sm font-semibold text-slate-700 shadow-sm hover:bg-slate-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 disabled:opacity-70"
                >
                    "Save"
                </button>
            </div>
            {move || {
                error.get().map(|e| view! { <p id=format!("role-error-{}", m.id) role="alert" class="max-w-xs whitespace-normal text-sm font-medium text-red-700">{e}</p> })
            }}
        </ActionForm>
    }
}

#[component]
fn RemoveDialog(member: MemberRow, action: ServerAction<RemoveMember>) -> impl IntoView {
    let query = use_query_map();
    let errors = Memo::new(move |_| form_errors(action.value().get(), &query.read()));
    view! {
        <Dialog title="Remove this member?" title_id="remove-heading">
            <p class="text-sm text-slate-600">
                <span class="font-medium text-slate-900">{member.email.clone()}</span>
                " will be signed out and can no longer sign in. API keys they generated and tokens they issued keep working."
            </p>
            <ActionForm action=action attr:class="mt-5 space-y-4">
                <ErrorBanner message=Signal::derive(move || errors.read().summary.clone())/>
                <input type="hidden" name="member_id" value=member.id.clone()/>
                <div class="flex flex-col-reverse gap-3 sm:flex-row sm:justify-end">
                    <a
                        href="/members"
                        class="inline-flex justify-center rounded-lg border border-slate-300 bg-white px-4 py-2 text-sm font-semibold text-slate-700 shadow-sm hover:bg-slate-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
                    >
                        "Cancel"
                    </a>
                    <SubmitButton label="Remove member" busy_label="Removing…" pending=action.pending() danger=true/>
                </div>
            </ActionForm>
        </Dialog>
    }
}
