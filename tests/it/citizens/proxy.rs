//! Proxy access: staff record that one person acts for another; the proxy switches between
//! their own record and the other's, sees no one else's, and loses it the moment it ends. The
//! person acted for sees the proxy's looks and the staff's recording on "who has looked".

use super::*;

/// John Smith of the sample feeds, for whom Margaret will act.
const JOHN: &str = OTHER;

fn record_proxy(s: &Server, staff: &Client, proxy: &str, person: &str, basis: &str) -> String {
    let form = staff
        .get(s.url("/admin/proxies"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let csrf = hidden(&form, "csrf");
    staff
        .post(s.url("/admin/proxies"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("proxy", proxy),
            ("person", person),
            ("basis", basis),
            ("starts_on", ""),
            ("ends_on", ""),
            ("evidence", "Lasting power of attorney registration seen"),
        ])
        .send()
        .unwrap()
        .text()
        .unwrap()
}

fn act_as(s: &Server, c: &Client, person: i64) -> u16 {
    let people = page(s, c, "/citizen/people");
    let csrf = hidden(&people, "csrf");
    c.post(s.url("/citizen/act-as"))
        .form(&[("csrf", csrf.as_str()), ("person", &person.to_string())])
        .send()
        .unwrap()
        .status()
        .as_u16()
}

#[test]
fn a_proxy_switches_to_the_person_they_act_for_and_loses_it_when_it_ends() {
    let s = Server::start();
    let john = person_with_nhs(&s.env, JOHN);
    let (margaret, _) = sign_up(&s, MARGARET, "margaret");
    // Before any relationship, John is out of reach (the same answer as for no one).
    assert_eq!(act_as(&s, &margaret, john), 404);
    assert_eq!(act_as(&s, &margaret, 987_654_321), 404);
    // A clinician may not record proxies; the administrator may.
    assert_eq!(
        s.login("clin")
            .get(s.url("/admin/proxies"))
            .send()
            .unwrap()
            .status(),
        403
    );
    let it = s.login("it");
    let done = record_proxy(&s, &it, MARGARET, JOHN, "lpa-health-welfare");
    assert!(done.contains("Recorded (relationship"), "{done}");

    let people = page(&s, &margaret, "/citizen/people");
    assert!(
        people.contains("Lasting power of attorney for health and welfare"),
        "{people}"
    );
    assert_eq!(act_as(&s, &margaret, john), 303);
    let record = page(&s, &margaret, "/citizen");
    assert!(record.contains("acting for them"), "{record}");
    assert!(record.contains("SMITH"), "{record}");
    let download: serde_json::Value = margaret
        .get(s.url("/citizen/record.json"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let patient = &download["entry"][0]["resource"];
    assert_eq!(
        patient["identifier"][0]["value"], JOHN,
        "the download is John's"
    );
    // The look is John's to see: by a proxy, not by John himself.
    let john_events = s.env.count(&format!(
        "SELECT count(*) FROM audit.audit_event WHERE action = 'citizen-view' AND person_id = {john} \
         AND detail LIKE '%as proxy%'"
    ));
    assert!(john_events >= 2, "{john_events}");
    let (john_citizen, _) = sign_up(&s, JOHN, "john");
    let looked = page(&s, &john_citizen, "/citizen/looked");
    assert!(
        looked.contains("Someone who acts for you (proxy)"),
        "{looked}"
    );
    assert!(
        looked.contains("Recorded that someone may act for you"),
        "{looked}"
    );

    // Back to her own record.
    assert_eq!(act_as(&s, &margaret, 0), 303);
    assert!(page(&s, &margaret, "/citizen").contains("THOMPSON"));
    assert_eq!(act_as(&s, &margaret, john), 303);

    // Staff end it: her very next request is her own record again.
    let list = it
        .get(s.url("/admin/proxies"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let csrf = hidden(&list, "csrf");
    let id: i64 = s.env.count("SELECT id FROM citizen_proxy");
    let r = it
        .post(s.url(&format!("/admin/proxies/{id}/end")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .unwrap();
    assert_eq!(r.status(), 303);
    let record = page(&s, &margaret, "/citizen");
    assert!(
        !record.contains("acting for them") && record.contains("THOMPSON"),
        "{record}"
    );
    assert_eq!(act_as(&s, &margaret, john), 404);
    assert_eq!(
        s.env.count(
            "SELECT count(*) FROM audit.audit_event WHERE action IN ('proxy-record', 'proxy-end')"
        ),
        2
    );
}

#[test]
fn a_parents_access_to_a_childs_record_is_cut_at_the_13th_birthday_unless_renewed() {
    let s = Server::start();
    // Margaret (born 1938) stands in as the "child": her 13th birthday is long past, so a
    // parental-responsibility relationship without renewal would end before it starts.
    let it = s.login("it");
    let refused = record_proxy(&s, &it, JOHN, MARGARET, "parental-responsibility");
    assert!(refused.contains("Not recorded"), "{refused}");
    assert!(refused.contains("13"), "{refused}");
    assert_eq!(s.env.count("SELECT count(*) FROM citizen_proxy"), 0);
    // Renewed on purpose, with an end date, it stands.
    let form = it
        .get(s.url("/admin/proxies"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let csrf = hidden(&form, "csrf");
    let done = it
        .post(s.url("/admin/proxies"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("proxy", JOHN),
            ("person", MARGARET),
            ("basis", "parental-responsibility"),
            ("starts_on", ""),
            ("ends_on", "2099-01-01"),
            ("evidence", "Court order seen"),
            ("renew", "true"),
        ])
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(done.contains("until 2099-01-01"), "{done}");
}
