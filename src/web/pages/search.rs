//! `GET /search?q=`: one box for an NHS number, a name, a date of birth, a postcode or several
//! at once. Results come twenty to a page, best first, with a link to the next page (`&page=2`).
//! Each person listed on the page is an audit event (`search-hit`), written before the page; the
//! people on other pages are neither read nor checked for a relationship nor audited.

use super::{duplicates, seen, Page, UserBar};
use crate::access::{HitLevel, Listed};
use crate::audit::Action;
use crate::record::search::{self, Found, Query, MAX_PAGE};
use crate::record::view::{self, Duplicate};
use crate::web::guards::Clinical;
use crate::web::{ServerError, Web};
use askama::Template;
use askama_web::WebTemplate;
use rocket::{get, routes, Route, State};

pub fn routes() -> Vec<Route> {
    routes![search_page]
}

pub struct Row {
    pub id: i64,
    pub name: String,
    pub born: String,
    pub age: String,
    pub nhs_number: String,
    pub sex: String,
    pub postcode: String,
    pub gp: String,
    pub why: String,
    pub deceased: bool,
    /// "Possible duplicate of …, waiting for review", as the reader may see it.
    pub duplicates: Vec<Duplicate>,
    /// No care relationship: only name, date of birth and NHS number are shown, and opening
    /// the record offers a self-claim or broken glass.
    pub identity_only: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "search.html")]
pub struct SearchPage {
    pub bar: Option<UserBar>,
    pub q: String,
    pub rows: Vec<Row>,
    /// Shown above the results: nothing found, a term not understood, too many.
    pub messages: Vec<String>,
    /// Which page this is, from 1.
    pub page: usize,
    /// The next page's address, when more people match.
    pub more: Option<String>,
}

impl SearchPage {
    pub fn user(&self) -> Option<&UserBar> {
        self.bar.as_ref()
    }
}

#[get("/search?<q>&<page>")]
fn search_page(
    clinical: Clinical,
    q: Option<&str>,
    page: Option<usize>,
    web: &State<Web>,
) -> Result<Page<SearchPage>, ServerError> {
    let mut session = clinical.0;
    let text = q.unwrap_or("").trim();
    // Pages are numbered from 1 in the address; a number out of range shows the nearest page.
    let index = page.unwrap_or(1).clamp(1, MAX_PAGE + 1) - 1;
    let mut page = SearchPage {
        bar: UserBar::of(&session),
        q: text.to_owned(),
        rows: Vec::new(),
        messages: Vec::new(),
        page: index + 1,
        more: None,
    };
    if text.is_empty() {
        return Ok(Page::ok(page));
    }
    let query = Query::parse(text);
    if !query.ignored.is_empty() {
        page.messages.push(format!(
            "Not understood and left out: {}.",
            query.ignored.join(" ")
        ));
    }
    if !query.is_searchable() {
        page.messages.push(
            "Add an NHS number, a name, a full date of birth or a postcode to search.".into(),
        );
        return Ok(Page::ok(page));
    }
    let outcome = search::run(session.store(), &query, index)?;
    let now = web.clock.now();
    let today = now.date_naive();
    let mut named = Vec::new();
    for f in &outcome.found {
        let related = web
            .gate
            .related(session.store(), &session.profile, f.person.id, now)?;
        let by_withheld_postcode = query.postcode.is_some() && f.person.demographics.restricted;
        if let Some(level) = web
            .gate
            .hit(&session.profile, related, by_withheld_postcode)
        {
            // What the row may show is the gate's to say (objection, S-flag).
            let listed = web.gate.listed_hit(
                session.store(),
                &session.profile,
                f.person.id,
                &f.person.demographics,
                level,
            )?;
            let mut row = row(f, &listed, today, level);
            let (notes, others) = duplicates::notes(&session, web, f.person.id)?;
            row.duplicates = notes;
            named.extend(others);
            page.rows.push(row);
        }
    }
    if page.rows.is_empty() {
        page.messages.push(format!("No one found for “{text}”."));
        if let Some(n) = search::invalid_nhs_number(&query) {
            page.messages.push(format!(
                "{n} is not a valid NHS number (its check digit is wrong): check it and try again."
            ));
        }
    }
    if outcome.more {
        if index < MAX_PAGE {
            let next = rocket::uri!(search_page(Some(text), Some(index + 2)));
            page.more = Some(next.to_string());
        } else {
            page.messages.push(
                "More people match than these pages list. Add a date of birth or postcode to narrow the search.".into(),
            );
        }
    }
    let people: Vec<i64> = page.rows.iter().map(|r| r.id).collect();
    seen::record(
        &mut session,
        web,
        Action::SearchHit,
        &people,
        Some(&query.kind()),
        None,
    )?;
    named.retain(|id| !people.contains(id));
    named.sort_unstable();
    named.dedup();
    duplicates::audit_named(&mut session, web, &named)?;
    Ok(Page::ok(page))
}

fn row(f: &Found, listed: &Listed, today: chrono::NaiveDate, level: HitLevel) -> Row {
    let d = &listed.demographics;
    let (nhs, status) = view::nhs_display(d);
    let row = Row {
        id: f.person.id,
        name: view::person_name(d),
        born: d
            .birth_date
            .map(view::date_text)
            .unwrap_or_else(|| "not known".into()),
        age: view::age(d, today),
        nhs_number: match status {
            Some(s) => format!("{nhs} ({s})"),
            None => nhs,
        },
        sex: d.sex.map(|s| s.as_str()).unwrap_or("not known").to_owned(),
        postcode: if listed.whereabouts_withheld {
            "withheld".into()
        } else {
            d.postcode().unwrap_or("not known").to_owned()
        },
        gp: match (&d.gp_practice_name, &d.gp_practice) {
            (Some(n), Some(c)) => format!("{n} ({c})"),
            (Some(n), None) => n.clone(),
            (None, Some(c)) => c.clone(),
            (None, None) => "not known".into(),
        },
        why: f.reasons.join(", "),
        deceased: d.deceased || d.death_date.is_some(),
        duplicates: Vec::new(),
        identity_only: false,
    };
    match level {
        HitLevel::Full => row,
        HitLevel::Identity => Row {
            sex: String::new(),
            postcode: String::new(),
            gp: String::new(),
            why: String::new(),
            deceased: false,
            identity_only: true,
            ..row
        },
    }
}
