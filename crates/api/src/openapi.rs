//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]` attributes and the
//! wire types' schemas, served at `/openapi.json` with a Swagger UI (vendored, no CDN) at `/docs`.

use utoipa::{
    openapi::{
        path::{ParameterBuilder, ParameterIn},
        schema::{ObjectBuilder, Type},
        security::{Http, HttpAuthScheme, SecurityScheme},
        Required,
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

/// Completes the document once the routers have added their paths: every authenticated POST
/// that changes something accepts an `Idempotency-Key` header (see [`crate::idempotency`]; the
/// read-only ones ignore it and do not list it).
pub fn finish(openapi: &mut utoipa::openapi::OpenApi) {
    // Every operation that takes an API key answers 429 while the caller's address has failed
    // to authenticate too often (see `services::api_keys::authenticate`).
    for item in openapi.paths.paths.values_mut() {
        let operations = [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete];
        for op in operations.into_iter().flatten().filter(|op| op.security.is_some()) {
            op.responses.responses.entry("429".into()).or_insert_with(|| too_many_failed_authentications().into());
        }
    }
    for (path, item) in openapi.paths.paths.iter_mut() {
        if crate::idempotency::READ_ONLY_POSTS.contains(&path.as_str()) {
            continue;
        }
        if let Some(post) = item.post.as_mut().filter(|op| op.security.is_some()) {
            let parameter = ParameterBuilder::new()
                .name("Idempotency-Key")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(
                    "Makes the call safe to retry: the same key and request within 24 h get the first \
                     response again (same token, header `Idempotent-Replayed: true`); the same key with \
                     another request gets 422, and a retry while the first is running gets 409.",
                ))
                .schema(Some(ObjectBuilder::new().schema_type(Type::String).max_length(Some(255))))
                .build();
            post.parameters.get_or_insert_with(Vec::new).push(parameter);
        }
    }
}

/// The 429 of an operation that takes an API key, with its `Retry-After` header.
fn too_many_failed_authentications() -> utoipa::openapi::Response {
    use utoipa::openapi::{content::ContentBuilder, header::HeaderBuilder, Ref, ResponseBuilder};
    ResponseBuilder::new()
        .description(
            "Too many failed authentications from this client address recently (50, then one more per \
             second); refused before the key is looked up. `code`: `too_many_failed_authentications`.",
        )
        .header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1)))
                .description(Some("Seconds until the address may try again."))
                .build(),
        )
        .content(
            "application/problem+json",
            ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build(),
        )
        .build()
}
