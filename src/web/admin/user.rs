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
use super::{csrf_ok, csrf_refused, parse_id};
use crate::access::users::new_password;
use crate::access::{Profile, ProfileInput};
use crate::audit::Action;
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
    let added = profile.check(&web.gate.policy).and_then(|()| {
        let tx = session.store_mut().begin()?;
        tx.add_profile(
            user.id,
            &profile.role,
            &profile.org,
            profile.team.as_deref(),
            &web.clock.now_text(),
        )?;
        tx.commit()
    });
    match added {
        Ok(()) => {}
        Err(Error::Invalid(why)) => {
            let typed = Typed {
                role: profile.role,
                org: profile.org,
                team: profile.team.unwrap_or_default(),
                ..Typed::default()
            };
            return refused(&session, web, user, why, typed);
        }
        Err(e) => return Err(e.into()),
    }
    let detail = format!("{}: {}", user.username, profile.label());
    session.audit(web, Action::UserAddRole, None, &detail, "ok")?;
    back(&user, "profile-added")
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
    let held = session.store().profiles_of(&user)?;
    let Some(p) = held.into_iter().find(|p| Some(p.id) == parse_id(profile)) else {
        let why = "That role profile has already been removed.".to_owned();
        return refused(&session, web, user, why, Typed::default());
    };
    let tx = session.store_mut().begin()?;
    tx.remove_profile(p.id, &web.clock.now_text())?;
    tx.commit()?;
    let detail = format!("{}: {}", user.username, p.label());
    session.audit(web, Action::UserRemoveRole, None, &detail, "ok")?;
    back(&user, "profile-removed")
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
    let hash = match new_password(&form.password, Some(&form.confirm)) {
        Ok(hash) => hash,
        Err(Error::Invalid(why)) => return refused(&session, web, user, why, Typed::default()),
        Err(e) => return Err(e.into()),
    };
    let tx = session.store_mut().begin()?;
    tx.set_password(user.id, &hash, &web.clock.now_text())?;
    tx.commit()?;
    session.audit(web, Action::UserPasswd, None, &user.username, "ok")?;
    back(&user, "password")
}

#[post("/users/<id>/disable", data = "<form>")]
fn disable(admin: UserAdmin, id: &str, form: Form<CsrfOnly>, web: &State<Web>) -> Acted {
    let (mut session, user) = match checked(admin, id, form.csrf.as_deref())? {
        Ok(found) => found,
        Err(page) => return Ok(Either::Right(Either::Right(page))),
    };
    // Disabling oneself would end this very session, possibly leaving no administrator.
    if user.id == session.row.user.id {
        let why = "You cannot disable yourself; ask another administrator.".to_owned();
        return refused(&session, web, user, why, Typed::default());
    }
    let tx = session.store_mut().begin()?;
    tx.disable_user(user.id, &web.clock.now_text())?;
    tx.commit()?;
    session.audit(web, Action::UserDisable, None, &user.username, "ok")?;
    back(&user, "disabled")
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
    let tx = session.store_mut().begin()?;
    let ended = tx.end_user_session(user.id, sid, &web.clock.now_text())?;
    tx.commit()?;
    if !ended {
        let why = "That session had already ended.".to_owned();
        return refused(&session, web, user, why, Typed::default());
    }
    let detail = format!("{}: session {sid}", user.username);
    session.audit(web, Action::SessionEnd, None, &detail, "ok")?;
    back(&user, "session-ended")
}
