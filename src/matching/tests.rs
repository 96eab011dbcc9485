//! Scoring and decisions on realistic pairs of records.

use super::*;
use crate::model::{Address, ReportedNhsNumber, Sex};
use chrono::NaiveDate;

const NHS_A: &str = "9434765919";
const NHS_B: &str = "4010232137";

/// A person from the fields a feed usually has; an empty string leaves a field out.
fn p(given: &str, family: &str, dob: &str, sex: &str, postcode: &str, line1: &str) -> Demographics {
    let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    Demographics {
        given: some(given).into_iter().collect(),
        family: some(family),
        birth_date: NaiveDate::parse_from_str(dob, "%Y-%m-%d").ok(),
        sex: Sex::parse(sex),
        address: (!postcode.is_empty() || !line1.is_empty()).then(|| Address {
            lines: some(line1).into_iter().collect(),
            city: None,
            postcode: some(postcode),
        }),
        ..Demographics::default()
    }
}

fn with_nhs(mut d: Demographics, number: &str, verified: bool) -> Demographics {
    d.nhs_number = Some(ReportedNhsNumber::classify(number, Some(verified)));
    d
}

fn jane() -> Demographics {
    p(
        "Jane",
        "Smith",
        "1980-03-14",
        "F",
        "SE1 7EH",
        "12 High Street",
    )
}

fn decide_one(a: &Demographics, b: &Demographics) -> MatchDecision {
    decide(a, &[(7, b.clone())])
}

/// The outcome kind, without the id, for table rows.
fn kind(o: Outcome) -> &'static str {
    match o {
        Outcome::Exact(_) => "exact",
        Outcome::Probable(_) => "probable",
        Outcome::Possible => "possible",
        Outcome::None => "none",
    }
}

#[test]
fn identical_records_are_probable_and_every_field_is_explained() {
    let d = decide_one(&jane(), &jane());
    assert_eq!(d.outcome, Outcome::Probable(7));
    let (id, s) = d.best.unwrap();
    assert_eq!(id, 7);
    assert_eq!(s.total, 4.0 + 3.0 + 5.0 + 1.0 + 3.0 + 1.5);
    let fields: Vec<_> = s.fields.iter().map(|f| f.field).collect();
    assert_eq!(
        fields,
        [
            "nhs_number",
            "family",
            "given",
            "birth_date",
            "sex",
            "postcode",
            "address"
        ]
    );
    assert_eq!(s.explain().lines().count(), 7);
    assert!(s.explain().contains("Smith = Smith"));
}

#[test]
fn verified_equal_nhs_number_is_exact_whatever_the_demographics() {
    let inc = with_nhs(jane(), NHS_A, true);
    let cand = with_nhs(p("J", "Smyth-Jones", "", "", "", ""), NHS_A, true);
    let other = jane();
    let d = decide(&inc, &[(3, other), (9, cand)]);
    assert_eq!(d.outcome, Outcome::Exact(9));
    let (id, s) = d.best.unwrap();
    assert_eq!(id, 9);
    assert_eq!(
        s.field("nhs_number").unwrap().detail,
        "NHS number verified and equal"
    );
    assert!(d.possibles.is_empty());
}

#[test]
fn an_unverified_incoming_number_is_not_an_exact_match() {
    let inc = with_nhs(p("Jane", "Smith", "", "F", "", ""), NHS_A, false);
    let cand = with_nhs(p("Jane", "Smith", "", "F", "", ""), NHS_A, true);
    let d = decide_one(&inc, &cand);
    assert_ne!(kind(d.outcome), "exact");
    let s = d.best.unwrap().1;
    assert_eq!(s.agreement("nhs_number"), Agreement::Close);
}

#[test]
fn typos_in_both_names_with_same_birth_date_and_postcode_are_probable() {
    let inc = p("Jon", "Smyth", "1980-03-14", "", "SE17EH", "");
    let cand = p("John", "Smith", "1980-03-14", "", "SE1 7EH", "");
    let d = decide_one(&inc, &cand);
    assert_eq!(d.outcome, Outcome::Probable(7));
    let s = d.best.unwrap().1;
    assert_eq!(s.agreement("family"), Agreement::Close);
    assert_eq!(s.agreement("given"), Agreement::Close);
    assert!(s.field("family").unwrap().detail.contains("Smyth ≈ Smith"));
}

#[test]
fn same_name_different_birth_date_is_never_probable() {
    let inc = p(
        "John",
        "Smith",
        "1950-06-01",
        "M",
        "SE1 7EH",
        "12 High Street",
    );
    let cand = p(
        "John",
        "Smith",
        "1980-06-01",
        "M",
        "SE1 7EH",
        "12 High Street",
    );
    let d = decide_one(&inc, &cand);
    assert!(matches!(d.outcome, Outcome::Possible | Outcome::None));
    // Even an unverified shared NHS number (a son filed under his father's) does not link.
    let d = decide_one(&with_nhs(inc, NHS_A, false), &with_nhs(cand, NHS_A, false));
    assert_eq!(d.outcome, Outcome::Possible);
}

#[test]
fn a_married_name_goes_to_review() {
    let inc = p(
        "Jane",
        "Brown",
        "1980-03-14",
        "F",
        "SE1 7EH",
        "12 High Street",
    );
    let d = decide_one(&inc, &jane());
    assert_eq!(d.outcome, Outcome::Possible);
    assert_eq!(d.possibles.len(), 1);
    let bare = p("Jane", "Brown", "1980-03-14", "", "SE1 7EH", "");
    let cand = p("Jane", "Smith", "1980-03-14", "", "SE1 7EH", "");
    assert_eq!(decide_one(&bare, &cand).outcome, Outcome::Possible);
}

#[test]
fn twins_are_not_probable() {
    let boy = p(
        "Oliver",
        "Smith",
        "2015-09-02",
        "M",
        "SE1 7EH",
        "12 High Street",
    );
    let girl = p(
        "Olivia",
        "Smith",
        "2015-09-02",
        "F",
        "SE1 7EH",
        "12 High Street",
    );
    assert_ne!(kind(decide_one(&boy, &girl).outcome), "probable");
    let emma = p(
        "Emma",
        "Smith",
        "2015-09-02",
        "F",
        "SE1 7EH",
        "12 High Street",
    );
    let sophie = p(
        "Sophie",
        "Smith",
        "2015-09-02",
        "F",
        "SE1 7EH",
        "12 High Street",
    );
    assert_ne!(kind(decide_one(&emma, &sophie).outcome), "probable");
    // With both twins on file, each record finds its own twin.
    let d = decide(&emma, &[(1, sophie), (2, emma.clone())]);
    assert_eq!(d.outcome, Outcome::Probable(2));
}

#[test]
fn different_verified_nhs_numbers_are_never_probable() {
    let a = with_nhs(jane(), NHS_A, true);
    let b = with_nhs(jane(), NHS_B, true);
    let d = decide_one(&a, &b);
    assert_eq!(d.outcome, Outcome::None);
    let s = d.best.unwrap().1;
    assert_eq!(s.field("nhs_number").unwrap().weight, -20.0);
    // Unverified on one side: a weaker penalty, still scored.
    let c = with_nhs(jane(), NHS_B, false);
    let s = score(&a, &c);
    assert_eq!(s.field("nhs_number").unwrap().weight, -5.0);
}

#[test]
fn day_and_month_swapped_is_close() {
    let inc = p("Jane", "Smith", "1980-07-04", "F", "SE1 7EH", "");
    let cand = p("Jane", "Smith", "1980-04-07", "F", "SE1 7EH", "");
    let d = decide_one(&inc, &cand);
    let s = d.best.clone().unwrap().1;
    assert_eq!(s.agreement("birth_date"), Agreement::Close);
    assert!(s.field("birth_date").unwrap().detail.contains("transposed"));
    assert_eq!(d.outcome, Outcome::Probable(7));
}

#[test]
fn birth_date_slips() {
    let bd = |a: &str, b: &str| {
        score(&p("", "", a, "", "", ""), &p("", "", b, "", "", "")).agreement("birth_date")
    };
    assert_eq!(bd("1980-03-14", "1980-03-14"), Agreement::Exact);
    assert_eq!(bd("1980-03-14", "1980-03-13"), Agreement::Close);
    assert_eq!(bd("1980-03-14", "1980-03-24"), Agreement::Close);
    assert_eq!(bd("1980-03-14", "1980-08-14"), Agreement::Close);
    assert_eq!(bd("1980-03-14", "1981-03-14"), Agreement::Close);
    assert_eq!(bd("1980-03-14", "1990-03-14"), Agreement::Disagree);
    assert_eq!(bd("1980-03-14", "1980-11-29"), Agreement::Partial);
    assert_eq!(bd("1980-03-14", "1979-12-01"), Agreement::Disagree);
    assert_eq!(bd("1980-03-14", ""), Agreement::Missing);
}

#[test]
fn missing_fields_score_zero() {
    let empty = Demographics::default();
    let s = score(&empty, &jane());
    assert_eq!(s.total, 0.0);
    assert!(s.fields.iter().all(|f| f.agreement == Agreement::Missing));
    assert_eq!(decide_one(&empty, &jane()).outcome, Outcome::None);
    assert_eq!(decide(&jane(), &[]).outcome, Outcome::None);
    assert!(decide(&jane(), &[]).best.is_none());
    let unknown = p("", "", "", "U", "ZZ99 3VZ", "");
    let s = score(&unknown, &p("", "", "", "M", "ZZ99 3VZ", ""));
    assert_eq!(s.total, 0.0);
}

#[test]
fn names_only_without_birth_date_are_never_linked() {
    let inc = p("Jane", "Smith", "", "F", "SE1 7EH", "12 High Street");
    let d = decide_one(&inc, &jane());
    assert!(d.best.as_ref().unwrap().1.total >= PROBABLE);
    assert_eq!(d.outcome, Outcome::Possible);
}

#[test]
fn two_close_candidates_go_to_review_best_first() {
    let inc = p("Jane", "Smith", "1980-03-14", "F", "SE1 7EH", "");
    let a = p("Jane", "Smith", "1980-03-14", "F", "SE1 7EH", "");
    let b = p("Jayne", "Smith", "1980-03-14", "F", "SE1 7EH", "");
    let d = decide(&inc, &[(20, b.clone()), (10, a.clone())]);
    assert_eq!(d.outcome, Outcome::Possible);
    let ids: Vec<i64> = d.possibles.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, [10, 20]);
    // Equal scores: the lower id comes first, whatever the input order.
    let d1 = decide(&inc, &[(5, a.clone()), (4, a.clone())]);
    let d2 = decide(&inc, &[(4, a.clone()), (5, a.clone())]);
    assert_eq!(d1.best.unwrap().0, 4);
    assert_eq!(d2.best.unwrap().0, 4);
    // A person listed twice is not its own runner-up.
    let d = decide(&inc, &[(4, a.clone()), (4, a)]);
    assert_eq!(d.outcome, Outcome::Probable(4));
}

#[test]
fn decisions_are_deterministic() {
    let inc = p("Jon", "Smyth", "1980-03-14", "M", "SE1 7EH", "12 High St");
    let cands: Vec<(i64, Demographics)> = vec![
        (
            1,
            p(
                "John",
                "Smith",
                "1980-03-14",
                "M",
                "SE1 7EH",
                "12 High Street",
            ),
        ),
        (2, p("Jon", "Smith", "1980-03-14", "M", "SE1 9XX", "")),
        (3, p("Joan", "Smyth", "1980-03-14", "F", "SE1 7EH", "")),
    ];
    let first = serde_json::to_string(&decide(&inc, &cands)).unwrap();
    for _ in 0..5 {
        assert_eq!(serde_json::to_string(&decide(&inc, &cands)).unwrap(), first);
    }
    let mut reversed = cands.clone();
    reversed.reverse();
    assert_eq!(
        serde_json::to_string(&decide(&inc, &reversed)).unwrap(),
        first
    );
}

#[test]
fn scores_serialise_kebab_case_and_debug_is_redacted() {
    let d = decide_one(&jane(), &jane());
    let json = serde_json::to_value(&d).unwrap();
    assert_eq!(json["outcome"]["probable"], 7);
    assert_eq!(json["best"][1]["fields"][1]["agreement"], "exact");
    assert_eq!(json["best"][1]["fields"][0]["agreement"], "missing");
    assert_eq!(serde_json::to_value(Outcome::Possible).unwrap(), "possible");
    let dbg = format!("{d:?}");
    assert!(!dbg.contains("Smith") && !dbg.contains("1980") && !dbg.contains("SE1"));
}

#[test]
fn name_handling() {
    let f = |a: &str, b: &str| score(&p("", a, "", "", "", ""), &p("", b, "", "", "", ""));
    assert_eq!(
        f("Smith-Jones", "Jones").agreement("family"),
        Agreement::Partial
    );
    assert_eq!(
        f("Bowes Lyon", "Bowes-Lyon").agreement("family"),
        Agreement::Exact
    );
    assert_eq!(
        f("MacDonald", "Mc Donald").agreement("family"),
        Agreement::Exact
    );
    assert_eq!(f("Lee", "Leigh").agreement("family"), Agreement::Partial);
    assert_eq!(f("Smith", "Jones").agreement("family"), Agreement::Disagree);
    let g = |a: &str, b: &str| score(&p(a, "", "", "", "", ""), &p(b, "", "", "", "", ""));
    assert_eq!(g("Bill", "William").agreement("given"), Agreement::Close);
    assert_eq!(g("J.", "John").agreement("given"), Agreement::Partial);
    assert_eq!(g("J", "K").agreement("given"), Agreement::Disagree);
    assert_eq!(g("Mary Anne", "Anne").agreement("given"), Agreement::Close);
    assert_eq!(g("Anne Mary", "Anne").agreement("given"), Agreement::Exact);
    assert_eq!(g("Emma", "Sophie").field("given").unwrap().weight, -4.0);
    let swapped = score(
        &p("Smith", "Jane", "1980-03-14", "", "", ""),
        &p("Jane", "Smith", "1980-03-14", "", "", ""),
    );
    assert_eq!(swapped.agreement("family"), Agreement::Close);
    assert_eq!(swapped.agreement("given"), Agreement::Close);
}

#[test]
fn address_counts_only_where_postcodes_allow() {
    let s = score(
        &p("", "", "", "", "M1 1AA", "1 High Street"),
        &p("", "", "", "", "SE1 7EH", "1 High St"),
    );
    assert_eq!(s.agreement("address"), Agreement::Exact);
    assert_eq!(s.field("address").unwrap().weight, 0.0);
    let s = score(
        &p("", "", "", "", "", "Rose Cottage"),
        &Demographics {
            address: Some(Address {
                lines: vec!["Rose Cottage".into(), "Mill Lane".into()],
                ..Address::default()
            }),
            ..Demographics::default()
        },
    );
    assert_eq!(s.agreement("address"), Agreement::Exact);
}

/// Realistic pairs and what should happen to them: (why, incoming, candidate, expected).
#[test]
fn table_of_realistic_pairs() {
    let jane = jane();
    let cases: Vec<(&str, Demographics, Demographics, &str)> = vec![
        ("identical", jane.clone(), jane.clone(), "probable"),
        (
            "verified NHS numbers equal",
            with_nhs(p("Jane", "Smith", "", "", "", ""), NHS_A, true),
            with_nhs(jane.clone(), NHS_A, true),
            "exact",
        ),
        (
            "upper case, no space in postcode",
            p("JANE", "SMITH", "1980-03-14", "2", "se17eh", "12 HIGH ST"),
            jane.clone(),
            "probable",
        ),
        (
            "Mc and Mac",
            p("Angus", "McDonald", "1948-11-30", "M", "G12 8QQ", ""),
            p("Angus", "Macdonald", "1948-11-30", "M", "G12 8QQ", ""),
            "probable",
        ),
        (
            "apostrophe and accent",
            p("Siobhán", "O'Brien", "1975-01-09", "F", "BT9 6AA", ""),
            p("Siobhan", "OBRIEN", "1975-01-09", "F", "BT9 6AA", ""),
            "probable",
        ),
        (
            "nickname",
            p("Bill", "Turner", "1941-05-05", "M", "NE1 4ST", ""),
            p("William", "Turner", "1941-05-05", "M", "NE1 4ST", ""),
            "probable",
        ),
        (
            "moved house, all else equal",
            p("Jane", "Smith", "1980-03-14", "F", "M1 1AA", "3 New Road"),
            jane.clone(),
            "probable",
        ),
        (
            "no address at all",
            p("Jane", "Smith", "1980-03-14", "F", "", ""),
            jane.clone(),
            "probable",
        ),
        (
            "double-barrelled",
            p("Jane", "Smith-Jones", "1980-03-14", "F", "SE1 7EH", ""),
            p("Jane", "Jones", "1980-03-14", "F", "SE1 7EH", ""),
            "probable",
        ),
        (
            "given and family swapped",
            p("Smith", "Jane", "1980-03-14", "F", "SE1 7EH", ""),
            jane.clone(),
            "probable",
        ),
        (
            "one digit of the day wrong",
            p("Jane", "Smith", "1980-03-13", "F", "SE1 7EH", ""),
            jane.clone(),
            "probable",
        ),
        (
            "equal unverified NHS numbers",
            with_nhs(p("Jane", "Smith", "1980-03-14", "F", "", ""), NHS_A, false),
            with_nhs(jane.clone(), NHS_A, false),
            "probable",
        ),
        (
            "initial only",
            p("J", "Smith", "1980-03-14", "F", "SE1 7EH", ""),
            jane.clone(),
            "probable",
        ),
        (
            "married name",
            p(
                "Jane",
                "Patel",
                "1980-03-14",
                "F",
                "SE1 7EH",
                "12 High Street",
            ),
            jane.clone(),
            "possible",
        ),
        (
            "father and son, same name and address",
            p(
                "John",
                "Smith",
                "1950-06-01",
                "M",
                "SE1 7EH",
                "12 High Street",
            ),
            p(
                "John",
                "Smith",
                "1980-06-01",
                "M",
                "SE1 7EH",
                "12 High Street",
            ),
            "possible",
        ),
        (
            "no birth date on the incoming record",
            p("Jane", "Smith", "", "F", "SE1 7EH", "12 High Street"),
            jane.clone(),
            "possible",
        ),
        (
            "same-sex twins",
            p(
                "Emma",
                "Smith",
                "1980-03-14",
                "F",
                "SE1 7EH",
                "12 High Street",
            ),
            jane.clone(),
            "possible",
        ),
        (
            "different verified NHS numbers",
            with_nhs(jane.clone(), NHS_B, true),
            with_nhs(jane.clone(), NHS_A, true),
            "none",
        ),
        (
            "same birth date, nothing else",
            p("Ahmed", "Khan", "1980-03-14", "M", "LS6 2AB", ""),
            jane.clone(),
            "none",
        ),
        (
            "neighbours",
            p(
                "Peter",
                "Jones",
                "1962-10-02",
                "M",
                "SE1 7EH",
                "14 High Street",
            ),
            jane.clone(),
            "none",
        ),
        (
            "same surname and postcode, different person",
            p(
                "Mark",
                "Smith",
                "1955-12-25",
                "M",
                "SE1 7EH",
                "12 High Street",
            ),
            jane.clone(),
            "none",
        ),
        (
            "near namesake in another town",
            p("Jane", "Smyth", "1980-03-14", "F", "LS6 2AB", ""),
            jane.clone(),
            "possible",
        ),
    ];
    let mut failures = Vec::new();
    for (why, inc, cand, expected) in &cases {
        let d = decide_one(inc, cand);
        let got = kind(d.outcome);
        if got != *expected {
            let s = d.best.map(|b| b.1.explain()).unwrap_or_default();
            failures.push(format!("{why}: expected {expected}, got {got}\n{s}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
