//! "Who has looked at my record": every look at the citizen's record by staff or the system,
//! from the audit trail, with the organisation, the role and why they could (a care
//! relationship, a relationship they claimed and its reason, or broken glass with its reason
//! and what the privacy officer decided). Staff are named only if the policy says so.

use super::guard::Citizen;
use super::plain_time;
use crate::access::{CLAIM_REASONS, GLASS_REASONS};
use crate::store::LookRow;
use crate::web::pages::Page;
use crate::web::{ServerError, Web};
use askama::Template;
use askama_web::WebTemplate;
use chrono::NaiveDate;
use rocket::http::{ContentType, Header};
use rocket::{get, routes, Responder, Route, State};

pub fn routes() -> Vec<Route> {
    routes![looked_page, looked_csv]
}

/// At most this many looks on one page or download.
const LIMIT: usize = 2000;

pub struct Look {
    pub when: String,
    pub organisation: String,
    pub role: String,
    pub who: Option<String>,
    pub what: String,
    pub why: String,
    pub broken_glass: bool,
    /// For broken glass: what the privacy officer decided.
    pub decision: Option<String>,
}

fn label<'a>(list: &'a [(&str, &'a str)], code: &str) -> &'a str {
    list.iter()
        .find(|(c, _)| *c == code)
        .map_or("another reason", |(_, l)| l)
}

fn what(action: &str) -> &'static str {
    match action {
        "view-record" => "Opened your record",
        "view-timeline" => "Looked at your timeline",
        "view-results" | "view-results-chart" => "Looked at your test results",
        "search-hit" => "You appeared in their search results",
        "view-as-role" => "Privacy review of what a role would see",
        "fhir-read" => "Read your record through a connected system",
        "cli-export" => "Exported your record at the server",
        "citizen-view" => "Looked at your record, acting for you",
        "proxy-record" => "Recorded that someone may act for you",
        "proxy-end" => "Ended someone's access to act for you",
        _ => "Looked at your record at the server",
    }
}

fn look(row: LookRow, web: &Web) -> Look {
    let role = match row.role.as_deref() {
        Some("citizen") => "Someone who acts for you (proxy)".to_owned(),
        Some(r) => web
            .gate
            .policy
            .role(r)
            .map_or_else(|| r.to_owned(), |d| d.label.clone()),
        None => "System operator".to_owned(),
    };
    let broken_glass = row.grant_kind.as_deref() == Some("break-glass")
        || row
            .detail
            .as_deref()
            .is_some_and(|d| d.contains("break-glass"));
    let reason = row.grant_reason.clone().unwrap_or_default();
    let why = match row.grant_kind.as_deref() {
        Some("break-glass") => format!(
            "Emergency access (“broken glass”): {}{}",
            label(
                &GLASS_REASONS,
                row.grant_reason_code.as_deref().unwrap_or("")
            ),
            if reason.is_empty() {
                String::new()
            } else {
                format!(" — “{reason}”")
            }
        ),
        Some(_) => format!(
            "They said they are involved in your care: {}",
            label(
                &CLAIM_REASONS,
                row.grant_reason_code.as_deref().unwrap_or("")
            )
        ),
        None if broken_glass => "Emergency access (“broken glass”)".to_owned(),
        None if row.role.is_none() => "Work on the system itself".to_owned(),
        None if row.action == "view-as-role" => {
            "Checking what staff can see (privacy review)".to_owned()
        }
        None if row.role.as_deref() == Some("citizen") => {
            "They act for you (proxy access recorded by staff)".to_owned()
        }
        None if row.action.starts_with("proxy-") => {
            "Proxy access, with the evidence staff saw".to_owned()
        }
        None => "They are involved in your care (from your care records)".to_owned(),
    };
    let decision = broken_glass.then(|| match (&row.alert_closed_at, &row.alert_note) {
        (Some(at), note) => format!(
            "Reviewed by the privacy officer on {}{}",
            plain_time(at),
            note.as_deref()
                .filter(|n| !n.trim().is_empty())
                .map(|n| format!(": “{n}”"))
                .unwrap_or_default()
        ),
        (None, _) => "Not yet reviewed by the privacy officer".to_owned(),
    });
    Look {
        when: plain_time(&row.at),
        organisation: row
            .org
            .unwrap_or_else(|| "The shared record service".into()),
        role,
        who: if web.gate.policy.citizen.show_staff_names {
            row.actor
        } else {
            None
        },
        what: what(&row.action).to_owned(),
        why,
        broken_glass,
        decision,
    }
}

fn range(from: Option<&str>, until: Option<&str>) -> (Option<String>, Option<String>) {
    let day =
        |d: Option<&str>| d.and_then(|d| NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").ok());
    (
        day(from).map(|d| format!("{d}T00:00:00Z")),
        day(until)
            .and_then(|d| d.succ_opt())
            .map(|d| format!("{d}T00:00:00Z")),
    )
}

fn looks(
    citizen: &mut Citizen,
    web: &Web,
    from: Option<&str>,
    until: Option<&str>,
    what: &str,
) -> Result<Vec<Look>, ServerError> {
    let (from, until) = range(from, until);
    // The person's own looks are left out: their account's, whoever is signed in now.
    let own = match citizen.db.citizen_account_of(citizen.person_id)? {
        Some(account) => crate::citizen::invite::actor(account, None).name,
        None => String::new(),
    };
    let rows = citizen.db.looks_at(
        citizen.person_id,
        &own,
        from.as_deref(),
        until.as_deref(),
        LIMIT,
    )?;
    super::record::audit_own(citizen, web, what)?;
    Ok(rows.into_iter().map(|r| look(r, web)).collect())
}

#[derive(Template, WebTemplate)]
#[template(path = "citizen/looked.html")]
pub struct LookedPage {
    session_csrf: String,
    looks: Vec<Look>,
    from: String,
    until: String,
    names: bool,
}

#[get("/looked?<from>&<until>")]
fn looked_page(
    mut citizen: Citizen,
    from: Option<&str>,
    until: Option<&str>,
    web: &State<Web>,
) -> Result<Page<LookedPage>, ServerError> {
    let looks = looks(&mut citizen, web, from, until, "who has looked")?;
    Ok(Page::ok(LookedPage {
        session_csrf: citizen.row.csrf_token.clone(),
        looks,
        from: from.unwrap_or("").to_owned(),
        until: until.unwrap_or("").to_owned(),
        names: web.gate.policy.citizen.show_staff_names,
    }))
}

#[derive(Responder)]
pub struct Csv {
    body: String,
    content_type: ContentType,
    disposition: Header<'static>,
}

fn csv_field(s: &str) -> String {
    // A leading = + - @ would be read as a formula by a spreadsheet.
    let s = match s.chars().next() {
        Some('=' | '+' | '-' | '@') => format!("'{s}"),
        _ => s.to_owned(),
    };
    format!("\"{}\"", s.replace('"', "\"\""))
}

#[get("/looked.csv?<from>&<until>")]
fn looked_csv(
    mut citizen: Citizen,
    from: Option<&str>,
    until: Option<&str>,
    web: &State<Web>,
) -> Result<Csv, ServerError> {
    let looks = looks(&mut citizen, web, from, until, "who has looked (CSV)")?;
    let mut body = String::from("when,organisation,role,name,what,why,privacy officer\r\n");
    for l in &looks {
        let fields = [
            l.when.as_str(),
            &l.organisation,
            &l.role,
            l.who.as_deref().unwrap_or(""),
            &l.what,
            &l.why,
            l.decision.as_deref().unwrap_or(""),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        body.push_str(&line.join(","));
        body.push_str("\r\n");
    }
    Ok(Csv {
        body,
        content_type: ContentType::CSV,
        disposition: Header::new(
            "Content-Disposition",
            "attachment; filename=\"who-has-looked-at-my-record.csv\"",
        ),
    })
}
