//! Tessera's dashboard: the HTML shell, the root `App` with its routes, the server functions and
//! the WASM entry point.
//!
//! The same crate is compiled twice: with `ssr` into the server (which renders HTML and runs the
//! server functions) and with `hydrate` into the browser client (which takes over that HTML).
//! Pages live in [`pages`], reusable pieces in [`components`], server functions in
//! [`server_fns`].
//!
//! Every route renders with `SsrMode::Async`: the whole page, data included, is ready before the
//! first byte, so redirects (`/` → `/sign-in`) are real HTTP redirects (`303 See Other`) and every
//! page works without JavaScript.

pub mod components;
pub mod error;
pub mod pages;
pub mod server_fns;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Link, Meta, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    ParamSegment, SsrMode, StaticSegment,
};

use crate::pages::{
    AuditPage, KeysPage, MembersPage, NotFound, OverviewPage, SetupPage, SignInPage, UserPage, UsersPage,
};

/// The full HTML document rendered by the server around [`App`].
///
/// `options` come from the server (`tessera-server`'s `web::leptos_options`); they tell
/// `HydrationScripts` where the client's `/pkg/tessera.{js,wasm}` are served.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    // Every page's policy names the nonce of its inline scripts (see `security_headers`).
    #[cfg(feature = "ssr")]
    server_fns::context::set_content_security_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en" class="h-full">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body class="min-h-full bg-slate-50 text-slate-900 antialiased">
                <App/>
            </body>
        </html>
    }
}

/// The root component: document metadata, the stylesheet built by cargo-leptos, and the routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // On the server, `<Redirect/>` answers 303 (see `see_other`); in the browser it navigates.
    #[cfg(feature = "ssr")]
    leptos_router::components::provide_server_redirect(server_fns::context::see_other);

    view! {
        <Stylesheet id="leptos" href="/pkg/tessera.css"/>
        <Link rel="icon" type_="image/svg+xml" href="/favicon.svg"/>
        <Title text="Tessera"/>
        <Meta name="description" content="Tessera dashboard: API keys, users and user tokens of your organization."/>
        <Router>
            <Routes fallback=NotFound>
                <Route path=StaticSegment("") view=OverviewPage ssr=SsrMode::Async/>
                <Route path=StaticSegment("users") view=UsersPage ssr=SsrMode::Async/>
                <Route path=(StaticSegment("users"), ParamSegment("id")) view=UserPage ssr=SsrMode::Async/>
                <Route path=StaticSegment("keys") view=KeysPage ssr=SsrMode::Async/>
                <Route path=StaticSegment("audit") view=AuditPage ssr=SsrMode::Async/>
                <Route path=StaticSegment("members") view=MembersPage ssr=SsrMode::Async/>
                <Route path=StaticSegment("sign-in") view=SignInPage ssr=SsrMode::Async/>
                <Route path=StaticSegment("setup") view=SetupPage ssr=SsrMode::Async/>
            </Routes>
        </Router>
    }
}

/// Browser entry point: called by the generated `/pkg/tessera.js` once the WASM has loaded, it
/// attaches event handlers and reactivity to the server-rendered HTML.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
    // Tells browser tests (and curious people) that event handlers are attached: a click on a
    // form before this is a plain form post.
    if let Some(body) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.body()) {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}
