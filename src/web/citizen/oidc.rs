//! Signing in with the OpenID Connect provider (NHS login): `/citizen/oidc/start` sends the
//! citizen to the provider, `/citizen/oidc/callback` takes them back. What a sign-in under way
//! needs (PKCE verifier, nonce, redirect address) stays in this server's memory, keyed by the
//! `state` sent to the provider and bound to the browser by a cookie of its own; the callback
//! takes it out, so a callback replayed (or its nonce) finds nothing and is refused. A restart
//! forgets sign-ins under way: the citizen starts again.
//!
//! Failures are slowed by the citizens' throttle, as wrong passwords are.

use super::guard::cookie;
use super::CitizenThrottle;
use crate::access::secret;
use crate::citizen::oidc::flow;
use crate::citizen::oidc::link::{self, NotLinked};
use crate::web::address::ClientAddress;
use crate::web::auth::throttled_message;
use crate::web::pages::Page;
use crate::web::{ServerError, Web};
use askama::Template;
use askama_web::WebTemplate;
use rocket::http::{Cookie, CookieJar, Header, SameSite, Status};
use rocket::request::{FromRequest, Outcome, Request};
use rocket::response::{Redirect, Responder};
use rocket::{get, routes, Either, Route, State};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Binds a sign-in under way to the browser that started it. `Lax`, so the browser sends it on
/// the provider's redirect back (a top-level navigation from another site).
const FLOW_COOKIE: &str = "__Host-sharedcare-citizen-oidc";
/// How long a citizen may take at the provider.
const FLOW_LIFETIME: Duration = Duration::from_secs(10 * 60);
/// Sign-ins under way kept at most (a flood of starts cannot grow memory without bound).
const MAX_PENDING: usize = 10_000;
/// The throttle's account key when no identity is known yet.
const THROTTLE_KEY: &str = "openid connect";

pub fn public_routes() -> Vec<Route> {
    routes![start, callback]
}

struct Pending {
    browser: Vec<u8>,
    nonce: String,
    pkce_verifier: String,
    redirect_url: String,
    started: Instant,
}

/// Sign-ins under way, by `state`.
#[derive(Default)]
pub struct OidcPending(Mutex<HashMap<String, Pending>>);

impl OidcPending {
    fn put(&self, state: String, pending: Pending) -> bool {
        let Ok(mut map) = self.0.lock() else {
            return false;
        };
        map.retain(|_, p| p.started.elapsed() < FLOW_LIFETIME);
        if map.len() >= MAX_PENDING {
            return false;
        }
        map.insert(state, pending);
        true
    }

    /// Takes out the sign-in for `state` when it is this browser's and not too old.
    fn take(&self, state: &str, browser: Option<&str>) -> Option<Pending> {
        let pending = self.0.lock().ok()?.remove(state)?;
        let same_browser = browser.is_some_and(|b| secret::token_hash(b) == pending.browser);
        (same_browser && pending.started.elapsed() < FLOW_LIFETIME).then_some(pending)
    }
}

/// The host the browser asked for, to make the default redirect address from.
pub struct RequestHost(String);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for RequestHost {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        match req.host() {
            Some(h) => Outcome::Success(Self(h.to_string())),
            None => Outcome::Error((Status::BadRequest, ())),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "citizen/oidc_result.html")]
pub struct ResultPage {
    session_csrf: String,
    heading: String,
    message: String,
    signed_in: bool,
}

fn result(status: Status, heading: &str, message: &str) -> Page<ResultPage> {
    Page(
        status,
        ResultPage {
            session_csrf: String::new(),
            heading: heading.into(),
            message: message.into(),
            signed_in: false,
        },
    )
}

fn not_checked() -> Page<ResultPage> {
    result(
        Status::Forbidden,
        "You have not been signed in",
        "We could not check the answer from the sign-in service, so we have not signed you in. \
         Please start again from the sign-in page.",
    )
}

fn flow_cookie(token: String) -> Cookie<'static> {
    Cookie::build((FLOW_COOKIE, token))
        .path("/")
        .secure(true)
        .http_only(true)
        .same_site(SameSite::Lax)
        .max_age(rocket::time::Duration::minutes(10))
        .build()
}

fn redirect_url(web: &Web, host: &RequestHost) -> String {
    let configured = web.config.citizen.oidc.redirect_url.trim();
    if configured.is_empty() {
        format!("https://{}/citizen/oidc/callback", host.0)
    } else {
        configured.to_owned()
    }
}

#[get("/oidc/start")]
async fn start(
    web: &State<Web>,
    pending: &State<OidcPending>,
    cookies: &CookieJar<'_>,
    host: RequestHost,
) -> Result<Either<Redirect, Page<ResultPage>>, ServerError> {
    let config = &web.config.citizen.oidc;
    if !config.enabled() {
        return Ok(Either::Right(result(
            Status::NotFound,
            "This sign-in is not available",
            "Signing in with an identity service is not set up here. Please use the sign-in \
             page.",
        )));
    }
    let redirect_url = redirect_url(web, &host);
    let started = match flow::begin(config, &redirect_url).await {
        Ok(s) => s,
        Err(why) => {
            log::warn!(
                "OpenID Connect sign-in could not start: {}",
                why.audit_text()
            );
            return Ok(Either::Right(unavailable()));
        }
    };
    let browser =
        secret::new_token().map_err(|e| ServerError::from(crate::error::Error::Invalid(e)))?;
    let kept = pending.put(
        started.state,
        Pending {
            browser: secret::token_hash(&browser),
            nonce: started.nonce,
            pkce_verifier: started.pkce_verifier,
            redirect_url,
            started: Instant::now(),
        },
    );
    if !kept {
        return Ok(Either::Right(unavailable()));
    }
    cookies.add(flow_cookie(browser));
    Ok(Either::Left(Redirect::to(started.url)))
}

fn unavailable() -> Page<ResultPage> {
    result(
        Status::ServiceUnavailable,
        "The sign-in service cannot be reached",
        "We could not reach the sign-in service just now. Please try again in a few minutes, \
         or sign in with your sign-in name and password if you have them.",
    )
}

/// The signed-in page: the session cookie is `SameSite=Strict`, which a browser does not send
/// on a redirect that began at the provider's site, so the page moves on to the record itself
/// (a `Refresh` from this site), with a link for a browser that does not.
pub struct SignedIn(Page<ResultPage>);

impl<'r> Responder<'r, 'static> for SignedIn {
    fn respond_to(self, req: &'r Request<'_>) -> rocket::response::Result<'static> {
        let mut response = self.0.respond_to(req)?;
        response.set_header(Header::new("Refresh", "0; url=/citizen"));
        Ok(response)
    }
}

#[allow(clippy::too_many_arguments)]
#[get("/oidc/callback?<state>&<code>&<error>&<iss>")]
async fn callback(
    state: Option<&str>,
    code: Option<&str>,
    error: Option<&str>,
    iss: Option<&str>,
    web: &State<Web>,
    pending: &State<OidcPending>,
    cookies: &CookieJar<'_>,
    address: ClientAddress,
    throttle: &State<CitizenThrottle>,
) -> Result<Either<SignedIn, Page<ResultPage>>, ServerError> {
    let ip = address.0.map(|i| i.to_string());
    let now = web.clock.now();
    let config = &web.config.citizen.oidc;
    let attempt = match throttle.0.begin(THROTTLE_KEY, address.0, Instant::now()) {
        Ok(a) => a,
        Err(wait) => {
            return Ok(Either::Right(result(
                Status::TooManyRequests,
                "Please wait",
                &throttled_message(wait),
            )))
        }
    };
    let browser = cookies.get(FLOW_COOKIE).map(|c| c.value().to_owned());
    cookies.remove(
        Cookie::build(FLOW_COOKIE)
            .path("/")
            .secure(true)
            .http_only(true)
            .same_site(SameSite::Lax)
            .build(),
    );
    let taken = state.and_then(|s| pending.take(s, browser.as_deref()));
    let refuse = |why: &str| -> Result<(), ServerError> {
        let mut db = web.pool.get().map_err(|_| ServerError)?;
        link::audit_refused(&mut db, why, ip.as_deref(), now)?;
        Ok(())
    };
    let Some(flow_state) = taken.filter(|_| config.enabled()) else {
        refuse("unknown, used or expired state")?;
        // A state that matches nothing is a guess (or a replay) to slow down; a visit with no
        // state at all guesses nothing.
        if state.is_some() {
            attempt.failed(Instant::now());
        }
        return Ok(Either::Right(result(
            Status::Forbidden,
            "This sign-in has expired",
            "This sign-in link has been used already or is too old. Please start again from the \
             sign-in page.",
        )));
    };
    if error.is_some() || code.is_none() {
        refuse("the provider returned no code")?;
        attempt.succeeded();
        return Ok(Either::Right(result(
            Status::Ok,
            "You have not been signed in",
            "Signing in did not finish, so you have not been signed in. You can start again \
             from the sign-in page.",
        )));
    }
    // RFC 9207: a provider that names itself must be the one the sign-in went to.
    if iss.is_some_and(|i| i.trim_end_matches('/') != config.issuer.trim().trim_end_matches('/')) {
        refuse("the answer came from another issuer")?;
        attempt.failed(Instant::now());
        return Ok(Either::Right(not_checked()));
    }
    let identity = match flow::finish(
        config,
        &web.config.data_dir,
        &flow_state.redirect_url,
        code.unwrap_or_default(),
        &flow_state.nonce,
        &flow_state.pkce_verifier,
    )
    .await
    {
        Ok(identity) => identity,
        Err(why) => {
            refuse(&why.audit_text())?;
            attempt.failed(Instant::now());
            return Ok(Either::Right(match why {
                flow::Refused::Provider(_) => unavailable(),
                _ => not_checked(),
            }));
        }
    };
    let mut db = web.pool.get().map_err(|_| ServerError)?;
    match link::sign_in(&mut db, config, &identity, ip.as_deref(), now)? {
        Ok(started) => {
            attempt.succeeded();
            cookies.add(cookie(started.token));
            Ok(Either::Left(SignedIn(Page::ok(ResultPage {
                session_csrf: String::new(),
                heading: "You are signed in".into(),
                message: "Taking you to your record.".into(),
                signed_in: true,
            }))))
        }
        Err(why) => {
            // The identity was proved: not a guess for the throttle to count.
            attempt.succeeded();
            Ok(Either::Right(not_linked(why, &config.required_level)))
        }
    }
}

fn not_linked(why: NotLinked, required: &str) -> Page<ResultPage> {
    let level = required.trim().to_uppercase();
    let (heading, message) = match why {
        NotLinked::LevelTooLow => (
            "You need to prove who you are first".to_owned(),
            format!(
                "To see your health and care record, your NHS login needs to show that you have \
                 proved who you are to the highest level ({level}). You can do this in the NHS \
                 login settings or the NHS App, then sign in again."
            ),
        ),
        NotLinked::NoNhsNumber => (
            "We could not find your NHS number".into(),
            "The sign-in service did not tell us your NHS number, so we cannot find your \
             record. Please contact your GP practice."
                .into(),
        ),
        NotLinked::Unverified => (
            "We cannot show your record yet".into(),
            "We have a record with your NHS number, but your NHS number has not been confirmed \
             in it yet, so we cannot be sure it is yours. Please ask your GP practice or care \
             team to check your details; you can then sign in again."
                .into(),
        ),
        NotLinked::Merged => (
            "Your record has moved".into(),
            "The record with your NHS number has been combined with another record, and we \
             cannot be sure which one is yours. Please ask your GP practice or care team to \
             check your details."
                .into(),
        ),
        NotLinked::NoRecord => (
            "We have no record for you".into(),
            "None of the health and care services that share records here holds a record with \
             your NHS number. If you think they should, please contact your GP practice."
                .into(),
        ),
        NotLinked::MoreThanOne => (
            "We cannot show your record yet".into(),
            "More than one record has your NHS number, so we cannot be sure which is yours. \
             Please ask your GP practice or care team to check your details."
                .into(),
        ),
    };
    result(Status::Ok, &heading, &message)
}
