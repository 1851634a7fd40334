//! Tessera's dashboard: the HTML shell, the root `App` with its routes, and the WASM entry point.
//!
//! The same crate is compiled twice: with `ssr` into the server (which renders HTML) and with
//! `hydrate` into the browser client (which takes over that HTML). Pages live in [`pages`],
//! reusable pieces in [`components`].

pub mod components;
pub mod pages;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Link, Meta, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    StaticSegment,
};

use crate::pages::{HomePage, NotFound};

/// The full HTML document rendered by the server around [`App`].
///
/// `options` come from the server (`tessera-server`'s `web::leptos_options`); they tell
/// `HydrationScripts` where the client's `/pkg/tessera.{js,wasm}` are served.
pub fn shell(options: LeptosOptions) -> impl IntoView {
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

    view! {
        <Stylesheet id="leptos" href="/pkg/tessera.css"/>
        <Link rel="icon" type_="image/svg+xml" href="/favicon.svg"/>
        <Title text="Tessera — user tokens for your product"/>
        <Meta
            name="description"
            content="Tessera is a self-hostable, multi-tenant service that issues, verifies and revokes signed tokens for your product's end users."
        />
        <Router>
            <Routes fallback=NotFound>
                <Route path=StaticSegment("") view=HomePage/>
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
}
