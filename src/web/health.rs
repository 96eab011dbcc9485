//! `/healthz` (the process answers) and `/readyz` (the database file can be read, on a fresh
//! connection, at the schema this binary writes), for load balancers and orchestrators: no login, no person's data, one word
//! of plain text. And the fairing that counts every request into `ops::metrics`.

use super::Web;
use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::Status;
use rocket::{get, routes, Data, Request, Response, Route, State};
use std::time::Instant;

pub fn routes() -> Vec<Route> {
    routes![healthz, readyz]
}

#[get("/healthz")]
fn healthz() -> &'static str {
    "ok\n"
}

#[get("/readyz")]
async fn readyz(web: &State<Web>) -> (Status, &'static str) {
    let database = web.config.database_path();
    let ready =
        rocket::tokio::task::spawn_blocking(move || match crate::store::readable(&database) {
            Ok(true) => true,
            Ok(false) => {
                log::warn!("not ready: the database's schema is not the one this binary writes");
                false
            }
            Err(e) => {
                log::warn!("not ready: {}", e.operator_summary());
                false
            }
        })
        .await
        .unwrap_or(false);
    if ready {
        (Status::Ok, "ready\n")
    } else {
        (
            Status::ServiceUnavailable,
            "not ready: the database cannot be read\n",
        )
    }
}

/// Counts each request by route class and status, with its time, into
/// [`crate::ops::metrics::REQUESTS`].
pub struct RequestFigures;

struct Arrived(Instant);

#[rocket::async_trait]
impl Fairing for RequestFigures {
    fn info(&self) -> Info {
        Info {
            name: "request figures",
            kind: Kind::Request | Kind::Response,
        }
    }

    async fn on_request(&self, req: &mut Request<'_>, _: &mut Data<'_>) {
        req.local_cache(|| Arrived(Instant::now()));
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        let arrived = req.local_cache(|| Arrived(Instant::now())).0;
        let template = req.route().map(|r| r.uri.to_string());
        crate::ops::metrics::REQUESTS.observe(
            &crate::ops::metrics::route_class(template.as_deref()),
            res.status().code,
            arrived.elapsed(),
        );
    }
}
