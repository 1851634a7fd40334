//! `/sign-in`: the sign-in page (works without JavaScript).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Redirect, hooks::use_query_map};

use super::auth_card::AuthCard;
use crate::components::{form_errors, ErrorBanner, Field, SubmitButton};
use crate::server_fns::auth::{get_viewer, SignIn, Viewer};

/// Email and password (and the organization when several exist). Signed-in members are sent to
/// `/`, and everyone to `/setup` while no organization exists.
#[component]
pub fn SignInPage() -> impl IntoView {
    let viewer = Resource::new(|| (), |_| get_viewer());
    view! {
        <Title text="Sign in · Tessera"/>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match viewer.await {
                    Ok(Viewer::SignedOut { ask_org }) => view! { <SignInForm ask_org/> }.into_any(),
                    Ok(Viewer::NeedsSetup) => view! { <Redirect path="/setup"/> }.into_any(),
                    Ok(Viewer::SignedIn(_)) => view! { <Redirect path="/"/> }.into_any(),
                    Err(e) => view! { <AuthCard heading="Sign in" lead="">
                        <ErrorBanner message=Signal::derive(move || Some(e.summary()))/>
                    </AuthCard> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn SignInForm(ask_org: bool) -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    let query = use_query_map();
    let errors = Memo::new(move |_| form_errors(action.value().get(), &query.read()));
    let field = move |name: &'static str| Signal::derive(move || errors.read().field(name));
    view! {
        <AuthCard heading="Sign in" lead="Welcome back. Sign in to manage your API keys, users and tokens.">
            <ActionForm action=action attr:class="space-y-5">
                <ErrorBanner message=Signal::derive(move || errors.read().summary.clone())/>
                {ask_org
                    .then(|| {
                        view! {
                            <Field label="Organization" name="org" placeholder="acme" hint="Your organization's short name." required=true error=field("org")/>
                        }
                    })}
                <Field label="Email" name="email" kind="email" autocomplete="username" required=true error=field("email")/>
                <Field label="Password" name="password" kind="password" autocomplete="current-password" required=true error=field("password")/>
                <SubmitButton label="Sign in" busy_label="Signing in…" pending=action.pending()/>
            </ActionForm>
        </AuthCard>
    }
}
