use super::*;
use crate::model::Demographics;

fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

#[test]
fn nhs_numbers_with_and_without_spaces() {
    for text in ["9434765919", "943 476 5919", " 943  4765919 "] {
        let q = Query::parse(text);
        assert_eq!(q.nhs_number.as_deref(), Some("9434765919"), "{text}");
        assert!(q.names.is_empty());
        assert_eq!(q.kind(), "nhs-number");
    }
    // Too many digits is not a number.
    assert_eq!(Query::parse("943 476 59190").nhs_number, None);
}

#[test]
fn dates_of_birth_in_every_format() {
    for text in [
        "12/03/1954",
        "12-03-1954",
        "12.3.1954",
        "1954-03-12",
        "12 Mar 1954",
        "12 march 1954",
        "12 Mar. 1954",
    ] {
        let q = Query::parse(text);
        assert_eq!(q.birth_date, date(1954, 3, 12), "{text}");
        assert!(q.names.is_empty() && q.ignored.is_empty(), "{text}: {q:?}");
    }
    assert_eq!(Query::parse("31/02/1954").birth_date, None);
    assert_eq!(Query::parse("12 Sept 1954").birth_date, date(1954, 9, 12));
}

#[test]
fn postcodes_full_compact_and_district() {
    for text in ["WX3 7HG", "wx37hg", "wx3 7hg"] {
        let q = Query::parse(text);
        assert_eq!(
            q.postcode,
            Some(Postcode {
                key: "WX37HG".into(),
                outward: false
            }),
            "{text}"
        );
        assert_eq!(q.kind(), "postcode");
    }
    let q = Query::parse("smith WX3");
    assert_eq!(q.names, vec!["smith"]);
    assert_eq!(
        q.postcode,
        Some(Postcode {
            key: "WX3".into(),
            outward: true
        })
    );
    assert_eq!(Query::parse("EC1A 1BB").postcode.unwrap().key, "EC1A1BB");
}

#[test]
fn combinations() {
    let q = Query::parse("smith 1954");
    assert_eq!(q.names, vec!["smith"]);
    assert_eq!(q.birth_year, Some(1954));
    assert_eq!(q.kind(), "name+year");
    let q = Query::parse("John Smith 22/07/1952");
    assert_eq!(q.names, vec!["john", "smith"]);
    assert_eq!(q.birth_date, date(1952, 7, 22));
    assert_eq!(q.kind(), "name+dob");
    let q = Query::parse("o'brien-jones 12 Mar 1954 wx3 7hg");
    assert_eq!(q.names, vec!["o'brien-jones"]);
    assert_eq!(q.kind(), "name+dob+postcode");
    assert!(!Query::parse("1954").is_searchable());
    assert!(Query::parse("smi").is_searchable());
    assert_eq!(Query::parse("12 ???").ignored, vec!["12", "???"]);
    assert_eq!(Query::parse("").kind(), "none");
}

#[test]
fn invalid_check_digit_is_reported() {
    assert_eq!(
        invalid_nhs_number(&Query::parse("999 356 6549")).as_deref(),
        Some("9993566549")
    );
    assert_eq!(invalid_nhs_number(&Query::parse("999 356 6594")), None);
}

fn person(given: &[&str], family: &str, sources: &[(&[&str], &str)]) -> SearchPerson {
    SearchPerson {
        id: 1,
        demographics: Demographics {
            given: given.iter().map(|s| s.to_string()).collect(),
            family: Some(family.into()),
            ..Default::default()
        },
        source_names: sources
            .iter()
            .map(|(g, f)| {
                (
                    g.iter().map(|s| s.to_string()).collect(),
                    Some(f.to_string()),
                )
            })
            .collect(),
    }
}

#[test]
fn why_a_name_matched() {
    let john = person(
        &["John", "Michael"],
        "Smith",
        &[(&["John"], "Smyth"), (&["Jon"], "Smith")],
    );
    let words = |t: &str| Query::parse(t).names;
    assert_eq!(name_reason(&words("smi"), &john), Some("name".into()));
    assert_eq!(
        name_reason(&words("john smyth"), &john),
        Some("name ≈ Smyth".into())
    );
    assert_eq!(
        name_reason(&words("smithe"), &john),
        Some("name ≈ Smith".into())
    );
}

#[test]
fn sex_words_narrow_and_single_letters_stay_initials() {
    let q = Query::parse("smith female 1954");
    assert_eq!(q.sex, Some(Sex::Female));
    assert_eq!(q.names, ["smith"]);
    assert_eq!(q.kind(), "name+year+sex");
    assert_eq!(Query::parse("f smith").names, ["f", "smith"]);
    assert!(!Query::parse("male").is_searchable());
}

/// An in-memory store holding these people `(family, given, date of birth)`, sent by one
/// hospital as HL7 v2 A08 messages.
fn store_of(people: &[(&str, &str, &str)]) -> Store {
    use crate::clock::{Clock, FixedClock};
    use crate::model::{Format, SourceKind};
    let mut store = Store::open_in_memory().unwrap();
    let clock = FixedClock(chrono::DateTime::UNIX_EPOCH);
    let tx = store.begin().unwrap();
    tx.upsert_source(
        &crate::store::NewSource {
            code: "PAS",
            name: "PAS",
            org_code: "R9W",
            org_name: None,
            kind: SourceKind::Acute,
            format: Format::Hl7v2,
            mapping: None,
        },
        &clock.now_text(),
    )
    .unwrap();
    tx.commit().unwrap();
    let source = store.source_by_code("PAS").unwrap();
    let config = crate::config::Config::load(std::path::Path::new("/nonexistent/sc")).unwrap();
    let messages: String = people
        .iter()
        .enumerate()
        .map(|(i, (family, given, dob))| {
            format!(
                "MSH|^~\\&|PAS|R9W|SC|REGION|20240301120000||ADT^A08|C{i}|P|2.4\r\
                 EVN|A08|20240301120000\r\
                 PID|1||M{i}^^^R9W^MR||{family}^{given}||{dob}|F|||1 High St^^Town^^WX3 1AB\r\
                 PV1|1|O\r"
            )
        })
        .collect();
    let mut importer = crate::import::Importer {
        store: &mut store,
        config: &config,
        clock: &clock,
    };
    importer
        .import_bytes(&source, "people.hl7", messages.as_bytes(), &mut |_, _| {})
        .unwrap();
    store
}

fn families(store: &Store, text: &str, page: usize) -> (Vec<String>, bool) {
    let outcome = run(store, &Query::parse(text), page).unwrap();
    let names = outcome
        .found
        .iter()
        .map(|f| f.person.demographics.family.clone().unwrap_or_default())
        .collect();
    (names, outcome.more)
}

#[test]
fn exact_names_rank_before_prefixes_and_sound_alikes_only_fill_a_short_page() {
    let store = store_of(&[
        ("THOMPSONE", "Mary", "19380314"),
        ("THOMSON", "Mark", "19380314"),
        ("THOMPSON", "Margaret", "19380314"),
        ("THOMPSETT", "Maud", "19400101"),
    ]);
    // The exact name first, though the prefix match came first in the feed.
    let (found, more) = families(&store, "thompson", 0);
    assert_eq!(found, ["THOMPSON", "THOMPSONE", "THOMSON"]);
    assert!(!more);
    // With the date of birth: exact name and date first, then a prefix, then the sound-alike.
    let (found, _) = families(&store, "thompson 14/03/1938", 0);
    assert_eq!(found, ["THOMPSON", "THOMPSONE", "THOMSON"]);
    // A misspelling with a year finds by sound; a prefix finds every name it starts.
    let (found, _) = families(&store, "tomson 1938", 0);
    assert!(found.contains(&"THOMSON".to_owned()) && found.contains(&"THOMPSON".to_owned()));
    assert_eq!(families(&store, "thomp 1940", 0).0, ["THOMPSETT"]);
    let why = run(&store, &Query::parse("thompsen 1938"), 0).unwrap();
    assert!(why.found.iter().any(
        |f| f.person.demographics.family.as_deref() == Some("THOMPSON")
            && f.reasons.iter().any(|r| r.starts_with("name ≈"))
    ));
}

#[test]
fn a_common_name_comes_twenty_to_a_page_with_no_sound_alikes_while_pages_are_full() {
    // Different given names and birth dates, so the matcher keeps them apart.
    let people: Vec<(String, String)> = (0u8..45)
        .map(|i| {
            let given = format!("G{}{}", (b'a' + i / 26) as char, (b'a' + i % 26) as char);
            (given, format!("19{:02}0101", 30 + i))
        })
        .collect();
    let people: Vec<(&str, &str, &str)> = people
        .iter()
        .map(|(g, d)| ("QUENBY", g.as_str(), d.as_str()))
        .collect();
    let mut with_sound_alike = people.clone();
    with_sound_alike.push(("QUENBEY", "Ann", "19500101"));
    let store = store_of(&with_sound_alike);
    let pages: Vec<(usize, bool)> = (0..3)
        .map(|p| {
            let o = run(&store, &Query::parse("quenby"), p).unwrap();
            (o.found.len(), o.more)
        })
        .collect();
    // A full first page: no sound-alike fallback, so exactly the 45 QUENBYs over three pages.
    assert_eq!(pages, [(20, true), (20, true), (5, false)]);
}
