//! Notifications from events (issue 15 item 2): for each shipped rule a feed that should fire
//! it does, once, and one that should not does not; the same message twice, or a discharge
//! before its admission, gives each notification once. Feeds are imported with the real binary
//! into a real SQLite database over the sample region; events are dated now (the rules ignore
//! old news, which the sample feeds are).

mod inbox;
mod mail;
mod relationship;
mod rules;

use super::support::*;
use chrono::Utc;

/// A person of the sample region as the hospital's PAS sends them.
pub struct Who {
    pub mrn: &'static str,
    pub nhs: &'static str,
    pub name: &'static str,
    pub dob: &'static str,
    pub sex: &'static str,
    pub address: &'static str,
}

pub const MARGARET: Who = Who {
    mrn: "W100233",
    nhs: "9994837567",
    name: "THOMPSON^MARGARET^ELLEN^^MRS",
    dob: "19380314",
    sex: "F",
    address: "12 ORCHARD WAY^^ASHCOMBE^^WX1 4AB^GBR^H",
};

pub const TYLER: Who = Who {
    mrn: "W400101",
    nhs: "9998137284",
    name: "WATSON^TYLER^JAMES",
    dob: "20120509",
    sex: "M",
    address: "27 LARCH CLOSE^^ASHCOMBE^^WX2 5PL^GBR^H",
};

pub const CHLOE: Who = Who {
    mrn: "W400102",
    nhs: "9993605670",
    name: "WATSON^CHLOE^ROSE",
    dob: "20150217",
    sex: "F",
    address: "27 LARCH CLOSE^^ASHCOMBE^^WX2 5PL^GBR^H",
};

pub const JOHN: Who = Who {
    mrn: "W400103",
    nhs: "9998934850",
    name: "SMITH^JOHN^MICHAEL",
    dob: "19520722",
    sex: "M",
    address: "4 MILL LANE^^ASHCOMBE^^WX3 7HG^GBR^H",
};

/// Someone no feed of the region has heard of.
pub const STRANGER: Who = Who {
    mrn: "W400199",
    nhs: "",
    name: "NEWCOMER^NINA",
    dob: "19700101",
    sex: "F",
    address: "1 NOWHERE LANE^^ASHCOMBE^^WX9 9ZZ^GBR^H",
};

pub fn hl7_time(minutes_ago: i64) -> String {
    (Utc::now() - chrono::Duration::minutes(minutes_ago))
        .format("%Y%m%d%H%M%S")
        .to_string()
}

/// An ADT message from the hospital (R9W) about `who`: class `I` (inpatient) or `E` (A&E),
/// visit `visit`; `discharged` fills PV1-45, `died` PID-29/30.
pub fn adt_of(
    event: &str,
    control: &str,
    who: &Who,
    class: &str,
    visit: &str,
    discharged: bool,
    died: bool,
) -> String {
    adt_sent(event, control, who, class, visit, discharged, died, 0)
}

/// As [`adt_of`], the message sent `sent_minutes_ago`.
#[allow(clippy::too_many_arguments)]
pub fn adt_sent(
    event: &str,
    control: &str,
    who: &Who,
    class: &str,
    visit: &str,
    discharged: bool,
    died: bool,
    sent_minutes_ago: i64,
) -> String {
    let now = hl7_time(sent_minutes_ago);
    let admitted = hl7_time(120);
    let ids = match who.nhs {
        "" => format!("{}^^^R9W^MR", who.mrn),
        nhs => format!("{}^^^R9W^MR~{nhs}^^^NHS^NH", who.mrn),
    };
    let mut pid = vec![
        (1, "1"),
        (3, ids.as_str()),
        (5, who.name),
        (7, who.dob),
        (8, who.sex),
        (11, who.address),
    ];
    if died {
        pid.push((29, now.as_str()));
        pid.push((30, "Y"));
    }
    let mut pv1 = vec![
        (1, "1"),
        (2, class),
        (3, "AMU^BAY 1^BED 1^WGH"),
        (19, visit),
        (44, admitted.as_str()),
    ];
    if discharged {
        pv1.push((45, now.as_str()));
    }
    adt(
        event,
        "R9W",
        control,
        &now,
        &[segment("PID", &pid), segment("PV1", &pv1)],
    )
}

/// The sample region, loaded.
pub fn region() -> Env {
    let env = Env::new();
    env.load_sample_feeds();
    env
}

/// Imports `content` as one file for `source`, insisting it was read without rejects.
pub fn feed(env: &Env, source: &str, name: &str, content: &str) {
    let file = env.write(name, content);
    env.ok(&["import", "--source", source, file.to_str().unwrap()]);
}

/// Every notification: (rule, event, recipient, person).
pub fn notifications(env: &Env) -> Vec<(String, String, String, Option<i64>)> {
    let conn = env.sql();
    let mut st = conn
        .prepare("SELECT rule, event, recipient, person_id FROM notification ORDER BY id")
        .unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// The notifications one rule raised: (event, recipient, person).
pub fn of_rule(env: &Env, rule: &str) -> Vec<(String, String, Option<i64>)> {
    notifications(env)
        .into_iter()
        .filter(|n| n.0 == rule)
        .map(|n| (n.1, n.2, n.3))
        .collect()
}
