//! Broken input of every kind: no panic, no hang, a clear reason, nothing committed is lost.

use super::support::*;

fn setup() -> Env {
    let env = Env::new();
    env.add_source("RWF-PAS", "acute", "hl7v2");
    env.add_source("GP-FHIR", "gp", "fhir");
    let good = a08(
        "G1",
        "20240101090000",
        "MRN-G",
        &nhs_number(30),
        "Good",
        "Data",
        "19500101",
    );
    assert_eq!(env.import("RWF-PAS", &env.write("good.hl7", good)).code, 0);
    env
}

/// Imports a bad file and checks the outcome is a clean, explained refusal that kept the
/// earlier data.
fn refused(env: &Env, source: &str, name: &str, bytes: &[u8]) -> serde_json::Value {
    let before = env.snapshot();
    let path = env.write(name, bytes);
    let r = env.import(source, &path);
    assert_eq!(
        r.code, 1,
        "{name}: expected exit 1 (input rejected)\n{}\n{}",
        r.stdout, r.stderr
    );
    assert!(!r.stderr.contains("panicked"), "{name}: {}", r.stderr);
    let f = r.json()["files"][0].clone();
    let reasons: Vec<String> = match f["state"].as_str().unwrap() {
        "quarantined" => vec![f["reason"].as_str().unwrap().to_owned()],
        _ => f["rejects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r[1].as_str().unwrap().to_owned())
            .collect(),
    };
    assert!(!reasons.is_empty(), "{name}: no reason given: {f}");
    for reason in &reasons {
        assert!(
            reason.len() > 15,
            "{name}: reason too terse to act on: {reason}"
        );
    }
    let after = env.snapshot();
    let kept = before.iter().filter(|row| after.contains(row)).count();
    assert_eq!(kept, before.len(), "{name}: committed data lost");
    assert_eq!(
        env.count("SELECT count(*) FROM source_person WHERE local_id = 'MRN-G'"),
        1
    );
    f
}

#[test]
fn empty_and_binary_files_are_quarantined_with_a_reason() {
    let env = setup();
    let f = refused(&env, "RWF-PAS", "empty.hl7", b"");
    assert_eq!(f["state"], "quarantined");
    assert!(f["reason"].as_str().unwrap().contains("empty"));
    let garbage: Vec<u8> = (0..100_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    refused(&env, "RWF-PAS", "garbage.hl7", &garbage);
    refused(&env, "GP-FHIR", "garbage.json", &garbage);
}

#[test]
fn a_truncated_message_is_rejected_and_the_rest_of_the_file_imported() {
    let env = setup();
    let whole = a08(
        "T1",
        "20240101090000",
        "MRN-T1",
        &nhs_number(31),
        "Whole",
        "Message",
        "19600101",
    );
    let cut = "MSH|^~\\&|PAS|RWF|SC|REG|20240101||ADT^A08|T2|P|2.4\rEVN|A08|2024";
    let f = refused(
        &env,
        "RWF-PAS",
        "truncated.hl7",
        [whole.as_str(), cut].concat().as_bytes(),
    );
    assert_eq!(f["accepted"], 1);
    assert_eq!(f["rejects"].as_array().unwrap().len(), 1);
    assert_eq!(
        env.count("SELECT count(*) FROM feed_reject WHERE length(raw) > 0"),
        1,
        "raw bytes kept for replay"
    );
}

#[test]
fn latin1_text_is_read_not_refused() {
    let env = setup();
    let mut msg = a08(
        "L1",
        "20240101090000",
        "MRN-L",
        &nhs_number(32),
        "Ren?",
        "Zo?",
        "19700101",
    )
    .into_bytes();
    for b in msg.iter_mut().filter(|b| **b == b'?') {
        *b = 0xE9; // é in Latin-1, invalid as UTF-8
    }
    let r = env.import("RWF-PAS", &env.write("latin1.hl7", msg));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let family: String = env
        .sql()
        .query_row(
            "SELECT family FROM person WHERE family LIKE 'Ren%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(family, "René");
}

#[test]
fn a_50_mb_single_line_is_refused_quickly() {
    let env = setup();
    let line = vec![b'A'; 50 * 1024 * 1024];
    let started = std::time::Instant::now();
    refused(&env, "RWF-PAS", "oneline.hl7", &line);
    let mut json = b"{\"resourceType\":\"Patient\",\"id\":\"".to_vec();
    json.extend(std::iter::repeat_n(b'x', 50 * 1024 * 1024));
    refused(&env, "GP-FHIR", "oneline.json", &json);
    eprintln!("two 50 MB lines refused in {:?}", started.elapsed());
}

#[test]
fn json_nested_100000_deep_is_refused_without_overflowing_the_stack() {
    let env = setup();
    let mut deep = String::from("{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":");
    deep.push_str(&"[".repeat(100_000));
    deep.push_str(&"]".repeat(100_000));
    deep.push('}');
    let f = refused(&env, "GP-FHIR", "deep.json", deep.as_bytes());
    assert_eq!(f["state"], "quarantined");
}

#[test]
fn csv_rows_with_missing_or_extra_columns_are_rejected_one_by_one() {
    let env = setup();
    let mapping = env.write(
        "mapping.toml",
        std::fs::read_to_string(repo().join("sample-feeds/mappings/social-care-adults.toml"))
            .unwrap(),
    );
    env.ok(&[
        "source",
        "add",
        "KCC-ASC",
        "--name",
        "Kent adult social care",
        "--org",
        "KCC",
        "--kind",
        "social-care",
        "--format",
        "csv",
        "--mapping",
        mapping.to_str().unwrap(),
    ]);
    let sample = std::fs::read_dir(repo().join("sample-feeds/social-care-adults"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv" || e == "txt"))
        .min()
        .unwrap();
    let text = std::fs::read_to_string(&sample).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let delimiter = if lines[0].contains('~') {
        '~'
    } else if lines[0].contains('|') {
        '|'
    } else {
        ','
    };
    let good_rows = lines.len() - 1;
    let short: String = lines[1]
        .split(delimiter)
        .take(2)
        .collect::<Vec<_>>()
        .join(&delimiter.to_string());
    let long = format!("{}{delimiter}extra{delimiter}columns", lines[1]);
    lines.push(short);
    lines.push(long);
    let f = refused(
        &env,
        "KCC-ASC",
        "broken.csv",
        (lines.join("\n") + "\n").as_bytes(),
    );
    assert_eq!(f["rejects"].as_array().unwrap().len(), 2, "{f}");
    assert_eq!(f["accepted"].as_u64().unwrap() as usize, good_rows);
}

#[test]
fn regression_fhir_bundle_of_a_million_tiny_resources_is_refused_over_the_cap() {
    // One more resource than the cap, each as small as an entry can be (3 MB in all): refused
    // unread, with a reason the source can act on, and nothing committed lost.
    let env = setup();
    let mut text = br#"{"resourceType":"Bundle","type":"collection","entry":["#.to_vec();
    text.extend(
        std::iter::repeat_n(&b"{},"[..], sharedcare::ingest::fhir::MAX_RESOURCES).flatten(),
    );
    text.extend_from_slice(b"{}]}");
    let f = refused(&env, "GP-FHIR", "million.json", &text);
    assert_eq!(f["state"], "quarantined");
    let reason = f["reason"].as_str().unwrap();
    assert!(
        reason.contains("more than 1000000 resources") && reason.contains("split"),
        "{reason}"
    );
}
