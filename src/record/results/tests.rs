//! The results read model over hand-made records: two labs on one trend, units converted or
//! refused, panels, the abnormal summary and the untruths it replaced.

use super::*;
use crate::model::entry::LabResult;
use crate::model::{Demographics, EntryBody, EntryDraft, Provenance, StoredEntry};
use crate::record::PersonRecord;

struct Lab {
    source: &'static str,
    organisation: &'static str,
}

const WESTSHIRE: Lab = Lab {
    source: "WGH-LAB",
    organisation: "Westshire General Hospital",
};
const EASTDOWN: Lab = Lab {
    source: "EDH-LAB",
    organisation: "Eastdown Hospital",
};

#[derive(Default)]
struct R {
    code: &'static str,
    title: &'static str,
    value: &'static str,
    unit: &'static str,
    range: &'static str,
    flag: &'static str,
    panel: &'static str,
    status: &'static str,
    at: &'static str,
}

fn result(id: i64, lab: &Lab, r: R) -> StoredEntry {
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    StoredEntry {
        id,
        version: 1,
        entry: EntryDraft {
            source_ref: format!("ref{id}"),
            category: crate::model::Category::Result,
            code_system: None,
            code: opt(r.code),
            title: r.title.into(),
            status: opt(r.status).or(Some("final".into())),
            start: opt(r.at),
            end: None,
            recorded_at: None,
            sensitive: false,
            not_for_patient: false,
            body: EntryBody::Result(LabResult {
                value: opt(r.value),
                numeric: r.value.parse().ok(),
                unit: opt(r.unit),
                reference_range: opt(r.range),
                abnormal_flag: opt(r.flag),
                panel: opt(r.panel),
                ..LabResult::default()
            }),
        },
        provenance: Provenance {
            source_code: lab.source.into(),
            source_name: format!("{} lab", lab.organisation),
            organisation: lab.organisation.into(),
            organisation_code: "X1".into(),
            format: "hl7v2".into(),
            file_name: None,
            message: None,
            received_at: "2024-03-01T09:00:00Z".into(),
            as_of: None,
        },
    }
}

fn record(entries: Vec<StoredEntry>) -> PersonRecord {
    PersonRecord {
        person_id: 7,
        demographics: Demographics::default(),
        sources: Vec::new(),
        entries,
    }
}

fn view(entries: Vec<StoredEntry>) -> ResultsView {
    build(&record(entries), &LabCodes::shipped().unwrap())
}

fn find<'a>(v: &'a ResultsView, name: &str) -> &'a Trend {
    v.panels
        .iter()
        .flat_map(|p| &p.tests)
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no test {name}"))
}

fn panel_of<'a>(v: &'a ResultsView, name: &str) -> &'a str {
    &v.panels
        .iter()
        .find(|p| p.tests.iter().any(|t| t.name == name))
        .unwrap()
        .name
}

#[test]
fn two_labs_haemoglobin_in_g_per_l_and_g_per_dl_make_one_trend_in_g_per_l() {
    let v = view(vec![
        result(
            1,
            &WESTSHIRE,
            R {
                code: "HB",
                title: "Haemoglobin",
                value: "98",
                unit: "g/L",
                range: "115-165",
                flag: "L",
                panel: "Full blood count",
                at: "2024-02-03T11:05",
                ..R::default()
            },
        ),
        result(
            2,
            &EASTDOWN,
            R {
                code: "HGB",
                title: "Hemoglobin",
                value: "10.4",
                unit: "g/dL",
                range: "11.5-16.5",
                flag: "L",
                panel: "FBC",
                at: "2024-02-10T07:45",
                ..R::default()
            },
        ),
    ]);
    let hb = find(&v, "Haemoglobin");
    assert_eq!(hb.unit, "g/L");
    assert_eq!(hb.points.len(), 2, "both labs on one trend");
    assert!(
        (hb.points[1].1 - 104.0).abs() < 1e-9,
        "10.4 g/dL is 104 g/L"
    );
    assert_eq!(
        hb.rows[0].value, "10.4 g/dL",
        "the lab's own value is shown"
    );
    assert_eq!(hb.rows[0].converted.as_deref(), Some("104 g/L"));
    let band = hb.band.unwrap();
    assert!((band.low.unwrap() - 115.0).abs() < 1e-9 && (band.high.unwrap() - 165.0).abs() < 1e-9);
    assert_eq!(
        v.panels.len(),
        1,
        "'Full blood count' and 'FBC' are one panel"
    );
    assert_eq!(v.panels[0].name, "FBC");
    assert!(hb.apart.is_empty());
}

#[test]
fn regression_values_in_units_that_do_not_convert_are_not_plotted_on_the_trend() {
    // Before: every value under one code went on one chart, whatever its unit.
    let v = view(vec![
        result(
            1,
            &WESTSHIRE,
            R {
                code: "HB",
                title: "Haemoglobin",
                value: "98",
                unit: "g/L",
                at: "2024-02-03T11:05",
                ..R::default()
            },
        ),
        result(
            2,
            &WESTSHIRE,
            R {
                code: "HB",
                title: "Haemoglobin",
                value: "104",
                unit: "g/L",
                at: "2024-02-10T11:05",
                ..R::default()
            },
        ),
        result(
            3,
            &EASTDOWN,
            R {
                code: "HGB",
                title: "Hemoglobin",
                value: "6.2",
                unit: "mmol/L",
                at: "2024-02-12T11:05",
                ..R::default()
            },
        ),
        result(
            4,
            &EASTDOWN,
            R {
                code: "HGB",
                title: "Hemoglobin",
                value: "99",
                at: "2024-02-13T11:05",
                ..R::default()
            },
        ),
    ]);
    let hb = find(&v, "Haemoglobin");
    assert_eq!(
        hb.points.iter().map(|p| p.1).collect::<Vec<_>>(),
        [98.0, 104.0]
    );
    assert_eq!(hb.rows.len(), 4, "every value is still listed");
    assert!(hb.rows[1]
        .off_trend
        .as_deref()
        .unwrap()
        .contains("mmol/L does not convert"));
    assert!(hb.rows[0]
        .off_trend
        .as_deref()
        .unwrap()
        .contains("without a unit"));
    assert_eq!(hb.apart.len(), 2, "{:?}", hb.apart);
    assert!(hb
        .apart
        .iter()
        .any(|a| a.starts_with("1 value is not on the trend")));
}

#[test]
fn creatinine_from_mg_per_dl_joins_the_micromole_trend() {
    let v = view(vec![
        result(
            1,
            &WESTSHIRE,
            R {
                code: "CREA",
                title: "Creatinine",
                value: "88",
                unit: "umol/L",
                range: "45-84",
                flag: "H",
                at: "2024-02-03T11:05",
                ..R::default()
            },
        ),
        result(
            2,
            &EASTDOWN,
            R {
                code: "CR",
                title: "Creatinine",
                value: "1.2",
                unit: "mg/dL",
                range: "0.5-1.1",
                flag: "H",
                at: "2024-02-12T11:05",
                ..R::default()
            },
        ),
    ]);
    let crea = find(&v, "Creatinine");
    assert_eq!(crea.unit, "µmol/L");
    assert_eq!(crea.rows[0].converted.as_deref(), Some("106 µmol/L"));
    // The newest range converts too: 0.5-1.1 mg/dL is 44-97 µmol/L.
    let band = crea.band.unwrap();
    assert_eq!(band.high.map(f64::round), Some(97.0));
    assert_eq!(
        crea.band_note.as_deref(),
        Some("44-97 µmol/L, sent as 0.5-1.1 mg/dL, Eastdown Hospital, 12 Feb 2024 11:05 GMT")
    );
    assert_eq!(panel_of(&v, "Creatinine"), "U&E");
}

#[test]
fn the_latest_abnormal_values_come_first_critical_before_the_rest() {
    let v = view(vec![
        result(
            1,
            &WESTSHIRE,
            R {
                code: "NA",
                title: "Sodium",
                value: "131",
                unit: "mmol/L",
                range: "133-146",
                flag: "L",
                at: "2024-02-03T11:05",
                ..R::default()
            },
        ),
        result(
            2,
            &WESTSHIRE,
            R {
                code: "NA",
                title: "Sodium",
                value: "139",
                unit: "mmol/L",
                range: "133-146",
                flag: "N",
                at: "2024-02-10T11:05",
                ..R::default()
            },
        ),
        result(
            3,
            &WESTSHIRE,
            R {
                code: "K",
                title: "Potassium",
                value: "6.9",
                unit: "mmol/L",
                range: "3.5-5.3",
                flag: "HH",
                at: "2024-02-01T11:05",
                ..R::default()
            },
        ),
        result(
            4,
            &WESTSHIRE,
            R {
                code: "CRP",
                title: "C-reactive protein",
                value: "45",
                unit: "mg/L",
                range: "<5",
                flag: "H",
                at: "2024-02-10T11:05",
                ..R::default()
            },
        ),
        result(
            5,
            &EASTDOWN,
            R {
                code: "PLT",
                title: "Platelets",
                value: "90",
                unit: "10*9/L",
                range: "150-400",
                at: "2024-02-09T11:05",
                ..R::default()
            },
        ),
    ]);
    let summary: Vec<(&str, &str)> = v
        .abnormal
        .iter()
        .map(|f| (f.test.as_str(), f.flag.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            ("Potassium", "Critically high"),
            ("C-reactive protein", "High"),
            ("Platelets", "Below the reference range"),
        ],
        "sodium's newest value is normal, so it is not summarised"
    );
    let crp = &v.abnormal[1];
    assert_eq!(crp.value, "45 mg/L");
    assert_eq!(crp.range.as_deref(), Some("<5 mg/L"));
    assert_eq!(crp.source, "Westshire General Hospital");
    assert_eq!(v.abnormal[2].value, "90 ×10⁹/L");
    // Panels in the table's order.
    let names: Vec<&str> = v.panels.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["FBC", "U&E", "CRP"]);
}

#[test]
fn regression_a_result_entered_in_error_is_not_plotted_nor_summarised() {
    let v = view(vec![
        result(
            1,
            &WESTSHIRE,
            R {
                code: "K",
                title: "Potassium",
                value: "4.1",
                unit: "mmol/L",
                range: "3.5-5.3",
                at: "2024-02-03T11:05",
                ..R::default()
            },
        ),
        result(
            2,
            &WESTSHIRE,
            R {
                code: "K",
                title: "Potassium",
                value: "4.3",
                unit: "mmol/L",
                range: "3.5-5.3",
                at: "2024-02-05T11:05",
                ..R::default()
            },
        ),
        result(
            3,
            &WESTSHIRE,
            R {
                code: "K",
                title: "Potassium",
                value: "9.8",
                unit: "mmol/L",
                range: "3.5-5.3",
                flag: "HH",
                status: "entered-in-error",
                at: "2024-02-06T11:05",
                ..R::default()
            },
        ),
    ]);
    let k = find(&v, "Potassium");
    assert_eq!(k.points.iter().map(|p| p.1).collect::<Vec<_>>(), [4.1, 4.3]);
    assert_eq!(k.rows[0].status.as_deref(), Some("Entered in error"));
    assert!(v.abnormal.is_empty(), "the newest standing value is normal");
}

#[test]
fn regression_a_less_than_value_is_not_plotted_as_that_number() {
    let mut lt = result(
        2,
        &EASTDOWN,
        R {
            code: "135842001",
            title: "CRP",
            value: "<5 mg/L",
            unit: "mg/L",
            at: "2024-02-12T11:05",
            ..R::default()
        },
    );
    if let EntryBody::Result(r) = &mut lt.entry.body {
        r.numeric = Some(5.0);
    }
    let v = view(vec![
        result(
            1,
            &WESTSHIRE,
            R {
                code: "CRP",
                title: "C-reactive protein",
                value: "45",
                unit: "mg/L",
                at: "2024-02-03T11:05",
                ..R::default()
            },
        ),
        lt,
    ]);
    let crp = find(&v, "C-reactive protein");
    assert_eq!(crp.points.len(), 1);
    assert_eq!(crp.rows[0].value, "<5 mg/L");
}

#[test]
fn a_test_the_table_does_not_know_is_trended_within_its_own_source_only() {
    let v = view(vec![
        result(
            1,
            &WESTSHIRE,
            R {
                code: "ZZX",
                title: "Mystery",
                value: "1",
                unit: "U/L",
                panel: "Special chemistry",
                at: "2024-02-03T11:05",
                ..R::default()
            },
        ),
        result(
            2,
            &EASTDOWN,
            R {
                code: "ZZX",
                title: "Mystery",
                value: "2",
                unit: "U/L",
                at: "2024-02-04T11:05",
                ..R::default()
            },
        ),
    ]);
    let mysteries = v
        .panels
        .iter()
        .flat_map(|p| &p.tests)
        .filter(|t| t.name == "Mystery");
    let mysteries: Vec<&Trend> = mysteries.collect();
    assert_eq!(
        mysteries.len(),
        2,
        "two labs' local ZZX need not be one test"
    );
    assert!(mysteries[0]
        .local_note
        .as_deref()
        .is_some_and(|n| n.contains("own test code ZZX")));
    let names: Vec<&str> = v.panels.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["Special chemistry", "Other results"]);
}

#[test]
fn a_test_without_an_order_falls_under_its_panel_from_the_table() {
    let v = view(vec![result(
        1,
        &WESTSHIRE,
        R {
            code: "ALT",
            title: "Alanine transaminase",
            value: "58",
            unit: "IU/L",
            range: "10-50",
            flag: "H",
            at: "2024-02-03T11:05",
            ..R::default()
        },
    )]);
    assert_eq!(panel_of(&v, "Alanine transaminase"), "LFT");
    let alt = find(&v, "Alanine transaminase");
    assert_eq!(alt.unit, "U/L");
    assert_eq!(alt.rows[0].value, "58 IU/L");
    assert!(!alt.has_chart());
}
