//! Results a clinician reads, end to end: one person's results from two laboratories — the
//! sample acute feed's HL7 v2 ORU (local codes HB, CREA … in g/L and µmol/L) and a second
//! lab's FHIR Observations (SNOMED CT codes, g/dL and mg/dL) — read over HTTPS on the results
//! page: one trend per test with converted values, panels, the latest abnormal values on top,
//! the reference band in the SVG, and words rather than codes.

use super::server::*;
use super::support::*;
use serde_json::json;

const MARGARET: &str = "9994837567";

/// The band colour the chart fills the reference range with.
const BAND_FILL: &str = "#CCE6D6";

fn observation(
    id: &str,
    code: &str,
    name: &str,
    value: f64,
    unit: &str,
    at: &str,
) -> serde_json::Value {
    json!({
        "fullUrl": format!("urn:uuid:{id}"),
        "resource": {
            "resourceType": "Observation", "id": id, "status": "final",
            "subject": {"reference": "urn:uuid:pat"},
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": code, "display": name}]},
            "effectiveDateTime": at,
            "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}
        }
    })
}

/// A second laboratory's FHIR bundle for Margaret: a full blood count report with a
/// haemoglobin in g/dL, a creatinine in mg/dL, a critical potassium, and a haemoglobin in
/// mmol/L that must stay off the g/L trend.
fn eastdown_bundle() -> String {
    let mut hb = observation(
        "hb1",
        "1022431000000105",
        "Haemoglobin estimation",
        11.2,
        "g/dL",
        "2024-02-20T09:30:00Z",
    );
    hb["resource"]["referenceRange"] =
        json!([{"low": {"value": 11.5, "unit": "g/dL"}, "high": {"value": 16.5, "unit": "g/dL"}}]);
    hb["resource"]["interpretation"] = json!([{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": "L"}]}]);
    let crea = observation(
        "cr1",
        "1000731000000107",
        "Serum creatinine level",
        1.1,
        "mg/dL",
        "2024-02-20T09:30:00Z",
    );
    let mut k = observation(
        "k1",
        "1000651000000109",
        "Serum potassium level",
        6.8,
        "mmol/L",
        "2024-02-20T09:30:00Z",
    );
    k["resource"]["interpretation"] = json!([{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": "HH"}]}]);
    let hb_molar = observation(
        "hb2",
        "1022431000000105",
        "Haemoglobin estimation",
        7.0,
        "mmol/L",
        "2024-02-22T09:30:00Z",
    );
    json!({
        "resourceType": "Bundle", "type": "collection",
        "entry": [
            {"fullUrl": "urn:uuid:pat", "resource": {
                "resourceType": "Patient", "id": "ed-77",
                "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": MARGARET}],
                "name": [{"family": "Thompson", "given": ["Margaret"]}],
                "gender": "female", "birthDate": "1938-03-14"}},
            {"fullUrl": "urn:uuid:rep1", "resource": {
                "resourceType": "DiagnosticReport", "id": "rep1", "status": "final",
                "subject": {"reference": "urn:uuid:pat"},
                "code": {"coding": [{"system": "http://snomed.info/sct", "code": "26604007", "display": "Full blood count"}]},
                "effectiveDateTime": "2024-02-20T09:30:00Z",
                "result": [{"reference": "urn:uuid:hb1"}],
                "conclusion": "Mild anaemia, improving"}},
            hb, crea, k, hb_molar
        ]
    })
    .to_string()
}

/// The page's text with the entities the templates write decoded, for plain assertions.
fn decoded(html: &str) -> String {
    html.replace("&#x2f;", "/")
        .replace("&#47;", "/")
        .replace("&#38;", "&")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#60;", "&lt;")
        .replace("&#62;", "&gt;")
        .replace("&amp;", "&")
}

fn results_page(s: &Server, c: &reqwest::blocking::Client, person: i64) -> String {
    let r = c
        .get(s.url(&format!("/person/{person}/results")))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    decoded(&r.text().unwrap())
}

fn section<'a>(page: &'a str, id: &str) -> &'a str {
    let start = page
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id}"));
    let rest = &page[start..];
    &rest[..rest.find("</section>").unwrap_or(rest.len())]
}

/// The `id` of the test section whose heading starts with `name`.
fn test_id(page: &str, name: &str) -> String {
    let marker = format!("-h\">{name}");
    assert_eq!(page.matches(&marker).count(), 1, "one section for {name}");
    let at = page.find(&marker).unwrap();
    let before = &page[..at];
    before[before.rfind("id=\"").unwrap() + 4..].to_owned()
}

fn chart_src(section: &str, narrow: bool) -> String {
    let marker = if narrow {
        "srcset=\""
    } else {
        "<img class=\"trend\" src=\""
    };
    let at = section.find(marker).expect("a chart");
    section[at + marker.len()..]
        .split('"')
        .next()
        .unwrap()
        .to_owned()
}

#[test]
fn one_persons_results_from_two_labs_read_as_panels_with_one_trend_per_test() {
    let env = Env::new();
    env.load_sample_feeds();
    add_user(&env, "clin", "clinician");
    env.add_source("EDH-LAB", "acute", "fhir");
    let file = env.write("eastdown.json", eastdown_bundle());
    let run = env.import("EDH-LAB", &file);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let s = super::server::Server::start_in(env);
    let c = s.login("clin");
    let margaret = person_with_nhs(&s.env, MARGARET);
    let page = results_page(&s, &c, margaret);

    // The latest abnormal values come first, the critical potassium at the top.
    let summary = section(&page, "abnormal-h");
    let first_panel = page.find("<section class=\"panel\"").unwrap();
    assert!(page.find("Latest abnormal results").unwrap() < first_panel);
    let potassium = summary.find("Potassium").expect("potassium summarised");
    assert!(summary[potassium..].contains("Critically high"));
    assert!(
        potassium < summary.find("C-reactive protein").unwrap(),
        "critical first"
    );
    assert!(summary.contains("6.8 mmol/L") && summary.contains("20 Feb 2024"));

    // Panels in clinical order, the FHIR report's FBC and the ORU's "Full blood count" as one.
    let panels: Vec<&str> = page
        .split("<section class=\"panel\"")
        .skip(1)
        .map(|p| {
            let h = &p[p.find("<h3 ").unwrap()..];
            let h = &h[h.find('>').unwrap() + 1..];
            h.split(['<', ' ']).next().unwrap()
        })
        .collect();
    assert_eq!(&panels[..3], ["FBC", "U&E", "CRP"], "{panels:?}");

    // The report is its panel's conclusion, not a test of its own.
    let fbc = &page[first_panel..];
    let fbc = &fbc[..fbc.find("<section class=\"test\"").unwrap()];
    assert!(fbc.contains("Mild anaemia, improving"), "{fbc}");
    assert!(
        !page.contains("-h\">Full blood count"),
        "the report is not a test"
    );

    // Haemoglobin: one test across both labs, 11.2 g/dL shown as sent and converted.
    let hb_id = test_id(&page, "Haemoglobin");
    let hb = section(&page, &hb_id);
    assert!(
        hb.contains("11.2 g/dL") && hb.contains("(= 112 g/L on the trend)"),
        "{hb}"
    );
    assert!(hb.contains("alt=\"Trend of Haemoglobin: 4 values, from 98 g/L on 3 Feb 2024 to 112 g/L on 20 Feb 2024\""), "{hb}");
    assert!(hb.contains("1 value is not on the trend: mmol/L does not convert exactly, and the trend is in g/L."), "{hb}");
    let sources: std::collections::BTreeSet<&str> = hb
        .split("<td data-label=\"From\">")
        .skip(1)
        .map(|td| td.split('<').next().unwrap())
        .collect();
    assert_eq!(sources.len(), 2, "both labs on one test: {sources:?}");
    // Creatinine 1.1 mg/dL joins the µmol/L trend as 97.
    let crea = section(&page, &test_id(&page, "Creatinine"));
    assert!(crea.contains("(= 97 µmol/L on the trend)"), "{crea}");
    assert!(
        crea.contains("<img class=\"trend\""),
        "two values make a trend"
    );

    // Words, not codes.
    assert!(
        page.contains("×10⁹/L") && !page.contains("10*9/L"),
        "units in words"
    );
    assert!(
        !page.contains(">L<") && !page.contains(">HH<"),
        "flags in words"
    );
    assert!(hb.contains(">Low<"));

    // The charts draw the reference band, wide and narrow, as scalable SVG.
    for narrow in [false, true] {
        let svg = c.get(s.url(&chart_src(hb, narrow))).send().unwrap();
        assert_eq!(svg.status(), 200);
        let svg = svg.text().unwrap();
        assert!(svg.contains("viewBox=\"0 0 "), "it scales to its container");
        assert!(svg.contains(BAND_FILL), "the haemoglobin band is drawn");
        let expected = if narrow {
            "viewBox=\"0 0 360 260\""
        } else {
            "viewBox=\"0 0 760 320\""
        };
        assert!(svg.contains(expected));
    }
}

#[test]
fn regression_crp_with_a_less_than_range_has_no_band_on_its_chart() {
    // Named after the untruth: CRP's range "<5" was not read, so its chart drew no band.
    let s = super::server::Server::start();
    let c = s.login("clin");
    let margaret = person_with_nhs(&s.env, MARGARET);
    let page = results_page(&s, &c, margaret);
    let crp = section(&page, &test_id(&page, "C-reactive protein"));
    assert!(
        crp.contains("The shaded band is the reference range (&lt;5 mg/L"),
        "{crp}"
    );
    let svg = c
        .get(s.url(&chart_src(crp, false)))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(svg.contains(BAND_FILL), "the CRP band is drawn");
}

#[test]
fn regression_the_record_shows_abnormal_flag_l_and_10_star_9_per_l() {
    // Named after the untruth: the record's results read "Abnormal flag: L" and "10*9/L",
    // with the value last.
    let s = super::server::Server::start();
    let c = s.login("clin");
    let margaret = person_with_nhs(&s.env, MARGARET);
    let page = decoded(
        &c.get(s.url(&format!("/person/{margaret}")))
            .send()
            .unwrap()
            .text()
            .unwrap(),
    );
    let results = section(&page, "cat-result");
    assert!(!results.contains("Abnormal flag"), "{results}");
    assert!(!results.contains("10*9/L"));
    assert!(results.contains("×10⁹/L"));
    let wbc = results
        .split("<li class=\"item")
        .find(|i| i.contains("White cell count") && i.contains("<dt>Flag</dt><dd>High</dd>"))
        .expect("a high white cell count, its flag in words");
    let value = wbc
        .find("<dt>Value</dt><dd>12.4 ×10⁹/L</dd>")
        .expect("value with unit");
    assert!(
        value < wbc.find("<dt>Flag</dt>").unwrap(),
        "the value comes first"
    );
}

#[test]
fn an_operators_own_lab_code_table_maps_a_local_code_onto_the_trend() {
    let env = Env::new();
    let shipped = env.ok(&["lab-codes", "show", "--shipped"]).stdout;
    // The operator's copy adds a laboratory's local haemoglobin code.
    let own = shipped.replacen(
        "codes = [\"718-7\", \"HB\",",
        "codes = [\"718-7\", \"ZZHB\", \"HB\",",
        1,
    );
    assert_ne!(own, shipped, "the shipped table lists haemoglobin's codes");
    let table = env.write("lab-codes.toml", &own);
    std::fs::create_dir_all(env.data_dir()).unwrap();
    std::fs::write(
        env.data_dir().join("config.toml"),
        format!("[results]\nlab_codes = \"{}\"\n", table.display()),
    )
    .unwrap();
    let said = env.ok(&["lab-codes", "show"]).stdout;
    assert!(said.contains(&table.display().to_string()), "{said}");

    env.load_sample_feeds();
    add_user(&env, "clin", "clinician");
    env.add_source("EDH-LAB", "acute", "hl7v2");
    let message = format!(
        "MSH|^~\\&|EDH|R1K|SHAREDCARE|REGION|20240215101500||ORU^R01|EDH1|P|2.4\r{}\
         OBR|1|E1|E1|ZZFBC^Blood count^EDH|||20240215093000\r\
         OBX|1|NM|ZZHB^Hgb^EDH||9.9|g/dL|11.5-16.5|L|||F|||20240215093000\r",
        pid("E7788", MARGARET, "THOMPSON", "MARGARET", "19380314")
    );
    let file = env.write("edh.hl7", message);
    let run = env.import("EDH-LAB", &file);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let s = super::server::Server::start_in(env);
    let c = s.login("clin");
    let page = results_page(&s, &c, person_with_nhs(&s.env, MARGARET));
    let hb = section(&page, &test_id(&page, "Haemoglobin"));
    assert!(
        hb.contains("9.9 g/dL") && hb.contains("(= 99 g/L on the trend)"),
        "{hb}"
    );

    // A table that lists one code under two tests is refused, not guessed at.
    let twice = own.replacen("codes = [\"751-8\",", "codes = [\"751-8\", \"ZZHB\",", 1);
    std::fs::write(&table, twice).unwrap();
    let r = s.env.run(&["lab-codes", "show"]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("listed twice"), "{}", r.stderr);
}
