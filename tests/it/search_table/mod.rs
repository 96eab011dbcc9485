//! The search acceptance table (issue 12): more than sixty queries typed into the search box of
//! the real server, over the generated 20,000-person region, the sample feeds and a few people
//! with Welsh, Irish and accented names, each with the person who must be on the first page of
//! results (and, where it matters, first).
//!
//! The people to look for are picked from what the database holds after the load (their golden
//! names, dates of birth and postcodes) and from the generator (who had a maiden name), and the
//! queries are made from them, so the table tests the search and not a list of remembered ids.
//! The region is loaded without its clinical entries (results, contacts): search reads only
//! who people are, and the load then takes seconds instead of minutes.

mod region;

use super::server::Server;
use super::support::nhs_number;
use region::{count, first_word, golden, person_with, region, uk_date, Golden};
use reqwest::blocking::Client;
use std::collections::HashMap;

use region::{PEOPLE, SEED};
/// Results on the first page.
const PAGE: usize = 20;

/// One row of the table.
struct Case {
    kind: &'static str,
    query: String,
    want: i64,
    /// The person must be listed first, not only on the first page.
    first: bool,
}

fn cases(s: &Server) -> Vec<Case> {
    let people = golden(s);
    let by_id: HashMap<i64, &Golden> = people.iter().map(|p| (p.id, p)).collect();
    let name_count = count(&people, |p| {
        (first_word(&p.given).to_lowercase(), p.family.to_lowercase())
    });
    let family_year = count(&people, |p| {
        (
            p.family.to_lowercase(),
            p.born.get(..4).unwrap_or("").to_owned(),
        )
    });
    let at_postcode = count(&people, |p| p.postcode.clone());
    let born_on = count(&people, |p| p.born.clone());
    let mut out = Vec::new();
    let mut case = |kind: &'static str, query: String, want: i64, first: bool| {
        out.push(Case {
            kind,
            query,
            want,
            first,
        })
    };
    // People with a name few others share, a birth date and a postcode.
    let plain: Vec<&Golden> = people
        .iter()
        .filter(|p| {
            p.nhs.is_some() && p.family.chars().all(char::is_alphabetic) && p.family.len() >= 4
        })
        .filter(|p| !p.born.is_empty() && !p.postcode.is_empty())
        .filter(|p| {
            name_count[&(first_word(&p.given).to_lowercase(), p.family.to_lowercase())] <= 8
        })
        .step_by(997)
        .take(8)
        .collect();
    assert_eq!(plain.len(), 8);
    for p in &plain {
        let given = first_word(&p.given);
        case("exact name", format!("{given} {}", p.family), p.id, false);
        case("swapped", format!("{} {given}", p.family), p.id, false);
        case(
            "name + date of birth",
            format!("{given} {} {}", p.family, uk_date(&p.born)),
            p.id,
            true,
        );
        case(
            "name + postcode",
            format!("{given} {} {}", p.family, p.postcode),
            p.id,
            true,
        );
        if family_year[&(p.family.to_lowercase(), p.born[..4].to_owned())] <= PAGE {
            case(
                "name + year",
                format!("{} {}", p.family, &p.born[..4]),
                p.id,
                false,
            );
        }
        // A keying slip inside the family name: two letters swapped.
        let mut letters: Vec<char> = p.family.chars().collect();
        letters.swap(1, 2);
        let slip: String = letters.into_iter().collect();
        if slip.to_lowercase() != p.family.to_lowercase() {
            case(
                "typo + date of birth",
                format!("{given} {slip} {}", uk_date(&p.born)),
                p.id,
                false,
            );
        }
    }
    for p in plain.iter().take(4) {
        if at_postcode[&p.postcode] <= PAGE {
            case(
                "postcode alone",
                p.postcode.to_lowercase().replace(' ', ""),
                p.id,
                false,
            );
        }
        if born_on[&p.born] <= PAGE {
            case("date of birth alone", uk_date(&p.born), p.id, false);
        }
        let district = p.postcode.split(' ').next().unwrap();
        case(
            "name + postcode district",
            format!("{} {} {district}", first_word(&p.given), p.family),
            p.id,
            false,
        );
        case(
            "name + sex",
            format!("{} {} {}", first_word(&p.given), p.family, p.sex),
            p.id,
            false,
        );
    }
    for p in plain.iter().take(3) {
        let nhs = p.nhs.clone().unwrap();
        case("NHS number", nhs.clone(), p.id, true);
        case(
            "NHS number with spaces",
            format!("{} {} {}", &nhs[..3], &nhs[3..6], &nhs[6..]),
            p.id,
            true,
        );
    }
    // Sound-alikes and misspellings of a common name.
    let thompsons: Vec<&Golden> = people
        .iter()
        .filter(|p| p.family.eq_ignore_ascii_case("thompson") && !p.born.is_empty())
        .filter(|p| family_year[&("thompson".to_owned(), p.born[..4].to_owned())] <= 6)
        .take(3)
        .collect();
    assert!(!thompsons.is_empty());
    for p in &thompsons {
        let given = first_word(&p.given);
        case(
            "sounds alike + year",
            format!("{given} Thomson {}", &p.born[..4]),
            p.id,
            false,
        );
        case(
            "sounds alike + year",
            format!("{given} Tomson {}", &p.born[..4]),
            p.id,
            false,
        );
        case(
            "misspelt + date of birth",
            format!("Thompsen {}", uk_date(&p.born)),
            p.id,
            true,
        );
    }
    // Double-barrelled, apostrophe and Mc names from the region.
    for (family, typed) in [
        (
            "Armstrong-Jones",
            vec!["Armstrong-Jones", "armstrong jones", "ARMSTRONG-JONES"],
        ),
        (
            "O'Brien",
            vec!["O'Brien", "OBrien", "O Brien", "O\u{2019}Brien"],
        ),
        ("MacDonald", vec!["McDonald", "Mac Donald"]),
    ] {
        let p = people
            .iter()
            .find(|p| p.family == family && !p.born.is_empty())
            .unwrap_or_else(|| panic!("no {family} in the region"));
        for t in typed {
            case(
                "punctuated name + year",
                format!("{} {t} {}", first_word(&p.given), &p.born[..4]),
                p.id,
                false,
            );
        }
    }
    // Maiden names that an older record still carries.
    let mut maiden = 0;
    for i in 0..PEOPLE {
        let g = sharedcare::demo::person(SEED, i);
        let Some(before) = &g.birth_family else {
            continue;
        };
        let Some(id) = person_with(s, &g.nhs) else {
            continue;
        };
        let carried: i64 = s.env.count(&format!(
            "SELECT count(*) FROM source_person WHERE person_id = {id}
             AND json_extract(demographics, '$.family') = '{}'",
            before.replace('\'', "''")
        ));
        let now = by_id[&id];
        if carried == 0 || now.family == *before {
            continue;
        }
        case(
            "maiden name + year",
            format!("{} {before} {}", g.given, &now.born[..4]),
            id,
            false,
        );
        maiden += 1;
        if maiden == 3 {
            break;
        }
    }
    // Welsh, Irish and accented names, typed with and without their accents.
    let named = |n: usize| person_with(s, &nhs_number(7000 + n as u32)).unwrap();
    for (n, typed, first) in [
        (0, "Siân ap Rhys", true),
        (0, "sian ap rhys", true),
        (0, "Sian aprhys", true),
        (0, "ap Rhys 1961", true),
        (1, "Zoë Núñez", true),
        (1, "zoe nunez", true),
        (2, "Sean O Ceallaigh", true),
        (2, "Ó Ceallaigh 1958", true),
        (3, "Dafydd Llywelyn-Jones", true),
        (3, "dafydd llewelyn 11/02/1949", true),
        (4, "Gwenllian ab Owain", true),
        (5, "Renee D'Souza", true),
        (5, "renee dsouza", true),
    ] {
        case(
            "Welsh, Irish or accented name",
            typed.to_owned(),
            named(n),
            first,
        );
    }
    // The sample feeds: Margaret Thompson, born 14 March 1938.
    let margaret = person_with(s, "9994837567").unwrap();
    for typed in [
        "Margaret Thompson",
        "Thompson Margaret",
        "marg thom 1938",
        "Margaret Thomson 14/03/1938",
        "Tomson 14/03/1938",
        "Thompsen 14 Mar 1938",
    ] {
        case("sample feeds", typed.to_owned(), margaret, false);
    }
    out
}

/// The person ids on the first page of results, in order.
fn first_page(c: &Client, s: &Server, q: &str) -> Vec<i64> {
    let r = c.get(s.url("/search")).query(&[("q", q)]).send().unwrap();
    assert_eq!(r.status(), 200, "search {q}");
    let html = r.text().unwrap();
    let Some(start) = html.find("<table id=\"results\"") else {
        return Vec::new();
    };
    let table = &html[start..html[start..].find("</table>").unwrap() + start];
    table
        .split("<a href=\"/person/")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().parse().unwrap())
        .take(PAGE)
        .collect()
}

#[test]
fn the_search_table_finds_each_person_on_the_first_page() {
    let started = std::time::Instant::now();
    let s = region();
    let loaded = started.elapsed();
    let c = s.login("clin");
    let table = cases(&s);
    assert!(table.len() >= 60, "only {} queries", table.len());
    let mut failed = Vec::new();
    let searching = std::time::Instant::now();
    for case in &table {
        let ids = first_page(&c, &s, &case.query);
        let ok = if case.first {
            ids.first() == Some(&case.want)
        } else {
            ids.contains(&case.want)
        };
        if !ok {
            let place = ids.iter().position(|id| *id == case.want);
            failed.push(format!(
                "{}: “{}” wants person {}{} — listed at {place:?} of {}",
                case.kind,
                case.query,
                case.want,
                if case.first { " first" } else { "" },
                ids.len()
            ));
        }
    }
    eprintln!(
        "{} queries; region loaded in {loaded:?}, searched in {:?}",
        table.len(),
        searching.elapsed()
    );
    assert!(
        failed.is_empty(),
        "{} of {} failed:\n{}",
        failed.len(),
        table.len(),
        failed.join("\n")
    );
}
