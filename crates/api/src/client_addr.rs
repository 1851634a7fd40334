//! The client's IP address, for throttling failed sign-ins and failed API-key authentications:
//! the socket's peer, unless that peer is a trusted reverse proxy
//! (`--trusted-proxies` / `TESSERA_TRUSTED_PROXIES`), in which case the address the proxies
//! forwarded.
//!
//! With trusted proxies, the forwarding header (`X-Forwarded-For`, or RFC 7239's `Forwarded: for=`
//! with `--forwarded-header forwarded`) is read from the right: each proxy appends the address it
//! received the request from, so the right-most address that is *not* a trusted proxy is the
//! first one a proxy of ours saw, the client's. Everything left of it was written by the client
//! and may be forged; it is never used. When every address is trusted, the left-most is the
//! client; when an entry cannot be read (`unknown`, an obfuscated identifier, garbage), the last
//! trusted address before it is taken (the proxy that forwarded it). Only the header the proxies
//! are configured to write may be read: a proxy that writes `X-Forwarded-For` passes a client's
//! own `Forwarded` header through untouched, and reading that would let the client choose its
//! address.
//!
//! Without trusted proxies (the default), forwarding headers are ignored: anyone can send them.

use std::{
    convert::Infallible,
    net::{IpAddr, SocketAddr},
};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::{request::Parts, HeaderMap},
};
pub use ipnet::IpNet;

use crate::{ApiConfig, AppState};

/// Which header trusted proxies write the client's address to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2` (the de-facto standard; nginx, HAProxy, Traefik,
    /// Caddy and cloud load balancers write it).
    #[default]
    XForwardedFor,
    /// `Forwarded: for=client, for=proxy1` (RFC 7239 §5.2).
    Forwarded,
}

/// The reverse proxies whose forwarding header is believed, and which header they write.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    /// Networks of trusted proxies; empty trusts none (forwarding headers are ignored).
    pub networks: Vec<IpNet>,
    /// The header they write.
    pub header: ForwardedHeader,
}

impl TrustedProxies {
    /// Whether `ip` is a trusted proxy.
    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.networks.iter().any(|net| net.contains(&ip))
    }
}

/// Parses one trusted-proxy network: a CIDR (`10.0.0.0/8`, `2001:db8::/32`) or a single address
/// (`192.0.2.1`, meaning `/32`, or `/128` for IPv6).
///
/// # Errors
/// A message naming the text when it is neither.
pub fn parse_network(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    if let Ok(net) = text.parse::<IpNet>() {
        return Ok(net.trunc());
    }
    text.parse::<IpAddr>()
        .map(IpNet::from)
        .map_err(|_| format!("`{text}` is not an IP network in CIDR notation (e.g. 10.0.0.0/8) nor an IP address"))
}

/// The client address of a request that came from the socket peer `peer` with `headers`, under
/// `trusted` (see the [module docs](self)). `None` only without a peer address (a request that
/// did not come over a socket, as in tests).
pub fn client_addr(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &TrustedProxies) -> Option<IpAddr> {
    let peer = peer?.to_canonical();
    if !trusted.trusts(peer) {
        return Some(peer);
    }
    let hops = match trusted.header {
        ForwardedHeader::XForwardedFor => x_forwarded_for(headers),
        ForwardedHeader::Forwarded => forwarded_for(headers),
    };
    let mut client = peer;
    for hop in hops.into_iter().rev() {
        let Some(ip) = hop else { break };
        client = ip.to_canonical();
        if !trusted.trusts(client) {
            break;
        }
    }
    Some(client)
}

/// The entries of every `X-Forwarded-For` line, left to right; `None` for one that is not an
/// address.
fn x_forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|line| match line.to_str() {
            Ok(text) => text.split(',').map(|entry| node_address(entry.trim())).collect::<Vec<_>>(),
            Err(_) => vec![None],
        })
        .collect()
}

/// The `for=` node of every element of every `Forwarded` line (RFC 7239 §4), left to right;
/// `None` for an element without one, or whose node is not an address (`unknown`, an obfuscated
/// identifier).
fn forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    headers
        .get_all("forwarded")
        .iter()
        .flat_map(|line| match line.to_str() {
            Ok(text) => split_unquoted(text, ',')
                .into_iter()
                .map(|element| {
                    split_unquoted(element, ';').into_iter().find_map(|pair| {
                        let (name, value) = pair.split_once('=')?;
                        name.trim().eq_ignore_ascii_case("for").then(|| node_address(unquote(value.trim())))?
                    })
                })
                .collect::<Vec<_>>(),
            Err(_) => vec![None],
        })
        .collect()
}

/// `text` split at each `separator` outside a quoted string (RFC 9110 §5.6.4).
fn split_unquoted(text: &str, separator: char) -> Vec<&str> {
    let (mut parts, mut start, mut quoted, mut escaped) = (Vec::new(), 0, false, false);
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == separator && !quoted => {
                parts.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

fn unquote(value: &str) -> &str {
    value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(value)
}

/// An address written as `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`, `[2001:db8::1]` or
/// `[2001:db8::1]:4711`.
fn node_address(node: &str) -> Option<IpAddr> {
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(socket) = node.parse::<SocketAddr>() {
        return Some(socket.ip());
    }
    node.strip_prefix('[').and_then(|v| v.strip_suffix(']')).and_then(|v| v.parse().ok())
}

/// The client address of a request (see the [module docs](self)), for throttling; `None` only
/// when the request did not come over a socket. Never rejects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub Option<IpAddr>);

impl ClientAddr {
    /// The client address of a request with `parts`, under `config`'s trusted proxies; the peer
    /// comes from axum's `ConnectInfo<SocketAddr>` (the server serves with connect info).
    pub fn from_parts(parts: &Parts, config: &ApiConfig) -> Self {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        Self(client_addr(peer, &parts.headers, &config.trusted_proxies))
    }
}

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Self::from_parts(parts, &state.config))
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn proxies(nets: &[&str], header: ForwardedHeader) -> TrustedProxies {
        TrustedProxies { networks: nets.iter().map(|n| parse_network(n).unwrap()).collect(), header }
    }

    fn headers(name: &'static str, lines: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for line in lines {
            map.append(name, HeaderValue::from_str(line).unwrap());
        }
        map
    }

    #[test]
    fn networks_parse_as_cidrs_or_single_addresses() {
        assert_eq!(parse_network(" 10.1.2.3/8 ").unwrap().to_string(), "10.0.0.0/8");
        assert_eq!(parse_network("192.0.2.1").unwrap().to_string(), "192.0.2.1/32");
        assert_eq!(parse_network("2001:db8::1").unwrap().to_string(), "2001:db8::1/128");
        assert_eq!(parse_network("2001:db8::/32").unwrap().to_string(), "2001:db8::/32");
        for bad in ["", "10.0.0.0/33", "proxy.example.com", "10.0.0.0/8,"] {
            assert!(parse_network(bad).unwrap_err().contains("CIDR"), "{bad:?}");
        }
    }

    #[test]
    fn forwarding_headers_count_only_from_a_trusted_peer() {
        let trusted = proxies(&["127.0.0.0/8", "10.0.0.0/8"], ForwardedHeader::XForwardedFor);
        let xff = headers("x-forwarded-for", &["203.0.113.9, 198.51.100.1"]);
        let none = TrustedProxies::default();
        assert_eq!(client_addr(Some(ip("192.0.2.1")), &xff, &trusted), Some(ip("192.0.2.1")), "untrusted peer");
        assert_eq!(client_addr(Some(ip("127.0.0.1")), &xff, &none), Some(ip("127.0.0.1")), "nobody trusted");
        assert_eq!(client_addr(None, &xff, &trusted), None);
        // The right-most untrusted entry; the forged one left of it is ignored.
        assert_eq!(client_addr(Some(ip("127.0.0.1")), &xff, &trusted), Some(ip("198.51.100.1")));
        let chain = headers("x-forwarded-for", &["6.6.6.6, 198.51.100.1", "10.0.0.5"]);
        assert_eq!(client_addr(Some(ip("127.0.0.1")), &chain, &trusted), Some(ip("198.51.100.1")), "two proxies");
        let all_trusted = headers("x-forwarded-for", &["10.0.0.7, 10.0.0.5"]);
        assert_eq!(client_addr(Some(ip("127.0.0.1")), &all_trusted, &trusted), Some(ip("10.0.0.7")));
        let garbage = headers("x-forwarded-for", &["198.51.100.1, unknown, 10.0.0.5"]);
        assert_eq!(client_addr(Some(ip("127.0.0.1")), &garbage, &trusted), Some(ip("10.0.0.5")));
        assert_eq!(client_addr(Some(ip("127.0.0.1")), &HeaderMap::new(), &trusted), Some(ip("127.0.0.1")));
        let ports = headers("x-forwarded-for", &["[2001:db8::7]:4711, 198.51.100.1:80"]);
        assert_eq!(client_addr(Some(ip("::ffff:127.0.0.1")), &ports, &trusted), Some(ip("198.51.100.1")));
        // With X-Forwarded-For configured, a client's own Forwarded header is not read.
        let forged = headers("forwarded", &["for=6.6.6.6"]);
        assert_eq!(client_addr(Some(ip("127.0.0.1")), &forged, &trusted), Some(ip("127.0.0.1")));
    }

    #[test]
    fn forwarded_for_nodes_are_read_per_rfc_7239() {
        let trusted = proxies(&["127.0.0.1", "10.0.0.0/8"], ForwardedHeader::Forwarded);
        let peer = Some(ip("127.0.0.1"));
        let h = headers("forwarded", &[r#"for=6.6.6.6;proto=https, For="[2001:db8:cafe::17]:4711";by="a,b""#]);
        assert_eq!(client_addr(peer, &h, &trusted), Some(ip("2001:db8:cafe::17")));
        let h = headers("forwarded", &["for=198.51.100.1", "for=10.0.0.5;proto=http"]);
        assert_eq!(client_addr(peer, &h, &trusted), Some(ip("198.51.100.1")));
        let h = headers("forwarded", &["for=198.51.100.1, for=_hidden, for=10.0.0.5"]);
        assert_eq!(client_addr(peer, &h, &trusted), Some(ip("10.0.0.5")), "an obfuscated node stops the walk");
        let h = headers("forwarded", &["proto=https"]);
        assert_eq!(client_addr(peer, &h, &trusted), Some(ip("127.0.0.1")));
        let xff = headers("x-forwarded-for", &["198.51.100.1"]);
        assert_eq!(client_addr(peer, &xff, &trusted), Some(ip("127.0.0.1")), "X-Forwarded-For is not read");
    }
}
