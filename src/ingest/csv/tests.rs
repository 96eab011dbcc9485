//! Mappings and rows written inline: shapes, faults, encodings and every category.

use super::*;
use crate::ingest::{Extract, Unit};
use crate::model::entry::{SocialCareKind, SocialCareService};
use crate::model::{Category, EntryBody, NhsNumberStatus, Sex};

const ADULTS: &str = r#"
name = "test adults"
delimiter = "~"
date_formats = ["%d/%m/%Y", "%Y-%m-%d"]
subject = "client_id"
subject_nhs_fallback = true
event_time = "extracted"

[maps.gender]
"M" = "male"
"F" = "female"
"*" = "unknown"

[maps.service]
"HC" = "Home care"
"RES" = "Residential care"

[demographics]
nhs_number = "nhs"
family = "surname"
given = "forenames"
birth_date = { column = "dob", required = true }
sex = { column = "gender", map = "gender" }
address_lines = ["addr1", "addr2"]
postcode = "postcode"
restricted = "restricted"

[[entry]]
category = "social-care"
source_ref = "{subject}/package/{package_id}"
when = { column = "package_id" }
title = { column = "service", map = "service" }
start = "start"
[entry.body]
service = { value = "adults" }
kind = { value = "Package of care" }
named_worker = "worker"
hours_per_week = "hours"
"#;

const ADULTS_HEADER: &str =
    "client_id~nhs~surname~forenames~dob~gender~addr1~addr2~postcode~restricted~package_id~service~start~worker~hours~extracted\n";

fn mapping(text: &str) -> Mapping {
    Mapping::from_toml(text).unwrap_or_else(|e| panic!("{e}"))
}

fn parse(map: &str, data: &[u8]) -> ParsedFile {
    parse_file(data, &mapping(map)).unwrap_or_else(|e| panic!("{e}"))
}

fn ok(unit: &Unit) -> &Extract {
    match unit {
        Ok(e) => e,
        Err(r) => panic!("unexpected reject: {r:?}"),
    }
}

fn reason(unit: &Unit) -> &str {
    match unit {
        Ok(e) => panic!("expected a reject at {}", e.position),
        Err(r) => &r.reason,
    }
}

fn adults(rows: &str) -> ParsedFile {
    parse(ADULTS, format!("{ADULTS_HEADER}{rows}").as_bytes())
}

#[test]
fn a_tilde_delimited_row_becomes_an_extract() {
    let file = adults(
        "C100~943 476 5919~Smith~John  Paul~03/04/1940~M~1 High St~Ashby~ab12cd~N~P7~HC~2024-01-05~Ann Lee~12~2024-02-01\n",
    );
    assert_eq!(file.units.len(), 1);
    let e = ok(&file.units[0]);
    assert_eq!(e.position, "row 2");
    assert_eq!(e.subject, "C100");
    assert_eq!(e.event_time.as_deref(), Some("2024-02-01"));
    let d = e.demographics.as_ref().unwrap();
    assert_eq!(d.nhs_number.as_ref().unwrap().value, "9434765919");
    assert_eq!(
        d.nhs_number.as_ref().unwrap().status,
        NhsNumberStatus::Verified
    );
    assert_eq!(d.given, vec!["John", "Paul"]);
    assert_eq!(d.birth_date.unwrap().to_string(), "1940-04-03");
    assert_eq!(d.sex, Some(Sex::Male));
    assert_eq!(d.postcode(), Some("AB1 2CD"));
    assert_eq!(
        d.address.as_ref().unwrap().lines,
        vec!["1 High St", "Ashby"]
    );
    assert!(!d.restricted);
    let entry = &e.entries[0];
    assert_eq!(entry.source_ref, "C100/package/P7");
    assert_eq!(entry.title, "Home care");
    assert_eq!(entry.start.as_deref(), Some("2024-01-05"));
    let EntryBody::SocialCare(sc) = &entry.body else {
        panic!("wrong body")
    };
    assert_eq!(sc.service, SocialCareService::Adults);
    assert_eq!(sc.kind, SocialCareKind::PackageOfCare);
    assert_eq!(sc.named_worker.as_deref(), Some("Ann Lee"));
    assert_eq!(sc.hours_per_week.as_deref(), Some("12"));
    assert_eq!(e.raw, b"C100~943 476 5919~Smith~John  Paul~03/04/1940~M~1 High St~Ashby~ab12cd~N~P7~HC~2024-01-05~Ann Lee~12~2024-02-01");
}

#[test]
fn when_code_maps_and_fallbacks() {
    let file = adults(concat!(
        // No package: no entry. Unknown sex code falls to the map's "*".
        "C101~~Jones~Mary~1950-12-01~X~~~~Y~~~~~~\n",
        // No local id: the NHS number stands in. A service code not in the map passes through.
        "~9434765919~Brown~Ed~01/01/1930~F~~~~~P1~DAY~~~~\n",
        // No local id and no NHS number: nothing to tie the row to.
        "~~Grey~Al~01/01/1930~F~~~~~~~~~~\n",
    ));
    let first = ok(&file.units[0]);
    assert!(first.entries.is_empty());
    let d = first.demographics.as_ref().unwrap();
    assert_eq!(d.sex, Some(Sex::Unknown));
    assert!(d.restricted);
    assert!(d.nhs_number.is_none());
    let second = ok(&file.units[1]);
    assert_eq!(second.subject, "NHS:9434765919");
    assert_eq!(second.entries[0].title, "DAY");
    assert_eq!(second.entries[0].source_ref, "NHS:9434765919/package/P1");
    assert!(reason(&file.units[2]).contains("cannot be tied to anyone"));
}

#[test]
fn missing_and_extra_columns_reject_only_that_row() {
    let file = adults(concat!(
        "C1~~A~B~01/01/1950~M~~~~~~~~~\n",
        "C2~~A~B~01/01/1950~M~~~~~~~~~~~\n",
        "C3~~A~B~01/01/1950~M~~~~~~~~~~\n",
    ));
    assert_eq!(file.units.len(), 3);
    let r = reason(&file.units[0]);
    assert!(r.contains("15 columns but the header has 16"), "{r}");
    assert!(reason(&file.units[1]).contains("17 columns"));
    assert_eq!(ok(&file.units[2]).subject, "C3");
    let Err(reject) = &file.units[0] else {
        unreachable!()
    };
    assert_eq!(reject.position, "row 2");
    assert_eq!(reject.raw, b"C1~~A~B~01/01/1950~M~~~~~~~~~");
}

#[test]
fn a_bad_date_names_the_column_the_value_and_the_fix() {
    let file = adults(concat!(
        "C1~~A~B~31/02/1950~M~~~~~~~~~~\n",
        "C2~~A~B~~M~~~~~~~~~~\n",
        "C3~~A~B~19500101~M~~~~~P1~HC~soon~~~\n",
    ));
    assert_eq!(
        reason(&file.units[0]),
        "column `dob` has `31/02/1950`, which is not a date in any of the formats `%d/%m/%Y`, \
         `%Y-%m-%d`; fix at source or add the format to the mapping"
    );
    assert!(reason(&file.units[1]).contains("column `dob` is empty, and the mapping requires it"));
    assert!(reason(&file.units[2]).contains("`19500101`"));
}

#[test]
fn date_formats_are_tried_in_order_and_keep_their_precision() {
    let map = r#"
        name = "dates"
        date_formats = ["%d/%m/%Y %H:%M", "%d/%m/%Y", "%Y%m%d", "%Y-%m-%dT%H:%M:%S%:z"]
        subject = "id"
        event_time = "t"
    "#;
    let file = parse(map, b"id,t\n1,05/03/2024 14:20\n2,05/03/2024\n3,20240305\n4,2024-03-05T14:20:00+01:00\n5,2024-03-05\n");
    let times: Vec<Option<&str>> = file
        .units
        .iter()
        .take(4)
        .map(|u| ok(u).event_time.as_deref())
        .collect();
    assert_eq!(
        times,
        vec![
            Some("2024-03-05T14:20"),
            Some("2024-03-05"),
            Some("2024-03-05"),
            Some("2024-03-05T14:20:00+01:00")
        ]
    );
    assert!(reason(&file.units[4]).contains("not a date"));
}

#[test]
fn latin1_bytes_are_read_as_windows_1252() {
    let mut data = ADULTS_HEADER.as_bytes().to_vec();
    data.extend_from_slice(b"C1~~O'Bri\xe9n~Zo\xeb~01/01/1950~F~~~~~~~~~~\n");
    let file = parse(ADULTS, &data);
    let d = ok(&file.units[0]).demographics.clone().unwrap();
    assert_eq!(d.family.as_deref(), Some("O'Brién"));
    assert_eq!(d.given, vec!["Zoë"]);
}

#[test]
fn blank_lines_crlf_and_a_byte_order_mark_are_fine() {
    let mut data = b"\xEF\xBB\xBF".to_vec();
    data.extend_from_slice(ADULTS_HEADER.replace('\n', "\r\n").as_bytes());
    data.extend_from_slice(
        b"\r\n\r\nC1~~A~B~01/01/1950~F~~~~~~~~~~\r\n  \r\nC2~~A~B~01/01/1950~F~~~~~~~~~~",
    );
    let file = parse(ADULTS, &data);
    assert_eq!(file.units.len(), 2);
    assert_eq!(ok(&file.units[0]).position, "row 4");
    assert_eq!(ok(&file.units[1]).position, "row 6");
    assert_eq!(file.skipped.get("blank line"), Some(&1));
}

#[test]
fn a_header_without_a_needed_column_stops_the_file() {
    let data = "client_id~surname~forenames~gender\nC1~A~B~M\n";
    let Err(FileError::Unreadable(message)) = parse_file(data.as_bytes(), &mapping(ADULTS)) else {
        panic!("expected the file to be unreadable");
    };
    assert!(message.contains("column `nhs`"), "{message}");
    assert!(message.contains("column `dob`"));
    assert!(message.contains("column `package_id`"));
    assert!(message.contains("mapping `test adults`"));
    assert!(!message.contains("column `surname`"));
}

#[test]
fn header_names_match_ignoring_case_and_spaces() {
    let map = "name = \"x\"\nsubject = \"Client ID\"\n";
    let file = parse(map, b" CLIENT id ,other\nA1,z\n");
    assert_eq!(ok(&file.units[0]).subject, "A1");
}

#[test]
fn headerless_files_use_column_numbers() {
    let map = r#"
        name = "pipes"
        delimiter = "|"
        header = false
        columns = 3
        subject = 1
        [demographics]
        family = "{2}"
        given = 3
    "#;
    let file = parse(map, b"A|Smith|Jo\nB|Jones\n");
    assert_eq!(
        ok(&file.units[0])
            .demographics
            .as_ref()
            .unwrap()
            .family
            .as_deref(),
        Some("Smith")
    );
    assert!(reason(&file.units[1]).contains("the mapping says each row has 3"));
}

const TWO_LINE: &str = r#"
    name = "two-line"
    delimiter = "~"
    quote = ""
    header = false
    skip_lines = ["503"]
    date_formats = ["%Y%m%d"]
    subject = 3
    [[record_line]]
    prefix = "R~1~"
    columns = 4
    [[record_line]]
    prefix = "R~2~"
    columns = 4
    [demographics]
    birth_date = 4
    postcode = 8
"#;

#[test]
fn records_over_two_lines_are_joined_and_checked() {
    let data = concat!(
        "503\\*\n",
        "R~1~A~19500101\nR~2~x~AB1 2CD\n",       // fine
        "R~1~B~19500101\n",                      // no second line before the next record
        "R~1~C~19500101~extra\nR~2~x~AB1 2CD\n", // a line with a column too many
        "R~2~x~y\n",                             // a second line with no first
        "R~1~D~19500101\nR~2~x~ZZ1 1ZZ\n",       // fine
        "R~1~E~19500101\n",                      // the file ends mid-record
    );
    let file = parse(TWO_LINE, data.as_bytes());
    assert_eq!(file.skipped.get("line the mapping skips"), Some(&1));
    let a = ok(&file.units[0]);
    assert_eq!((a.subject.as_str(), a.position.as_str()), ("A", "row 2"));
    assert_eq!(a.demographics.as_ref().unwrap().postcode(), Some("AB1 2CD"));
    assert_eq!(a.raw, b"R~1~A~19500101\nR~2~x~AB1 2CD");
    assert!(reason(&file.units[1]).contains("incomplete"));
    assert!(reason(&file.units[2]).contains("has 5 columns where the mapping says 4"));
    assert!(reason(&file.units[3]).contains("does not start a record"));
    assert_eq!(ok(&file.units[4]).subject, "D");
    assert!(reason(&file.units[5]).contains("incomplete"));
    assert_eq!(file.units.len(), 6);
}

#[test]
fn a_fifty_megabyte_line_is_rejected_not_parsed() {
    let mut data = ADULTS_HEADER.as_bytes().to_vec();
    data.extend(std::iter::repeat_n(b'x', 50 * 1024 * 1024));
    data.extend_from_slice(b"\nC2~~A~B~01/01/1950~F~~~~~~~~~~\n");
    let started = std::time::Instant::now();
    let file = parse(ADULTS, &data);
    assert!(started.elapsed().as_secs() < 60);
    assert_eq!(file.units.len(), 2);
    assert!(reason(&file.units[0]).contains("more than the 1048576-byte limit"));
    let Err(r) = &file.units[0] else {
        unreachable!()
    };
    assert_eq!(r.raw.len(), MAX_ROW_BYTES);
    assert_eq!(ok(&file.units[1]).subject, "C2");
}

#[test]
fn an_oversized_header_stops_the_file() {
    let mut data = vec![b'h'; MAX_ROW_BYTES + 1];
    data.extend_from_slice(b"\nA\n");
    let result = parse_file(&data, &mapping("name = \"h\"\nsubject = \"id\"\n"));
    assert!(matches!(result, Err(FileError::Unreadable(m)) if m.contains("header row is")));
}

#[test]
fn an_unclosed_quote_costs_rows_not_the_file() {
    let file = parse(
        "name = \"q\"\nsubject = \"id\"\n",
        b"id,x\nA,\"two\nlines\"\nB,\"open\nC,z\n",
    );
    assert_eq!(ok(&file.units[0]).subject, "A");
    assert!(reason(&file.units[1]).contains("never closed"));
    assert_eq!(file.units.len(), 2);
}

#[test]
fn entry_faults_name_the_entry() {
    let map = r#"
        name = "alerts"
        subject = "id"
        [[entry]]
        category = "safeguarding"
        source_ref = "{id}/alert/{alert}"
        title = { column = "title", required = true }
        sensitive = "private"
        [entry.body]
        risk_level = "risk"
    "#;
    let file = parse(
        map,
        b"id,alert,title,private,risk\n1,,T,N,high\n2,A,,N,\n3,A,T,perhaps,\n4,A,T,Y,low\n",
    );
    assert!(reason(&file.units[0]).contains("needs column `alert`, which is empty"));
    assert!(reason(&file.units[1]).starts_with("entry 1 (safeguarding): column `title` is empty"));
    assert!(reason(&file.units[2]).contains("`perhaps`, which is not yes/no"));
    let e = &ok(&file.units[3]).entries[0];
    assert!(e.sensitive);
    assert_eq!(e.source_ref, "4/alert/A");
}

#[test]
fn a_value_outside_a_fixed_list_is_a_reject_that_suggests_a_code_map() {
    let map = r#"
        name = "loc"
        subject = "id"
        [[entry]]
        category = "location"
        source_ref = "{id}/location"
        title = "where"
        [entry.body]
        kind = "kind"
    "#;
    let file = parse(
        map,
        b"id,where,kind\n1,Ward 7,Inpatient\n2,Moon,spaceship\n",
    );
    assert!(matches!(
        ok(&file.units[0]).entries[0].body,
        EntryBody::Location(_)
    ));
    let r = reason(&file.units[1]);
    assert!(
        r.contains("`spaceship` for `kind`, which is not one of home, inpatient"),
        "{r}"
    );
}

#[test]
fn results_read_numbers_for_trends() {
    let map = r#"
        name = "labs"
        subject = "id"
        [[entry]]
        category = "result"
        source_ref = "{id}/{test}"
        title = "test"
        [entry.body]
        value = "value"
        unit = "unit"
    "#;
    let file = parse(
        map,
        b"id,test,value,unit\n1,Hb,131,g/L\n1,Note,see report,\n",
    );
    let EntryBody::Result(r) = &ok(&file.units[0]).entries[0].body else {
        panic!()
    };
    assert_eq!(r.numeric, Some(131.0));
    let EntryBody::Result(r) = &ok(&file.units[1]).entries[0].body else {
        panic!()
    };
    assert_eq!(r.numeric, None);
}

#[test]
fn mapping_mistakes_are_reported_when_it_is_loaded() {
    let cases = [
        ("subject = \"id\"", "missing field `name`"),
        ("name = \"m\"\nsubject = { value = \"x\" }", "`subject` must come from a column"),
        ("name = \"m\"\ndelimiter = \"ab\"\nsubject = \"id\"", "one ASCII character"),
        ("name = \"m\"\nheader = false\nsubject = 1", "`columns = N`"),
        ("name = \"m\"\nheader = false\ncolumns = 2\nsubject = \"id\"", "columns are numbered"),
        ("name = \"m\"\nheader = false\ncolumns = 2\nsubject = 3", "past the last column"),
        ("name = \"m\"\nsubject = { column = \"id\", map = \"nope\" }", "no `[maps.nope]`"),
        ("name = \"m\"\ndate_formats = [\"%Q\"]\nsubject = \"id\"", "not a chrono date format"),
        ("name = \"m\"\nsubject = \"id\"\nsubject_nhs_fallback = true", "needs `demographics.nhs_number`"),
        ("name = \"m\"\n", "say which column is the person's local id"),
        ("name = \"m\"\nsubject = \"id\"\nsurname = \"x\"", "unknown field `surname`"),
        (
            "name = \"m\"\nsubject = \"id\"\n[[entry]]\ncategory = \"allergies\"\nsource_ref = \"{id}\"\ntitle = \"t\"",
            "not a category",
        ),
        (
            "name = \"m\"\nsubject = \"id\"\n[[entry]]\ncategory = \"allergy\"\nsource_ref = \"{id}\"\ntitle = \"t\"\n[entry.body]\nsubstanse = \"s\"",
            "`substanse` is not a body field of a allergy entry",
        ),
        (
            "name = \"m\"\nsubject = \"id\"\n[[entry]]\ncategory = \"social-care\"\nsource_ref = \"{id}\"\ntitle = \"t\"\n[entry.body]\nkind = { value = \"case\" }",
            "needs body field `service`",
        ),
        (
            "name = \"m\"\nsubject = \"id\"\n[[entry]]\ncategory = \"care-plan\"\nsource_ref = \"{id}\"\ntitle = \"t\"\n[entry.body]\nkind = { value = \"nice\" }",
            "`nice`, which is not one of end-of-life",
        ),
        (
            "name = \"m\"\nsubject = \"id\"\n[[entry]]\ncategory = \"allergy\"\nsource_ref = { value = \"x\" }\ntitle = \"t\"",
            "must use at least one column",
        ),
        (
            "name = \"m\"\nsubject = \"id\"\n[[entry]]\ncategory = \"allergy\"\nsource_ref = \"{id}\"\ntitle = \"t\"\n[[entry]]\ncategory = \"problem\"\nsource_ref = \"{id}\"\ntitle = \"t\"",
            "two entries share the source_ref",
        ),
    ];
    for (text, expected) in cases {
        let err = Mapping::from_toml(text)
            .err()
            .unwrap_or_else(|| panic!("accepted: {text}"));
        assert!(
            err.contains(expected),
            "{text}\n=> {err}\nwanted {expected}"
        );
    }
}

/// One entry of every category from one row, each with every body field it has.
#[test]
fn every_category_can_be_expressed() {
    let mut map = String::from("name = \"all\"\nsubject = \"id\"\ndate_formats = [\"%Y-%m-%d\"]\n");
    for category in Category::ALL {
        map.push_str(&format!(
            "[[entry]]\ncategory = \"{category}\"\nsource_ref = \"{{id}}/{category}\"\ntitle = \
             {{ value = \"{category} title\" }}\ncode_system = {{ value = \"local\" }}\ncode = \"code\"\n\
             status = {{ value = \"active\" }}\nstart = \"day\"\nend = \"day\"\nrecorded_at = \"day\"\n\
             sensitive = {{ value = false }}\n[entry.body]\n"
        ));
        for f in body::fields(category) {
            let value = match f.kind {
                body::Kind::Text => "\"text\"".to_owned(),
                body::Kind::Date => "\"day\"".to_owned(),
                body::Kind::Number => "\"number\"".to_owned(),
                body::Kind::Flag => "{ value = \"Y\" }".to_owned(),
                body::Kind::OneOf(values) => format!("{{ value = \"{}\" }}", values[0]),
            };
            map.push_str(&format!("{} = {value}\n", f.name));
        }
    }
    let file = parse(
        &map,
        b"id,code,day,text,number\nP1,C1,2024-05-06,words,7.5\n",
    );
    let e = ok(&file.units[0]);
    let categories: Vec<Category> = e.entries.iter().map(|d| d.category).collect();
    assert_eq!(categories, Category::ALL.to_vec());
    for d in &e.entries {
        assert_eq!(d.body.category(), d.category);
        assert_eq!(d.start.as_deref(), Some("2024-05-06"));
        assert_eq!(d.code.as_deref(), Some("C1"));
    }
    let json = serde_json::to_value(&e.entries).unwrap();
    assert_eq!(json[9]["body"]["numeric"], 7.5);
    assert_eq!(json[15]["body"]["is_carer"], true);
    assert_eq!(json[0]["body"]["review_date"], "2024-05-06");
}

/// Arbitrary bytes never panic, whatever the mapping.
#[test]
fn arbitrary_bytes_never_panic() {
    let maps = [mapping(ADULTS), mapping(TWO_LINE)];
    let mut seed: u64 = 0x5eed;
    let alphabet = b"~|,\"\n\r 0123/abcR12\xe9\xff";
    for round in 0..400 {
        let len = (round * 7) % 300;
        let mut data = if round % 2 == 0 {
            ADULTS_HEADER.as_bytes().to_vec()
        } else {
            Vec::new()
        };
        for _ in 0..len {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            data.push(alphabet[(seed >> 33) as usize % alphabet.len()]);
        }
        for m in &maps {
            let _ = parse_file(&data, m);
        }
    }
}

#[test]
fn rejects_do_not_show_their_bytes_in_debug() {
    let file = adults("C1~9434765919~Secretname~B~31/02/1950~M~~~~~~~~~~\n");
    let shown = format!("{:?}", file.units[0]);
    assert!(!shown.contains("Secretname"), "{shown}");
}

/// Issue 11: CSV alerts are a mapping target, with a kind; safeguarding words stay
/// safeguarding.
#[test]
fn regression_csv_alerts_land_as_alerts_with_their_kind() {
    let map = r#"
        name = "alerts"
        subject = "id"
        date_formats = ["%d/%m/%Y"]
        [[entry]]
        category = "alert"
        source_ref = "{id}/alert/{n}"
        title = "text"
        start = "from"
        [entry.body]
        kind = "kind"
        recorded_by = "by"
    "#;
    let file = parse(
        map,
        b"id,n,text,kind,from,by\n1,1,Large dog at home,Risk to staff,01/03/2024,Sam Patel\n\
          1,2,Child protection plan,Other,02/03/2024,\n1,3,Hard of hearing,Purple,,\n",
    );
    let e = &ok(&file.units[0]).entries[0];
    let EntryBody::Alert(a) = &e.body else {
        panic!("{:?}", e.body)
    };
    assert_eq!(a.kind, crate::model::entry::AlertKind::RiskToStaff);
    assert_eq!(a.recorded_by.as_deref(), Some("Sam Patel"));
    assert_eq!(e.category, Category::Alert);
    assert_eq!(e.start.as_deref(), Some("2024-03-01"));
    let cp = &ok(&file.units[1]).entries[0];
    assert_eq!(cp.category, Category::Safeguarding);
    assert!(matches!(cp.body, EntryBody::Safeguarding(_)));
    assert!(reason(&file.units[2]).contains("risk-to-staff, clinical, other"));
}

#[test]
fn a_not_for_patient_column_marks_the_row_entry() {
    let map = r#"
        name = "notes"
        subject = "id"
        [[entry]]
        category = "problem"
        source_ref = "{id}/problem/{item}"
        title = "title"
        not_for_patient = "third_party"
        [entry.body]
        name = "title"
    "#;
    let file = parse(
        map,
        b"id,item,title,third_party\n1,A,Told by neighbour,Y\n2,B,Asthma,N\n",
    );
    assert!(ok(&file.units[0]).entries[0].not_for_patient);
    assert!(!ok(&file.units[1]).entries[0].not_for_patient);
}
