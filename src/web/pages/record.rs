//! `GET /person/<id>`: the one-page record. A merged-away id shows the person it was merged
//! into; `?find=` searches inside the record and brings matching items to the top.

use super::access::{self, Refused};
use super::{duplicates, Page, UserBar};
use crate::access::{Basis, Visible, Withheld};
use crate::audit::Action;
use crate::record::view::{Freshness, RecordView, STALE_AFTER_DAYS};
use crate::web::guards::{Clinical, Session};
use crate::web::{ServerError, Web};
use askama::Template;
use askama_web::WebTemplate;
use rocket::{get, routes, Either, Route, State};

pub fn routes() -> Vec<Route> {
    routes![record_page]
}

#[derive(Template, WebTemplate)]
#[template(path = "record.html")]
pub struct RecordPage {
    pub bar: Option<UserBar>,
    pub access: AccessNote,
    pub view: RecordView,
    pub find: String,
    /// How many items matched `find` (when set).
    pub found: usize,
    pub stale_days: i64,
}

impl RecordPage {
    pub fn user(&self) -> Option<&UserBar> {
        self.bar.as_ref()
    }
}

#[get("/person/<id>?<find>")]
fn record_page(
    clinical: Clinical,
    id: i64,
    find: Option<&str>,
    web: &State<Web>,
) -> Result<Either<Page<RecordPage>, Refused>, ServerError> {
    let find = find.unwrap_or("").trim().to_owned();
    render(clinical.0, web, id, &find, None)
}

/// The record page for `id`; `sensitive_reason` is the reader's reason when they asked to
/// see entries withheld as sensitive (the caller checked their role may).
pub fn render(
    mut session: Session,
    web: &Web,
    id: i64,
    find: &str,
    sensitive_reason: Option<&str>,
) -> Result<Either<Page<RecordPage>, Refused>, ServerError> {
    let visible = match access::load(&mut session, web, id, sensitive_reason.is_some())? {
        Ok(v) => v,
        Err(page) => return Ok(Either::Right(page)),
    };
    let record = &visible.record;
    let matches = if find.is_empty() {
        Vec::new()
    } else {
        session.store().search_record(record.person_id, find)?
    };
    let now = web.clock.now();
    let fresh = Freshness::new(&session.store().source_last_received()?, now);
    let mut view = RecordView::build(record, now.date_naive(), &fresh, &matches);
    view.keep_categories(&visible.categories);
    let found = view
        .sections
        .iter()
        .flat_map(|s| &s.items)
        .filter(|i| i.found)
        .count();
    let (notes, named) = duplicates::notes(&session, web, record.person_id)?;
    view.banner.duplicates = notes;
    let detail = (!find.is_empty()).then_some("find");
    duplicates::audit_named(&mut session, web, &named)?;
    access::seen_record(
        &mut session,
        web,
        Action::ViewRecord,
        &visible,
        detail,
        sensitive_reason,
    )?;
    Ok(Either::Left(Page::ok(RecordPage {
        bar: UserBar::of(&session),
        access: AccessNote::of(&visible, web),
        view,
        find: find.to_owned(),
        found,
        stale_days: STALE_AFTER_DAYS,
    })))
}

/// What the page says about the reader's access: why they may see it, what was withheld.
pub struct AccessNote {
    pub basis: String,
    pub break_glass_until: Option<String>,
    pub withheld: Withheld,
    pub objection: bool,
}

impl AccessNote {
    pub fn of(v: &Visible, _web: &Web) -> Self {
        let mut bases: Vec<&str> = v.relationships.iter().map(|r| r.basis.label()).collect();
        bases.dedup();
        Self {
            basis: bases.join(", "),
            break_glass_until: v
                .relationships
                .iter()
                .filter(|r| r.basis == Basis::BreakGlass)
                .filter_map(|r| r.until)
                .max()
                .map(crate::record::when::local_text),
            withheld: v.withheld.clone(),
            objection: v.objection,
        }
    }
}
