//! The page for a record the user may not open. It says whom it is about, as far as a search
//! row would (name, date of birth, NHS number; nothing for a role that may not search or an id
//! that names no one), and what the user may do: break glass first for a role with emergency
//! duties (the policy grants it `break-glass`), then claim a care relationship. Each showing
//! is audited as `view-refused`, naming the person when the page does.

use super::{Page, UserBar};
use crate::access::{Activity, Identified, CLAIM_REASONS, GLASS_REASONS};
use crate::audit::Action;
use crate::record::view;
use crate::web::guards::Session;
use crate::web::{ServerError, Web};
use askama::Template;
use askama_web::WebTemplate;
use rocket::http::Status;

pub struct Reason {
    pub code: &'static str,
    pub label: &'static str,
}

fn reasons(list: &[(&'static str, &'static str)]) -> Vec<Reason> {
    list.iter()
        .map(|(code, label)| Reason { code, label })
        .collect()
}

/// Whom the refused record is about, as the search row showed them.
pub struct Named {
    pub name: String,
    pub born: String,
    pub nhs_number: String,
}

impl Named {
    fn of(who: &Identified) -> Self {
        let d = &who.demographics;
        let (nhs, status) = view::nhs_display(d);
        Self {
            name: view::person_name(d),
            born: d
                .birth_date
                .map(view::date_text)
                .unwrap_or_else(|| "not known".into()),
            nhs_number: match status {
                Some(s) => format!("{nhs} ({s})"),
                None => nhs,
            },
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "no_access.html")]
pub struct NoAccessPage {
    pub bar: Option<UserBar>,
    pub person_id: i64,
    pub person: Option<Named>,
    pub may_claim: bool,
    pub may_break_glass: bool,
    pub claim_reasons: Vec<Reason>,
    pub glass_reasons: Vec<Reason>,
    /// "7 days", "12 hours".
    pub claim_lasts: String,
    pub glass_lasts: String,
    pub message: Option<String>,
}

impl NoAccessPage {
    pub fn user(&self) -> Option<&UserBar> {
        self.bar.as_ref()
    }
}

pub type Refused = Page<NoAccessPage>;

/// The no-access page for record `id`, audited as `view-refused` (with the person when the
/// page names them, written before the page leaves).
pub fn refused(
    session: &mut Session,
    web: &Web,
    id: i64,
    message: Option<String>,
) -> Result<Refused, ServerError> {
    let identified = web.gate.identify(session.store(), &session.profile, id)?;
    let (person, detail) = match &identified {
        Some(who) => (
            Some(who.person_id),
            format!("record {id}: name, date of birth and NHS number shown"),
        ),
        None => (None, format!("record {id}")),
    };
    session.audit(web, Action::ViewRefused, person, &detail, "denied")?;
    Ok(Page(
        Status::Forbidden,
        NoAccessPage {
            bar: UserBar::of(session),
            person_id: id,
            person: identified.as_ref().map(Named::of),
            may_claim: session.may(web, Activity::SelfClaim),
            may_break_glass: session.may(web, Activity::BreakGlass),
            claim_reasons: reasons(&CLAIM_REASONS),
            glass_reasons: reasons(&GLASS_REASONS),
            claim_lasts: crate::record::when::duration_text(web.gate.config.self_claim_hours),
            glass_lasts: crate::record::when::duration_text(web.gate.config.break_glass_hours),
            message,
        },
    ))
}
