//! Who is asking. A request guard in a handler's signature is the only way to get a signed-in
//! user, and the guards below ask the access policy which roles may use which pages.

use super::Web;
use crate::access::{secret, Activity, Profile};
use crate::audit::{Action, Actor};
use crate::store::{AuditEvent, SessionRow, Store};
use chrono::{DateTime, Utc};
use rocket::http::{Cookie, SameSite, Status};
use rocket::request::{FromRequest, Outcome, Request};
use rocket::State;

/// The session cookie. `__Host-` binds it to this host, over HTTPS, for the whole site.
pub const SESSION_COOKIE: &str = "__Host-sharedcare";

/// A signed-in user with a live session, and a database connection for the request.
pub struct Session {
    pub row: SessionRow,
    /// The role profile this session acts in.
    pub profile: Profile,
    pub ip: Option<String>,
    pub db: r2d2::PooledConnection<super::pool::StoreManager>,
    /// The notification inboxes this profile reads (see `notify::inbox`).
    pub inboxes: Vec<String>,
    /// The citizens' side's staff pages this profile may use, for the page header.
    pub citizen_links: Vec<crate::web::citizen::staff::HeaderLink>,
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

    /// Who this session is, as the audit trail names them.
    pub fn actor(&self) -> Actor {
        Actor::session(&self.profile, self.ip.as_deref())
    }

    /// Writes one event by this session's user in its own committed transaction, before the
    /// response that depends on it is sent.
    pub fn audit(
        &mut self,
        web: &Web,
        action: Action,
        person_id: Option<i64>,
        detail: &str,
        outcome: &str,
    ) -> crate::error::Result<()> {
        let actor = self.actor();
        self.store_mut().audit_now(
            &AuditEvent {
                person_id,
                detail: Some(detail),
                outcome,
                ..actor.event(action)
            },
            &web.clock.now_text(),
        )
    }
}

/// The oldest last use and the oldest start a session may have and still be live, in the
/// stored text form: sessions are ended lazily, so "not ended" alone overcounts.
pub fn live_since(web: &Web) -> (String, String) {
    let now = web.clock.now();
    let text = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    (
        text(now - chrono::Duration::minutes(web.config.web.session_idle_minutes)),
        text(now - chrono::Duration::hours(web.config.web.session_max_hours)),
    )
}

/// The session cookie as set at login.
pub fn session_cookie(token: String) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, token))
        .path("/")
        .secure(true)
        .http_only(true)
        .same_site(SameSite::Strict)
        .build()
}

/// The removal of one of our `__Host-` cookies. A browser obeys a `Set-Cookie` for a
/// `__Host-` name only when it is `Secure` with path `/`, the removal included; without them
/// the old cookie stays.
pub fn removal(name: &'static str) -> Cookie<'static> {
    Cookie::build(name)
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
        // A removed profile ends its sessions; an unknown role (a policy that dropped it) may
        // do nothing, and is treated the same way.
        let profile = row
            .profile
            .clone()
            .filter(|p| web.gate.policy.role(&p.role).is_some());
        let Some(profile) = profile.filter(|_| !row.user.disabled && !expired(&row, now, web))
        else {
            if let Ok(tx) = db.begin() {
                let _ = tx
                    .end_session(row.id, &web.clock.now_text())
                    .and_then(|()| tx.commit());
            }
            req.cookies().remove(removal(SESSION_COOKIE));
            return Outcome::Error((Status::Unauthorized, ()));
        };
        // The last use is kept to the minute, as a token's is: a page view within a minute of
        // the last recorded one writes nothing to the records database (idle sessions may so
        // end up to a minute early).
        let minute_ago = crate::access::users::text(now - chrono::Duration::minutes(1));
        let touched = match row.last_seen_at < minute_ago {
            true => db.begin().and_then(|tx| {
                tx.touch_session(row.id, &web.clock.now_text())?;
                tx.commit()
            }),
            false => Ok(()),
        };
        if let Err(e) = touched {
            log::error!("session update failed: {}", e.operator_summary());
            return Outcome::Error((Status::InternalServerError, ()));
        }
        let reviews_alerts = web.gate.allows(&profile, Activity::ReviewAlerts);
        Outcome::Success(Session {
            inboxes: crate::notify::inbox::inboxes_of(&profile, reviews_alerts),
            citizen_links: crate::web::citizen::staff::header_links(web, &profile),
            row,
            profile,
            ip: super::address::client_address(req, web).map(|ip| ip.to_string()),
            db,
        })
    }
}

impl Session {
    /// Whether this session's role may do `activity`.
    pub fn may(&self, web: &Web, activity: Activity) -> bool {
        web.gate.allows(&self.profile, activity)
    }
}

/// Defines a guard for a signed-in user whose role may do `$activity`; others get 403.
macro_rules! activity_guard {
    ($(#[$meta:meta])* $name:ident, $activity:expr) => {
        $(#[$meta])*
        pub struct $name(pub Session);

        #[rocket::async_trait]
        impl<'r> FromRequest<'r> for $name {
            type Error = ();

            async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
                let Outcome::Success(web) = req.guard::<&State<Web>>().await else {
                    return Outcome::Error((Status::InternalServerError, ()));
                };
                match Session::from_request(req).await {
                    Outcome::Success(s) if s.may(web, $activity) => Outcome::Success($name(s)),
                    Outcome::Success(_) => Outcome::Error((Status::Forbidden, ())),
                    Outcome::Error(e) => Outcome::Error(e),
                    Outcome::Forward(f) => Outcome::Forward(f),
                }
            }
        }
    };
}

activity_guard!(
    /// A signed-in user whose role may search for people (what each hit and record shows is
    /// then the gate's decision).
    Clinical,
    Activity::Search
);

activity_guard!(
    /// A signed-in administrator: the feed pages (sources, files, rejects and their raw
    /// content). An administrator sees no patient record; raw feed content is shown to them
    /// only because fixing feeds is their job, and each such view is audited.
    Admin,
    Activity::ManageSources
);

activity_guard!(
    /// Users, their role profiles and sessions.
    UserAdmin,
    Activity::ManageUsers
);

activity_guard!(
    /// The matching review queue: demographics only, never entries.
    DataQuality,
    Activity::ReviewMatches
);

activity_guard!(
    /// Recording and withdrawing objections to sharing.
    ObjectionRecorder,
    Activity::RecordObjections
);

activity_guard!(
    /// Aggregate figures, nothing identifiable.
    Analyst,
    Activity::Dashboards
);

activity_guard!(
    /// The privacy officer's alert queue.
    AlertReviewer,
    Activity::ReviewAlerts
);

activity_guard!(
    /// "Who looked at this person" and "what did this user look at".
    Auditor,
    Activity::AuditReports
);

activity_guard!(
    /// Seeing a person through another role profile's eyes (information governance).
    RoleViewer,
    Activity::ViewAsRole
);

activity_guard!(
    /// Issuing citizens their invitation codes (and lost-device resets).
    CitizenInviter,
    Activity::InviteCitizens
);

activity_guard!(
    /// Recording and ending proxy access (one person acting for another on the citizens' pages).
    ProxyRecorder,
    Activity::RecordProxies
);
