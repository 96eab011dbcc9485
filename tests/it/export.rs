//! The FHIR export, checked by a third-party R4 validator (fhir.resources, pydantic models).

use super::support::*;

#[test]
fn every_sample_persons_export_passes_a_third_party_fhir_validator() {
    let env = Env::new();
    env.load_sample_feeds();
    let ids: Vec<i64> = {
        let conn = env.sql();
        let mut st = conn.prepare("SELECT id FROM person WHERE merged_into IS NULL AND id IN (SELECT person_id FROM source_person)").unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert!(ids.len() >= 5);
    let mut resource_types = std::collections::BTreeSet::new();
    for id in ids {
        let out = env.ok(&["export", "--person", &id.to_string()]);
        let bundle = out.json();
        assert_eq!(bundle["resourceType"], "Bundle");
        assert_eq!(bundle["type"], "collection");
        for e in bundle["entry"].as_array().unwrap() {
            resource_types.insert(e["resource"]["resourceType"].as_str().unwrap().to_owned());
        }
        let (ok, report) = fhir_validate_bundle(&out.stdout);
        assert!(
            ok,
            "person {id}: the export is not valid FHIR R4:\n{report}"
        );
    }
    for t in [
        "Patient",
        "AllergyIntolerance",
        "MedicationStatement",
        "Condition",
        "Observation",
        "Encounter",
        "Flag",
        "Consent",
    ] {
        assert!(
            resource_types.contains(t),
            "no {t} exported; got {resource_types:?}"
        );
    }
}

#[test]
fn export_by_nhs_number_has_the_nhs_number_identifier() {
    let env = Env::new();
    env.add_source("RWF-PAS", "acute", "hl7v2");
    let nhs = nhs_number(40);
    env.import(
        "RWF-PAS",
        &env.write(
            "a.hl7",
            a08(
                "E1",
                "20240101090000",
                "MRN-E",
                &nhs,
                "Export",
                "Me",
                "19900101",
            ),
        ),
    );
    let bundle = env.ok(&["export", "--nhs-number", &nhs]).json();
    let patient = &bundle["entry"][0]["resource"];
    assert_eq!(patient["resourceType"], "Patient");
    let ids = patient["identifier"].as_array().unwrap();
    assert!(
        ids.iter()
            .any(|i| i["system"] == "https://fhir.nhs.uk/Id/nhs-number"
                && i["value"] == nhs.as_str()),
        "{patient}"
    );
    let (ok, report) = fhir_validate_bundle(&bundle.to_string());
    assert!(ok, "{report}");
}
