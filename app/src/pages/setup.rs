//! `/setup`: the first-run page, open only while no organization exists.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Redirect, hooks::use_query_map};

use super::auth_card::AuthCard;
use crate::components::{form_errors, ErrorBanner, Field, SubmitButton};
use crate::server_fns::auth::{get_viewer, SetUp, Viewer};

/// Creates the organization and its owner; afterwards it redirects to `/`.
#[component]
pub fn SetupPage() -> impl IntoView {
    let viewer = Resource::new(|| (), |_| get_viewer());
    view! {
        <Title text="Set up · Tessera"/>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match viewer.await {
                    Ok(Viewer::NeedsSetup) => view! { <SetupForm/> }.into_any(),
                    _ => view! { <Redirect path="/"/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn SetupForm() -> impl IntoView {
    let action = ServerAction::<SetUp>::new();
    let query = use_query_map();
    let errors = Memo::new(move |_| form_errors(action.value().get(), &query.read()));
    let field = move |name: &'static str| Signal::derive(move || errors.read().field(name));
    view! {
        <AuthCard
            heading="Set up Tessera"
            lead="Create your organization and its owner account. This page is available only once."
        >
            <ActionForm action=action attr:class="space-y-5" attr:novalidate=true>
                <ErrorBanner message=Signal::derive(move || errors.read().summary.clone())/>
                <Field label="Organization name" name="org_name" placeholder="Acme Inc." required=true error=field("org_name")/>
                <Field
                    label="Short name"
                    name="slug"
                    placeholder="acme"
                    hint="Lowercase letters, digits and dashes. Part of your token issuer URL: /o/<short name>."
                    required=true
                    error=field("slug")
                />
                <Field label="Your email" name="email" kind="email" autocomplete="email" required=true error=field("email")/>
                <Field
                    label="Password"
                    name="password"
                    kind="password"
                    autocomplete="new-password"
                    hint="At least 12 characters."
                    required=true
                    error=field("password")
                />
                <div class="pt-1">
                    <SubmitButton label="Create organization" busy_label="Creating…" pending=action.pending()/>
                </div>
            </ActionForm>
        </AuthCard>
    }
}
