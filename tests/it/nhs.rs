//! Every vector of the language-neutral NHS number test set.

use super::support::corpus;
use serde_json::Value;
use sharedcare::model::nhs_number::{self, NhsNumber, NhsNumberRange};

fn vectors() -> Option<Value> {
    let path = corpus()?.join("nhs-number/uk-fci/nhs_number_cases.json");
    Some(serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap())
}

fn region(name: &str) -> NhsNumberRange {
    match name {
        "SCOTLAND" => NhsNumberRange::Scotland,
        "NORTHERN_IRELAND" => NhsNumberRange::NorthernIreland,
        "ENGLAND_WALES_IOM" => NhsNumberRange::EnglandWalesIom,
        "EIRE" => NhsNumberRange::Eire,
        "SYNTHETIC" => NhsNumberRange::Synthetic,
        other => panic!("unknown region {other}"),
    }
}

#[test]
fn every_vector_gives_the_expected_answer() {
    let Some(v) = vectors() else { return };
    let mut checked = 0;
    for case in v["calculate_checksum"].as_array().unwrap() {
        let got = nhs_number::check_value(case["identifier"].as_str().unwrap());
        assert_eq!(got.map(u64::from), case["checksum"].as_u64(), "{case}");
        checked += 1;
    }
    for case in v["standardise"].as_array().unwrap() {
        assert_eq!(
            nhs_number::standardise(case["input"].as_str().unwrap()),
            case["output"].as_str().unwrap(),
            "{case}"
        );
        checked += 1;
    }
    for case in v["standardise_from_int"].as_array().unwrap() {
        let input = case["input"].as_i64().unwrap();
        let got = if (0..=9_999_999_999).contains(&input) {
            format!("{input:010}")
        } else {
            String::new()
        };
        assert_eq!(got, case["output"].as_str().unwrap(), "{case}");
        checked += 1;
    }
    for case in v["is_valid"].as_array().unwrap() {
        let ok = NhsNumber::parse(case["input"].as_str().unwrap()).is_ok();
        assert_eq!(ok, case["valid"].as_bool().unwrap(), "{case}");
        checked += 1;
    }
    for case in v["is_valid_for_region"].as_array().unwrap() {
        let ok = NhsNumber::parse(case["input"].as_str().unwrap())
            .is_ok_and(|n| n.range() == region(case["region"].as_str().unwrap()));
        assert_eq!(ok, case["valid"].as_bool().unwrap(), "{case}");
        checked += 1;
    }
    for case in v["region_of"].as_array().unwrap() {
        let n: u64 = case["number"].as_str().unwrap().parse().unwrap();
        assert_eq!(
            nhs_number::range_of(n),
            region(case["region"].as_str().unwrap()),
            "{case}"
        );
        checked += 1;
    }
    for case in v["range_boundaries"].as_array().unwrap() {
        let name = case["range"].as_str().unwrap();
        let (start, end) = (
            case["start"].as_u64().unwrap(),
            case["end"].as_u64().unwrap(),
        );
        let expected = if name.starts_with("UNALLOCATED") {
            NhsNumberRange::Unallocated
        } else {
            region(name)
        };
        assert_eq!(nhs_number::range_of(start), expected, "{case}");
        assert_eq!(nhs_number::range_of(end), expected, "{case}");
        checked += 1;
    }
    assert!(checked > 20, "only {checked} vectors read");
}
