//! The page header links to the citizens' side's staff pages for exactly the roles whose
//! policy lets them use those pages, and each link opens.

use super::*;
use sharedcare::access::{Activity, Policy};

#[test]
fn the_header_links_the_citizen_staff_pages_for_the_roles_that_may_use_them_only() {
    let policy = Policy::shipped().unwrap();
    let env = Env::new();
    env.load_sample_feeds();
    let roles: Vec<String> = policy.roles().map(|r| r.name.clone()).collect();
    for role in &roles {
        add_user(&env, role, role);
    }
    let s = Server::start_in(env);
    let (mut with, mut without) = (0, 0);
    for role in &roles {
        let c = s.login(role);
        let home = page(&s, &c, "/");
        let inbox = page(&s, &c, "/notifications");
        for (href, may) in [
            (
                "/admin/citizens",
                policy.allows(role, Activity::InviteCitizens),
            ),
            (
                "/admin/proxies",
                policy.allows(role, Activity::RecordProxies),
            ),
            (
                "/admin/citizen-reports",
                *role == policy.citizen.error_reports_role,
            ),
        ] {
            let link = format!("href=\"{href}\"");
            for (name, text) in [("home", &home), ("notifications", &inbox)] {
                assert_eq!(
                    text.contains(&link),
                    may,
                    "{role} on {name}: link to {href} shown should be {may}"
                );
            }
            let status = c.get(s.url(href)).send().unwrap().status();
            if may {
                assert_eq!(status, 200, "{role}: the linked {href} opens");
                with += 1;
            } else {
                assert_eq!(status, 403, "{role}: {href} is refused");
                without += 1;
            }
        }
    }
    assert!(
        with >= 3 && without >= 3,
        "both kinds of role: {with} / {without}"
    );
}
