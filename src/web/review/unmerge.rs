//! `GET /review/person/<id>/unmerge`: what undoing the person's latest merge or link would
//! move, read from the recorded moves; `POST` the same path to do it.

use super::pair::DonePage;
use super::{Column, DataQuality, SideBySide};
use crate::access;
use crate::import::links;
use crate::store::UnmergePreview;
use crate::web::pages::{ErrorPage, Page, UserBar};
use crate::web::{ServerError, Web};
use askama::Template;
use askama_web::WebTemplate;
use rocket::form::{Form, FromForm};
use rocket::http::Status;
use rocket::{get, post, routes, Either, Route, State};

pub fn routes() -> Vec<Route> {
    routes![preview, perform]
}

#[derive(Template, WebTemplate)]
#[template(path = "review_unmerge.html")]
pub struct UnmergePage {
    pub bar: Option<UserBar>,
    pub person: i64,
    pub preview: UnmergePreview,
    pub undoes: String,
    pub table: SideBySide,
}

impl UnmergePage {
    pub fn user(&self) -> Option<&UserBar> {
        self.bar.as_ref()
    }
}

impl UnmergePage {
    /// Where a move goes back to, as the preview table says it.
    pub fn back_to(&self, to: &Option<i64>) -> String {
        to.map_or_else(|| "no person (unlinked)".into(), |p| format!("person {p}"))
    }
}

#[get("/person/<id>/unmerge")]
fn preview(
    mut dq: DataQuality,
    id: i64,
    web: &State<Web>,
) -> Result<Either<Page<UnmergePage>, ErrorPage>, ServerError> {
    let store = dq.0.store();
    let Some(record) = store.person_record(id)? else {
        return Ok(Either::Right(ErrorPage::new(
            Status::NotFound,
            "There is no person with that id.",
        )));
    };
    let Some(preview) = store.unmerge_preview(id)? else {
        return Ok(Either::Right(ErrorPage::new(
            Status::NotFound,
            "This person has no merge or link to undo.",
        )));
    };
    let restricted = access::any_restricted(
        std::iter::once(&record.demographics).chain(record.sources.iter().map(|s| &s.demographics)),
    );
    let mut columns = vec![Column::new(
        format!("Person {id}: combined record now"),
        &access::for_comparison(&record.demographics, restricted),
    )];
    for m in &preview.moves {
        if let Some(s) = record
            .sources
            .iter()
            .find(|s| s.source_person_id == m.source_person_id)
        {
            columns.push(Column::new(
                format!("{} record {} (moves back)", s.source_code, s.local_id),
                &access::for_comparison(&s.demographics, restricted),
            ));
        }
    }
    let undoes = match (preview.kind.as_str(), preview.detail.as_deref()) {
        ("review-link", Some(d)) => format!("a reviewer's “same person” link ({d})"),
        ("review-link", None) => "a reviewer's “same person” link".into(),
        (_, Some(d)) => format!("a merge from a feed ({d})"),
        _ => "a merge from a feed".into(),
    };
    let people: Vec<i64> = std::iter::once(id)
        .chain(preview.moves.iter().filter_map(|m| m.back_to))
        .collect();
    dq.seen(web, &people, &format!("unmerge preview of person {id}"))?;
    Ok(Either::Left(Page::ok(UnmergePage {
        bar: dq.bar(),
        person: id,
        preview,
        undoes,
        table: SideBySide::new(columns),
    })))
}

#[derive(FromForm)]
pub struct UnmergeForm<'r> {
    csrf: &'r str,
}

#[post("/person/<id>/unmerge", data = "<form>")]
fn perform(
    mut dq: DataQuality,
    id: i64,
    form: Form<UnmergeForm<'_>>,
    web: &State<Web>,
) -> Result<Either<Page<DonePage>, ErrorPage>, ServerError> {
    let now = web.clock.now_text();
    let precedence = &web.config.matching.precedence;
    let moves = match dq.decide(form.csrf, |store, by| {
        links::unmerge(store, precedence, id, by, &now)
    })? {
        Ok(m) => m,
        Err(page) => return Ok(Either::Right(page)),
    };
    let lines = moves
        .iter()
        .map(|m| match m.to_person_id {
            Some(p) => format!(
                "Source record {} moved back from person {id} to person {p}.",
                m.source_person_id
            ),
            None => format!(
                "Source record {} moved off person {id}; it has no person now.",
                m.source_person_id
            ),
        })
        .collect();
    Ok(Either::Left(Page::ok(DonePage {
        bar: dq.bar(),
        title: format!("Unmerged person {id}"),
        lines,
        next: vec![("/review".into(), "Back to the possible matches".into())],
    })))
}
