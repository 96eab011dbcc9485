//! Community, mental-health and social care extracts: CSV rows in the shapes the mappings in
//! `sample-feeds/mappings/` read (the generator copies those mappings beside its output).

use super::feeds::FeedWriter;
use super::people::{Person, Rng};
use super::records::{row_by_header, uk_date, View, When};
use crate::error::Result;

pub const COMMUNITY_HEADER: &str = "record_type,patient_id,nhs_number,surname,forenames,dob,sex,postcode,item_id,date,end_date,title,status,team,clinician,phone,organisation,location,bed,reason,priority,detail,extracted";
pub const MH_HEADER: &str = "record_type,patient_id,nhs_number,surname,forenames,dob,sex,postcode,item_id,start_date,end_date,team,care_coordinator,coordinator_phone,legal_status,cpa_level,detail,review_date,author,drug,dose,frequency,code,extracted";
pub const ADULTS_HEADER: &str = "record_type|client_id|nhs_number|surname|forenames|dob|gender|address_1|address_2|town|postcode|phone|ref|start_date|end_date|service_code|description|team|worker|worker_phone|provider|hours_per_week|risk_level|location_name|extract_date";
pub const CHILDREN_HEADER: &str = "child_id,nhs_number,surname,forenames,dob,sex,address,postcode,address_withheld,episode_type,episode_id,status,start_date,end_date,legal_status,category,team,worker,worker_phone,placement,detail,extracted";

fn forenames(p: &Person, v: &View) -> String {
    if p.middle.is_empty() {
        v.given.clone()
    } else {
        format!("{} {}", v.given, p.middle)
    }
}

pub fn community(
    w: &mut FeedWriter,
    p: &Person,
    v: &View,
    r: &mut Rng,
    when: &When,
    tag: &str,
) -> Result<()> {
    let (dob, names, nhs) = (
        uk_date(p.birth),
        forenames(p, v),
        v.nhs.clone().unwrap_or_default(),
    );
    let extracted = format!("{} 06:00", uk_date(when.extract()));
    let sex = if p.male { "1" } else { "2" };
    let visits = if when.day.is_some() {
        1
    } else {
        1 + r.tail(1.0 + p.activity * 2.0).min(80)
    };
    for k in 0..visits {
        let d = uk_date(when.date(p, r));
        let (kind, title) = if k == 0 && when.day.is_none() {
            ("REFERRAL", "Referral to district nursing")
        } else {
            ("VISIT", "District nurse visit")
        };
        let item = format!("{tag}{k}");
        w.unit(&row_by_header(
            COMMUNITY_HEADER,
            ',',
            &[
                ("record_type", kind),
                ("patient_id", &v.local_id),
                ("nhs_number", &nhs),
                ("surname", &v.family),
                ("forenames", &names),
                ("dob", &dob),
                ("sex", sex),
                ("postcode", &v.postcode),
                ("item_id", &item),
                ("date", &d),
                ("title", title),
                ("status", "completed"),
                ("team", "District Nursing Team"),
                ("clinician", "Kate Morgan"),
                ("organisation", "Community Health NHS Trust"),
                ("location", "Home"),
                ("reason", "Wound care and medication review"),
                ("priority", "routine"),
                ("extracted", &extracted),
            ],
        ))?;
    }
    Ok(())
}

pub fn mental_health(
    w: &mut FeedWriter,
    p: &Person,
    v: &View,
    r: &mut Rng,
    when: &When,
    tag: &str,
) -> Result<()> {
    let (dob, names, nhs) = (
        uk_date(p.birth),
        forenames(p, v),
        v.nhs.clone().unwrap_or_default(),
    );
    let extracted = format!("{} 02:00", uk_date(when.extract()));
    let sex = if p.male { "M" } else { "F" };
    let start = uk_date(when.date(p, r));
    let base: Vec<(&str, &str)> = vec![
        ("patient_id", &v.local_id),
        ("nhs_number", &nhs),
        ("surname", &v.family),
        ("forenames", &names),
        ("dob", &dob),
        ("sex", sex),
        ("postcode", &v.postcode),
        ("start_date", &start),
        ("extracted", &extracted),
    ];
    let mut with = |extra: &[(&str, &str)]| -> Result<()> {
        let mut all = base.clone();
        all.extend_from_slice(extra);
        w.unit(&row_by_header(MH_HEADER, ',', &all))
    };
    if when.day.is_none() {
        with(&[
            ("record_type", "SUMMARY"),
            ("item_id", "S1"),
            ("team", "Community Mental Health Team"),
            (
                "care_coordinator",
                "Mark Ellis (community psychiatric nurse)",
            ),
            ("coordinator_phone", "01632 960455"),
            ("cpa_level", "CPA"),
            (
                "detail",
                "See crisis plan; contact the crisis team out of hours.",
            ),
        ])?;
        with(&[
            ("record_type", "DIAGNOSIS"),
            ("item_id", "D1"),
            ("code", "F32.1"),
            ("detail", "Moderate depressive episode"),
        ])?;
    }
    let meds = if when.day.is_some() {
        1
    } else {
        r.tail(1.0 + p.activity).min(20)
    };
    for k in 0..meds {
        let item = format!("M{tag}{k}");
        with(&[
            ("record_type", "MEDICATION"),
            ("item_id", &item),
            ("drug", "Sertraline"),
            ("dose", "100mg"),
            ("frequency", "once a day"),
            ("author", "Dr Ruth Okoye, consultant psychiatrist"),
        ])?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub fn adults(
    w: &mut FeedWriter,
    p: &Person,
    v: &View,
    r: &mut Rng,
    when: &When,
    tag: &str,
    council: &str,
) -> Result<()> {
    let (dob, names, nhs) = (
        uk_date(p.birth),
        forenames(p, v),
        v.nhs.clone().unwrap_or_default(),
    );
    let extract = when.extract().to_string();
    let gender = if p.male { "Male" } else { "Female" };
    let line1 = p.line1();
    let base: Vec<(&str, &str)> = vec![
        ("client_id", &v.local_id),
        ("nhs_number", &nhs),
        ("surname", &v.family),
        ("forenames", &names),
        ("dob", &dob),
        ("gender", gender),
        ("address_1", &line1),
        ("town", p.town),
        ("postcode", &v.postcode),
        ("phone", &p.phone),
        ("extract_date", &extract),
        ("team", council),
        ("worker", "Sam Patel"),
        ("worker_phone", "01632 960530"),
    ];
    let mut with = |extra: &[(&str, &str)]| -> Result<()> {
        let mut all = base.clone();
        all.extend_from_slice(extra);
        w.unit(&row_by_header(ADULTS_HEADER, '|', &all))
    };
    with(&[("record_type", "CLIENT")])?;
    let items = if when.day.is_some() {
        1
    } else {
        1 + r.tail(0.5 + p.activity).min(30)
    };
    for k in 0..items {
        let start = uk_date(when.date(p, r));
        let reference = format!("R{tag}{k}");
        match r.below(3) {
            0 => with(&[
                ("record_type", "ALLOCATION"),
                ("ref", &reference),
                ("start_date", &start),
                ("description", "Assessment of care and support needs"),
            ])?,
            1 => with(&[
                ("record_type", "PACKAGE"),
                ("ref", &reference),
                ("start_date", &start),
                ("service_code", "HC"),
                ("description", "Two calls a day (washing, dressing, meals)"),
                ("provider", "Kindly Care Ltd"),
                ("hours_per_week", "7"),
            ])?,
            _ => with(&[
                ("record_type", "SAFEGUARDING"),
                ("ref", &reference),
                ("start_date", &start),
                ("description", "Concern raised about self-neglect"),
                ("risk_level", "Medium"),
            ])?,
        }
    }
    Ok(())
}

pub fn children(
    w: &mut FeedWriter,
    p: &Person,
    v: &View,
    r: &mut Rng,
    when: &When,
    tag: &str,
) -> Result<()> {
    let (dob, names, nhs) = (
        uk_date(p.birth),
        forenames(p, v),
        v.nhs.clone().unwrap_or_default(),
    );
    let extract = when.extract().to_string();
    let sex = if p.male { "M" } else { "F" };
    let line1 = p.line1();
    let episodes = if when.day.is_some() {
        1
    } else {
        1 + r.tail(0.5).min(6)
    };
    for k in 0..episodes {
        let start = uk_date(when.date(p, r));
        let episode = format!("EP{tag}{k}");
        let (kind, legal, category) = match r.below(3) {
            0 => ("CIN", "", ""),
            1 => ("CPP", "", "Neglect"),
            _ => ("LAC", "V2", ""),
        };
        w.unit(&row_by_header(
            CHILDREN_HEADER,
            ',',
            &[
                ("child_id", &v.local_id),
                ("nhs_number", &nhs),
                ("surname", &v.family),
                ("forenames", &names),
                ("dob", &dob),
                ("sex", sex),
                ("address", &line1),
                ("postcode", &v.postcode),
                ("address_withheld", "N"),
                ("episode_type", kind),
                ("episode_id", &episode),
                ("status", "open"),
                ("start_date", &start),
                ("legal_status", legal),
                ("category", category),
                ("team", "Safeguarding Team"),
                ("worker", "Kwame Mensah"),
                ("worker_phone", "01632 960500"),
                ("detail", "Plan reviewed at conference"),
                ("extracted", &extract),
            ],
        ))?;
    }
    Ok(())
}
