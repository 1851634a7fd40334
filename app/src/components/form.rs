//! Form pieces: a labelled field with its error beside it, the error banner, the submit button,
//! and [`form_errors`], which merges the errors of a JavaScript submission (the action's value)
//! with those of a plain form post (carried back in the query string).

use leptos::prelude::*;
use leptos_router::params::ParamsMap;

use crate::error::AppError;

/// The errors a form shows: a summary and per-field messages.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FormErrors {
    /// One line for the banner above the form.
    pub summary: Option<String>,
    /// `(field name, message)` pairs.
    pub fields: Vec<(String, String)>,
}

impl FormErrors {
    /// The message for `name`, if any.
    pub fn field(&self, name: &str) -> Option<String> {
        self.fields.iter().find(|(f, _)| f == name).map(|(_, m)| m.clone())
    }
}

/// The errors to show: from the action's latest result when the form was submitted with
/// JavaScript, else from `?error=…&field_<name>=…` after a plain form post.
pub fn form_errors<T>(latest: Option<Result<T, AppError>>, query: &ParamsMap) -> FormErrors {
    match latest {
        Some(Err(e)) => {
            let fields = match &e {
                AppError::Invalid(fields) => fields.iter().map(|f| (f.field.clone(), f.message.clone())).collect(),
                _ => vec![],
            };
            FormErrors { summary: Some(e.summary()), fields }
        }
        Some(Ok(_)) => FormErrors::default(),
        None => FormErrors {
            summary: query.get("error"),
            fields: query
                .into_iter()
                .filter_map(|(k, v)| k.strip_prefix("field_").map(|f| (f.to_owned(), v.to_owned())))
                .collect(),
        },
    }
}

/// A red banner with `message`, announced to screen readers; nothing when `None`.
#[component]
pub fn ErrorBanner(#[prop(into)] message: Signal<Option<String>>) -> impl IntoView {
    move || {
        message.get().map(|m| {
            view! {
                <div
                    role="alert"
                    class="flex items-start gap-2 rounded-lg border border-red-200 bg-red-50 px-3 py-2.5 text-sm text-red-800"
                >
                    <svg class="mt-0.5 h-4 w-4 flex-none" viewBox="0 0 20 20" fill="currentColor" aria-hidden="true">
                        <path
                            fill-rule="evenodd"
                            d="M18 10a8 8 0 1 1-16 0 8 8 0 0 1 16 0Zm-8-5a.75.75 0 0 1 .75.75v4.5a.75.75 0 0 1-1.5 0v-4.5A.75.75 0 0 1 10 5Zm0 10a1 1 0 1 0 0-2 1 1 0 0 0 0 2Z"
                            clip-rule="evenodd"
                        ></path>
                    </svg>
                    <span>{m}</span>
                </div>
            }
        })
    }
}

/// A labelled input named `name` (also its id), with an optional hint and its error right
/// below it (linked with `aria-describedby`, and `aria-invalid` set).
#[component]
pub fn Field(
    /// Visible label.
    label: &'static str,
    /// Form field name = server function argument.
    name: &'static str,
    /// Input type.
    #[prop(default = "text")]
    kind: &'static str,
    /// Help text under the input.
    #[prop(optional)]
    hint: Option<&'static str>,
    /// `autocomplete` attribute.
    #[prop(default = "off")]
    autocomplete: &'static str,
    /// Placeholder.
    #[prop(default = "")]
    placeholder: &'static str,
    /// Whether the browser should insist on a value.
    #[prop(optional)]
    required: bool,
    /// The field's error, if any.
    #[prop(into)]
    error: Signal<Option<String>>,
) -> impl IntoView {
    let error_id = format!("{name}-error");
    let hint_id = format!("{name}-hint");
    let described = {
        let (error_id, hint_id) = (error_id.clone(), hint_id.clone());
        move || match (error.get().is_some(), hint.is_some()) {
            (true, _) => error_id.clone(),
            (false, true) => hint_id.clone(),
            (false, false) => String::new(),
        }
    };
    view! {
        <div class="space-y-1.5">
            <label for=name class="block text-sm font-medium text-slate-800">
                {label}
            </label>
            <input
                id=name
                name=name
                type=kind
                autocomplete=autocomplete
                placeholder=placeholder
                required=required
                aria-invalid=move || if error.get().is_some() { "true" } else { "false" }
                aria-describedby=described
                class=move || {
                    format!(
                        "block w-full rounded-lg border bg-white px-3 py-2 text-sm text-slate-900 shadow-sm placeholder:text-slate-400 focus:outline-none focus-visible:ring-2 focus-visible:ring-offset-1 {}",
                        if error.get().is_some() {
                            "border-red-400 focus-visible:ring-red-500"
                        } else {
                            "border-slate-300 focus-visible:ring-indigo-500"
                        },
                    )
                }
            />
            {hint.map(|h| view! { <p id=hint_id.clone() class="text-xs text-slate-500">{h}</p> })}
            {move || {
                error.get().map(|e| view! { <p id=error_id.clone() class="text-sm font-medium text-red-700">{e}</p> })
            }}
        </div>
    }
}

/// The primary submit button; shows `busy_label` while `pending`.
#[component]
pub fn SubmitButton(
    /// Label at rest.
    label: &'static str,
    /// Label while the request runs.
    busy_label: &'static str,
    /// Whether the request runs.
    #[prop(into)]
    pending: Signal<bool>,
    /// `danger` for destructive actions.
    #[prop(optional)]
    danger: bool,
) -> impl IntoView {
    let colours = if danger {
        "bg-red-600 hover:bg-red-500 focus-visible:ring-red-500"
    } else {
        "bg-indigo-600 hover:bg-indigo-500 focus-visible:ring-indigo-500"
    };
    view! {
        <button
            type="submit"
            disabled=move || pending.get()
            class=format!(
                "inline-flex items-center justify-center gap-2 rounded-lg px-4 py-2 text-sm font-semibold text-white shadow-sm transition focus:outline-none focus-visible:ring-2 focus-visible:ring-offset-2 disabled:cursor-wait disabled:opacity-70 {colours}",
            )
        >
            {move || if pending.get() { busy_label } else { label }}
        </button>
    }
}
