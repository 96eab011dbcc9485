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
    // Her number comes with her as a related person in the GP's feed.
    assert!(
        directives.contains("01632 960222"),
        "the LPA does not give the attorney's number: {directives}"
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

/// The text of a page without its tags.
fn visible_text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for ch in html.chars() {
        match ch {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// Whether `text` holds an ISO 8601 time such as `2024-02-03T11:05`.
fn has_iso_time(text: &str) -> bool {
    let b = text.as_bytes();
    b.windows(13).any(|w| {
        w[..4].iter().all(u8::is_ascii_digit)
            && w[4] == b'-'
            && w[7] == b'-'
            && w[10] == b'T'
            && w[11..13].iter().all(u8::is_ascii_digit)
    })
}

#[test]
fn regression_staff_pages_show_uk_dates_and_local_times_not_iso_or_utc() {
    let s = Server::start();
    let clin = s.login("clin");
    let it = s.login("it");
    let po = s.login("po");
    let margaret = person_with_nhs(&s.env, MARGARET);
    let robert = person_with_nhs(&s.env, ROBERT);
    for (who, path) in [
        (&clin, format!("/person/{margaret}")),
        (&clin, format!("/person/{margaret}/timeline")),
        (&clin, format!("/person/{robert}")),
        (&it, "/admin/feeds".to_owned()),
        (&it, "/admin/feeds/WGH-PAS".to_owned()),
        (&po, format!("/privacy/person?person={margaret}")),
    ] {
        let (status, p) = page(&s, who, &path);
        assert_eq!(status, 200, "{path}");
        let text = visible_text(&p);
        assert!(!has_iso_time(&text), "{path} shows an ISO 8601 time");
        assert!(!text.contains("UTC"), "{path} shows a time in UTC");
    }
    let (_, p) = page(&s, &clin, &format!("/person/{margaret}"));
    assert!(
        p.contains(" GMT") || p.contains(" BST"),
        "the record shows no local time"
    );
}

#[test]
fn the_iso_time_check_finds_iso_times() {
    assert!(has_iso_time("received 2024-02-03T11:05:00Z"));
    assert!(!has_iso_time("received 3 Feb 2024 11:05 GMT"));
}
