//! The queue of possible matches and one pair side by side, with the two decisions.

use super::{note, Column, DataQuality, SideBySide};
use crate::access;
use crate::import::links;
use crate::matching::{self, MatchScore};
use crate::model::Demographics;
use crate::store::ReviewRow;
use crate::web::pages::{ErrorPage, Page, UserBar};
use crate::web::{ServerError, Web};
use askama::Template;
use askama_web::WebTemplate;
use rocket::form::{Form, FromForm};
use rocket::http::Status;
use rocket::{get, post, routes, Either, Route, State};

pub fn routes() -> Vec<Route> {
    routes![queue, pair, link, reject]
}

#[derive(Template, WebTemplate)]
#[template(path = "review_queue.html")]
pub struct QueuePage {
    pub bar: Option<UserBar>,
    pub rows: Vec<QueueRow>,
}

impl QueuePage {
    pub fn user(&self) -> Option<&UserBar> {
        self.bar.as_ref()
    }
}

pub struct QueueRow {
    pub id: i64,
    pub source: String,
    pub local_id: String,
    pub current: String,
    pub candidate: i64,
    pub score: String,
    pub created: String,
}

#[get("/")]
fn queue(mut dq: DataQuality, web: &State<Web>) -> Result<Page<QueuePage>, ServerError> {
    let open = dq.0.store().reviews("open")?;
    let people: Vec<i64> = open
        .iter()
        .flat_map(|r| {
            r.current_person_id
                .into_iter()
                .chain([r.candidate_person_id])
        })
        .collect();
    dq.seen(web, &people, "review queue")?;
    let rows = open
        .into_iter()
        .map(|r| QueueRow {
            id: r.id,
            current: r
                .current_person_id
                .map_or_else(|| "none".into(), |p| p.to_string()),
            source: r.source_code,
            local_id: r.local_id,
            candidate: r.candidate_person_id,
            score: format!("{:+.1}", r.score),
            created: crate::record::view::when_text(&r.created_at),
        })
        .collect();
    Ok(Page::ok(QueuePage {
        bar: dq.bar(),
        rows,
    }))
}

/// One field's part in the score, for the table.
pub struct ScoreRow {
    pub field: &'static str,
    pub agreement: &'static str,
    pub weight: String,
    pub detail: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "review_pair.html")]
pub struct PairPage {
    pub bar: Option<UserBar>,
    pub review: ReviewRow,
    /// The candidate as it is now (a merge since the review was queued moves it on).
    pub candidate: i64,
    pub table: SideBySide,
    pub scores: Vec<ScoreRow>,
    pub total: String,
    pub queued_score: String,
    pub verdict: String,
    pub probable: String,
    pub possible: String,
    /// The candidate has a merge or link that can be undone.
    pub can_unmerge: bool,
}

impl PairPage {
    pub fn user(&self) -> Option<&UserBar> {
        self.bar.as_ref()
    }
}

/// The result of a decision, or a review that is no longer open.
#[derive(Template, WebTemplate)]
#[template(path = "review_done.html")]
pub struct DonePage {
    pub bar: Option<UserBar>,
    pub title: String,
    pub lines: Vec<String>,
    /// (href, text) to go on with.
    pub next: Vec<(String, String)>,
}

impl DonePage {
    pub fn user(&self) -> Option<&UserBar> {
        self.bar.as_ref()
    }
}

type PairResult = Result<Either<Page<PairPage>, Either<Page<DonePage>, ErrorPage>>, ServerError>;

#[get("/<id>")]
fn pair(mut dq: DataQuality, id: i64, web: &State<Web>) -> PairResult {
    let Some(review) = dq.0.store().review(id)? else {
        return Ok(Either::Right(Either::Right(ErrorPage::new(
            Status::NotFound,
            "There is no review with that number.",
        ))));
    };
    if review.state != "open" {
        return Ok(Either::Right(Either::Left(Page::ok(DonePage {
            bar: dq.bar(),
            title: format!("Review {id}"),
            lines: vec![format!(
                "This review was already decided: {}.",
                review.state
            )],
            next: vec![("/review".into(), "Back to the possible matches".into())],
        }))));
    }
    let store = dq.0.store();
    let incoming_view = match review.current_person_id {
        Some(p) => store.person_record(p)?.and_then(|r| {
            r.sources
                .into_iter()
                .find(|s| s.source_person_id == review.source_person_id)
        }),
        None => None,
    };
    let incoming: Demographics = incoming_view.map(|v| v.demographics).unwrap_or_default();
    let candidate = store
        .resolve_person(review.candidate_person_id)?
        .unwrap_or(review.candidate_person_id);
    let Some(record) = store.person_record(candidate)? else {
        return Ok(Either::Right(Either::Right(ErrorPage::new(
            Status::NotFound,
            "The candidate person of this review no longer exists.",
        ))));
    };
    let can_unmerge = store.unmerge_preview(candidate)?.is_some();
    let score = matching::score(&incoming, &record.demographics);
    let restricted = access::any_restricted(
        std::iter::once(&incoming)
            .chain([&record.demographics])
            .chain(record.sources.iter().map(|s| &s.demographics)),
    );
    let mut columns = vec![
        Column::new(
            format!(
                "Incoming: {} record {}",
                review.source_code, review.local_id
            ),
            &access::for_comparison(&incoming, restricted),
        ),
        Column::new(
            format!("Person {candidate}: combined record"),
            &access::for_comparison(&record.demographics, restricted),
        ),
    ];
    for s in record
        .sources
        .iter()
        .filter(|s| s.source_person_id != review.source_person_id)
    {
        columns.push(Column::new(
            format!(
                "Person {candidate} from {} record {} ({})",
                s.source_code, s.local_id, s.link_kind
            ),
            &access::for_comparison(&s.demographics, restricted),
        ));
    }
    let people: Vec<i64> = review
        .current_person_id
        .into_iter()
        .chain([candidate])
        .collect();
    dq.seen(web, &people, &format!("review {id}"))?;
    Ok(Either::Left(Page::ok(PairPage {
        bar: dq.bar(),
        candidate,
        table: SideBySide::new(columns),
        scores: score_rows(&score, restricted),
        total: format!("{:+.1}", score.total),
        queued_score: format!("{:+.1}", review.score),
        verdict: verdict(score.total),
        probable: format!("{:.1}", matching::PROBABLE),
        possible: format!("{:.1}", matching::POSSIBLE),
        can_unmerge,
        review,
    })))
}

fn score_rows(score: &MatchScore, restricted: bool) -> Vec<ScoreRow> {
    score
        .fields
        .iter()
        .map(|f| ScoreRow {
            field: f.field,
            agreement: f.agreement.as_str(),
            weight: format!("{:+.1}", f.weight),
            // The details quote the values; the gate says which a restricted record withholds.
            detail: access::match_detail(f.field, &f.detail, restricted)
                .unwrap_or_else(|| "withheld (restricted record)".into()),
        })
        .collect()
}

fn verdict(total: f64) -> String {
    if total >= matching::PROBABLE {
        "at or above the link threshold: the matcher held back for another reason (a close runner-up, a birth date that does not agree, or a conflicting NHS number)".into()
    } else if total >= matching::POSSIBLE {
        "between the review and link thresholds: a possible match".into()
    } else {
        "below the review threshold now: the records have changed since this was queued".into()
    }
}

#[derive(FromForm)]
pub struct DecisionForm<'r> {
    csrf: &'r str,
    note: Option<&'r str>,
}

type DecisionResult = Result<Either<Page<DonePage>, ErrorPage>, ServerError>;

#[post("/<id>/link", data = "<form>")]
fn link(
    mut dq: DataQuality,
    id: i64,
    form: Form<DecisionForm<'_>>,
    web: &State<Web>,
) -> DecisionResult {
    let now = web.clock.now_text();
    let precedence = &web.config.matching.precedence;
    let note = note(form.note);
    let linked = match dq.decide(form.csrf, |store, by| {
        links::link(store, precedence, id, by, note, &now)
    })? {
        Ok(l) => l,
        Err(page) => return Ok(Either::Right(page)),
    };
    let mut lines = vec![format!(
        "Review {id}: the record now belongs to person {}.",
        linked.person_id
    )];
    if let Some(from) = linked.from_person_id {
        lines.push(format!(
            "It came from person {from}; if that person has no other records they now lead to person {}.",
            linked.person_id
        ));
    }
    Ok(Either::Left(Page::ok(DonePage {
        bar: dq.bar(),
        title: "Linked: same person".into(),
        lines,
        next: vec![
            ("/review".into(), "Back to the possible matches".into()),
            (
                format!("/review/person/{}/unmerge", linked.person_id),
                "Undo this link".into(),
            ),
        ],
    })))
}

#[post("/<id>/reject", data = "<form>")]
fn reject(
    mut dq: DataQuality,
    id: i64,
    form: Form<DecisionForm<'_>>,
    web: &State<Web>,
) -> DecisionResult {
    let now = web.clock.now_text();
    let note = note(form.note);
    let (_, candidate) = match dq.decide(form.csrf, |store, by| {
        links::reject(store, id, by, note, &now)
    })? {
        Ok(r) => r,
        Err(page) => return Ok(Either::Right(page)),
    };
    Ok(Either::Left(Page::ok(DonePage {
        bar: dq.bar(),
        title: "Not the same person".into(),
        lines: vec![format!(
            "Review {id}: the record stays apart from person {candidate}. This pair will not be proposed again."
        )],
        next: vec![("/review".into(), "Back to the possible matches".into())],
    })))
}
