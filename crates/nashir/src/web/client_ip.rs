//! The client's address for rate limits (logins, newsletter sign-ups). `X-Forwarded-For` is
//! written by whoever sends the request, so it is believed only from a configured proxy
//! (`server.trusted_proxies`), and then only as far as the proxies it names are trusted too.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;

use super::AppState;
use crate::config::TrustedProxy;

/// The address a request came from. A peer that is not a trusted proxy is the client, whatever
/// its headers say. Behind trusted proxies, `X-Forwarded-For` is read from the right (each
/// proxy appends the address it saw): the first address that is not a trusted proxy is the
/// client; entries to its left were written by that client and are ignored. An entry that
/// does not parse stops the walk at the last trusted hop. `None` only without a peer address.
pub fn client_ip(peer: Option<SocketAddr>, headers: &HeaderMap, trusted: &[TrustedProxy]) -> Option<IpAddr> {
    let peer = peer?.ip().to_canonical();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|p| p.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let mut client = peer;
    let hops = headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).collect::<Vec<_>>();
    for hop in hops.iter().rev() {
        let Ok(ip) = hop.trim().parse::<IpAddr>().map(|ip| ip.to_canonical()) else { break };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    Some(client)
}

/// [`client_ip`] as an extractor, as text ("unknown" without a peer address).
pub struct ClientIp(pub String);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
        let ip = client_ip(peer, &parts.headers, &state.config.server.trusted_proxies);
        Ok(ClientIp(ip.map_or_else(|| "unknown".to_string(), |ip| ip.to_string())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(list: &[&str]) -> Vec<TrustedProxy> {
        list.iter().map(|p| TrustedProxy::try_from(p.to_string()).unwrap()).collect()
    }

    fn ip(peer: &str, forwarded: Option<&str>, trusted: &[TrustedProxy]) -> String {
        let mut headers = HeaderMap::new();
        if let Some(f) = forwarded {
            headers.insert("x-forwarded-for", f.parse().unwrap());
        }
        client_ip(Some(peer.parse().unwrap()), &headers, trusted).unwrap().to_string()
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let none = proxies(&[]);
        let local = proxies(&["127.0.0.1", "10.0.0.0/8"]);
        // Nobody trusted: the header is anyone's to write.
        assert_eq!(ip("127.0.0.1:1", Some("203.0.113.9"), &none), "127.0.0.1");
        assert_eq!(ip("198.51.100.1:1", Some("203.0.113.9"), &local), "198.51.100.1");
        // From a trusted proxy: the right-most untrusted address; spoofed entries to its left are ignored.
        assert_eq!(ip("127.0.0.1:1", Some("203.0.113.9"), &local), "203.0.113.9");
        assert_eq!(ip("127.0.0.1:1", Some("1.2.3.4, 203.0.113.9, 10.1.1.1"), &local), "203.0.113.9");
        assert_eq!(ip("[::ffff:127.0.0.1]:1", Some("203.0.113.9"), &local), "203.0.113.9");
        // No header, garbage, or only proxies: the nearest hop that could be named.
        assert_eq!(ip("127.0.0.1:1", None, &local), "127.0.0.1");
        assert_eq!(ip("127.0.0.1:1", Some("1.2.3.4, nonsense"), &local), "127.0.0.1");
        assert_eq!(ip("127.0.0.1:1", Some("10.2.2.2"), &local), "10.2.2.2");
    }
}
