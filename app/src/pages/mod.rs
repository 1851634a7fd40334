//! Routed pages: one module per page, each exporting its page component.

mod audit;
mod auth_card;
mod keys;
mod members;
mod not_found;
mod overview;
mod setup;
mod sign_in;
mod user;
mod users;

pub use audit::AuditPage;
pub use keys::KeysPage;
pub use members::MembersPage;
pub use not_found::NotFound;
pub use overview::OverviewPage;
pub use setup::SetupPage;
pub use sign_in::SignInPage;
pub use user::UserPage;
pub use users::UsersPage;

/// Characters left as they are in a query value: letters, digits and RFC 3986's other unreserved
/// characters (`-._~`), so ids and cursors stay readable in the address bar.
const QUERY_VALUE: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// `path` with the non-empty `pairs` as its query string, each value percent-encoded:
/// `with_query("/users", &[("q", "ada b"), ("platform", "")])` is `/users?q=ada%20b`.
pub(crate) fn with_query(path: &str, pairs: &[(&str, &str)]) -> String {
    use percent_encoding::utf8_percent_encode;
    let mut url = path.to_owned();
    for (name, value) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(name);
        url.push('=');
        url.push_str(&utf8_percent_encode(value, QUERY_VALUE).to_string());
    }
    url
}

#[cfg(test)]
mod tests {
    #[test]
    fn queries_skip_empty_values_and_encode_the_rest() {
        assert_eq!(super::with_query("/users", &[("q", "ada b&c"), ("platform", "")]), "/users?q=ada%20b%26c");
        assert_eq!(super::with_query("/users", &[("q", ""), ("cursor", "MTc-_x")]), "/users?cursor=MTc-_x");
        assert_eq!(
            super::with_query("/users/1?tokens=a", &[("revoke", "0193-ab")]),
            "/users/1?tokens=a&revoke=0193-ab"
        );
        assert_eq!(super::with_query("/users", &[]), "/users");
    }
}
