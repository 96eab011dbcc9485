//! The banner's truth (issue 11): alerts of every kind while active, test results that say
//! what and when and age out, Mental Health Act status and the crisis plan.

use super::tests::{day, entry, record};
use super::*;
use crate::model::entry::{
    Alert, AlertKind, CarePlan, CarePlanKind, ConditionFlag, FlagState, MentalHealth, Safeguarding,
};

fn view(entries: Vec<StoredEntry>, today: NaiveDate) -> RecordView {
    RecordView::build(
        &record(entries),
        today,
        &Freshness::new(&[], Utc::now()),
        &[],
    )
}

fn alert(id: i64, title: &str, kind: AlertKind, status: Option<&str>) -> StoredEntry {
    entry(
        id,
        title,
        status,
        Some("2024-02-01"),
        EntryBody::Alert(Alert {
            kind,
            description: None,
            recorded_by: Some("Sam Patel, district nurse".into()),
            contact: None,
        }),
    )
}

fn covid(id: i64, state: FlagState, date: &str) -> StoredEntry {
    entry(
        id,
        "SARS-CoV-2 PCR",
        Some("final"),
        Some(date),
        EntryBody::ConditionFlag(ConditionFlag {
            condition: "COVID-19".into(),
            state,
            date: Some(date.into()),
            detail: None,
        }),
    )
}

#[test]
fn regression_alerts_other_than_safeguarding_are_in_the_banner_while_active() {
    let mut ended = alert(5, "Aggressive when woken", AlertKind::RiskToStaff, None);
    ended.entry.end = Some("2024-02-20".into());
    let v = view(
        vec![
            alert(1, "Hearing impaired", AlertKind::Clinical, Some("active")),
            alert(
                2,
                "Large dog at home",
                AlertKind::RiskToStaff,
                Some("active"),
            ),
            alert(3, "Prefers a female clinician", AlertKind::Other, None),
            alert(
                4,
                "Keysafe at the back door",
                AlertKind::Other,
                Some("inactive"),
            ),
            ended,
            entry(
                6,
                "Child protection plan",
                Some("active"),
                Some("2024-01-10"),
                EntryBody::Safeguarding(Safeguarding {
                    alert_type: Some("Child protection".into()),
                    description: None,
                    risk_level: None,
                    contact: Some("Children's duty team 01632 960100".into()),
                    recorded_by: Some("J Okafor, social worker".into()),
                }),
            ),
        ],
        day(2024, 3, 1),
    );
    let shown: Vec<(&str, &str, &str)> = v
        .banner
        .alerts
        .iter()
        .map(|a| (a.kind, a.kind_label, a.text.as_str()))
        .collect();
    assert_eq!(
        shown,
        vec![
            ("safeguarding", "Safeguarding", "Child protection plan"),
            ("risk-to-staff", "Risk to staff", "Large dog at home"),
            ("clinical", "Clinical alert", "Hearing impaired"),
            ("other", "Alert", "Prefers a female clinician"),
        ],
        "inactive and ended alerts are not shown"
    );
    let safeguarding = &v.banner.alerts[0];
    assert_eq!(
        safeguarding.contact.as_deref(),
        Some("Children's duty team 01632 960100")
    );
    assert_eq!(
        safeguarding.recorded_by.as_deref(),
        Some("J Okafor, social worker")
    );
    assert_eq!(
        v.banner.alerts[1].recorded_by.as_deref(),
        Some("Sam Patel, district nurse")
    );
    assert_eq!(v.banner.alerts[1].since.as_deref(), Some("1 Feb 2024"));
}

/// Issue 11: a 2024 negative COVID test was a yellow warning flag for ever.
#[test]
fn regression_a_negative_covid_test_is_not_a_warning_for_ever() {
    let negative = covid(1, FlagState::Negative, "2024-02-14");
    let flags = |today| {
        view(vec![negative.clone()], today)
            .banner
            .flags
            .into_iter()
            .filter(|f| f.kind.starts_with("test") || f.kind == "covid")
            .map(|f| (f.kind, f.text))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        flags(day(2024, 2, 15)),
        vec![(
            "test",
            "COVID-19 negative: SARS-CoV-2 PCR, 14 Feb 2024 (1 day ago)".to_owned()
        )],
        "a recent negative is a plain note, not a warning"
    );
    assert!(flags(day(2024, 3, 1)).is_empty(), "and it ages out");
    assert!(flags(day(2026, 12, 2)).is_empty());
}

#[test]
fn a_positive_test_warns_for_two_weeks_and_the_newest_result_wins() {
    let flags = |entries: Vec<StoredEntry>, today| {
        view(entries, today)
            .banner
            .flags
            .into_iter()
            .filter(|f| f.kind.starts_with("test"))
            .map(|f| (f.kind, f.text))
            .collect::<Vec<_>>()
    };
    let positive = covid(1, FlagState::Positive, "2024-03-01");
    assert_eq!(
        flags(vec![positive.clone()], day(2024, 3, 5)),
        vec![(
            "test-positive",
            "COVID-19 positive: SARS-CoV-2 PCR, 1 Mar 2024 (4 days ago)".to_owned()
        )]
    );
    assert!(flags(vec![positive.clone()], day(2024, 3, 20)).is_empty());
    let later_negative = covid(2, FlagState::Negative, "2024-03-04");
    assert_eq!(
        flags(vec![positive, later_negative], day(2024, 3, 5))[0].0,
        "test",
        "a later negative replaces the positive"
    );
}

#[test]
fn regression_mental_health_act_status_and_the_crisis_plan_are_in_the_banner() {
    let v = view(
        vec![
            entry(
                1,
                "Mental health summary",
                None,
                Some("2024-02-10"),
                EntryBody::MentalHealth(MentalHealth {
                    legal_status: Some("Detained: Section 3 Mental Health Act 1983".into()),
                    ..Default::default()
                }),
            ),
            entry(
                2,
                "Crisis and contingency plan",
                Some("active"),
                Some("2024-02-12"),
                EntryBody::CarePlan(CarePlan {
                    kind: CarePlanKind::Crisis,
                    description: Some("Early warning signs …".into()),
                    review_date: None,
                    author: None,
                }),
            ),
        ],
        day(2024, 3, 1),
    );
    let flags: Vec<(&str, &str)> = v
        .banner
        .flags
        .iter()
        .map(|f| (f.kind, f.text.as_str()))
        .filter(|(k, _)| *k == "mha" || *k == "crisis-plan")
        .collect();
    assert_eq!(
        flags,
        vec![
            (
                "mha",
                "Mental Health Act: Detained: Section 3 Mental Health Act 1983 (since 10 Feb 2024)"
            ),
            (
                "crisis-plan",
                "Crisis plan of 12 Feb 2024, held by An organisation (A system)"
            ),
        ]
    );
}

#[test]
fn a_crisis_plan_in_the_mental_health_summary_is_named_when_no_plan_was_sent() {
    let v = view(
        vec![entry(
            1,
            "Mental health summary",
            None,
            Some("2024-02-10"),
            EntryBody::MentalHealth(MentalHealth {
                crisis_plan: Some("See crisis and contingency plan of 12/02/2024".into()),
                ..Default::default()
            }),
        )],
        day(2024, 3, 1),
    );
    assert!(v.banner.flags.iter().any(|f| f.kind == "crisis-plan"
        && f.text == "Crisis plan of 10 Feb 2024, held by An organisation (A system)"));
    let none = view(Vec::new(), day(2024, 3, 1));
    assert!(!none.banner.flags.iter().any(|f| f.kind == "crisis-plan"));
}

#[test]
fn regression_the_same_safeguarding_alert_resent_is_one_line() {
    let resent = |id| {
        entry(
            id,
            "Concern raised about self-neglect",
            None,
            Some("2024-02-01"),
            EntryBody::Safeguarding(Safeguarding {
                alert_type: Some("Adult at risk".into()),
                description: Some("Concern raised about self-neglect".into()),
                risk_level: Some("Medium".into()),
                contact: Some("Sam Patel, 01632 960530".into()),
                recorded_by: None,
            }),
        )
    };
    let v = view((1..=12).map(resent).collect(), day(2024, 3, 1));
    assert_eq!(v.banner.alerts.len(), 1, "{:?}", v.banner.alerts);
    let a = &v.banner.alerts[0];
    assert_eq!(a.kind, "safeguarding");
    assert_eq!(a.text, "Adult at risk: Concern raised about self-neglect");
    assert_eq!(a.contact.as_deref(), Some("Sam Patel, 01632 960530"));
}
