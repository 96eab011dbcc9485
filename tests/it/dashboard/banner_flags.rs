//! Banner flags are data: an operator's condition set that gives a condition a `[condition.flag]`
//! makes the importers flag that test on the record's banner, with no code, and a set without
//! COVID-19's flag stops flagging COVID-19 tests — the banner and the dashboard read one file.

use super::super::server::{add_user, claim, Server};
use super::super::support::*;

const CONDITIONS: &str = r#"
[opt_out]
[[opt_out.rule]]
category = "result"
codes = ["827241000000103"]

[[condition]]
key = "influenza-tested"
name = "Influenza tested"
current = "28 days"
[condition.flag]
name = "Influenza"
positive_words = ["detected", "positive"]
negative_words = ["not detected", "negative"]
[[condition.rule]]
category = "result"
title_words = ["influenza"]
"#;

/// An ORU with an influenza PCR and a SARS-CoV-2 PCR, both detected, taken `when`.
fn two_tests(when: &str) -> String {
    format!(
        "MSH|^~\\&|LAB|RWF|SHAREDCARE|REGION|{when}||ORU^R01|FLU1|P|2.4\r{}\
         OBR|1|ORD1|ORD1|RESP^Respiratory viruses^L|||{when}\r\
         OBX|1|ST|FLUA^Influenza A RNA^L||Detected||||||F|||{when}\r\
         OBX|2|ST|COV2^SARS-CoV-2 RNA^L||Detected||||||F|||{when}\r",
        pid("FLU-77", "", "Harrow", "Ellis", "19700402")
    )
}

#[test]
fn an_operators_new_banner_flag_needs_no_code() {
    let env = Env::new();
    std::fs::create_dir_all(env.data_dir()).unwrap();
    let conditions = env.write("conditions.toml", CONDITIONS);
    std::fs::write(
        env.data_dir().join("config.toml"),
        format!(
            "[population]\nconditions = {:?}\n",
            conditions.to_str().unwrap()
        ),
    )
    .unwrap();
    env.add_source("LAB", "acute", "hl7v2");
    let when = chrono::Utc::now().format("%Y%m%d%H%M").to_string();
    let file = env.write("flu.hl7", two_tests(&when));
    let run = env.import("LAB", &file);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        env.count("SELECT count(*) FROM entry WHERE category = 'condition-flag' AND title = 'Influenza positive'"),
        1
    );
    assert_eq!(
        env.count(
            "SELECT count(*) FROM entry WHERE category = 'condition-flag' AND title LIKE 'COVID%'"
        ),
        0,
        "the operator's set has no COVID-19 flag"
    );

    add_user(&env, "clin", "clinician");
    let person = person_of(&env, "FLU-77");
    let s = Server::start_in(env);
    let c = s.login("clin");
    claim(&s, &c, person);
    let page = c
        .get(s.url(&format!("/person/{person}")))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let at = page
        .find("class=\"flag flag-test-positive\"")
        .expect("a positive test on the banner");
    assert!(
        page[at..at + 300].contains("Influenza positive"),
        "{}",
        &page[at..at + 300]
    );
    assert!(!page.contains("COVID-19 positive"));
}
