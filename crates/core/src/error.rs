//! The domain error: what went wrong in terms of the domain, with no HTTP in it. The API crate
//! maps each variant to a problem-details response (RFC 9457).

use serde::{Deserialize, Serialize};

/// Result with the domain [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One invalid input field and why, e.g. `{"field": "account", "message": "must not be empty"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// The field's name as the caller wrote it (JSON key or query parameter).
    pub field: String,
    /// A human-readable reason, without the rejected value (it may be a secret).
    pub message: String,
}

impl FieldError {
    /// A field error for `field` with `message`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

/// Every failure the domain and its stores can report.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The object does not exist *in the caller's org* (another org's object is not found too).
    #[error("{entity} not found")]
    NotFound {
        /// What was looked for, e.g. `"user"`.
        entity: &'static str,
    },
    /// The write would break a uniqueness rule, e.g. an org slug already taken.
    #[error("{message}")]
    Conflict {
        /// A stable machine-readable code, e.g. `"org_slug_taken"`.
        code: &'static str,
        /// A human-readable explanation.
        message: String,
    },
    /// The caller is known but may not do this.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Input broke one or more validation rules.
    #[error("invalid input: {}", .0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    /// The storage backend failed or is unreachable. The source is for logs only.
    #[error("storage failure")]
    Storage(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A bug or broken invariant (e.g. undecryptable signing key). The source is for logs only.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// An [`Error::Invalid`] for a single field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, message)])
    }

    /// An [`Error::NotFound`] for `entity`.
    pub fn not_found(entity: &'static str) -> Self {
        Self::NotFound { entity }
    }
}

/// Collects the field errors of several validations so one response can name every bad field.
///
/// ```
/// use tessera_core::{error::Validation, OrgSlug, Email};
/// let mut v = Validation::default();
/// let slug = v.check(OrgSlug::parse("Bad Slug"));
/// let email = v.check(Email::parse("nope"));
/// assert!(slug.is_none() && email.is_none());
/// let err = v.finish().unwrap_err();
/// assert!(matches!(err, tessera_core::Error::Invalid(ref e) if e.len() == 2));
/// ```
#[derive(Debug, Default)]
pub struct Validation(Vec<FieldError>);

impl Validation {
    /// Returns the value of `result`, or records its field errors and returns `None`.
    /// A non-validation error is recorded under the empty field name.
    pub fn check<T>(&mut self, result: Result<T>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(Error::Invalid(mut errors)) => {
                self.0.append(&mut errors);
                None
            }
            Err(other) => {
                self.0.push(FieldError::new("", other.to_string()));
                None
            }
        }
    }

    /// `Ok(())` if nothing was recorded.
    ///
    /// # Errors
    /// [`Error::Invalid`] with every recorded field error, in order.
    pub fn finish(self) -> Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(self.0))
        }
    }
}
