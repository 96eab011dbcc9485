//! Who is asking the FHIR API, and the one place that decides whose record they may read.
//!
//! [`FhirRequest`] accepts a bearer token (`Authorization: Bearer <token>`, looked up by its
//! SHA-256 hash) or, failing that, a signed-in browser session. A missing, unknown or revoked
//! token, or a disabled user, is 401; a role that may not open records is 403, as in the UI.
//! What a caller sees of a person is the access gate's decision, as for the pages.

use super::outcome::{note, FhirError};
use crate::access::{secret, Activity, Opened, Profile, Visible};
use crate::audit::{Action, Actor};
use crate::store::{Store, UserRow};
use crate::web::guards::{Session, SESSION_COOKIE};
use crate::web::pool::StoreManager;
use crate::web::Web;
use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::State;

/// Where the API lives (`[web] public_url`, or the listen address by default), and the
/// caller's query parameters. Also refuses any `_format` but JSON, so XML is never silently
/// answered with JSON.
pub struct Base {
    /// `https://host:port/fhir`, for `fullUrl`s.
    pub url: String,
    /// The request as an absolute URL, for a Bundle's `self` link.
    pub self_url: String,
    /// Decoded query parameters, in order, without `_format`.
    pub params: Vec<(String, String)>,
}

impl Base {
    /// The query parameters, refusing any not in `known` (FHIR says a server may ignore them,
    /// but a silently ignored filter returns more data than the caller asked for).
    pub fn params(&self, known: &[&str]) -> Result<&[(String, String)], FhirError> {
        match self
            .params
            .iter()
            .find(|(k, _)| !known.contains(&k.as_str()))
        {
            Some((k, _)) => Err(FhirError::not_supported(format!(
                "The search parameter '{}' is not supported here.",
                super::outcome::printable(k)
            ))),
            None => Ok(&self.params),
        }
    }
}

/// Whether a `_format` value asks for JSON. An unescaped `+` arrives decoded as a space.
fn json_format(value: &str) -> bool {
    let mime = value.split(';').next().unwrap_or("").trim();
    matches!(
        mime.to_ascii_lowercase().replace(' ', "+").as_str(),
        "json" | "application/json" | "application/fhir+json"
    )
}

/// Whether an `Accept` header admits JSON (no header admits anything).
fn accepts_json(accept: Option<&str>) -> bool {
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return true;
    };
    accept.split(',').any(|item| {
        let mime = item.split(';').next().unwrap_or("").trim();
        json_format(mime) || matches!(mime, "*/*" | "application/*")
    })
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Base {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        if !accepts_json(req.headers().get_one("Accept")) {
            note(
                req,
                "not-supported",
                "Only JSON (application/fhir+json) is served.",
            );
            return Outcome::Error((Status::NotAcceptable, ()));
        }
        let mut params = Vec::new();
        for (k, v) in req.uri().query().iter().flat_map(|q| q.segments()) {
            if k == "_format" {
                if !json_format(v) {
                    note(
                        req,
                        "not-supported",
                        "Only JSON (_format=json) is supported.",
                    );
                    return Outcome::Error((Status::NotAcceptable, ()));
                }
            } else {
                params.push((k.to_owned(), v.to_owned()));
            }
        }
        let Outcome::Success(web) = req.guard::<&State<Web>>().await else {
            return Outcome::Error((Status::InternalServerError, ()));
        };
        // Never the request's Host header: a client could point every link elsewhere.
        let config = req.rocket().config();
        let listening = web
            .peers
            .public_address()
            .unwrap_or(std::net::SocketAddr::new(config.address, config.port));
        let origin = web.config.web.public_base(listening.ip(), listening.port());
        Outcome::Success(Base {
            url: format!("{origin}/fhir"),
            self_url: format!("{origin}{}", req.uri()),
            params,
        })
    }
}

/// An authenticated caller whose role may read patient data, with a database connection.
pub struct FhirRequest {
    pub user: UserRow,
    pub profile: Profile,
    pub ip: Option<String>,
    pub db: r2d2::PooledConnection<StoreManager>,
    pub base: Base,
}

fn refuse(
    req: &Request<'_>,
    status: Status,
    code: &'static str,
    text: &str,
) -> Outcome<FhirRequest, ()> {
    note(req, code, text);
    Outcome::Error((status, ()))
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for FhirRequest {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        let Outcome::Success(web) = req.guard::<&State<Web>>().await else {
            return Outcome::Error((Status::InternalServerError, ()));
        };
        let (user, profile, db) = match req.headers().get_one("Authorization") {
            Some(header) => {
                let token = header
                    .split_once(' ')
                    .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                    .map(|(_, token)| token.trim())
                    .filter(|t| !t.is_empty());
                let Some(token) = token else {
                    return refuse(
                        req,
                        Status::Unauthorized,
                        "login",
                        "Use Authorization: Bearer <token>.",
                    );
                };
                let Ok(db) = web.pool.get() else {
                    return Outcome::Error((Status::ServiceUnavailable, ()));
                };
                let now = web.clock.now();
                let now_text = crate::access::users::text(now);
                let (token_use, user, profile) =
                    match db.user_by_api_token(&secret::token_hash(token), &now_text) {
                        Ok(Some((t, u, Some(p)))) if !u.disabled => (t, u, p),
                        Ok(_) => return refuse(
                            req,
                            Status::Unauthorized,
                            "login",
                            "The token is not valid (unknown, revoked, expired, or its user is disabled).",
                        ),
                        Err(e) => {
                            log::error!("token lookup failed: {}", e.operator_summary());
                            return Outcome::Error((Status::InternalServerError, ()));
                        }
                    };
                let mut db = db;
                // The last use is kept to the minute: a busy client writes once a minute, and
                // its other requests take no write lock (they never wait for an import's).
                let minute_ago = crate::access::users::text(now - chrono::Duration::minutes(1));
                let touched = match token_use.is_stale(&minute_ago) {
                    true => db.begin().and_then(|tx| {
                        tx.touch_api_token(token_use.id, &now_text, &minute_ago)?;
                        tx.commit()
                    }),
                    false => Ok(()),
                };
                if let Err(e) = touched {
                    log::error!("token update failed: {}", e.operator_summary());
                    return Outcome::Error((Status::InternalServerError, ()));
                }
                (user, profile, db)
            }
            None if req.cookies().get(SESSION_COOKIE).is_some() => {
                match Session::from_request(req).await {
                    Outcome::Success(s) => (s.row.user, s.profile, s.db),
                    Outcome::Error((status, ())) => return Outcome::Error((status, ())),
                    Outcome::Forward(status) => return Outcome::Forward(status),
                }
            }
            None => return Outcome::Error((Status::Unauthorized, ())),
        };
        if !web.gate.allows(&profile, Activity::ViewRecord) {
            return refuse(
                req,
                Status::Forbidden,
                "forbidden",
                "Your role does not allow reading patient data.",
            );
        }
        let base = match Base::from_request(req).await {
            Outcome::Success(b) => b,
            Outcome::Error(e) => return Outcome::Error(e),
            Outcome::Forward(f) => return Outcome::Forward(f),
        };
        Outcome::Success(FhirRequest {
            user,
            profile,
            ip: crate::web::address::client_address(req, web).map(|ip| ip.to_string()),
            db,
            base,
        })
    }
}

impl FhirRequest {
    pub fn store(&self) -> &Store {
        &self.db
    }

    /// A person id from a Patient id (`person-N`, or `Patient/person-N`).
    fn person_number(id: &str) -> Option<i64> {
        let id = id.strip_prefix("Patient/").unwrap_or(id);
        id.strip_prefix("person-")
            .and_then(|n| n.parse::<i64>().ok())
    }

    /// The record behind a Patient id as the caller may see it: the one 404 alike for a
    /// malformed id, an unknown person and a person the caller has no relationship with.
    /// Merged ids resolve to the surviving person.
    pub fn record(&self, web: &Web, id: &str) -> Result<Visible, FhirError> {
        let Some(n) = Self::person_number(id) else {
            return Err(FhirError::unknown_patient(id));
        };
        match web
            .gate
            .open_person(self.store(), &self.profile, n, web.clock.now(), false)?
        {
            Opened::Record(v) => Ok(*v),
            Opened::NoAccess { .. } => Err(FhirError::unknown_patient(id)),
        }
    }

    /// Whether the caller's role may do `activity`; 403 when not.
    pub fn require(&self, web: &Web, activity: Activity) -> Result<(), FhirError> {
        if web.gate.allows(&self.profile, activity) {
            return Ok(());
        }
        Err(FhirError::new(
            Status::Forbidden,
            "forbidden",
            "Your role does not allow this.",
        ))
    }

    /// Records that these people's data is being returned, one event each, committed before
    /// the response is built; a failure fails the request.
    pub fn audit(
        &mut self,
        web: &Web,
        action: Action,
        people: &[i64],
        detail: &str,
    ) -> Result<(), FhirError> {
        let actor = Actor::token(&self.profile, self.ip.as_deref());
        self.db.audit_seen(
            &actor,
            action,
            people,
            Some(detail),
            None,
            &web.clock.now_text(),
        )?;
        Ok(())
    }
}
