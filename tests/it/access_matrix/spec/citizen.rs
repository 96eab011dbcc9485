//! The citizens' pages, asked by staff: the sign-in pages answer anyone (a forged form is
//! refused on the page), every page of a signed-in citizen sends a staff session to the
//! citizens' sign-in (a staff session is no citizen session), and the staff pages of the
//! citizens' side follow the policy.

use super::*;
use crate::it::access_matrix::MISSING_ID;
use sharedcare::access::Activity;

/// Where a staff session asking a citizen's page is sent: the citizens' sign-in.
const TO_CITIZEN_SIGN_IN: &str = "303";

pub(super) fn spec(key: &str) -> Option<Spec> {
    use Activity::*;
    let s = match key {
        "GET /citizen/login" => once(|_| get("/citizen/login".into()), |_| "200".into()),
        "POST /citizen/login" => once(
            |_| {
                forged(
                    "/citizen/login",
                    &[
                        ("username", "nobody"),
                        ("password", "x"),
                        ("code", "123456"),
                    ],
                )
            },
            |_| "200".into(),
        ),
        "GET /citizen/start" => once(|_| get("/citizen/start".into()), |_| "200".into()),
        // No OpenID Connect provider is configured here: the start is not found, and a callback
        // with no sign-in under way is refused on the page.
        "GET /citizen/oidc/start" => once(|_| get("/citizen/oidc/start".into()), |_| "404".into()),
        "GET /citizen/oidc/callback" => {
            once(|_| get("/citizen/oidc/callback".into()), |_| "403".into())
        }
        "POST /citizen/start" => once(
            |_| {
                let pw = "a long enough password";
                forged(
                    "/citizen/start",
                    &[
                        ("code", "ABCD-EFGH-JKMN"),
                        ("username", "nobody"),
                        ("password", pw),
                        ("password2", pw),
                    ],
                )
            },
            |_| "200".into(),
        ),
        "GET /citizen/second-factor" => once(
            |_| get("/citizen/second-factor".into()),
            |_| TO_CITIZEN_SIGN_IN.into(),
        ),
        "POST /citizen/second-factor" => once(
            |c| with_csrf("/citizen/second-factor".into(), c, &[("code", "123456")]),
            |_| TO_CITIZEN_SIGN_IN.into(),
        ),
        "POST /citizen/logout" => once(
            |c| with_csrf("/citizen/logout".into(), c, &[]),
            |_| TO_CITIZEN_SIGN_IN.into(),
        ),
        "GET /citizen" | "GET /citizen/" => {
            once(|_| get("/citizen".into()), |_| TO_CITIZEN_SIGN_IN.into())
        }
        "GET /citizen/record.json" => once(
            |_| get("/citizen/record.json".into()),
            |_| TO_CITIZEN_SIGN_IN.into(),
        ),
        "GET /citizen/looked" => once(
            |_| get("/citizen/looked".into()),
            |_| TO_CITIZEN_SIGN_IN.into(),
        ),
        "GET /citizen/looked.csv" => once(
            |_| get("/citizen/looked.csv".into()),
            |_| TO_CITIZEN_SIGN_IN.into(),
        ),
        "GET /citizen/sharing" => once(
            |_| get("/citizen/sharing".into()),
            |_| TO_CITIZEN_SIGN_IN.into(),
        ),
        "POST /citizen/sharing/object" => once(
            |c| {
                with_csrf(
                    "/citizen/sharing/object".into(),
                    c,
                    &[("understood", "true")],
                )
            },
            |_| TO_CITIZEN_SIGN_IN.into(),
        ),
        "POST /citizen/sharing/withdraw" => once(
            |c| with_csrf("/citizen/sharing/withdraw".into(), c, &[]),
            |_| TO_CITIZEN_SIGN_IN.into(),
        ),
        "GET /citizen/item/<id>/report" => per_person(
            |c| get(format!("/citizen/item/{}/report", c.person.allergy_entry)),
            |_| TO_CITIZEN_SIGN_IN.into(),
        ),
        "POST /citizen/item/<id>/report" => per_person(
            |c| {
                let path = format!("/citizen/item/{}/report", c.person.allergy_entry);
                with_csrf(path, c, &[("text", "This is wrong")])
            },
            |_| TO_CITIZEN_SIGN_IN.into(),
        ),
        "GET /citizen/reports" => once(
            |_| get("/citizen/reports".into()),
            |_| TO_CITIZEN_SIGN_IN.into(),
        ),
        "GET /citizen/people" => once(
            |_| get("/citizen/people".into()),
            |_| TO_CITIZEN_SIGN_IN.into(),
        ),
        "POST /citizen/act-as" => per_person(
            |c| {
                with_csrf(
                    "/citizen/act-as".into(),
                    c,
                    &[("person", &c.person.id.to_string())],
                )
            },
            |_| TO_CITIZEN_SIGN_IN.into(),
        ),
        // Proxy access, recorded by staff (people no one is: nothing is recorded or ended).
        "GET /admin/proxies" => once(
            |_| get("/admin/proxies".into()),
            |c| c.gated(RecordProxies, "200"),
        ),
        "POST /admin/proxies" => once(
            |c| {
                let missing = MISSING_ID.to_string();
                with_csrf(
                    "/admin/proxies".into(),
                    c,
                    &[
                        ("proxy", &missing),
                        ("person", &missing),
                        ("basis", "consent"),
                        ("starts_on", ""),
                        ("ends_on", ""),
                        ("evidence", "signed form"),
                    ],
                )
            },
            |c| c.gated(RecordProxies, "200"),
        ),
        "POST /admin/proxies/<id>/end" => once(
            |c| with_csrf(format!("/admin/proxies/{MISSING_ID}/end"), c, &[]),
            |c| c.gated(RecordProxies, "404"),
        ),
        // Staff: invitations (a person no one is: nothing is issued) and the report queue.
        "GET /admin/citizens" => once(
            |_| get("/admin/citizens".into()),
            |c| c.gated(InviteCitizens, "200"),
        ),
        "POST /admin/citizens" => once(
            |c| {
                with_csrf(
                    "/admin/citizens".into(),
                    c,
                    &[("person", &MISSING_ID.to_string())],
                )
            },
            |c| c.gated(InviteCitizens, "200"),
        ),
        "GET /admin/citizen-reports" => once(
            |_| get("/admin/citizen-reports".into()),
            |c| reports_role(c, "200"),
        ),
        "POST /admin/citizen-reports/<id>" => once(
            |c| {
                let path = format!("/admin/citizen-reports/{MISSING_ID}");
                with_csrf(path, c, &[("note", "checked")])
            },
            |c| reports_role(c, "303"),
        ),
        _ => return None,
    };
    Some(s)
}

/// A form whose CSRF token no form was given.
fn forged(path: &str, fields: &[(&'static str, &str)]) -> (String, Form) {
    let mut form: Form = vec![("csrf", "forged".to_owned())];
    form.extend(fields.iter().map(|(k, v)| (*k, (*v).to_owned())));
    (path.to_owned(), form)
}

/// The role the policy names for citizens' error reports gets `ok`; others 403.
fn reports_role(c: &super::super::case::Case, ok: &str) -> String {
    if c.role == c.policy.citizen.error_reports_role {
        ok.to_owned()
    } else {
        "403".to_owned()
    }
}
