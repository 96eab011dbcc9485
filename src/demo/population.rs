//! The population dashboard's known truth: COVID-19 tests and positives, COVID-19 vaccinations
//! and national data opt-outs planted in the GP feed with a stated distribution, each written
//! to `population-truth.csv` beside the feeds so a test can compute what the dashboard must say.
//!
//! The distribution: over the twelve ISO weeks before the extract date (2024-W02 to 2024-W13),
//! each GP-registered person is tested in a week with chance [`TEST_CHANCE`] and a test is
//! positive with chance [`POSITIVE_CHANCE`]; in the hot-spot district [`HOT_SPOT_DISTRICT`]
//! during [`HOT_SPOT_WEEKS`] both are raised ([`HOT_TEST_CHANCE`], [`HOT_POSITIVE_CHANCE`]).
//! A share of people, [`OPT_OUT_CHANCE`], carry a national data opt-out code (see README's feed
//! formats): the dashboard must leave them out of every figure. COVID-19 vaccinations are the
//! GP record's own immunisations, written where [`super::records::gp_record`] writes them.
//!
//! The planting draws from its own random stream, so everything else the generator writes for
//! a seed is unchanged by it.

use super::feeds::FeedWriter;
use super::people::{base_date, Person, Rng};
use crate::error::Result;
use chrono::{Datelike, Days, IsoWeek, NaiveDate};
use serde_json::{json, Value};

pub const TEST_CHANCE: f64 = 0.03;
pub const POSITIVE_CHANCE: f64 = 0.12;
pub const HOT_SPOT_DISTRICT: &str = "WX7";
pub const HOT_SPOT_WEEKS: [u32; 2] = [9, 10];
pub const HOT_TEST_CHANCE: f64 = 0.08;
pub const HOT_POSITIVE_CHANCE: f64 = 0.6;
pub const OPT_OUT_CHANCE: f64 = 0.03;
/// Weeks of testing before the extract date's week, that week included.
pub const WEEKS: u64 = 12;

/// SNOMED CT's "dissent from secondary use of GP patient identifiable data" (the type 1
/// opt-out): what the shipped condition set's `opt-out` rule looks for.
pub const OPT_OUT_CODE: &str = "827241000000103";
const OPT_OUT_TEXT: &str = "Dissent from secondary use of general practitioner patient identifiable data (national data opt-out)";
/// LOINC: SARS-CoV-2 RNA, respiratory specimen, by NAA with probe detection.
const PCR_CODE: &str = "94500-6";

/// One planted fact, a row of the truth file: `person,district,event,date`.
pub struct Planted {
    pub event: &'static str,
    pub date: NaiveDate,
}

pub const TRUTH_HEADER: &str = "person,district,event,date\n";

/// The postcode district ("WX7") of a full postcode.
pub fn district(postcode: &str) -> &str {
    postcode.split_whitespace().next().unwrap_or("")
}

fn week_start(index: u64) -> NaiveDate {
    let end = base_date();
    let monday = end
        .checked_sub_days(Days::new(u64::from(end.weekday().num_days_from_monday())))
        .unwrap_or(end);
    monday
        .checked_sub_days(Days::new(7 * (WEEKS - 1 - index)))
        .unwrap_or(monday)
}

fn is_hot(p: &Person, week: IsoWeek) -> bool {
    district(&p.postcode) == HOT_SPOT_DISTRICT && HOT_SPOT_WEEKS.contains(&week.week())
}

/// Writes this person's planted tests and opt-out to their GP's feed; returns what was planted.
pub fn plant(
    f: &mut FeedWriter,
    p: &Person,
    local_id: &str,
    base: &str,
    seed: u64,
) -> Result<Vec<Planted>> {
    let mut r = Rng::new(seed, 40, p.index);
    let subject = json!({"reference": format!("Patient/{local_id}")});
    let mut out = Vec::new();
    if r.chance(OPT_OUT_CHANCE) {
        let date = base_date()
            .checked_sub_days(Days::new(30 + r.below(700)))
            .unwrap_or_else(base_date)
            .max(p.birth);
        let id = format!("{local_id}-optout");
        f.resource(&format!("{base}/Observation/{id}"), &json!({"resourceType": "Observation", "id": id,
            "status": "final", "subject": subject,
            "code": {"text": OPT_OUT_TEXT, "coding": [{"system": "http://snomed.info/sct", "code": OPT_OUT_CODE, "display": OPT_OUT_TEXT}]},
            "effectiveDateTime": date.to_string()}))?;
        out.push(Planted {
            event: "opted-out",
            date,
        });
    }
    for w in 0..WEEKS {
        let start = week_start(w);
        let hot = is_hot(p, start.iso_week());
        let (test, positive) = match hot {
            true => (HOT_TEST_CHANCE, HOT_POSITIVE_CHANCE),
            false => (TEST_CHANCE, POSITIVE_CHANCE),
        };
        if !r.chance(test) {
            continue;
        }
        let date = start
            .checked_add_days(Days::new(r.below(7)))
            .unwrap_or(start);
        let detected = r.chance(positive);
        if date < p.birth || p.died.is_some_and(|d| date > d) {
            continue;
        }
        let id = format!("{local_id}-cov{w}");
        f.resource(
            &format!("{base}/Observation/{id}"),
            &pcr(&id, &subject, date, detected),
        )?;
        out.push(Planted {
            event: "tested",
            date,
        });
        if detected {
            out.push(Planted {
                event: "positive",
                date,
            });
        }
    }
    Ok(out)
}

fn pcr(id: &str, subject: &Value, date: NaiveDate, detected: bool) -> Value {
    let (code, text) = match detected {
        true => ("260373001", "Detected"),
        false => ("260415000", "Not detected"),
    };
    json!({"resourceType": "Observation", "id": id, "status": "final", "subject": subject,
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}],
        "code": {"text": "SARS-CoV-2 RNA PCR", "coding": [{"system": "http://loinc.org", "code": PCR_CODE, "display": "SARS-CoV-2 RNA [Presence] in Respiratory specimen by NAA with probe detection"}]},
        "effectiveDateTime": format!("{date}T10:00:00Z"),
        "valueCodeableConcept": {"text": text, "coding": [{"system": "http://snomed.info/sct", "code": code, "display": text}]}})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_twelve_weeks_end_in_the_extract_dates_week() {
        assert_eq!(week_start(WEEKS - 1).iso_week(), base_date().iso_week());
        assert_eq!(week_start(0).iso_week().week(), 2);
        assert_eq!(week_start(0).weekday(), chrono::Weekday::Mon);
    }
}
