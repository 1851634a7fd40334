//! The one error type of the dashboard's server functions: small, serializable, and safe to
//! show (it never carries a secret or an internal cause; those are logged on the server).

use serde::{Deserialize, Serialize};
use tessera_core::FieldError;

/// Why a server function failed, as the browser sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AppError {
    /// No live session: sign in (again).
    SignedOut,
    /// Signed in, but the role does not allow this (the message names the role needed), or a
    /// cross-site request.
    Forbidden(String),
    /// Input broke validation rules; shown next to each field.
    Invalid(Vec<FieldError>),
    /// The request conflicts with the current state (e.g. the first-run setup is done).
    Conflict(String),
    /// The object does not exist in the member's org.
    NotFound(String),
    /// Sign-in refused: wrong email or password (deliberately not saying which).
    WrongCredentials,
    /// Sign-in refused for now; retry after this many seconds.
    TooManyAttempts(u64),
    /// The database is unavailable; retry later.
    Unavailable,
    /// The server is too busy verifying other sign-ins; retry after this many seconds.
    Busy(u64),
    /// A server-side bug; details are in the server's log.
    Internal,
    /// The call itself failed (network, encoding, server function plumbing).
    Request(String),
}

impl AppError {
    /// The message for field `name`, if validation named it.
    pub fn field(&self, name: &str) -> Option<String> {
        match self {
            AppError::Invalid(fields) => fields.iter().find(|f| f.field == name).map(|f| f.message.clone()),
            _ => None,
        }
    }

    /// A one-line message for the top of a form.
    pub fn summary(&self) -> String {
        match self {
            AppError::SignedOut => "Your session has ended. Sign in again.".into(),
            AppError::Forbidden(m) | AppError::Conflict(m) => capitalize(m),
            AppError::Invalid(_) => "Some fields need attention.".into(),
            AppError::NotFound(what) => format!("No such {what}."),
            AppError::WrongCredentials => "Wrong email or password.".into(),
            AppError::TooManyAttempts(s) => format!("Too many failed sign-ins. Try again in {s} seconds."),
            AppError::Unavailable => "The database is unavailable. Try again in a moment.".into(),
            AppError::Busy(s) => format!("The server is busy. Try again in {s} seconds."),
            AppError::Internal => "Something went wrong on the server.".into(),
            AppError::Request(_) => "The server could not be reached. Try again.".into(),
        }
    }
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => {
            let mut out: String = first.to_uppercase().collect();
            out.push_str(chars.as_str());
            if !out.ends_with('.') {
                out.push('.');
            }
            out
        }
        None => String::new(),
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.summary())
    }
}

impl std::error::Error for AppError {}

impl leptos::server_fn::error::FromServerFnError for AppError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        AppError::Request(value.to_string())
    }
}

#[cfg(feature = "ssr")]
impl From<tessera_core::Error> for AppError {
    fn from(e: tessera_core::Error) -> Self {
        use tessera_core::Error;
        match e {
            Error::NotFound { entity } => AppError::NotFound(entity.as_str().into()),
            Error::Conflict { message, .. } => AppError::Conflict(message),
            Error::Forbidden(m) => AppError::Forbidden(m),
            Error::Invalid(fields) => AppError::Invalid(fields),
            Error::Storage(cause) => {
                tracing::error!(error = %cause, "dashboard: storage failure");
                AppError::Unavailable
            }
            Error::Internal(cause) => {
                tracing::error!(error = %cause, "dashboard: internal error");
                AppError::Internal
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_summaries_are_readable() {
        let e = AppError::Invalid(vec![FieldError::new("name", "must not be empty")]);
        assert_eq!(e.field("name").as_deref(), Some("must not be empty"));
        assert_eq!(e.field("slug"), None);
        assert_eq!(AppError::Forbidden("this needs the admin role".into()).summary(), "This needs the admin role.");
        assert_eq!(AppError::WrongCredentials.summary(), "Wrong email or password.");
    }
}
