//! Signing in as a citizen: redeeming an invitation code, setting up the second factor,
//! signing in with password and code, signing out. Wrong codes and failed sign-ins are slowed
//! by a throttle of the citizens' own (per address, and per sign-in name and address), as
//! staff sign-in is.

use super::guard::{cookie, Citizen, CitizenSetup, CITIZEN_COOKIE};
use super::CitizenThrottle;
use crate::access::secret;
use crate::audit::Action;
use crate::citizen::{invite, signin, totp};
use crate::store::AuditEvent;
use crate::web::address::ClientAddress;
use crate::web::auth::{throttled_message, CsrfForm};
use crate::web::pages::Page;
use crate::web::{ServerError, Web};
use askama::Template;
use askama_web::WebTemplate;
use rocket::form::{Form, FromForm};
use rocket::http::{Cookie, CookieJar, SameSite};
use rocket::response::Redirect;
use rocket::{get, post, routes, Either, Route, State};
use std::time::Instant;

/// Guards the sign-in and set-up forms against cross-site posting (no session yet).
const FORM_COOKIE: &str = "__Host-sharedcare-citizen-form";
/// The throttle's account key for invitation codes: guesses at any code count together.
const CODE_KEY: &str = "invitation code";

pub fn public_routes() -> Vec<Route> {
    routes![login_form, login, start_form, start]
}

pub fn routes() -> Vec<Route> {
    routes![second_factor_form, second_factor, logout]
}

#[derive(Template, WebTemplate)]
#[template(path = "citizen/login.html")]
pub struct LoginPage {
    session_csrf: String,
    csrf: String,
    message: Option<String>,
    /// The OpenID Connect button's words, when that sign-in is set up.
    oidc_label: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "citizen/start.html")]
pub struct StartPage {
    session_csrf: String,
    csrf: String,
    message: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "citizen/second_factor.html")]
pub struct SecondFactorPage {
    session_csrf: String,
    csrf: String,
    secret: String,
    link: String,
    message: Option<String>,
}

fn form_csrf(cookies: &CookieJar<'_>) -> Result<String, ServerError> {
    let token =
        secret::new_token().map_err(|e| ServerError::from(crate::error::Error::Invalid(e)))?;
    cookies.add(
        Cookie::build((FORM_COOKIE, token.clone()))
            .path("/")
            .secure(true)
            .http_only(true)
            .same_site(SameSite::Strict),
    );
    Ok(token)
}

fn form_csrf_ok(cookies: &CookieJar<'_>, given: &str) -> bool {
    cookies
        .get(FORM_COOKIE)
        .is_some_and(|c| secret::equal(c.value(), given))
}

fn oidc_label(web: &Web) -> Option<String> {
    let oidc = &web.config.citizen.oidc;
    oidc.enabled().then(|| oidc.button_label.clone())
}

#[get("/login")]
fn login_form(cookies: &CookieJar<'_>, web: &State<Web>) -> Result<Page<LoginPage>, ServerError> {
    Ok(Page::ok(LoginPage {
        session_csrf: String::new(),
        csrf: form_csrf(cookies)?,
        message: None,
        oidc_label: oidc_label(web),
    }))
}

#[derive(FromForm)]
pub struct LoginForm<'r> {
    username: &'r str,
    password: &'r str,
    code: &'r str,
    csrf: &'r str,
}

#[post("/login", data = "<form>")]
fn login(
    form: Form<LoginForm<'_>>,
    cookies: &CookieJar<'_>,
    address: ClientAddress,
    web: &State<Web>,
    throttle: &State<CitizenThrottle>,
) -> Result<Either<Redirect, Page<LoginPage>>, ServerError> {
    let refuse = |message: String| -> Result<Either<Redirect, Page<LoginPage>>, ServerError> {
        Ok(Either::Right(Page::ok(LoginPage {
            session_csrf: String::new(),
            csrf: form_csrf(cookies)?,
            message: Some(message),
            oidc_label: oidc_label(web),
        })))
    };
    if !form_csrf_ok(cookies, form.csrf) {
        return refuse("The form had expired. Please sign in again.".into());
    }
    let attempt = match throttle.0.begin(form.username, address.0, Instant::now()) {
        Ok(attempt) => attempt,
        Err(wait) => return refuse(throttled_message(wait)),
    };
    let ip = address.0.map(|i| i.to_string());
    let mut db = web.pool.get().map_err(|_| ServerError)?;
    let account = signin::login(
        &mut db,
        form.username,
        form.password,
        form.code,
        ip.as_deref(),
        web.clock.now(),
    )?;
    let Some(account) = account else {
        attempt.failed(Instant::now());
        return refuse(
            "Those details did not match. Check your sign-in name, password and the code \
             your app shows now."
                .into(),
        );
    };
    attempt.succeeded();
    let started = signin::start_session(&mut db, account.id, "full", web.clock.now())?;
    cookies.add(cookie(started.token));
    Ok(Either::Left(Redirect::to("/citizen")))
}

#[get("/start")]
fn start_form(cookies: &CookieJar<'_>) -> Result<Page<StartPage>, ServerError> {
    Ok(Page::ok(StartPage {
        session_csrf: String::new(),
        csrf: form_csrf(cookies)?,
        message: None,
    }))
}

#[derive(FromForm)]
pub struct StartForm<'r> {
    code: &'r str,
    username: &'r str,
    password: &'r str,
    password2: &'r str,
    csrf: &'r str,
}

#[post("/start", data = "<form>")]
fn start(
    form: Form<StartForm<'_>>,
    cookies: &CookieJar<'_>,
    address: ClientAddress,
    web: &State<Web>,
    throttle: &State<CitizenThrottle>,
) -> Result<Either<Redirect, Page<StartPage>>, ServerError> {
    let refuse = |message: String| -> Result<Either<Redirect, Page<StartPage>>, ServerError> {
        Ok(Either::Right(Page::ok(StartPage {
            session_csrf: String::new(),
            csrf: form_csrf(cookies)?,
            message: Some(message),
        })))
    };
    if !form_csrf_ok(cookies, form.csrf) {
        return refuse("The form had expired. Please try again.".into());
    }
    if form.password != form.password2 {
        return refuse("The two passwords were not the same.".into());
    }
    let attempt = match throttle.0.begin(CODE_KEY, address.0, Instant::now()) {
        Ok(attempt) => attempt,
        Err(wait) => {
            return refuse(format!(
                "Too many codes that did not work were tried from here. Please wait {} \
                 seconds and try again.",
                wait.as_secs().max(1)
            ))
        }
    };
    let ip = address.0.map(|i| i.to_string());
    let mut db = web.pool.get().map_err(|_| ServerError)?;
    let redeemed = match invite::redeem(
        &mut db,
        form.code,
        form.username,
        form.password,
        ip.as_deref(),
        web.clock.now(),
    ) {
        Ok(r) => r,
        Err(crate::error::Error::Invalid(why)) => return refuse(capitalised(&why)),
        Err(e) => return Err(e.into()),
    };
    let Ok(redeemed) = redeemed else {
        attempt.failed(Instant::now());
        return refuse(
            "That invitation code did not work. It may have been typed wrongly, used already \
             or expired: ask for a new one if it still does not work."
                .into(),
        );
    };
    attempt.succeeded();
    let started = signin::start_session(&mut db, redeemed.account_id, "setup", web.clock.now())?;
    cookies.add(cookie(started.token));
    Ok(Either::Left(Redirect::to("/citizen/second-factor")))
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), c.as_str()),
        None => String::new(),
    }
}

fn setup_page(citizen: &Citizen, message: Option<String>) -> SecondFactorPage {
    let account = &citizen.row.account;
    SecondFactorPage {
        session_csrf: String::new(),
        csrf: citizen.row.csrf_token.clone(),
        link: totp::setup_link(&account.totp_secret, &account.username),
        secret: account.totp_secret.clone(),
        message,
    }
}

#[get("/second-factor")]
fn second_factor_form(setup: CitizenSetup) -> Page<SecondFactorPage> {
    Page::ok(setup_page(&setup.0, None))
}

#[derive(FromForm)]
pub struct CodeForm<'r> {
    code: &'r str,
    csrf: &'r str,
}

#[post("/second-factor", data = "<form>")]
fn second_factor(
    setup: CitizenSetup,
    form: Form<CodeForm<'_>>,
    web: &State<Web>,
    throttle: &State<CitizenThrottle>,
) -> Result<Either<Redirect, Page<SecondFactorPage>>, ServerError> {
    let mut citizen = setup.0;
    if !citizen.csrf_ok(form.csrf) {
        return Ok(Either::Right(Page::ok(setup_page(
            &citizen,
            Some("The form had expired. Please try again.".into()),
        ))));
    }
    let address = citizen.ip.as_deref().and_then(|i| i.parse().ok());
    let key = format!("second factor {}", citizen.row.account.id);
    let attempt = match throttle.0.begin(&key, address, Instant::now()) {
        Ok(a) => a,
        Err(wait) => {
            return Ok(Either::Right(Page::ok(setup_page(
                &citizen,
                Some(throttled_message(wait)),
            ))))
        }
    };
    let account = citizen.row.account.clone();
    let now = web.clock.now();
    if !signin::accept_code(&mut citizen.db, &account, form.code, now)? {
        attempt.failed(Instant::now());
        return Ok(Either::Right(Page::ok(setup_page(
            &citizen,
            Some("That code did not match. Check the key was typed exactly, then type the code the app shows now.".into()),
        ))));
    }
    attempt.succeeded();
    let actor = citizen.actor();
    let tx = citizen.db.begin()?;
    tx.set_citizen_session_stage(citizen.row.id, "full")?;
    tx.audit(
        &AuditEvent {
            person_id: Some(citizen.person_id),
            detail: Some("second factor set up"),
            ..actor.event(Action::CitizenLogin)
        },
        &web.clock.now_text(),
    )?;
    tx.commit()?;
    Ok(Either::Left(Redirect::to("/citizen")))
}

#[post("/logout", data = "<form>")]
fn logout(
    mut citizen: Citizen,
    form: Form<CsrfForm<'_>>,
    cookies: &CookieJar<'_>,
    web: &State<Web>,
) -> Result<Redirect, ServerError> {
    if citizen.csrf_ok(form.csrf) {
        let actor = citizen.actor();
        let tx = citizen.db.begin()?;
        tx.end_citizen_session(citizen.row.id, &web.clock.now_text())?;
        tx.audit(
            &AuditEvent {
                person_id: Some(citizen.person_id),
                ..actor.event(Action::CitizenLogout)
            },
            &web.clock.now_text(),
        )?;
        tx.commit()?;
        cookies.remove(
            Cookie::build(CITIZEN_COOKIE)
                .path("/")
                .secure(true)
                .http_only(true)
                .same_site(SameSite::Strict)
                .build(),
        );
    }
    Ok(Redirect::to("/citizen/login"))
}
