//! "Who looked at this person" (`GET /privacy/person?person=ID or NHS number`) and "what did
//! this user look at" (`GET /privacy/user?user=NAME`), each with `from`/`to` dates
//! (`YYYY-MM-DD`, inclusive), pages of [`PAGE`] events (`after` = the last seq shown) and a CSV
//! download (`format=csv`, at most [`CSV_CAP`] events a file). `GET /privacy/reports` offers
//! both forms. Each report run is audited (`audit-report`) before it is sent.

use super::csv_export::{audit_csv, CsvFile};
use super::{find_person, Dates, Found};
use crate::audit::Action;
use crate::store::{AuditQuery, AuditRow, AuditSubject};
use crate::web::guards::{Auditor, Session};
use crate::web::pages::{Page, UserBar};
use crate::web::{urlencode, ServerError, Web};
use askama::Template;
use askama_web::WebTemplate;
use rocket::http::Status;
use rocket::{get, routes, Either, Route, State};

pub fn routes() -> Vec<Route> {
    routes![reports_page, person_report, user_report]
}

/// Events on one page of a report.
pub const PAGE: usize = 500;
/// Events in one CSV file.
pub const CSV_CAP: usize = 50_000;

#[derive(Template, WebTemplate)]
#[template(path = "privacy_report.html")]
pub struct ReportPage {
    pub bar: Option<UserBar>,
    /// `person`, `user`, or empty for the page that offers both.
    pub kind: &'static str,
    pub subject: String,
    pub from: String,
    pub to: String,
    pub message: Option<String>,
    /// People an NHS number names, when it names several.
    pub choices: Vec<i64>,
    /// The events, once a report has run.
    pub rows: Option<Vec<AuditRow>>,
    /// What the caption says the report is about.
    pub about: String,
    /// The query string of this report (without paging or format), for its links.
    pub query: String,
    /// The `after` value of the next page, when there is one.
    pub next_after: Option<i64>,
    pub page_size: usize,
    pub csv_cap: usize,
}

impl ReportPage {
    pub fn user(&self) -> Option<&UserBar> {
        self.bar.as_ref()
    }

    fn new(session: &Session, kind: &'static str, form: &ReportForm<'_>) -> Self {
        Self {
            bar: UserBar::of(session),
            kind,
            subject: form.subject.trim().to_owned(),
            from: form.from.trim().to_owned(),
            to: form.to.trim().to_owned(),
            message: None,
            choices: Vec::new(),
            rows: None,
            about: String::new(),
            query: String::new(),
            next_after: None,
            page_size: PAGE,
            csv_cap: CSV_CAP,
        }
    }
}

type Report = Result<Either<Page<ReportPage>, CsvFile>, ServerError>;

/// A report's query string as typed.
struct ReportForm<'a> {
    subject: &'a str,
    from: &'a str,
    to: &'a str,
    after: i64,
    csv: bool,
}

impl<'a> ReportForm<'a> {
    fn new(
        subject: Option<&'a str>,
        from: Option<&'a str>,
        to: Option<&'a str>,
        after: Option<i64>,
        format: Option<&str>,
    ) -> Self {
        Self {
            subject: subject.unwrap_or(""),
            from: from.unwrap_or(""),
            to: to.unwrap_or(""),
            after: after.unwrap_or(0).max(0),
            csv: format == Some("csv"),
        }
    }
}

fn refused(mut page: ReportPage, why: String) -> Report {
    page.message = Some(why);
    Ok(Either::Left(Page(Status::UnprocessableEntity, page)))
}

#[get("/reports")]
fn reports_page(auditor: Auditor) -> Page<ReportPage> {
    let form = ReportForm::new(None, None, None, None, None);
    Page::ok(ReportPage::new(&auditor.0, "", &form))
}

#[get("/person?<person>&<from>&<to>&<after>&<format>")]
fn person_report(
    auditor: Auditor,
    person: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
    after: Option<i64>,
    format: Option<&str>,
    web: &State<Web>,
) -> Report {
    let form = ReportForm::new(person, from, to, after, format);
    let mut page = ReportPage::new(&auditor.0, "person", &form);
    if page.subject.is_empty() {
        return Ok(Either::Left(Page::ok(page)));
    }
    let id = match find_person(auditor.0.store(), &page.subject)? {
        Found::Person(id) => id,
        Found::Several(ids) => {
            page.choices = ids;
            let why = "Several people carry that NHS number; choose one.".to_owned();
            return refused(page, why);
        }
        Found::Nobody(why) => return refused(page, why),
    };
    page.about = format!("person {id}");
    page.query = format!("person={id}");
    run(
        auditor.0,
        web,
        page,
        &form,
        AuditSubject::Person(id),
        Some(id),
    )
}

#[get("/user?<user>&<from>&<to>&<after>&<format>")]
fn user_report(
    auditor: Auditor,
    user: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
    after: Option<i64>,
    format: Option<&str>,
    web: &State<Web>,
) -> Report {
    let form = ReportForm::new(user, from, to, after, format);
    let mut page = ReportPage::new(&auditor.0, "user", &form);
    if page.subject.is_empty() {
        return Ok(Either::Left(Page::ok(page)));
    }
    let Some(target) = auditor.0.store().user_by_name(&page.subject)? else {
        let why = format!("There is no user called {}.", page.subject);
        return refused(page, why);
    };
    page.about = format!("user {}", target.username);
    page.query = format!("user={}", urlencode(&target.username));
    run(
        auditor.0,
        web,
        page,
        &form,
        AuditSubject::User(target.id),
        None,
    )
}

/// Reads the events, audits the run, and answers with the page or the CSV file.
fn run(
    mut session: Session,
    web: &Web,
    mut page: ReportPage,
    form: &ReportForm<'_>,
    subject: AuditSubject,
    person: Option<i64>,
) -> Report {
    let dates = match Dates::parse(form.from, form.to) {
        Ok(d) => d,
        Err(why) => return refused(page, why),
    };
    for (name, value) in [("from", &page.from), ("to", &page.to)] {
        if !value.is_empty() {
            page.query
                .push_str(&format!("&{name}={}", urlencode(value)));
        }
    }
    let limit = if form.csv { CSV_CAP } else { PAGE };
    let mut rows = session.store().audit_report(&AuditQuery {
        subject,
        from: dates.from.as_deref(),
        until: dates.until.as_deref(),
        after_seq: form.after,
        // One more than shown says whether there is a next page.
        limit: limit + 1,
    })?;
    if rows.len() > limit {
        rows.truncate(limit);
        page.next_after = rows.last().map(|r| r.seq);
    }
    let which = match subject {
        AuditSubject::Person(_) => "who looked at this person",
        AuditSubject::User(_) => "what did this user look at",
    };
    let detail = format!(
        "{which}: {}; from {} to {}{}{}",
        page.about,
        if page.from.is_empty() {
            "the start"
        } else {
            &page.from
        },
        if page.to.is_empty() { "now" } else { &page.to },
        if form.after > 0 {
            format!("; after event {}", form.after)
        } else {
            String::new()
        },
        if form.csv { "; csv" } else { "" },
    );
    session.audit(web, Action::AuditReport, person, &detail, "ok")?;
    if form.csv {
        let name = format!("audit-{}.csv", page.about.replace(' ', "-"));
        return Ok(Either::Right(audit_csv(&rows, &name)?));
    }
    page.rows = Some(rows);
    Ok(Either::Left(Page::ok(page)))
}
