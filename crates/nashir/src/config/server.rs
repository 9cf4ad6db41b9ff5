//! `[server]`: the HTTP server and the proxies in front of it.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use super::documented;

documented! {
    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    pub struct ServerConfig {
        /// Address and port to listen on. Also `NASHIR_ADDR` or `serve --addr`.
        pub addr: SocketAddr,
        /// Largest accepted request body, in bytes; larger requests get 413.
        pub max_body_bytes: usize,
        /// Seconds a request may take before the server answers 408.
        pub request_timeout_secs: u64,
        /// Reverse proxies (addresses or CIDR networks, e.g. `["127.0.0.1", "::1"]` for nginx
        /// on the same host) whose `X-Forwarded-For` is believed. Login and sign-up limits
        /// count per client address: a request from one of these is counted under the
        /// right-most address of its `X-Forwarded-For` that is not itself a trusted proxy;
        /// from anyone else the header is ignored. Empty: every client is its peer address.
        pub trusted_proxies: Vec<TrustedProxy>,
    }
}

/// An address or network (`10.0.0.0/8`) in `server.trusted_proxies`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TrustedProxy(pub ipnet::IpNet);

impl TrustedProxy {
    pub fn contains(&self, ip: &std::net::IpAddr) -> bool {
        self.0.contains(&ip.to_canonical())
    }
}

impl TryFrom<String> for TrustedProxy {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let s = s.trim();
        s.parse::<ipnet::IpNet>()
            .or_else(|_| s.parse::<std::net::IpAddr>().map(|ip| ipnet::IpNet::from(ip.to_canonical())))
            .map(TrustedProxy)
            .map_err(|_| format!("server.trusted_proxies: {s:?} is neither an IP address nor a network like 10.0.0.0/8"))
    }
}

impl From<TrustedProxy> for String {
    fn from(p: TrustedProxy) -> String {
        if p.0.prefix_len() == p.0.max_prefix_len() {
            p.0.addr().to_string()
        } else {
            p.0.to_string()
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            addr: "127.0.0.1:8080".parse().expect("valid default address"),
            max_body_bytes: 2 * 1024 * 1024,
            request_timeout_secs: 30,
            trusted_proxies: Vec::new(),
        }
    }
}
