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
