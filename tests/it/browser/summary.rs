//! The record's first screen in Chromium, at a phone's 390×844 and a desktop's 1366×900: for a
//! record with every category, the banner's flags, the advance directives, the allergies and
//! the current medications are all inside the first screen, before any scrolling. And the
//! hidden-field test: no page in the set shows one of the record's internal keys where a label
//! exists.

use super::super::server::Server;
use super::{driver, find, sign_in_as, wait_for, Driver};
use fantoccini::Client;
use serde_json::{json, Value};

/// Margaret's NHS number (sample feeds, person 1).
const MARGARET: &str = "9994837567";

/// Screen sizes: a phone (iPhone 12–15 class) and a common laptop.
const SIZES: [(u32, u32); 2] = [(390, 844), (1366, 900)];

/// What must be on the first screen, by CSS selector.
const FIRST_SCREEN: &[(&str, &str)] = &[
    ("#banner .flags", "the banner flags"),
    ("#summary-directives", "the advance directives"),
    ("#summary-allergies", "the allergies"),
    (
        "#summary-medications li.med",
        "the first current medication",
    ),
];

/// Internal keys of the record: category keys, enum names, field keys and status codes. None
/// may show on a page as text: each has a label in words.
const INTERNAL_KEYS: &[&str] = &[
    "advance-directive",
    "condition-flag",
    "care-plan",
    "next-of-kin",
    "care-network",
    "social-care",
    "dnacpr",
    "lpa-health-welfare",
    "lpa-property-finance",
    "adrt",
    "aand-e",
    "mental-health-unit",
    "package-of-care",
    "child-protection-plan",
    "legal-status",
    "allergy_type",
    "abnormal_flag",
    "reference_range",
    "responsible_person",
    "review_date",
    "document_location",
    "alert_type",
    "risk_level",
    "clinical_status",
    "verification_status",
    "discharge_destination",
    "care_coordinator",
    "coordinator_contact",
    "crisis_plan",
    "cpa_level",
    "named_worker",
    "worker_contact",
    "hours_per_week",
    "to_service",
    "to_organisation",
    "from_organisation",
    "is_carer",
    "dose_number",
    "body_site",
    "entered-in-error",
    "on-hold",
    "Kind:",
];

#[test]
fn first_screen_holds_flags_directives_allergies_and_medications_at_phone_and_desktop_sizes() {
    if driver::skipped() {
        return;
    }
    let driver = Driver::start();
    let s = Server::start();
    give_margaret_every_category(&s);
    let margaret = super::super::server::person_with_nhs(&s.env, MARGARET);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = driver.session().await;
        sign_in_as(&c, &s, "clin").await;
        for (w, h) in SIZES {
            resize(&c, w, h).await;
            c.goto(&s.url(&format!("/person/{margaret}")))
                .await
                .unwrap();
            wait_for(&c, "#summary").await;
            let inner = js_f64(&c, "return window.innerHeight;").await;
            for (css, what) in FIRST_SCREEN {
                find(&c, css).await;
                let bottom = js_f64(
                    &c,
                    &format!(
                        "window.scrollTo(0, 0); const r = document.querySelector('{css}')\
                         .getBoundingClientRect(); return r.bottom + window.scrollY;"
                    ),
                )
                .await;
                assert!(
                    bottom <= inner,
                    "at {w}×{h}, {what} ({css}) ends at {bottom} px, below the first screen \
                     ({inner} px); the page from the top: {}",
                    layout(&c).await
                );
            }
            super::axe::assert_accessible(&c, &format!("record at {w}×{h}")).await;
            // Every "show all" opened, the summary and the full record still fit the width.
            c.execute(
                "document.querySelectorAll('details').forEach(d => d.open = true);",
                vec![],
            )
            .await
            .unwrap();
            let wide = js_f64(&c, "return document.documentElement.scrollWidth;").await;
            assert!(
                wide <= f64::from(w),
                "at {w}×{h}, the record is {wide} px wide: it scrolls sideways"
            );
            let text = body_text(&c).await;
            for expected in [
                "DNACPR",
                "ReSPECT",
                "Penicillin",
                "Sertraline",
                "Doses differ between sources",
                "Who to call",
                "Susan",
            ] {
                assert!(
                    text.contains(expected),
                    "at {w}×{h}, the record does not say {expected:?}"
                );
            }
        }
        c.close().await.unwrap();
    });
}

#[test]
fn hidden_field_test_no_page_shows_an_internal_key_where_a_label_exists() {
    if driver::skipped() {
        return;
    }
    let driver = Driver::start();
    let s = Server::start();
    give_margaret_every_category(&s);
    let nhs = |n: &str| super::super::server::person_with_nhs(&s.env, n);
    let margaret = nhs(MARGARET);
    let daniel = nhs("9997661001");
    // John (mental health, COVID-19 positive), Robert (died; LPA), Tyler and Chloe
    // (looked after; child protection).
    let people = [
        margaret,
        nhs("9998934850"),
        nhs("9991256555"),
        nhs("9998137284"),
        nhs("9993605670"),
    ];
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = driver.session().await;
        let mut pages = vec![
            ("clin", "/".to_owned()),
            ("clin", "/search?q=Margaret+Thompson".to_owned()),
            // Daniel's practice is not the clinician's: the no-access page.
            ("clin", format!("/person/{daniel}")),
        ];
        for person in people {
            for tab in ["", "/timeline", "/results"] {
                pages.push(("clin", format!("/person/{person}{tab}")));
            }
        }
        pages.extend([
            ("it", "/admin/feeds".to_owned()),
            ("it", "/admin/users".to_owned()),
            ("po", "/privacy/alerts".to_owned()),
            ("po", format!("/privacy/person?person={margaret}")),
        ]);
        let mut signed_in = "";
        for (user, page) in pages {
            if user != signed_in {
                c.delete_all_cookies().await.unwrap();
                sign_in_as(&c, &s, user).await;
                signed_in = user;
            }
            c.goto(&s.url(&page)).await.unwrap();
            wait_for(&c, "main").await;
            // Open every "show all", so that what it hides is read too.
            c.execute(
                "document.querySelectorAll('details').forEach(d => d.open = true);",
                vec![],
            )
            .await
            .unwrap();
            let text = body_text(&c).await;
            let shown = keys_in(&text);
            assert!(
                shown.is_empty(),
                "{page} shows internal keys {shown:?} where a label exists"
            );
        }
        c.close().await.unwrap();
    });
}

/// The internal keys found as whole words in `text`.
fn keys_in(text: &str) -> Vec<&'static str> {
    INTERNAL_KEYS
        .iter()
        .copied()
        .filter(|key| {
            text.match_indices(key).any(|(at, _)| {
                let before = text[..at].chars().next_back();
                let after = text[at + key.len()..].chars().next();
                let part_of_word = |c: Option<char>| {
                    c.is_some_and(|c| c.is_alphanumeric() || c == '-' || c == '_')
                };
                !part_of_word(before) && (key.ends_with(':') || !part_of_word(after))
            })
        })
        .collect()
}

#[test]
fn the_hidden_field_check_finds_keys_as_words_only() {
    assert_eq!(keys_in("Kind: dnacpr"), ["dnacpr", "Kind:"]);
    assert!(keys_in("DNACPR (do not attempt CPR)").is_empty());
    assert_eq!(keys_in("status entered-in-error"), ["entered-in-error"]);
    assert!(keys_in("Ward 5, bed_4").is_empty());
    assert_eq!(keys_in("care_coordinator: Sam"), ["care_coordinator"]);
}

/// Makes the page's viewport (not the window) `w`×`h`. The window's frame is measured and
/// added; a headless browser applies a new size a moment later, so the size is looked at
/// again until it holds (regression: a run once saw the old height straight after the call).
async fn resize(c: &Client, w: u32, h: u32) {
    let (w, h) = (i64::from(w), i64::from(h));
    let (mut window_w, mut window_h) = (w, h);
    let mut seen = (0, 0);
    for _ in 0..20 {
        c.set_window_size(window_w as u32, window_h as u32)
            .await
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let iw = js_f64(c, "return window.innerWidth;").await as i64;
        let ih = js_f64(c, "return window.innerHeight;").await as i64;
        seen = (iw, ih);
        if seen == (w, h) {
            return;
        }
        window_w += w - iw;
        window_h += h - ih;
    }
    assert_eq!(seen, (w, h), "the viewport did not resize");
}

/// Where the first blocks of the record page lie, for a failure message.
async fn layout(c: &Client) -> String {
    let script = "return ['header.top', '.record-nav', '#banner', '#banner h1', '#banner .flags', \
        'dl.demographics', '.notice', '#summary-alerts', '#summary-directives', \
        '#summary-allergies', '#summary-medications', '#summary-contacts', '#banner .flags li'].map(css => { \
        const e = document.querySelector(css); if (!e) return css + ' none'; \
        const r = e.getBoundingClientRect(); \
        return css + ' ' + e.innerText.slice(0, 80) + ' ' + Math.round(r.top + window.scrollY) + '–' + Math.round(r.bottom + window.scrollY); \
        }).join('; ');";
    c.execute(script, vec![])
        .await
        .unwrap()
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn js_f64(c: &Client, script: &str) -> f64 {
    c.execute(script, vec![])
        .await
        .unwrap()
        .as_f64()
        .unwrap_or_else(|| panic!("{script} did not return a number"))
}

async fn body_text(c: &Client) -> String {
    c.execute("return document.body.innerText;", vec![])
        .await
        .unwrap()
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Adds to Margaret's GP record what the sample feeds lack for her: a ReSPECT form with a
/// review date, a safeguarding alert with who to call, a care plan, a mental-health team,
/// and twenty medicines (sertraline also from the hospital at another dose), so that every
/// category has something and the medicines alone would fill a screen.
fn give_margaret_every_category(s: &Server) {
    let sample: Value = serde_json::from_str(
        &std::fs::read_to_string(
            super::super::support::repo().join("sample-feeds/gp/01-orchard-surgery-20240301.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let patient = sample["entry"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["resource"]["id"] == "os-1001")
        .unwrap()
        .clone();
    let base = "https://fhir.orchard-surgery.example";
    let subject = json!({"reference": "Patient/os-1001"});
    let mut entries = vec![patient];
    let mut add = |kind: &str, id: &str, resource: Value| {
        let mut r = resource;
        r["resourceType"] = json!(kind);
        r["id"] = json!(id);
        entries.push(json!({"fullUrl": format!("{base}/{kind}/{id}"), "resource": r}));
    };
    add(
        "Consent",
        "t-respect",
        json!({"status": "active", "patient": subject,
            "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "adr"}]},
            "category": [{"text": "ReSPECT form"}], "dateTime": "2024-02-20",
            "performer": [{"display": "Dr Anna Foster"}]}),
    );
    add(
        "Flag",
        "t-flag",
        json!({"status": "active", "subject": subject,
            "category": [{"text": "Safeguarding", "coding": [{"code": "safeguarding"}]}],
            "code": {"text": "Adult at risk: financial abuse. Contact Westshire Adult Safeguarding 01632 960400"},
            "period": {"start": "2024-02-01"}}),
    );
    add(
        "CarePlan",
        "t-cp",
        json!({"status": "active", "intent": "plan", "subject": subject,
            "category": [{"text": "Anticipatory care plan"}], "title": "Anticipatory care plan",
            "description": "Falls plan: call 111 first.", "period": {"start": "2024-02-21"}}),
    );
    let medicines = [
        "Amlodipine 5mg tablets",
        "Atorvastatin 20mg tablets",
        "Bisoprolol 2.5mg tablets",
        "Ramipril 5mg capsules",
        "Furosemide 40mg tablets",
        "Omeprazole 20mg capsules",
        "Levothyroxine 50micrograms tablets",
        "Colecalciferol 800unit capsules",
        "Calcium carbonate 1.5g chewable tablets",
        "Donepezil 5mg tablets",
        "Mirtazapine 15mg tablets",
        "Gabapentin 300mg capsules",
        "Tamsulosin 400micrograms capsules",
        "Apixaban 2.5mg tablets",
        "Senna 7.5mg tablets",
        "Lactulose oral solution",
        "Docusate 100mg capsules",
    ];
    for (k, m) in medicines.iter().enumerate() {
        add(
            "MedicationStatement",
            &format!("t-ms-{k}"),
            json!({"status": "active", "subject": subject, "medicationCodeableConcept": {"text": m},
                "effectivePeriod": {"start": format!("2024-01-{:02}", k + 1)},
                "dosage": [{"text": "One daily"}]}),
        );
    }
    for (k, start) in ["2023-11-01", "2023-12-01", "2024-01-01"]
        .iter()
        .enumerate()
    {
        add(
            "MedicationStatement",
            &format!("t-sertraline-{k}"),
            json!({"status": "active", "subject": subject,
                "medicationCodeableConcept": {"text": "Sertraline 50mg tablets"},
                "effectivePeriod": {"start": start}, "dosage": [{"text": "50mg once a day"}]}),
        );
    }
    let bundle = json!({"resourceType": "Bundle", "type": "collection", "entry": entries});
    let file = s.env.write("margaret-more.json", bundle.to_string());
    s.env
        .ok(&["import", "--source", "ORCHARD-GP", file.to_str().unwrap()]);
    // The mental-health trust's sertraline, at another dose, and its care coordinator.
    let header = std::fs::read_to_string(
        super::super::support::repo().join("sample-feeds/mental-health/01-mh-summary-20240225.csv"),
    )
    .unwrap()
    .lines()
    .next()
    .unwrap()
    .to_owned();
    let who = "RIO50001,9994837567,Thompson,Margaret Ellen,14/03/1938,F,WX1 4AB";
    let csv = format!(
        "{header}\n\
         SUMMARY,{who},S9,10/01/2024,,Older Adults Mental Health Team,Sam Patel (care coordinator),01632 960470,,,,,,,,,,26/02/2024 02:00\n\
         MEDICATION,{who},M9,15/01/2024,,,,,,,,,Dr Ruth Okoye,Sertraline,100mg,once a day,,26/02/2024 02:00\n"
    );
    let file = s.env.write("margaret-mh.csv", csv);
    s.env
        .ok(&["import", "--source", "WMHP-EPR", file.to_str().unwrap()]);
}
