//! Who is asking, on the citizens' side: a session of a citizen's own, under its own cookie,
//! with a shorter idle timeout than staff sessions. A staff session is no citizen session and a
//! citizen session is no staff session (`web::guards::Session` reads only the staff cookie), so
//! neither can use the other's pages. The person a citizen session may see is its account's,
//! and nothing a request says can change that.

use crate::access::secret;
use crate::store::CitizenSessionRow;
use crate::web::Web;
use chrono::{DateTime, Utc};
use rocket::http::{Cookie, SameSite, Status};
use rocket::request::{FromRequest, Outcome, Request};
use rocket::State;

/// The citizens' session cookie, apart from staff's `__Host-sharedcare`.
pub const CITIZEN_COOKIE: &str = "__Host-sharedcare-citizen";

/// A signed-in citizen whose second factor is confirmed.
pub struct Citizen {
    pub row: CitizenSessionRow,
    /// The live person whose record the pages show: the citizen's own, or the person they act
    /// for through a proxy relationship in force today (checked on every request).
    pub person_id: i64,
    /// The live person this citizen is (a merged-away person leads to the one it joined).
    pub own_person_id: i64,
    /// The proxy relationship the session acts through, if any.
    pub acting: Option<crate::store::ProxyRow>,
    pub ip: Option<String>,
    pub db: r2d2::PooledConnection<crate::web::pool::StoreManager>,
}

/// A citizen who has redeemed an invitation code and must now set up their second factor.
pub struct CitizenSetup(pub Citizen);

impl Citizen {
    pub fn csrf_ok(&self, token: &str) -> bool {
        secret::equal(token, &self.row.csrf_token)
    }

    pub fn actor(&self) -> crate::audit::Actor {
        crate::citizen::invite::actor(self.row.account.id, self.ip.as_deref())
    }
}

pub fn cookie(token: String) -> Cookie<'static> {
    Cookie::build((CITIZEN_COOKIE, token))
        .path("/")
        .secure(true)
        .http_only(true)
        .same_site(SameSite::Strict)
        .build()
}

fn expired(row: &CitizenSessionRow, now: DateTime<Utc>, web: &Web) -> bool {
    let parse = |t: &str| {
        DateTime::parse_from_rfc3339(t)
            .map(|d| d.with_timezone(&Utc))
            .ok()
    };
    let idle = chrono::Duration::minutes(web.config.citizen.session_idle_minutes);
    let absolute = chrono::Duration::hours(web.config.citizen.session_max_hours);
    match (parse(&row.last_seen_at), parse(&row.created_at)) {
        (Some(seen), Some(created)) => now - seen > idle || now - created > absolute,
        _ => true,
    }
}

async fn load(req: &Request<'_>, stage: &str) -> Outcome<Citizen, ()> {
    let Outcome::Success(web) = req.guard::<&State<Web>>().await else {
        return Outcome::Error((Status::InternalServerError, ()));
    };
    let Some(token) = req
        .cookies()
        .get(CITIZEN_COOKIE)
        .map(|c| c.value().to_owned())
    else {
        return Outcome::Error((Status::Unauthorized, ()));
    };
    let Ok(db) = web.pool.get() else {
        return Outcome::Error((Status::ServiceUnavailable, ()));
    };
    let row = match db.citizen_session(&secret::token_hash(&token)) {
        Ok(Some(row)) => row,
        Ok(None) => return Outcome::Error((Status::Unauthorized, ())),
        Err(e) => {
            log::error!("citizen session lookup failed: {}", e.operator_summary());
            return Outcome::Error((Status::InternalServerError, ()));
        }
    };
    let now = web.clock.now();
    let person = match db.resolve_person(row.account.person_id) {
        Ok(p) => p,
        Err(e) => {
            log::error!("citizen session lookup failed: {}", e.operator_summary());
            return Outcome::Error((Status::InternalServerError, ()));
        }
    };
    let mut db = db;
    let Some(person_id) = person.filter(|_| !expired(&row, now, web)) else {
        if let Ok(tx) = db.begin() {
            let _ = tx
                .end_citizen_session(row.id, &web.clock.now_text())
                .and_then(|()| tx.commit());
        }
        req.cookies().remove(
            Cookie::build(CITIZEN_COOKIE)
                .path("/")
                .secure(true)
                .http_only(true)
                .same_site(SameSite::Strict)
                .build(),
        );
        return Outcome::Error((Status::Unauthorized, ()));
    };
    if row.stage != stage {
        return Outcome::Error((Status::Forbidden, ()));
    }
    let acting = match acting_for(&mut db, &row, person_id, now) {
        Ok(a) => a,
        Err(e) => {
            log::error!("citizen proxy lookup failed: {}", e.operator_summary());
            return Outcome::Error((Status::InternalServerError, ()));
        }
    };
    let minute_ago =
        (now - chrono::Duration::minutes(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    if row.last_seen_at < minute_ago {
        let touched = db.begin().and_then(|tx| {
            tx.touch_citizen_session(row.id, &web.clock.now_text())?;
            tx.commit()
        });
        if let Err(e) = touched {
            log::error!("citizen session update failed: {}", e.operator_summary());
            return Outcome::Error((Status::InternalServerError, ()));
        }
    }
    Outcome::Success(Citizen {
        row,
        person_id: acting.as_ref().map_or(person_id, |(live, _)| *live),
        own_person_id: person_id,
        acting: acting.map(|(_, p)| p),
        ip: crate::web::address::client_address(req, web).map(|ip| ip.to_string()),
        db,
    })
}

/// The person the session acts for and the relationship it acts through, when one is in force
/// today; a lapsed or ended one is cleared, and the session is back to the citizen's own record.
fn acting_for(
    db: &mut crate::store::Store,
    row: &CitizenSessionRow,
    own: i64,
    now: DateTime<Utc>,
) -> crate::error::Result<Option<(i64, crate::store::ProxyRow)>> {
    let Some(wanted) = db.citizen_acting_for(row.id)? else {
        return Ok(None);
    };
    let today = now.date_naive().to_string();
    for p in db.proxies_of(own, &today)? {
        if let Some(live) = db.resolve_person(p.for_person_id)? {
            if live == wanted || p.for_person_id == wanted {
                return Ok(Some((live, p)));
            }
        }
    }
    let tx = db.begin()?;
    tx.set_citizen_acting_for(row.id, None)?;
    tx.commit()?;
    Ok(None)
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Citizen {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        load(req, "full").await
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for CitizenSetup {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        load(req, "setup").await.map(CitizenSetup)
    }
}
