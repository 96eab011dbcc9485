//! `GET /fhir/Patient?…`: finding people, through the same store searches as the UI.
//!
//! `identifier` (the NHS number system, or no system), `name`, `family`, `given` and
//! `birthdate` make one query for the same search as the search box (its first page, best
//! first: any source's spelling, sound-alike and misspelt names only when too few match
//! otherwise). `family` and `given` then keep only people whose golden name part starts with
//! the value, as FHIR string search does; `name` alongside an identifier does the same over
//! every name part. `birthdate` is a date, year-month or year (prefix `eq` only). `_count` sets
//! how many Patients a page holds (default 20, at most 100), `_page` which page. Each Patient
//! listed writes one `search-hit` audit event.

use super::outcome::FhirError;
use super::read::searchset;
use super::request::FhirRequest;
use super::FhirJson;
use crate::access::gate::identity_only;
use crate::access::Opened;
use crate::audit::Action;
use crate::model::Demographics;
use crate::record::search::{self, Query};
use crate::record::{fhir_export, PersonRecord};
use crate::web::Web;
use rocket::{get, State};
use serde_json::Value;

const NHS_NUMBER_SYSTEM: &str = "https://fhir.nhs.uk/Id/nhs-number";

#[derive(Default)]
struct Criteria {
    identifier: Option<String>,
    family: Vec<String>,
    given: Vec<String>,
    name: Vec<String>,
    birthdate: Vec<String>,
}

#[get("/Patient")]
pub fn search_patients(mut fhir: FhirRequest, web: &State<Web>) -> Result<FhirJson, FhirError> {
    let c = criteria(fhir.base.params(&[
        "identifier",
        "family",
        "given",
        "name",
        "birthdate",
        "_count",
        "_page",
    ])?)?;
    let size = count_asked(&fhir.base.params)?;
    let page = page_asked(&fhir.base.params, size)?;
    let outcome = search::run_sized(fhir.store(), &query(&c), page - 1, size)?;
    let (found, more) = (outcome.found, outcome.more);
    let by_name_search = c.identifier.is_none();
    let mut people = Vec::new();
    let now = web.clock.now();
    for hit in found
        .iter()
        .map(|f| &f.person)
        .filter(|p| keeps(&c, &p.demographics, by_name_search))
    {
        // With a care relationship, the Patient as the caller may see it; without one, who
        // the person is (name, birth date, NHS number) and nothing more.
        match web
            .gate
            .open_person(fhir.store(), &fhir.profile, hit.id, now, false)?
        {
            Opened::Record(v) => people.push(v.record),
            Opened::NoAccess { .. } => {
                if let Some(record) = fhir.store().person_record_of(hit.id, &[])? {
                    people.push(PersonRecord {
                        demographics: identity_only(&record.demographics),
                        sources: Vec::new(),
                        entries: Vec::new(),
                        ..record
                    });
                }
            }
        }
    }
    let ids: Vec<i64> = people.iter().map(|r| r.person_id).collect();
    fhir.audit(web, Action::SearchHit, &ids, "FHIR Patient search")?;
    let patients: Vec<Value> = people.iter().map(fhir_export::patient_resource).collect();
    let mut bundle = searchset(&fhir.base, patients);
    paged(&mut bundle, &fhir.base, page, more);
    Ok(FhirJson::ok(bundle))
}

/// How many Patients a page holds: `_count`, at most [`search::MAX_SIZE`] (a larger count is
/// given that many, as FHIR lets a server do), else twenty.
fn count_asked(params: &[(String, String)]) -> Result<usize, FhirError> {
    match params.iter().find(|(k, _)| k == "_count") {
        None => Ok(search::PAGE),
        Some((_, v)) => v
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| *n >= 1)
            .map(|n| n.min(search::MAX_SIZE))
            .ok_or_else(|| {
                FhirError::invalid(format!(
                    "_count must be a number of Patients from 1 (at most {} are given).",
                    search::MAX_SIZE
                ))
            }),
    }
}

/// The page `_page` asks for, from 1, of pages of `size`.
fn page_asked(params: &[(String, String)], size: usize) -> Result<usize, FhirError> {
    let last = search::last_page(size) + 1;
    match params.iter().find(|(k, _)| k == "_page") {
        None => Ok(1),
        Some((_, v)) => v
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=last).contains(n))
            .ok_or_else(|| {
                FhirError::invalid(format!("_page must be a page number from 1 to {last}."))
            }),
    }
}

/// Matches come `_count` (or twenty) to a page, best first. While more follow, the Bundle says so with a
/// `next` link and claims no `total` (it would count this page only); a later page claims
/// none either.
fn paged(bundle: &mut Value, base: &super::request::Base, page: usize, more: bool) {
    let Some(b) = bundle.as_object_mut() else {
        return;
    };
    if page > 1 || more {
        b.remove("total");
    }
    if more {
        let mut query: Vec<String> = base
            .params
            .iter()
            .filter(|(k, _)| k != "_page")
            .map(|(k, v)| format!("{}={}", crate::web::urlencode(k), crate::web::urlencode(v)))
            .collect();
        query.push(format!("_page={}", page + 1));
        let next = format!("{}/Patient?{}", base.url, query.join("&"));
        if let Some(Value::Array(links)) = b.get_mut("link") {
            links.push(serde_json::json!({"relation": "next", "url": next}));
        }
    }
}

/// The search box's query for these parameters.
fn query(c: &Criteria) -> Query {
    let names = c
        .name
        .iter()
        .chain(&c.family)
        .chain(&c.given)
        .flat_map(|v| v.split_whitespace())
        .map(str::to_lowercase)
        .collect();
    let mut q = Query {
        nhs_number: c.identifier.clone(),
        names,
        ..Query::default()
    };
    for d in &c.birthdate {
        match chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d") {
            Ok(date) => q.birth_date = Some(date),
            Err(_) => q.birth_year = d.get(..4).and_then(|y| y.parse().ok()),
        }
    }
    q
}

fn criteria(params: &[(String, String)]) -> Result<Criteria, FhirError> {
    let mut c = Criteria::default();
    for (k, v) in params {
        let v = v.trim();
        if v.is_empty() {
            return Err(FhirError::invalid(format!(
                "The parameter '{k}' has no value."
            )));
        }
        match k.as_str() {
            "identifier" => {
                if c.identifier.is_some() {
                    return Err(FhirError::not_supported("Give one identifier."));
                }
                c.identifier = Some(nhs_number(v)?);
            }
            "family" => c.family.push(v.to_owned()),
            "given" => c.given.push(v.to_owned()),
            "name" => c.name.push(v.to_owned()),
            "birthdate" => c.birthdate.push(birthdate(v)?),
            _ => {}
        }
    }
    if c.identifier.is_none() && c.family.is_empty() && c.given.is_empty() && c.name.is_empty() {
        return Err(FhirError::not_supported(
            "Search Patients by identifier, name, family or given (birthdate narrows them).",
        ));
    }
    Ok(c)
}

/// The NHS number from `system|value` or a bare value; another system is not searchable.
fn nhs_number(v: &str) -> Result<String, FhirError> {
    let value = match v.split_once('|') {
        Some((system, value)) if system.is_empty() || system == NHS_NUMBER_SYSTEM => value,
        Some(_) => {
            return Err(FhirError::not_supported(format!(
                "Only the NHS number ({NHS_NUMBER_SYSTEM}) is a searchable identifier."
            )))
        }
        None => v,
    };
    let digits: String = value.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() != 10 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(FhirError::invalid("An NHS number has 10 digits."));
    }
    Ok(digits)
}

/// A birth date search value as the prefix of an ISO date it matches.
fn birthdate(v: &str) -> Result<String, FhirError> {
    let date = v.strip_prefix("eq").unwrap_or(v);
    let shape_ok = match date.len() {
        4 | 7 | 10 => date.chars().enumerate().all(|(i, ch)| {
            if i == 4 || i == 7 {
                ch == '-'
            } else {
                ch.is_ascii_digit()
            }
        }),
        _ => false,
    };
    if !shape_ok {
        return Err(FhirError::not_supported(
            "birthdate takes YYYY, YYYY-MM or YYYY-MM-DD, with no prefix but eq.",
        ));
    }
    Ok(date.to_owned())
}

fn starts_word(part: Option<&str>, value: &str) -> bool {
    let value = value.to_lowercase();
    part.unwrap_or("")
        .split_whitespace()
        .any(|w| w.to_lowercase().starts_with(&value))
}

fn keeps(c: &Criteria, d: &Demographics, by_name_search: bool) -> bool {
    let family = d.family.as_deref();
    let given_names = d.given.join(" ");
    let given = Some(given_names.as_str());
    let birth_date = d.birth_date.map(|b| b.to_string());
    let family_ok = c.family.iter().all(|f| {
        let f = f.to_lowercase();
        family.is_some_and(|n| n.to_lowercase().starts_with(&f))
    });
    let given_ok = c.given.iter().all(|g| starts_word(given, g));
    let name_ok = by_name_search
        || c.name.iter().all(|n| {
            n.split_whitespace()
                .all(|w| starts_word(family, w) || starts_word(given, w))
        });
    let born_ok = c.birthdate.iter().all(|d| {
        birth_date
            .as_deref()
            .is_some_and(|b| b.starts_with(d.as_str()))
    });
    family_ok && given_ok && name_ok && born_ok
}
