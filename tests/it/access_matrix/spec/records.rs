//! Public pages, finding people, reading records, and what a user without a relationship may
//! do about it.

use super::*;
use sharedcare::access::Activity;

/// The policy of the public, search and record routes.
pub(super) fn spec(key: &str) -> Option<Spec> {
    use Activity::*;
    let s = match key {
        // Public.
        "GET /login" => once(|_| get("/login".into()), |_| "200".into()),
        "POST /login" => once(
            |_| {
                let form = [
                    ("username", "nobody"),
                    ("password", "x"),
                    ("csrf", "forged"),
                ];
                ("/login".into(), form.map(|(k, v)| (k, v.to_owned())).into())
            },
            |_| "200".into(),
        ),
        "GET /static/<path..>" => once(|_| get("/static/app.css".into()), |_| "200".into()),
        "GET /fhir/metadata" => once(|_| get("/fhir/metadata".into()), |_| "200".into()),
        // Health and readiness: anyone, no data.
        "GET /healthz" => once(|_| get("/healthz".into()), |_| "200".into()),
        "GET /readyz" => once(|_| get("/readyz".into()), |_| "200".into()),
        // Any signed-in user; nothing posted here changes anything.
        "GET /" => once(|_| get("/".into()), |_| "200".into()),
        "POST /logout" => once(
            |_| ("/logout".into(), vec![("csrf", "forged".into())]),
            |_| "403".into(),
        ),
        // A profile that is not the user's: refused with the real token too.
        "POST /profile" => once(
            |c| with_csrf("/profile".into(), c, &[("profile", "987654321")]),
            |_| "403".into(),
        ),
        // Finding people and reading records.
        "GET /search" => Spec {
            read: Read::SearchRows,
            ..per_person(
                |c| get(format!("/search?q={}", c.person.nhs)),
                |c| {
                    if c.may(Search) {
                        format!("200 {}", c.hit())
                    } else {
                        "403".into()
                    }
                },
            )
        },
        "GET /person/<id>" => per_person(
            |c| get(format!("/person/{}", c.person.id)),
            |c| c.record_page("200"),
        ),
        "GET /person/<id>/timeline" => per_person(
            |c| get(format!("/person/{}/timeline", c.person.id)),
            |c| c.record_page("200"),
        ),
        "GET /person/<id>/results" => per_person(
            |c| get(format!("/person/{}/results", c.person.id)),
            |c| c.record_page("200"),
        ),
        "GET /person/<id>/results/chart.svg" => per_person(
            |c| {
                get(format!(
                    "/person/{}/results/chart.svg?test=no-such-test",
                    c.person.id
                ))
            },
            // An open record has no such test.
            |c| c.record_page("404"),
        ),
        "POST /person/<id>/sensitive" => per_person(
            |c| {
                let path = format!("/person/{}/sensitive", c.person.id);
                with_csrf(path, c, &[("reason", "Checking for drug interactions")])
            },
            |c| {
                if c.may(ViewSensitive) {
                    c.record_page("200")
                } else {
                    "403".into()
                }
            },
        ),
        "POST /person/<id>/claim" => Spec {
            changes: true,
            ..per_person(|c| claim_form(c, "claim"), |c| c.claim(SelfClaim))
        },
        "POST /person/<id>/break-glass" => Spec {
            changes: true,
            ..per_person(|c| claim_form(c, "break-glass"), |c| c.claim(BreakGlass))
        },
        // Ending one's own broken glass: back to the record, alike whether or not anyone has
        // the id.
        "POST /person/<id>/break-glass/end" => Spec {
            changes: true,
            ..per_person(
                |c| with_csrf(format!("/person/{}/break-glass/end", c.person.id), c, &[]),
                |c| {
                    if c.may(Search) {
                        "303".into()
                    } else {
                        "403".into()
                    }
                },
            )
        },
        _ => return None,
    };
    Some(s)
}
