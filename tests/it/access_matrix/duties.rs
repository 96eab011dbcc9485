//! The separation-of-duties rows of the matrix: for every role of the shipped policy, giving
//! oneself a role, viewing a real person as another role without and with a reason, and
//! closing an alert about oneself — each answer against what the policy says.

use super::super::server::*;
use super::super::support::*;
use super::{home_csrf, ORG, PERSON_A_NHS};
use sharedcare::access::{Activity, Policy};
use std::fmt::Write as _;

#[test]
fn separation_of_duties_for_every_role() {
    let policy = Policy::shipped().unwrap();
    let env = Env::new();
    env.load_sample_feeds();
    let roles: Vec<String> = policy.roles().map(|r| r.name.clone()).collect();
    for role in &roles {
        add_user_at(&env, role, role, ORG);
    }
    let person = person_with_nhs(&env, PERSON_A_NHS);
    let s = Server::start_in(env);
    let mut rows: Vec<(String, &str, String, String)> = Vec::new();
    let status = |r: reqwest::blocking::Response| r.status().as_u16().to_string();
    for role in &roles {
        let c = s.login(role);
        let csrf = home_csrf(&s, &c);
        let me: i64 = s.env.count(&format!(
            "SELECT id FROM app_user WHERE username = '{role}'"
        ));
        let may = |a: Activity| policy.allows(role, a);
        let gated = |a: Activity, ok: &str| if may(a) { ok.to_owned() } else { "403".into() };

        // Giving oneself a clinical or privacy role: refused on the form (422) for an
        // administrator, by the guard (403) for everyone else; never added.
        for granted in ["gp-clinician", "privacy-officer"] {
            let r = c
                .post(s.url(&format!("/admin/users/{me}/profiles")))
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("role", granted),
                    ("org", ORG),
                    ("team", ""),
                ])
                .send()
                .unwrap();
            rows.push((
                role.clone(),
                "self-grant",
                gated(Activity::ManageUsers, "422"),
                status(r),
            ));
        }
        let held = s.env.count(&format!(
            "SELECT count(*) FROM role_profile WHERE user_id = {me} AND removed_at IS NULL"
        ));
        rows.push((role.clone(), "roles held", "1".into(), held.to_string()));

        // View-as on a real person: a reason is asked for (422); with one, shown with an alert.
        let url = |extra: &str| {
            s.url(&format!(
                "/privacy/view-as?role=gp-clinician&org={ORG}&person={person}{extra}"
            ))
        };
        let r = c.get(url("")).send().unwrap();
        rows.push((
            role.clone(),
            "view-as real, no reason",
            gated(Activity::ViewAsRole, "422"),
            status(r),
        ));
        let r = c
            .get(url("&reason=Checking+the+policy+for+GPs"))
            .send()
            .unwrap();
        rows.push((
            role.clone(),
            "view-as real, reason",
            gated(Activity::ViewAsRole, "200"),
            status(r),
        ));
        let alerts = s.env.count(&format!(
            "SELECT count(*) FROM privacy_alert WHERE kind = 'view-as' AND user_id = {me}"
        ));
        rows.push((
            role.clone(),
            "view-as alerts",
            if may(Activity::ViewAsRole) { "1" } else { "0" }.into(),
            alerts.to_string(),
        ));

        // Closing an alert about oneself (the role grant that created this user, or the
        // view-as just now): refused by the rule (403) or by the guard (403); stays open.
        let own: Vec<i64> = {
            let db = s.env.sql();
            let mut st = db
                // Misuse alerts come from the watch's schedule on the wall clock (night hours),
                // not from what a role may do: not counted here.
                .prepare(
                    "SELECT id FROM privacy_alert WHERE user_id = ?1 AND kind != 'misuse'
                     ORDER BY id",
                )
                .unwrap();
            st.query_map([me], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        let expected_own = if policy.grant_alerts(role) || may(Activity::ViewAsRole) {
            "some"
        } else {
            "none"
        };
        rows.push((
            role.clone(),
            "alerts about self",
            expected_own.into(),
            if own.is_empty() { "none" } else { "some" }.into(),
        ));
        for alert in own {
            let r = c
                .post(s.url(&format!("/privacy/alerts/{alert}/close")))
                .form(&[("csrf", csrf.as_str()), ("note", "all fine, it was me")])
                .send()
                .unwrap();
            rows.push((role.clone(), "close own alert", "403".into(), status(r)));
        }
    }
    let closed = s
        .env
        .count("SELECT count(*) FROM privacy_alert WHERE closed_at IS NOT NULL");
    assert_eq!(closed, 0, "someone closed an alert about themselves");
    let wrong: Vec<_> = rows.iter().filter(|r| r.2 != r.3).collect();
    if !wrong.is_empty() {
        let mut table = format!("{} of {} answers differ:\n", wrong.len(), rows.len());
        for (role, what, expected, actual) in wrong {
            let _ = writeln!(table, "{role:<24} {what:<26} {expected:<6} {actual}");
        }
        panic!("{table}");
    }
}
