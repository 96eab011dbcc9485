//! Signing in and out.
//!
//! Sign-in is slowed after failures by `throttle` (per account and address, and per address,
//! with the address from `address`); a correct password from an address that has not been
//! failing is never refused because of someone else's guesses. Where to go after signing in
//! (`next`) is checked before anything is written: only a path on this site, else `/`.

use super::address::ClientAddress;
use super::guards::{removal, session_cookie, Session, SESSION_COOKIE};
use super::pages::{LoginPage, Page};
use super::{ServerError, Web};
use crate::access::{password, secret};
use crate::audit::Action;
use crate::store::AuditEvent;
use rocket::form::{Form, FromForm};
use rocket::http::{Cookie, CookieJar, SameSite};
use rocket::response::Redirect;
use rocket::{get, post, routes, Either, Route, State};
use std::time::Instant;

/// Guards the login form itself against cross-site posting (there is no session yet).
const LOGIN_CSRF_COOKIE: &str = "__Host-sharedcare-login";

pub fn public_routes() -> Vec<Route> {
    routes![login_form, login]
}

pub fn routes() -> Vec<Route> {
    routes![logout, switch_profile]
}

fn login_csrf(cookies: &CookieJar<'_>) -> Result<String, ServerError> {
    let token =
        secret::new_token().map_err(|e| ServerError::from(crate::error::Error::Invalid(e)))?;
    cookies.add(
        Cookie::build((LOGIN_CSRF_COOKIE, token.clone()))
            .path("/")
            .secure(true)
            .http_only(true)
            .same_site(SameSite::Strict),
    );
    Ok(token)
}

/// Only a path on this site may follow a login; anything else goes to `/`.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if is_local_path(n) => n.to_owned(),
        _ => "/".to_owned(),
    }
}

/// A path on this site (`/…`, not `//host…`) that is already a valid URI, so a redirect to
/// it can never fail: visible ASCII only, every `%` escape complete, no backslash (some
/// browsers read `/\host` as `//host`).
fn is_local_path(n: &str) -> bool {
    let bytes = n.as_bytes();
    let escapes_complete = bytes.iter().enumerate().all(|(i, b)| {
        *b != b'%'
            || bytes
                .get(i + 1..i + 3)
                .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    });
    n.starts_with('/')
        && !n.starts_with("//")
        && n.len() <= 2048
        && bytes.iter().all(|b| b.is_ascii_graphic() && *b != b'\\')
        && escapes_complete
        && rocket::http::uri::Origin::parse(n).is_ok()
}

#[get("/login?<next>")]
fn login_form(next: Option<&str>, cookies: &CookieJar<'_>) -> Result<Page<LoginPage>, ServerError> {
    Ok(Page::ok(LoginPage {
        csrf: login_csrf(cookies)?,
        next: safe_next(next),
        message: None,
    }))
}

#[derive(FromForm)]
pub struct LoginForm<'r> {
    username: &'r str,
    password: &'r str,
    csrf: &'r str,
    next: Option<&'r str>,
}

#[post("/login", data = "<form>")]
fn login(
    form: Form<LoginForm<'_>>,
    cookies: &CookieJar<'_>,
    address: ClientAddress,
    web: &State<Web>,
) -> Result<Either<Redirect, Page<LoginPage>>, ServerError> {
    let next = safe_next(form.next);
    let refuse = |message: &str| -> Result<Either<Redirect, Page<LoginPage>>, ServerError> {
        Ok(Either::Right(Page::ok(LoginPage {
            csrf: login_csrf(cookies)?,
            next: next.clone(),
            message: Some(message.to_owned()),
        })))
    };
    let csrf_ok = cookies
        .get(LOGIN_CSRF_COOKIE)
        .is_some_and(|c| secret::equal(c.value(), form.csrf));
    if !csrf_ok {
        return refuse("The form had expired. Please sign in again.");
    }
    let ip_text = address.0.map(|i| i.to_string());
    let attempt = match web.throttle.begin(form.username, address.0, Instant::now()) {
        Ok(attempt) => attempt,
        Err(wait) => return refuse(&throttled_message(wait)),
    };
    let mut db = web.pool.get().map_err(|_| ServerError)?;
    let user = db.user_by_name(form.username)?;
    let stored = user
        .as_ref()
        .map_or(password::dummy_hash(), |u| u.password_hash.as_str());
    let password_ok = password::verify(form.password, stored);
    let now_text = web.clock.now_text();
    // A user whose every role profile has been removed may not sign in, like a disabled one.
    let profile = match user.as_ref().filter(|u| password_ok && !u.disabled) {
        Some(u) => db.profiles_of(u)?.into_iter().next(),
        None => None,
    };
    let tx = db.begin()?;
    match user.zip(profile) {
        Some((u, profile)) => {
            let token = secret::new_token()
                .map_err(|e| ServerError::from(crate::error::Error::Invalid(e)))?;
            let csrf = secret::new_token()
                .map_err(|e| ServerError::from(crate::error::Error::Invalid(e)))?;
            tx.start_session(
                &secret::token_hash(&token),
                u.id,
                profile.id,
                &csrf,
                ip_text.as_deref(),
                &now_text,
            )?;
            tx.audit(
                &AuditEvent {
                    user_id: Some(u.id),
                    actor: Some(&u.username),
                    role: Some(&profile.role),
                    profile: Some(&profile.label()),
                    org: Some(&profile.org),
                    outcome: "ok",
                    ip: ip_text.as_deref(),
                    ..AuditEvent::new(Action::Login)
                },
                &now_text,
            )?;
            tx.commit()?;
            attempt.succeeded();
            cookies.remove(removal(LOGIN_CSRF_COOKIE));
            cookies.add(session_cookie(token));
            Ok(Either::Left(Redirect::to(next)))
        }
        None => {
            tx.audit(
                &AuditEvent {
                    actor: Some(form.username),
                    outcome: "failed",
                    ip: ip_text.as_deref(),
                    ..AuditEvent::new(Action::Login)
                },
                &now_text,
            )?;
            tx.commit()?;
            attempt.failed(Instant::now());
            refuse("Username or password not recognised.")
        }
    }
}

/// What a throttled sign-in (or break-glass password) is told.
pub fn throttled_message(wait: std::time::Duration) -> String {
    format!(
        "Too many failed sign-ins from here. Please wait {} seconds and try again.",
        wait.as_secs().max(1)
    )
}

#[derive(FromForm)]
pub struct CsrfForm<'r> {
    pub csrf: &'r str,
}

#[post("/logout", data = "<form>")]
fn logout(
    mut session: Session,
    form: Form<CsrfForm<'_>>,
    cookies: &CookieJar<'_>,
    web: &State<Web>,
) -> Result<Redirect, rocket::http::Status> {
    if !session.csrf_ok(form.csrf) {
        return Err(rocket::http::Status::Forbidden);
    }
    let now = web.clock.now_text();
    let (id, user_id) = (session.row.id, session.row.user.id);
    let (actor, role, org, ip) = (
        session.row.user.username.clone(),
        session.profile.role.clone(),
        session.profile.org.clone(),
        session.ip.clone(),
    );
    let done = session.store_mut().begin().and_then(|tx| {
        tx.end_session(id, &now)?;
        tx.audit(
            &AuditEvent {
                user_id: Some(user_id),
                actor: Some(&actor),
                role: Some(&role),
                org: Some(&org),
                outcome: "ok",
                ip: ip.as_deref(),
                ..AuditEvent::new(Action::Logout)
            },
            &now,
        )?;
        tx.commit()
    });
    if done.is_err() {
        return Err(rocket::http::Status::InternalServerError);
    }
    cookies.remove(removal(SESSION_COOKIE));
    Ok(Redirect::to("/login"))
}

#[derive(FromForm)]
pub struct ProfileForm<'r> {
    pub csrf: &'r str,
    pub profile: i64,
}

/// Switches the session to another of the user's role profiles (audited).
#[post("/profile", data = "<form>")]
fn switch_profile(
    mut session: Session,
    form: Form<ProfileForm<'_>>,
    web: &State<Web>,
) -> Result<Redirect, rocket::http::Status> {
    if !session.csrf_ok(form.csrf) {
        return Err(rocket::http::Status::Forbidden);
    }
    let user = session.row.user.clone();
    let profiles = session
        .store()
        .profiles_of(&user)
        .map_err(|_| rocket::http::Status::InternalServerError)?;
    let Some(chosen) = profiles.into_iter().find(|p| p.id == form.profile) else {
        return Err(rocket::http::Status::Forbidden);
    };
    let now = web.clock.now_text();
    let (id, ip, from) = (session.row.id, session.ip.clone(), session.profile.label());
    let detail = format!("from {from} to {}", chosen.label());
    session
        .store_mut()
        .begin()
        .and_then(|tx| {
            tx.set_session_profile(id, chosen.id)?;
            tx.audit(
                &AuditEvent {
                    user_id: Some(user.id),
                    actor: Some(&user.username),
                    role: Some(&chosen.role),
                    profile: Some(&chosen.label()),
                    org: Some(&chosen.org),
                    detail: Some(&detail),
                    outcome: "ok",
                    ip: ip.as_deref(),
                    ..AuditEvent::new(Action::SwitchProfile)
                },
                &now,
            )?;
            tx.commit()
        })
        .map_err(|e| {
            log::error!("switching profile failed: {}", e.operator_summary());
            rocket::http::Status::InternalServerError
        })?;
    Ok(Redirect::to("/"))
}
