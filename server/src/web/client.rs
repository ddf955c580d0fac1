//! Who is on the other end: the TCP peer, unless the peer is a proxy the operator trusts
//! (`PORTAL_TRUSTED_PROXIES`), in which case the client is the last address in `X-Forwarded-For`
//! that is not itself a trusted proxy. Anyone else's `X-Forwarded-For` is ignored: it is whatever
//! the caller chose to write. The answer goes into the request's extensions as a `ClientAddress`
//! (sign-in limits and audit entries use it).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use app::backend::ClientAddress;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;

/// The proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(pub Arc<Vec<IpAddr>>);

impl TrustedProxies {
    /// `10.0.0.5, 10.0.0.6` → the addresses; the first that does not parse is named.
    pub fn parse(text: &str) -> Result<TrustedProxies, String> {
        let addresses = text
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(|a| a.parse::<IpAddr>().map_err(|_| format!("`{a}` is not an IP address")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TrustedProxies(Arc::new(addresses)))
    }

    fn trusts(&self, address: IpAddr) -> bool {
        self.0.contains(&address)
    }

    /// The client behind `peer`, given the request's `X-Forwarded-For` values.
    pub fn client(&self, peer: IpAddr, forwarded_for: &[&str]) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        // Each proxy appends the address it received from: read from the right, past our own.
        let hops: Vec<&str> = forwarded_for.iter().flat_map(|h| h.split(',')).map(str::trim).collect();
        for hop in hops.iter().rev() {
            match hop.parse::<IpAddr>() {
                Ok(address) if self.trusts(address) => continue,
                Ok(address) => return address,
                // A hop we cannot read: the chain is not to be believed past it.
                Err(_) => return peer,
            }
        }
        peer
    }
}

pub async fn client_address(State(proxies): State<TrustedProxies>, mut request: Request, next: Next) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    if let Some(peer) = peer {
        let forwarded: Vec<&str> =
            request.headers().get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).collect();
        let client = proxies.client(peer, &forwarded);
        request.extensions_mut().insert(ClientAddress(client));
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_trusted_proxy_is_believed() -> Result<(), String> {
        let ip = |s: &str| s.parse::<IpAddr>().map_err(|e| e.to_string());
        let proxies = TrustedProxies::parse("10.0.0.5, 10.0.0.6")?;
        let cases = [
            ("192.0.2.1", vec!["203.0.113.7"], "192.0.2.1"),
            ("10.0.0.5", vec!["203.0.113.7"], "203.0.113.7"),
            ("10.0.0.5", vec!["198.51.100.9, 203.0.113.7"], "203.0.113.7"),
            ("10.0.0.5", vec!["203.0.113.7, 10.0.0.6"], "203.0.113.7"),
            ("10.0.0.5", vec!["garbage, 10.0.0.6"], "10.0.0.5"),
            ("10.0.0.5", vec![], "10.0.0.5"),
            ("10.0.0.5", vec!["198.51.100.9", "203.0.113.7"], "203.0.113.7"),
        ];
        for (peer, forwarded, expected) in cases {
            assert_eq!(proxies.client(ip(peer)?, &forwarded), ip(expected)?, "{peer} {forwarded:?}");
        }
        assert!(TrustedProxies::parse("10.0.0.5, proxy.local").is_err());
        Ok(())
    }
}
