//! Operations: what a server's operators and their monitoring ask of it. Health and readiness
//! routes live in `web::health`; here are the request figures and their Prometheus text
//! ([`metrics`]), the separate listener that serves them ([`metrics_server`]), JSON log lines
//! ([`log`]) and `sharedcare check` ([`check`]).

pub mod certificate;
pub mod check;
pub mod log;
pub mod metrics;
pub mod metrics_server;
