//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]` attributes and the
//! wire types' schemas, served at `/openapi.json` with a Swagger UI (vendored, no CDN) at `/docs`.

use utoipa::{
    openapi::{
        header::HeaderBuilder,
        path::{ParameterBuilder, ParameterIn},
        schema::{ObjectBuilder, Type},
        security::{Http, HttpAuthScheme, SecurityScheme},
        ContentBuilder, Ref, RefOr, Required, ResponseBuilder,
    },
    Modify, OpenApi, ToSchema,
};

/// Name of the bearer security scheme in the document.
pub const API_KEY_SCHEME: &str = "api_key";

/// Top-level document metadata; paths are added by the routers (see [`crate::routes::routes`]).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tessera",
        description = "A self-hostable, multi-tenant user-token service. Authenticate with an org API key \
                       (`Authorization: Bearer tsk_…`); errors are RFC 9457 problem details.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    modifiers(&BearerApiKey),
    components(schemas(ProblemDoc, FieldErrorDoc)),
    tags(
        (name = "claimr", description = "claimr-compatible permanent user tokens"),
        (name = "users", description = "End users of an organization (Argyle-style)"),
        (name = "user tokens", description = "Issuing, listing, introspecting and revoking user tokens"),
        (name = "keys", description = "Public keys for offline verification"),
        (name = "audit", description = "Tamper evidence of the audit log"),
        (name = "health", description = "Liveness and readiness"),
    )
)]
pub struct ApiDoc;

/// Adds the `api_key` HTTP bearer scheme (RFC 6750), which Swagger UI's "Authorize" fills in.
struct BearerApiKey;

impl Modify for BearerApiKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut http = Http::new(HttpAuthScheme::Bearer);
        http.bearer_format = Some("tsk_ API key".into());
        http.description = Some("An org API key, `tsk_` followed by 38 characters.".into());
        components.add_security_scheme(API_KEY_SCHEME, SecurityScheme::Http(http));
    }
}

/// Schema of a problem-details body (RFC 9457 §3), for the document only.
#[derive(ToSchema)]
#[schema(as = Problem, example = json!({
    "type": "about:blank", "title": "Unprocessable Entity", "status": 422,
    "detail": "the request has invalid fields", "code": "validation_failed",
    "request_id": "4b1e2c9a-0f5e-4a55-9f7e-1c2d3e4f5a6b",
    "errors": [{"field": "account", "message": "must not be empty"}]
}))]
#[allow(dead_code)]
pub struct ProblemDoc {
    /// Always `about:blank`.
    #[schema(rename = "type")]
    type_: String,
    /// The HTTP reason phrase.
    title: String,
    /// HTTP status code.
    status: u16,
    /// What went wrong in this occurrence.
    detail: String,
    /// Stable machine-readable code, e.g. `user_not_found`, `api_key_revoked`, `validation_failed`.
    code: String,
    /// The request id, also in the `x-request-id` response header.
    request_id: Option<String>,
    /// For validation failures: every bad field.
    errors: Option<Vec<FieldErrorDoc>>,
}

/// One invalid field, for the document only.
#[derive(ToSchema)]
#[schema(as = FieldError)]
#[allow(dead_code)]
pub struct FieldErrorDoc {
    /// The field or query parameter.
    field: String,
    /// Why it was rejected.
    message: String,
}

/// Statuses any operation of a kind can answer, with what they mean, added by [`finish`] to every
/// such operation that does not document them itself (the document is the contract: a generated
/// client must know every status it can get).
const COMMON_PROBLEMS: &[(Applies, &str, &str)] = &[
    (Applies::Authenticated, "401", "Missing, malformed, unknown, revoked or expired API key"),
    (
        Applies::Authenticated,
        "429",
        "Too many failed authentications from this client address recently (50, then one more per second); \
         refused before the key is looked up. `code`: `too_many_failed_authentications`.",
    ),
    (Applies::WithBody, "400", "The body is not JSON"),
    (Applies::WithBody, "413", "The body is larger than 64 KiB"),
    (Applies::WithBody, "415", "The body is not `Content-Type: application/json`"),
    (Applies::WithBody, "422", "The body does not have the documented shape, or a field is invalid"),
    (Applies::WithParameters, "400", "A malformed path or query parameter, or an unknown query parameter"),
    (Applies::Idempotent, "400", "A malformed `Idempotency-Key`"),
    (Applies::Idempotent, "409", "A request with this `Idempotency-Key` is still running; retry later"),
    (Applies::Idempotent, "422", "This `Idempotency-Key` was used with another request"),
    (Applies::Storage, "503", "The database is unavailable, or the request ran past the request timeout; retry later"),
];

/// Which operations a [`COMMON_PROBLEMS`] entry applies to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Applies {
    /// Those that take an API key.
    Authenticated,
    /// Those with a request body.
    WithBody,
    /// Those with a path or query parameter.
    WithParameters,
    /// Those that accept an `Idempotency-Key`.
    Idempotent,
    /// Those that read the database (all but `/healthz`).
    Storage,
}

/// `Idempotency-Key`: 1 to 255 printable ASCII characters without spaces (see
/// [`crate::idempotency`]).
pub const IDEMPOTENCY_KEY_PATTERN: &str = "^[!-~]{1,255}$";

/// Completes the document once the routers have added their paths:
/// - every authenticated POST that changes something accepts an `Idempotency-Key` header (see
///   [`crate::idempotency`]; the read-only ones ignore it and do not list it), with its exact
///   pattern;
/// - every operation lists the [`COMMON_PROBLEMS`] that apply to it, as problem details.
pub fn finish(openapi: &mut utoipa::openapi::OpenApi) {
    for (path, item) in openapi.paths.paths.iter_mut() {
        let read_only = crate::idempotency::READ_ONLY_POSTS.contains(&path.as_str());
        if let Some(post) = item.post.as_mut().filter(|op| op.security.is_some() && !read_only) {
            let parameter = ParameterBuilder::new()
                .name("Idempotency-Key")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(
                    "Makes the call safe to retry: the same key and request within 24 h get the first \
                     response again (same token, header `Idempotent-Replayed: true`); the same key with \
                     another request gets 422, and a retry while the first is running gets 409.",
                ))
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .min_length(Some(1))
                        .max_length(Some(255))
                        .pattern(Some(IDEMPOTENCY_KEY_PATTERN)),
                ))
                .build();
            post.parameters.get_or_insert_with(Vec::new).push(parameter);
        }
        let health = path == "/healthz";
        for op in operations(item) {
            let applies = |a: Applies| match a {
                Applies::Authenticated => op.security.is_some(),
                Applies::WithBody => op.request_body.is_some(),
                Applies::WithParameters => op.parameters.as_ref().is_some_and(|ps| {
                    ps.iter().any(|p| matches!(p.parameter_in, ParameterIn::Path | ParameterIn::Query))
                }),
                Applies::Idempotent => {
                    op.parameters.as_ref().is_some_and(|ps| ps.iter().any(|p| p.name == "Idempotency-Key"))
                }
                Applies::Storage => !health,
            };
            let wanted: Vec<_> = COMMON_PROBLEMS.iter().filter(|(a, _, _)| applies(*a)).collect();
            for (_, status, description) in wanted {
                op.responses
                    .responses
                    .entry((*status).to_owned())
                    .or_insert_with(|| problem_response(status, description));
            }
        }
    }
}

/// The operations of one path.
fn operations(item: &mut utoipa::openapi::PathItem) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch, &mut item.head, &mut item.options]
        .into_iter()
        .filter_map(Option::as_mut)
}

/// A response documented as a problem details body (RFC 9457, `application/problem+json`).
/// A 429 or 503 also documents its `Retry-After` header (RFC 9110 §10.2.3).
fn problem_response(status: &str, description: &str) -> RefOr<utoipa::openapi::Response> {
    let mut response = ResponseBuilder::new().description(description);
    if status == "429" || status == "503" {
        response = response.header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1)))
                .description(Some("Seconds after which a retry may succeed."))
                .build(),
        );
    }
    response
        .content(
            crate::error::PROBLEM_JSON,
            ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build(),
        )
        .into()
}
