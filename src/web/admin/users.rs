//! `GET /admin/users`: every user with their role profiles, state and live sessions, and the
//! form that creates one (`POST /admin/users`), checked as `sharedcare user add` checks it.

use super::{csrf_ok, csrf_refused};
use crate::access::users;
use crate::access::ProfileInput;
use crate::error::Error;
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
    routes![users_page, create_user]
}

/// A role of the policy, for a form's list.
pub struct RoleChoice {
    pub name: String,
    pub label: String,
}

pub fn role_choices(web: &Web) -> Vec<RoleChoice> {
    web.gate
        .policy
        .roles()
        .map(|r| RoleChoice {
            name: r.name.clone(),
            label: r.label.clone(),
        })
        .collect()
}

/// What was typed into a profile form, shown again when it is refused (never a password).
#[derive(Default)]
pub struct Typed {
    pub username: String,
    pub role: String,
    pub org: String,
    pub team: String,
}

pub struct UserLine {
    pub id: i64,
    pub username: String,
    pub disabled: bool,
    pub profiles: Vec<String>,
    pub sessions: usize,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_users.html")]
pub struct UsersPage {
    pub bar: Option<UserBar>,
    pub users: Vec<UserLine>,
    pub roles: Vec<RoleChoice>,
    pub typed: Typed,
    pub message: Option<String>,
    pub min_password: usize,
}

impl UsersPage {
    pub fn user(&self) -> Option<&UserBar> {
        self.bar.as_ref()
    }

    pub fn csrf(&self) -> &str {
        self.bar.as_ref().map_or("", |b| b.csrf.as_str())
    }
}

fn render(
    session: &Session,
    web: &Web,
    typed: Typed,
    message: Option<String>,
) -> Result<UsersPage, ServerError> {
    let store = session.store();
    let (idle_since, started_since) = live_since(web);
    let counts = store.live_session_counts(&idle_since, &started_since)?;
    let mut users = Vec::new();
    for u in store.users()? {
        let profiles = store.profiles_of(&u)?.iter().map(|p| p.label()).collect();
        users.push(UserLine {
            id: u.id,
            sessions: counts.get(&u.id).copied().unwrap_or(0),
            username: u.username,
            disabled: u.disabled,
            profiles,
        });
    }
    Ok(UsersPage {
        bar: UserBar::of(session),
        users,
        roles: role_choices(web),
        typed,
        message,
        min_password: crate::access::password::MIN_LENGTH,
    })
}

#[get("/users")]
fn users_page(admin: UserAdmin, web: &State<Web>) -> Result<Page<UsersPage>, ServerError> {
    let typed = Typed {
        role: "clinician".into(),
        ..Typed::default()
    };
    Ok(Page::ok(render(&admin.0, web, typed, None)?))
}

#[derive(FromForm)]
pub struct NewUserForm {
    csrf: Option<String>,
    username: String,
    password: String,
    confirm: String,
    role: String,
    org: String,
    team: Option<String>,
}

type Created = Result<Either<Redirect, Either<Page<UsersPage>, ErrorPage>>, ServerError>;

#[post("/users", data = "<form>")]
fn create_user(admin: UserAdmin, form: Form<NewUserForm>, web: &State<Web>) -> Created {
    let mut session = admin.0;
    if !csrf_ok(&session, form.csrf.as_deref()) {
        return Ok(Either::Right(Either::Right(csrf_refused())));
    }
    let username = form.username.trim();
    let profile = ProfileInput::new(&form.role, &form.org, form.team.as_deref());
    let actor = session.actor();
    let added = users::add_user(
        session.store_mut(),
        &web.gate.policy,
        &actor,
        username,
        &profile,
        &form.password,
        Some(&form.confirm),
        web.clock.now(),
    );
    let id = match added {
        Ok(id) => id,
        Err(Error::Invalid(why)) => {
            let typed = Typed {
                username: username.to_owned(),
                role: profile.role,
                org: profile.org,
                team: profile.team.unwrap_or_default(),
            };
            let page = render(&session, web, typed, Some(why))?;
            return Ok(Either::Right(Either::Left(Page(
                Status::UnprocessableEntity,
                page,
            ))));
        }
        Err(e) => return Err(e.into()),
    };
    Ok(Either::Left(Redirect::to(format!(
        "/admin/users/{id}?done=created"
    ))))
}
