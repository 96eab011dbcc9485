//! Whose address a request comes from: the one fact the sign-in throttle and the audit trail
//! take from the network, so it must not be one the client can simply claim.
//!
//! By default it is the TCP peer, and every forwarding header (`X-Real-IP`,
//! `X-Forwarded-For`, …) is ignored: Rocket's own trust of `X-Real-IP` is switched off in
//! `app`. Behind a reverse proxy the peer is the proxy, so `[web] trusted_proxy` names it and
//! `[web] proxy_header` the header it sets; the header is then believed only on connections
//! from that exact address. When the header holds a list (`X-Forwarded-For: a, b`), the last
//! entry is the one the proxy itself added; anything before it came from the client. A
//! missing or unreadable header from the proxy leaves the proxy's own address.

use super::Web;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::State;
use std::net::IpAddr;

/// The address a request comes from, as [`client_address`] decides; `None` only when the
/// server could not tell (never for a real connection).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub Option<IpAddr>);

/// The client's address: the peer (through the front door, the client it carried), or what
/// the configured proxy says it saw.
pub fn client_address(req: &Request<'_>, web: &Web) -> Option<IpAddr> {
    let config = &web.config.web;
    let remote = req.remote()?;
    // A loopback connection the front door did not make (a local program reaching Rocket's
    // port directly) is taken for what it is: a connection from this machine.
    let peer = web
        .peers
        .client_of(remote)
        .unwrap_or(remote)
        .ip()
        .to_canonical();
    let from_proxy = config
        .trusted_proxy
        .is_some_and(|proxy| proxy.to_canonical() == peer);
    if !from_proxy {
        return Some(peer);
    }
    let forwarded = req
        .headers()
        .get(&config.proxy_header)
        .last()
        .and_then(|value| value.rsplit(',').next())
        .and_then(|last| last.trim().parse::<IpAddr>().ok());
    Some(forwarded.map_or(peer, |ip| ip.to_canonical()))
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ClientAddress {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        match req.guard::<&State<Web>>().await {
            Outcome::Success(web) => Outcome::Success(Self(client_address(req, web))),
            _ => Outcome::Error((rocket::http::Status::InternalServerError, ())),
        }
    }
}
