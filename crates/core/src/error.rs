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
        /// What was looked for.
        entity: Entity,
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
    pub fn not_found(entity: Entity) -> Self {
        Self::NotFound { entity }
    }
}

/// What an [`Error::NotFound`] did not find: one variant per kind of stored object, so mapping
/// it to an API problem `code` is an exhaustive `match`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Entity {
    /// An organization.
    Org,
    /// A dashboard member.
    Member,
    /// An API key.
    ApiKey,
    /// An end user.
    User,
    /// A user token (its metadata row).
    UserToken,
    /// An in-flight idempotency-key claim.
    IdempotencyKey,
}

impl Entity {
    /// The entity in words, as error messages name it: `"api key"`, `"user token"`, …
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Org => "org",
            Self::Member => "member",
            Self::ApiKey => "api key",
            Self::User => "user",
            Self::UserToken => "user token",
            Self::IdempotencyKey => "idempotency key",
        }
    }
}

impl std::fmt::Display for Entity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Collects the field errors of several validations so one response can name every bad field,
/// then hands back the checked values together.
///
/// ```
/// use tessera_core::{error::Validation, OrgSlug, Email};
/// let mut v = Validation::default();
/// let slug = v.check(OrgSlug::parse("Bad Slug"));
/// let email = v.check(Email::parse("nope"));
/// let err = v.finish((slug, email)).unwrap_err();
/// assert!(matches!(err, tessera_core::Error::Invalid(ref e) if e.len() == 2));
///
/// let mut v = Validation::default();
/// let slug = v.check(OrgSlug::parse("acme"));
/// let email = v.check(Email::parse("ada@example.com"));
/// let (slug, email) = v.finish((slug, email)).unwrap();
/// assert_eq!((slug.as_str(), email.as_str()), ("acme", "ada@example.com"));
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
                if errors.is_empty() {
                    // Every `None` must leave a trace, or `finish` could not tell why it is missing.
                    errors.push(FieldError::new("", "invalid"));
                }
                self.0.append(&mut errors);
                None
            }
            Err(other) => {
                self.0.push(FieldError::new("", other.to_string()));
                None
            }
        }
    }

    /// The checked values (a tuple of the `Option`s that [`Validation::check`] returned, or one
    /// of them) without their `Option`s, if nothing was recorded.
    ///
    /// # Errors
    /// [`Error::Invalid`] with every recorded field error, in order. [`Error::Internal`] if a
    /// value is `None` although nothing was recorded (it did not come from this `check`).
    pub fn finish<T: Checked>(self, values: T) -> Result<T::Values> {
        if !self.0.is_empty() {
            return Err(Error::Invalid(self.0));
        }
        values.all().ok_or_else(|| Error::Internal("a validated value is missing without a field error".into()))
    }
}

/// The results of [`Validation::check`] that [`Validation::finish`] unwraps together: an
/// `Option<T>` or a tuple of up to six of them.
pub trait Checked {
    /// The values without their `Option`s.
    type Values;
    /// Every value, if each is `Some`.
    fn all(self) -> Option<Self::Values>;
}

impl<T> Checked for Option<T> {
    type Values = T;
    fn all(self) -> Option<T> {
        self
    }
}

/// `Checked` for a tuple of `Option`s.
macro_rules! checked_tuple {
    ($($t:ident),+) => {
        impl<$($t),+> Checked for ($(Option<$t>,)+) {
            type Values = ($($t,)+);
            #[allow(non_snake_case)]
            fn all(self) -> Option<Self::Values> {
                let ($($t,)+) = self;
                Some(($($t?,)+))
            }
        }
    };
}
checked_tuple!(A, B);
checked_tuple!(A, B, C);
checked_tuple!(A, B, C, D);
checked_tuple!(A, B, C, D, E);
checked_tuple!(A, B, C, D, E, F);
