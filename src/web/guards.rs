//! Who is asking. A request guard in a handler's signature is the only way to get a signed-in
//! user, and the guards below are the one place that decides which roles may use which pages.

use super::Web;
use crate::access::{secret, Role};
use crate::store::{SessionRow, Store};
use chrono::{DateTime, Utc};
use rocket::http::{Cookie, SameSite, Status};
use rocket::request::{FromRequest, Outcome, Request};
use rocket::State;

/// The session cookie. `__Host-` binds it to this host, over HTTPS, for the whole site.
pub const SESSION_COOKIE: &str = "__Host-sharedcare";

/// A signed-in user with a live session, and a database connection for the request.
pub struct Session {
    pub row: SessionRow,
    pub role: Role,
    pub ip: Option<String>,
    pub db: r2d2::PooledConnection<super::pool::StoreManager>,
}

impl Session {
    pub fn username(&self) -> &str {
        &self.row.user.username
    }

    /// Checks a form's CSRF token against the session's.
    pub fn csrf_ok(&self, token: &str) -> bool {
        secret::equal(token, &self.row.csrf_token)
    }

    pub fn store(&self) -> &Store {
        &self.db
    }

    pub fn store_mut(&mut self) -> &mut Store {
        &mut self.db
    }
}

/// A signed-in user whose role may see patient data.
pub struct Clinical(pub Session);

/// The session cookie as set at login.
pub fn session_cookie(token: String) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, token))
        .path("/")
        .secure(true)
        .http_only(true)
        .same_site(SameSite::Strict)
        .build()
}

fn expired(row: &SessionRow, now: DateTime<Utc>, web: &Web) -> bool {
    let parse = |t: &str| {
        DateTime::parse_from_rfc3339(t)
            .map(|d| d.with_timezone(&Utc))
            .ok()
    };
    let idle = chrono::Duration::minutes(web.config.web.session_idle_minutes);
    let absolute = chrono::Duration::hours(web.config.web.session_max_hours);
    match (parse(&row.last_seen_at), parse(&row.created_at)) {
        (Some(seen), Some(created)) => now - seen > idle || now - created > absolute,
        _ => true,
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Session {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        let Outcome::Success(web) = req.guard::<&State<Web>>().await else {
            return Outcome::Error((Status::InternalServerError, ()));
        };
        let Some(token) = req
            .cookies()
            .get(SESSION_COOKIE)
            .map(|c| c.value().to_owned())
        else {
            return Outcome::Error((Status::Unauthorized, ()));
        };
        let Ok(mut db) = web.pool.get() else {
            return Outcome::Error((Status::ServiceUnavailable, ()));
        };
        let row = match db.session_by_token(&secret::token_hash(&token)) {
            Ok(Some(row)) => row,
            Ok(None) => return Outcome::Error((Status::Unauthorized, ())),
            Err(e) => {
                log::error!("session lookup failed: {}", e.operator_summary());
                return Outcome::Error((Status::InternalServerError, ()));
            }
        };
        let now = web.clock.now();
        let Some(role) = Role::parse(&row.user.role) else {
            return Outcome::Error((Status::Forbidden, ()));
        };
        if row.user.disabled || expired(&row, now, web) {
            if let Ok(tx) = db.begin() {
                let _ = tx
                    .end_session(row.id, &web.clock.now_text())
                    .and_then(|()| tx.commit());
            }
            req.cookies().remove(Cookie::from(SESSION_COOKIE));
            return Outcome::Error((Status::Unauthorized, ()));
        }
        let touched = db.begin().and_then(|tx| {
            tx.touch_session(row.id, &web.clock.now_text())?;
            tx.commit()
        });
        if let Err(e) = touched {
            log::error!("session update failed: {}", e.operator_summary());
            return Outcome::Error((Status::InternalServerError, ()));
        }
        Outcome::Success(Session {
            row,
            role,
            ip: req.client_ip().map(|ip| ip.to_string()),
            db,
        })
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Clinical {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        match Session::from_request(req).await {
            Outcome::Success(s) if s.role.sees_patient_data() => Outcome::Success(Clinical(s)),
            Outcome::Success(_) => Outcome::Error((Status::Forbidden, ())),
            Outcome::Error(e) => Outcome::Error(e),
            Outcome::Forward(f) => Outcome::Forward(f),
        }
    }
}

/// A signed-in administrator: the feed pages (sources, files, rejects and their raw content).
/// An administrator sees no patient record; raw feed content is shown to them only because
/// fixing feeds is their job, and each such view is audited.
pub struct Admin(pub Session);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Admin {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        match Session::from_request(req).await {
            Outcome::Success(s) if s.role == Role::Admin => Outcome::Success(Admin(s)),
            Outcome::Success(_) => Outcome::Error((Status::Forbidden, ())),
            Outcome::Error(e) => Outcome::Error(e),
            Outcome::Forward(f) => Outcome::Forward(f),
        }
    }
}
