//! `GET /privacy/view-as?role=&org=&team=&person=`: what a role profile would see of a person,
//! for an information-governance lead checking the policy on a test person. The record is
//! opened by [`Gate::open_person`](crate::access::Gate::open_person) for a profile made up
//! from the form, which holds no self-claims or broken glass: only relationships inferred
//! from the record count. The officer sees data only through that profile's eyes, and each
//! look is audited (`view-as-role`, detail naming the profile). A person not marked as a test
//! person is shown only with a reason, and raises a privacy alert (see
//! [`crate::access::view_as`]).

use super::{find_person, Found};
use crate::access::view_as::{self as looking, Looked};
use crate::access::{Opened, Profile, ProfileInput};
use crate::error::Error;
use crate::record::view::{Freshness, RecordView, STALE_AFTER_DAYS};
use crate::web::admin::sentence;
use crate::web::admin::users::{role_choices, RoleChoice};
use crate::web::guards::RoleViewer;
use crate::web::pages::record::AccessNote;
use crate::web::pages::{Page, UserBar};
use crate::web::{ServerError, Web};
use askama::Template;
use askama_web::WebTemplate;
use rocket::http::Status;
use rocket::{get, routes, Route, State};

pub fn routes() -> Vec<Route> {
    routes![view_as]
}

/// The form as typed.
#[derive(Default)]
pub struct Typed {
    pub role: String,
    pub org: String,
    pub team: String,
    pub person: String,
    pub reason: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "privacy_view_as.html")]
pub struct ViewAsPage {
    pub bar: Option<UserBar>,
    pub roles: Vec<RoleChoice>,
    pub typed: Typed,
    pub message: Option<String>,
    /// The profile looked through, once a person was looked at.
    pub viewing: Option<String>,
    /// The person looked at.
    pub person_id: i64,
    /// What it sees; `None` with `viewing` set means it has no access.
    pub view: Option<RecordView>,
    /// The alert raised by looking at a real person.
    pub alert: Option<String>,
    pub access: Option<AccessNote>,
    pub stale_days: i64,
}

impl ViewAsPage {
    pub fn user(&self) -> Option<&UserBar> {
        self.bar.as_ref()
    }
}

#[allow(clippy::too_many_arguments)]
#[get("/view-as?<role>&<org>&<team>&<person>&<reason>")]
fn view_as(
    viewer: RoleViewer,
    role: Option<&str>,
    org: Option<&str>,
    team: Option<&str>,
    person: Option<&str>,
    reason: Option<&str>,
    web: &State<Web>,
) -> Result<Page<ViewAsPage>, ServerError> {
    let mut session = viewer.0;
    let typed = Typed {
        role: role.unwrap_or("").trim().to_owned(),
        org: org.unwrap_or("").trim().to_owned(),
        team: team.unwrap_or("").trim().to_owned(),
        person: person.unwrap_or("").trim().to_owned(),
        reason: reason.unwrap_or("").trim().chars().take(500).collect(),
    };
    let mut page = ViewAsPage {
        bar: UserBar::of(&session),
        roles: role_choices(web),
        message: None,
        viewing: None,
        person_id: 0,
        view: None,
        alert: None,
        access: None,
        stale_days: STALE_AFTER_DAYS,
        typed,
    };
    if page.typed.person.is_empty() {
        return Ok(Page::ok(page));
    }
    let input = ProfileInput::new(&page.typed.role, &page.typed.org, Some(&page.typed.team));
    if let Err(e) = input.check(&web.gate.policy) {
        page.message = Some(e.to_string());
        return Ok(Page(Status::UnprocessableEntity, page));
    }
    let id = match find_person(session.store(), &page.typed.person)? {
        Found::Person(id) => id,
        Found::Several(ids) => {
            let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
            page.message = Some(format!(
                "Several people carry that NHS number (ids {}); give one id.",
                ids.join(", ")
            ));
            return Ok(Page(Status::UnprocessableEntity, page));
        }
        Found::Nobody(why) => {
            page.message = Some(why);
            return Ok(Page(Status::UnprocessableEntity, page));
        }
    };
    let profile = Profile {
        // No stored profile has id 0, so no grant applies.
        id: 0,
        user_id: 0,
        username: session.username().to_owned(),
        org_name: session.store().organisation_name(&input.org)?,
        role: input.role.clone(),
        org: input.org.clone(),
        team: input.team.clone(),
    };
    let now = web.clock.now();
    let label = profile.label();
    let Some(live) = session.store().resolve_person(id)? else {
        page.message = Some("There is no person with that id.".into());
        return Ok(Page(Status::UnprocessableEntity, page));
    };
    let actor = session.actor();
    let looked = looking::look(
        session.store_mut(),
        &web.gate.policy,
        &actor,
        live,
        &label,
        Some(&page.typed.reason),
        now,
    );
    match looked {
        Ok(Looked::TestPerson) => {}
        Ok(Looked::RealPerson { alert }) => page.alert = Some(alert),
        Err(Error::Invalid(why) | Error::Forbidden(why)) => {
            page.message = Some(sentence(&why));
            return Ok(Page(Status::UnprocessableEntity, page));
        }
        Err(e) => return Err(e.into()),
    }
    let opened = web
        .gate
        .open_person(session.store(), &profile, live, now, false)?;
    page.viewing = Some(label);
    page.person_id = id;
    if let Opened::Record(visible) = opened {
        let fresh = Freshness::new(&session.store().source_last_received()?, now);
        let mut view = RecordView::build(&visible.record, now.date_naive(), &fresh, &[]);
        view.keep_categories(&visible.categories);
        page.access = Some(AccessNote::of(&visible, web));
        page.view = Some(view);
    }
    Ok(Page::ok(page))
}
