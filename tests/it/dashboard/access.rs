//! Who may see the population dashboard: the analyst's role, and no one else; and what it
//! says before the first recompute.

use super::super::server::{add_user, Server};

#[test]
fn only_the_analyst_role_sees_the_population_figures_and_downloads() {
    let s = Server::start();
    add_user(&s.env, "ana", "analyst");
    s.env.ok(&["population", "refresh"]);
    let ana = s.login("ana");
    let page = ana.get(s.url("/dashboard/covid-positive")).send().unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().unwrap();
    assert!(
        page.contains("COVID-19 tested positive") && page.contains("<svg"),
        "{page}"
    );
    for file in [
        "trend.csv",
        "areas.csv",
        "areas-current.csv",
        "age-sex.csv",
        "ethnicity.csv",
    ] {
        let url = s.url(&format!("/dashboard/covid-positive/{file}"));
        let csv = ana.get(url).send().unwrap();
        assert_eq!(csv.status(), 200, "{file}");
        let kind = csv.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(kind.starts_with("text/csv"), "{kind}");
        let text = csv.text().unwrap();
        assert!(text.lines().count() > 1, "{file}: {text}");
    }
    assert_eq!(
        ana.get(s.url("/dashboard/no-such-condition"))
            .send()
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        ana.get(s.url("/dashboard/covid-positive/secret.csv"))
            .send()
            .unwrap()
            .status(),
        404
    );
    for user in ["clin", "sw", "it", "po"] {
        let c = s.login(user);
        for path in [
            "/dashboard/covid-positive",
            "/dashboard/covid-positive/areas.csv",
        ] {
            assert_eq!(
                c.get(s.url(path)).send().unwrap().status(),
                403,
                "{user} {path}"
            );
        }
    }
    let anonymous = s
        .client()
        .get(s.url("/dashboard/covid-positive/areas.csv"))
        .send()
        .unwrap();
    assert_ne!(anonymous.status(), 200);
    // The view and the downloads are in the audit trail, about no person.
    assert_eq!(
        s.env.count("SELECT count(*) FROM audit_event WHERE action IN ('dashboard-view', 'dashboard-download') AND person_id IS NULL AND detail LIKE 'dashboard covid-positive%'"),
        6,
        "one view and five downloads"
    );
}

#[test]
fn before_the_first_recompute_the_page_says_so() {
    let s = Server::start();
    add_user(&s.env, "ana", "analyst");
    let ana = s.login("ana");
    let page = ana
        .get(s.url("/dashboard/diabetes"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(page.contains("not yet computed"), "{page}");
}
