//! Signing in with OpenID Connect against a real provider (`oidc-provider`): the session it
//! gives, the tokens it refuses, the plain pages for NHS numbers that lead to no one record,
//! and the throttle.

use super::provider::*;
use super::*;
use serde_json::json;

fn audit_details(env: &Env, outcome: &str) -> Vec<String> {
    let conn = env.sql();
    let mut st = conn
        .prepare(
            "SELECT coalesce(detail, '') FROM audit.audit_event
             WHERE action = 'citizen-login' AND outcome = ?1 ORDER BY rowid",
        )
        .unwrap();
    st.query_map([outcome], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn a_citizen_signs_in_through_the_provider_and_reaches_only_their_own_record() {
    let log = tempfile::NamedTempFile::new().unwrap();
    let (s, _provider) = start_with_provider(
        json!({"margaret": user(MARGARET, "P9", None)}),
        |_| {},
        Some(log.path()),
    );
    // The client key is the data directory's own, readable by the service's account only.
    let key = s.env.data_dir().join("citizen/oidc-client-key.pem");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let c = s.client();
    let login = page(&s, &c, "/citizen/login");
    assert!(login.contains("Sign in with NHS login"), "{login}");
    assert!(login.contains("href=\"/citizen/oidc/start\""));

    let done = sign_in_at_provider(&s, &c, "margaret");
    assert_eq!(done.status, 200, "{}", done.page);
    assert!(done.page.contains("You are signed in"), "{}", done.page);
    assert!(done.callback.contains("code="), "{}", done.callback);
    let record = page(&s, &c, "/citizen");
    assert!(record.contains("Your health and care record"));
    assert!(record.to_lowercase().contains("thompson"), "{record}");
    assert!(!record.contains("Ravi"), "nobody else's record");
    let bundle: serde_json::Value = c
        .get(s.url("/citizen/record.json"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(bundle["resourceType"], "Bundle");

    // A citizen session from the provider is no staff session.
    let margaret = person_with_nhs(&s.env, MARGARET);
    for staff in [
        format!("/person/{margaret}"),
        "/".to_owned(),
        "/admin/users".to_owned(),
        format!("/fhir/Patient/{margaret}"),
        "/citizens".to_owned(),
    ] {
        let r = c.get(s.url(&staff)).send().unwrap();
        assert_ne!(r.status(), 200, "{staff} answered a citizen");
        assert!(
            !r.text().unwrap().to_lowercase().contains("thompson"),
            "{staff}"
        );
    }

    // Audited like the other sign-ins, with the method; one account, one session.
    assert_eq!(audit_details(&s.env, "ok"), vec!["OpenID Connect"]);
    assert_eq!(s.env.count("SELECT count(*) FROM citizen_account"), 1);
    // The account the sign-in made holds its second-factor secret sealed, like every other.
    assert_eq!(
        s.env.count(
            "SELECT count(*) FROM citizen_account WHERE substr(totp_secret, 1, 8) = 'sealed1:'"
        ),
        1,
        "regression: the provider's account kept its secret in plain text"
    );
    assert_eq!(
        s.env.count(
            "SELECT count(*) FROM citizen_session WHERE ended_at IS NULL AND stage = 'full'"
        ),
        1
    );

    // Signing in again reuses the person's account.
    let again = s.client();
    assert_eq!(sign_in_at_provider(&s, &again, "margaret").status, 200);
    assert!(has_session(&s, &again));
    assert_eq!(s.env.count("SELECT count(*) FROM citizen_account"), 1);

    // Neither the code, nor the NHS number, nor a token reaches the log.
    let code = done
        .callback
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("code="))
        .unwrap()
        .to_owned();
    let logged = std::fs::read_to_string(log.path()).unwrap();
    assert!(!logged.is_empty());
    assert!(!logged.contains(&code), "the code is in the log");
    assert!(!logged.contains(MARGARET), "the NHS number is in the log");
    assert!(!logged.contains("eyJ"), "a token is in the log");
}

#[test]
fn tokens_that_fail_a_check_and_replayed_callbacks_are_refused_with_no_session() {
    let (s, _provider) = start_with_provider(
        json!({
            "margaret": user(MARGARET, "P9", None),
            "low": user(MARGARET, "P5", None),
            "forged": user(MARGARET, "P9", Some("signature")),
            "elsewhere": user(MARGARET, "P9", Some("audience")),
            "stale": user(MARGARET, "P9", Some("expired")),
        }),
        |_| {},
        None,
    );
    for (login, status, says) in [
        ("low", 200, "proved who you are to the highest level (P9)"),
        ("forged", 403, "You have not been signed in"),
        ("elsewhere", 403, "You have not been signed in"),
        ("stale", 403, "You have not been signed in"),
    ] {
        let c = s.client();
        let done = sign_in_at_provider(&s, &c, login);
        assert_eq!(done.status, status, "{login}: {}", done.page);
        assert!(done.page.contains(says), "{login}: {}", done.page);
        assert!(!has_session(&s, &c), "{login} got a session");
    }
    let denied = audit_details(&s.env, "denied");
    for reason in [
        "OpenID Connect: identity proofing level below the required one",
        "OpenID Connect: ID token refused: bad signature",
        "OpenID Connect: ID token refused: wrong audience",
        "OpenID Connect: ID token refused: expired",
    ] {
        assert!(denied.iter().any(|d| d == reason), "{reason} in {denied:?}");
    }

    // The callback (its code, state and nonce) works once.
    let c = s.client();
    let done = sign_in_at_provider(&s, &c, "margaret");
    assert_eq!(done.status, 200, "{}", done.page);
    let thief = s.client();
    for replay in [&c, &thief] {
        let r = replay.get(&done.callback).send().unwrap();
        assert_eq!(r.status(), 403);
        assert!(r.text().unwrap().contains("used already or is too old"));
    }
    assert!(!has_session(&s, &thief));
    assert_eq!(
        s.env
            .count("SELECT count(*) FROM citizen_session WHERE ended_at IS NULL"),
        1,
        "only the one good sign-in made a session"
    );
    assert!(audit_details(&s.env, "denied")
        .iter()
        .any(|d| d == "OpenID Connect: unknown, used or expired state"));
}

/// NHS login puts the proofing level (and the NHS number) in the ID token itself: read from
/// there, the user-info endpoint is not needed (the provider's is off here).
#[test]
fn claims_in_the_id_token_itself_are_read_from_it() {
    let (s, _provider) = start_with_provider_claims(
        json!({
            "margaret": user(MARGARET, "P9", None),
            "low": user(MARGARET, "P5", None),
        }),
        |_| {},
        None,
        true,
    );
    let c = s.client();
    let done = sign_in_at_provider(&s, &c, "margaret");
    assert_eq!(done.status, 200, "{}", done.page);
    assert!(has_session(&s, &c));
    let low = s.client();
    let done = sign_in_at_provider(&s, &low, "low");
    assert!(done.page.contains("You need to prove who you are first"));
    assert!(!has_session(&s, &low));
}

/// RFC 9207: an answer that names another issuer (a mix-up) is refused, and spends the sign-in.
#[test]
fn an_answer_naming_another_issuer_is_refused_and_spends_the_sign_in() {
    let (s, _provider) = start_with_provider(
        json!({"margaret": user(MARGARET, "P9", None)}),
        |_| {},
        None,
    );
    let c = s.client();
    let callback = callback_from_provider(&s, &c, "margaret");
    let (before, after) = callback.split_once("iss=").unwrap();
    let rest = after
        .split_once('&')
        .map_or(String::new(), |(_, r)| format!("&{r}"));
    let mixed_up = format!("{before}iss=https%3A%2F%2Fevil.example{rest}");
    let r = c.get(&mixed_up).send().unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().unwrap().contains("You have not been signed in"));
    assert_eq!(c.get(&callback).send().unwrap().status(), 403);
    assert!(!has_session(&s, &c));
    assert!(audit_details(&s.env, "denied")
        .iter()
        .any(|d| d == "OpenID Connect: the answer came from another issuer"));
}

/// Two people by HL7: one whose record is merged into another's (so their NHS number's person
/// is merged away), and a FHIR Patient whose NHS number the source says is not verified.
fn prepare_people(env: &Env, merged: &str, survivor: &str, unverified: &str) {
    env.add_source("OIDC-PAS", "acute", "hl7v2");
    let feed = [
        a08("M1", "20240101090000", "MRN-OLD", merged, "Okafor", "Ada", "19700101"),
        a08("M2", "20240102090000", "MRN-NEW", survivor, "Okafor", "Adaeze", "19710202"),
        format!(
            "MSH|^~\\&|PAS|RWF|SC|REG|20240103090000||ADT^A40|M3|P|2.4\rEVN|A40|20240103090000\r\
             PID|1||MRN-NEW^^^RWF^MR~{survivor}^^^NHS^NH||Okafor^Adaeze||19710202|F\rMRG|MRN-OLD^^^RWF^MR\r"
        ),
    ]
    .concat();
    let r = env.import("OIDC-PAS", &env.write("merge.hl7", feed));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    env.add_source("OIDC-FHIR", "community", "fhir");
    let patient = json!({"resourceType": "Bundle", "type": "collection", "entry": [{
        "fullUrl": "urn:uuid:u-1",
        "resource": {"resourceType": "Patient", "id": "u-1",
            "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": unverified,
                "extension": [{"url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus",
                    "valueCodeableConcept": {"coding": [{"system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland", "code": "02"}]}}]}],
            "name": [{"family": "Nowak", "given": ["Piotr"]}],
            "gender": "male", "birthDate": "1980-05-05"}}]});
    let r = env.import("OIDC-FHIR", &env.write("u.json", patient.to_string()));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}

#[test]
fn nhs_numbers_that_lead_to_no_one_record_get_plain_pages_not_errors() {
    let (merged, survivor, unverified, unknown) = (
        nhs_number(7101),
        nhs_number(7102),
        nhs_number(7103),
        nhs_number(7104),
    );
    let (s, _provider) = start_with_provider(
        json!({
            "merged": user(&merged, "P9", None),
            "survivor": user(&survivor, "P9", None),
            "unverified": user(&unverified, "P9", None),
            "unknown": user(&unknown, "P9", None),
        }),
        |env| prepare_people(env, &merged, &survivor, &unverified),
        None,
    );
    assert_eq!(
        s.env.count(&format!(
            "SELECT count(*) FROM source_person sp JOIN person p ON p.id = sp.person_id
             WHERE sp.nhs_number = '{merged}' AND p.nhs_number = '{survivor}'"
        )),
        1,
        "the merged-away record's number now leads into the survivor's record"
    );
    for (login, heading) in [
        ("merged", "Your record has moved"),
        ("unverified", "We cannot show your record yet"),
        ("unknown", "We have no record for you"),
    ] {
        let c = s.client();
        let done = sign_in_at_provider(&s, &c, login);
        assert_eq!(done.status, 200, "{login}: {}", done.page);
        assert!(done.page.contains(heading), "{login}: {}", done.page);
        assert!(done.page.contains("GP practice"), "{login}: {}", done.page);
        assert!(!has_session(&s, &c), "{login} got a session");
    }
    let denied = audit_details(&s.env, "denied");
    for reason in [
        "OpenID Connect: the record with the NHS number was merged into another",
        "OpenID Connect: the NHS number is not verified in the record",
        "OpenID Connect: no record with the NHS number",
    ] {
        assert!(denied.iter().any(|d| d == reason), "{reason} in {denied:?}");
    }
    // The surviving person signs in to their own record.
    let c = s.client();
    let done = sign_in_at_provider(&s, &c, "survivor");
    assert_eq!(done.status, 200, "{}", done.page);
    let record = page(&s, &c, "/citizen").to_lowercase();
    assert!(record.contains("okafor"), "{record}");
}

#[test]
fn failed_callbacks_are_throttled_per_address_and_the_button_shows_only_when_configured() {
    let s = Server::start();
    let c = s.client();
    let login = page(&s, &c, "/citizen/login");
    assert!(
        !login.contains("/citizen/oidc/start"),
        "no button without a provider"
    );
    assert_eq!(
        c.get(s.url("/citizen/oidc/start")).send().unwrap().status(),
        404
    );
    let mut statuses = Vec::new();
    for i in 0..8 {
        let r = c
            .get(s.url(&format!("/citizen/oidc/callback?state=guess{i}&code=x")))
            .send()
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(&statuses[..5], &[403; 5], "{statuses:?}");
    assert_eq!(statuses[5], 429, "then the address waits: {statuses:?}");
}
