//! The record page's summary over the sample feeds, through the real server: what the
//! ninety-second reader needs comes before the full record; the full record shows the latest
//! few items of each category with "show all" (a `<details>`, so it works without
//! JavaScript); words, UK dates and durations in days.

use super::server::*;

const MARGARET: &str = "9994837567";
const ROBERT: &str = "9991256555";
const DANIEL: &str = "9997661001";

fn page(s: &Server, c: &reqwest::blocking::Client, path: &str) -> (u16, String) {
    let r = c.get(s.url(path)).send().unwrap();
    (r.status().as_u16(), r.text().unwrap())
}

fn at(page: &str, needle: &str) -> usize {
    page.find(needle)
        .unwrap_or_else(|| panic!("the page lacks {needle}"))
}

#[test]
fn the_summary_comes_before_the_full_record_in_reading_order() {
    let s = Server::start();
    let c = s.login("clin");
    let margaret = person_with_nhs(&s.env, MARGARET);
    let (status, p) = page(&s, &c, &format!("/person/{margaret}"));
    assert_eq!(status, 200);
    let order = [
        "id=\"banner\"",
        "id=\"summary-alerts\"",
        "id=\"summary-directives\"",
        "id=\"summary-allergies\"",
        "id=\"summary-medications\"",
        "id=\"summary-contacts\"",
        "id=\"summary-location\"",
        "id=\"full-record\"",
        "id=\"cat-advance-directive\"",
    ];
    for pair in order.windows(2) {
        assert!(
            at(&p, pair[0]) < at(&p, pair[1]),
            "{} should come before {}",
            pair[0],
            pair[1]
        );
    }
    let summary = &p[at(&p, "id=\"summary\"")..at(&p, "id=\"full-record\"")];
    for expected in [
        "DNACPR decision",
        "Penicillin (",
        "Alendronic acid 70mg tablets",
        "Paracetamol 500mg tablets",
        "Susan",
        "Ashcombe Community Hospital",
    ] {
        assert!(summary.contains(expected), "the summary lacks {expected}");
    }
    // Margaret has more results than the few shown: the rest are behind "show all".
    let results = &p[at(&p, "id=\"cat-result\"")..];
    let results = &results[..at(results, "</section>")];
    assert!(results.contains("<details class=\"show-all\""));
    assert!(results.contains("Show all"));
}

#[test]
fn regression_the_lpa_flag_names_the_attorney() {
    let s = Server::start();
    let c = s.login("clin");
    let robert = person_with_nhs(&s.env, ROBERT);
    let (_, p) = page(&s, &c, &format!("/person/{robert}"));
    let directives = &p[at(&p, "id=\"summary-directives\"")..at(&p, "id=\"summary-allergies\"")];
    assert!(
        directives.contains("Attorney: Jean Clarke"),
        "the LPA does not name the attorney: {directives}"
    );
}

#[test]
fn regression_no_allergy_information_is_not_shown_as_no_known_allergies_on_the_page() {
    let s = Server::start();
    let c = s.login("clin");
    let daniel = person_with_nhs(&s.env, DANIEL);
    claim(&s, &c, daniel);
    let (_, p) = page(&s, &c, &format!("/person/{daniel}"));
    let allergies = &p[at(&p, "id=\"summary-allergies\"")..at(&p, "id=\"summary-medications\"")];
    assert!(allergies.contains("No allergy information"));
    assert!(!p.contains("No known allergies"));
}

#[test]
fn regression_lasts_168_hours_reads_as_7_days() {
    let s = Server::start();
    let c = s.login("clin");
    let daniel = person_with_nhs(&s.env, DANIEL);
    let (status, p) = page(&s, &c, &format!("/person/{daniel}"));
    assert_eq!(status, 403);
    assert!(p.contains("Lasts 7 days."), "{p}");
    assert!(!p.contains("168 hours"));
    assert!(p.contains("for 4 hours;"));
}
