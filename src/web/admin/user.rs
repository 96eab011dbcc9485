//! `GET /admin/users/<id>`: one user, their role profiles and live sessions, and what an
//! administrator may do about them. Each action is a POST that checks the CSRF token, does
//! what the matching `sharedcare user …` command does, audits it and comes back here:
//!
//! - add a role profile (`user-add-role`), remove one (`user-remove-role`: the sessions and
//!   API tokens acting in it end at once);
//! - reset the password (`user-passwd`: their sessions end);
//! - disable the user (`user-disable`: sessions end, API tokens are revoked);
//! - end one live session (`session-end`).

use super::users::{role_choices, RoleChoice, Typed};
use super::{csrf_ok, csrf_refused, parse_id, sentence};
use crate::access::users;
use crate::access::{Profile, ProfileInput};
use crate::error::Error;
use crate::store::{SessionInfo, UserRow};
use crate::web::guards::{live_since, Session, UserAdmin};
use crate::web::pages::{ErrorPage, Page, UserBar};
use crate::web::{ServerError, Web};
use askama::Template;
use askama_web::WebTemplate;
use rocket::form::{Form, FromForm};
use rocket::http::Status;
use rocket::response::Redirect;
use rocket::{get, post, routes, Either, Route, State};

pub fn routes() -> Vec<Route> {
    routes![
        user_page,
        add_profile,
        remove_profile,
        reset_password,
        disable,
        end_session
    ]
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_user.html")]
pub struct UserPage {
    pub bar: Option<UserBar>,
    pub target: UserRow,
    pub profiles: Vec<Profile>,
    pub sessions: Vec<SessionInfo>,
    pub roles: Vec<RoleChoice>,
    pub typed: Typed,
    /// What was just done.
    pub done: Option<&'static str>,
    /// Why a form was refused.
    pub error: Option<String>,
    pub is_self: bool,
    pub min_password: usize,
}

impl UserPage {
    pub fn user(&self) -> Option<&UserBar> {
        self.bar.as_ref()
    }

    pub fn csrf(&self) -> &str {
        self.bar.as_ref().map_or("", |b| b.csrf.as_str())
    }
}

type Shown = Result<Either<Page<UserPage>, ErrorPage>, ServerError>;
type Acted = Result<Either<Redirect, Either<Page<UserPage>, ErrorPage>>, ServerError>;

fn done_message(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "created" => "User created.",
        "profile-added" => "Role profile added.",
        "profile-removed" => "Role profile removed; its sessions and API tokens have ended.",
        "password" => "Password reset; the user's sessions have ended.",
        "disabled" => "User disabled; sessions ended and API tokens revoked.",
        "session-ended" => "Session ended.",
        _ => return None,
    })
}

fn missing() -> ErrorPage {
    ErrorPage::new(Status::NotFound, "There is no such user.")
}

fn target(session: &Session, id: &str) -> Result<Option<UserRow>, ServerError> {
    match parse_id(id) {
        Some(id) => Ok(session.store().user_by_id(id)?),
        None => Ok(None),
    }
}

fn render(
    session: &Session,
    web: &Web,
    target: UserRow,
    done: Option<&'static str>,
    error: Option<String>,
    typed: Typed,
) -> Result<UserPage, ServerError> {
    let (idle_since, started_since) = live_since(web);
    Ok(UserPage {
        bar: UserBar::of(session),
        profiles: session.store().profiles_of(&target)?,
        sessions: session
            .store()
            .live_sessions(target.id, &idle_since, &started_since)?,
        roles: role_choices(web),
        typed,
        done,
        error,
        is_self: target.id == session.row.user.id,
        target,
        min_password: crate::access::password::MIN_LENGTH,
    })
}

#[get("/users/<id>?<done>")]
fn user_page(admin: UserAdmin, id: &str, done: Option<&str>, web: &State<Web>) -> Shown {
    let Some(user) = target(&admin.0, id)? else {
        return Ok(Either::Right(missing()));
    };
    let typed = Typed {
        role: "clinician".into(),
        org: user.org.clone(),
        ..Typed::default()
    };
    let page = render(&admin.0, web, user, done_message(done), None, typed)?;
    Ok(Either::Left(Page::ok(page)))
}

/// The user page again with why a form was refused.
fn refused(session: &Session, web: &Web, user: UserRow, why: String, typed: Typed) -> Acted {
    let page = render(session, web, user, None, Some(why), typed)?;
    Ok(Either::Right(Either::Left(Page(
        Status::UnprocessableEntity,
        page,
    ))))
}

/// A use case's outcome as a response: back to the user page, or the page again with why it
/// was refused. Anything else (the database, the audit trail) is a server error.
fn acted<T>(
    session: &Session,
    web: &Web,
    user: UserRow,
    outcome: crate::error::Result<T>,
    done: &str,
) -> Acted {
    match outcome {
        Ok(_) => back(&user, done),
        Err(Error::Invalid(why) | Error::Forbidden(why) | Error::NotFound(why)) => {
            refused(session, web, user, sentence(&why), Typed::default())
        }
        Err(e) => Err(e.into()),
    }
}

fn back(user: &UserRow, done: &str) -> Acted {
    Ok(Either::Left(Redirect::to(format!(
        "/admin/users/{}?done={done}",
        user.id
    ))))
}

/// The acting session and the user a POST is about, once its token is right.
fn checked(
    admin: UserAdmin,
    id: &str,
    csrf: Option<&str>,
) -> Result<Result<(Session, UserRow), ErrorPage>, ServerError> {
    if !csrf_ok(&admin.0, csrf) {
        return Ok(Err(csrf_refused()));
    }
    match target(&admin.0, id)? {
        Some(user) => Ok(Ok((admin.0, user))),
        None => Ok(Err(missing())),
    }
}

#[derive(FromForm)]
pub struct ProfileForm {
    csrf: Option<String>,
    role: String,
    org: String,
    team: Option<String>,
}

#[post("/users/<id>/profiles", data = "<form>")]
fn add_profile(admin: UserAdmin, id: &str, form: Form<ProfileForm>, web: &State<Web>) -> Acted {
    let (mut session, user) = match checked(admin, id, form.csrf.as_deref())? {
        Ok(found) => found,
        Err(page) => return Ok(Either::Right(Either::Right(page))),
    };
    let profile = ProfileInput::new(&form.role, &form.org, form.team.as_deref());
    let actor = session.actor();
    let added = users::add_role(
        session.store_mut(),
        &web.gate.policy,
        &actor,
        user.id,
        &profile,
        web.clock.now(),
    );
    match added {
        Ok(_) => back(&user, "profile-added"),
        Err(Error::Invalid(why) | Error::Forbidden(why) | Error::NotFound(why)) => {
            let typed = Typed {
                role: profile.role,
                org: profile.org,
                team: profile.team.unwrap_or_default(),
                ..Typed::default()
            };
            refused(&session, web, user, sentence(&why), typed)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(FromForm)]
pub struct CsrfOnly {
    csrf: Option<String>,
}

#[post("/users/<id>/profiles/<profile>/remove", data = "<form>")]
fn remove_profile(
    admin: UserAdmin,
    id: &str,
    profile: &str,
    form: Form<CsrfOnly>,
    web: &State<Web>,
) -> Acted {
    let (mut session, user) = match checked(admin, id, form.csrf.as_deref())? {
        Ok(found) => found,
        Err(page) => return Ok(Either::Right(Either::Right(page))),
    };
    let actor = session.actor();
    let profile = parse_id(profile).unwrap_or(0);
    let removed = users::remove_role(
        session.store_mut(),
        &actor,
        user.id,
        profile,
        web.clock.now(),
    );
    acted(&session, web, user, removed, "profile-removed")
}

#[derive(FromForm)]
pub struct PasswordForm {
    csrf: Option<String>,
    password: String,
    confirm: String,
}

#[post("/users/<id>/password", data = "<form>")]
fn reset_password(admin: UserAdmin, id: &str, form: Form<PasswordForm>, web: &State<Web>) -> Acted {
    let (mut session, user) = match checked(admin, id, form.csrf.as_deref())? {
        Ok(found) => found,
        Err(page) => return Ok(Either::Right(Either::Right(page))),
    };
    let actor = session.actor();
    let set = users::set_password(
        session.store_mut(),
        &actor,
        user.id,
        &form.password,
        Some(&form.confirm),
        web.clock.now(),
    );
    acted(&session, web, user, set, "password")
}

#[post("/users/<id>/disable", data = "<form>")]
fn disable(admin: UserAdmin, id: &str, form: Form<CsrfOnly>, web: &State<Web>) -> Acted {
    let (mut session, user) = match checked(admin, id, form.csrf.as_deref())? {
        Ok(found) => found,
        Err(page) => return Ok(Either::Right(Either::Right(page))),
    };
    let actor = session.actor();
    let disabled = users::disable(session.store_mut(), &actor, user.id, web.clock.now());
    acted(&session, web, user, disabled, "disabled")
}

#[post("/users/<id>/sessions/<sid>/end", data = "<form>")]
fn end_session(
    admin: UserAdmin,
    id: &str,
    sid: &str,
    form: Form<CsrfOnly>,
    web: &State<Web>,
) -> Acted {
    let (mut session, user) = match checked(admin, id, form.csrf.as_deref())? {
        Ok(found) => found,
        Err(page) => return Ok(Either::Right(Either::Right(page))),
    };
    let sid = parse_id(sid).unwrap_or(0);
    let actor = session.actor();
    let ended = users::end_session(session.store_mut(), &actor, user.id, sid, web.clock.now());
    acted(&session, web, user, ended, "session-ended")
}
