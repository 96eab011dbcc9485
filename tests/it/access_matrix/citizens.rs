//! The access matrix, asked by residents: a signed-in citizen and a signed-in proxy (acting for
//! another person) ask every route the server answers (`sharedcare::web::routes()`), with every
//! person id there is in every parameter.
//!
//! - A staff route (every route outside `/citizen` that is not public) sends them to the staff
//!   sign-in (303 to `/login`); the FHIR API answers 401. A citizen's session is no staff
//!   session, whatever they present.
//! - A public route answers them exactly as it answers someone not signed in.
//! - A citizen route shows the person the session shows (the citizen's own, or the person the
//!   proxy acts for) and no one else: no other person's NHS number appears on any page or
//!   download; an item of anyone else's is 404, as for no item; switching to anyone the session
//!   does not act for is 404, as for no one.
//!
//! A citizen route these files do not know fails the test: whoever adds one says here what a
//! citizen gets from it.

use super::*;
use crate::it::citizens::{hidden_csrf, sign_up};
use std::fmt::Write as _;

/// Margaret Thompson's proxy of the sample feeds: John Smith, registered at Orchard Surgery.
const PROXY_NHS: &str = "9998934850";

#[derive(Clone)]
struct Known {
    id: i64,
    nhs: Option<String>,
    /// One of the person's entries (any category), or a missing id.
    entry: i64,
}

struct Caller {
    name: &'static str,
    client: reqwest::blocking::Client,
    csrf: String,
    /// The person the citizen is.
    own: i64,
    /// The person the session shows: the citizen's own, or the one the proxy acts for.
    shows: i64,
}

/// What an answer says for the table: the status, the path a redirect goes to, and for a page
/// the NHS numbers of people it should not name.
fn outcome(r: reqwest::blocking::Response, foreign: &[&Known]) -> String {
    let status = r.status().as_u16();
    if (300..400).contains(&status) {
        let to = r
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().split('?').next().unwrap().to_owned())
            .unwrap_or_default();
        return format!("{status} {to}");
    }
    let body = r.text().unwrap_or_default();
    let named: Vec<&str> = foreign
        .iter()
        .filter_map(|p| p.nhs.as_deref())
        .filter(|nhs| names(&body, nhs))
        .collect();
    if named.is_empty() {
        status.to_string()
    } else {
        format!("{status} names {}", named.join(","))
    }
}

/// Whether `text` holds the NHS number, bare or spaced 3-3-4 as pages show it.
fn names(text: &str, nhs: &str) -> bool {
    let spaced = format!("{} {} {}", &nhs[..3], &nhs[3..6], &nhs[6..]);
    text.contains(nhs) || text.contains(&spaced)
}

/// `path` with every `<param>` replaced by `value`.
fn filled(path: &str, value: &str) -> String {
    path.split('/')
        .map(|seg| if seg.starts_with('<') { value } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

struct Asked {
    caller: &'static str,
    route: String,
    target: String,
    expected: String,
    actual: String,
}

#[test]
fn a_citizen_and_a_proxy_reach_no_staff_route_and_only_the_record_they_may_see() {
    let env = Env::new();
    env.load_sample_feeds();
    let others = other_trusts_patients(&env, &["Without", "Claimed", "Glass", "Expired"]);
    add_user_at(&env, "it", "admin", ORG);
    // Everyone the database knows (merged-away people too), and an id no one has.
    let mut people: Vec<Known> = env
        .sql()
        .prepare(
            "SELECT p.id, p.nhs_number,
                    (SELECT min(e.id) FROM entry e JOIN source_person sp ON sp.id = e.source_person_id
                     WHERE sp.person_id = p.id)
             FROM person p ORDER BY p.id",
        )
        .unwrap()
        .query_map([], |r| {
            Ok(Known {
                id: r.get(0)?,
                nhs: r.get(1)?,
                entry: r.get::<_, Option<i64>>(2)?.unwrap_or(MISSING_ID),
            })
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    people.push(Known {
        id: MISSING_ID,
        nhs: None,
        entry: MISSING_ID,
    });
    assert!(people.len() > 8, "{} people", people.len());
    let s = Server::start_in(env);
    let margaret = person_with_nhs(&s.env, PERSON_A_NHS);
    let john = person_with_nhs(&s.env, PROXY_NHS);
    let acted_for = person_with_nhs(&s.env, &others[1]);

    // John acts for a patient of another trust, with their consent.
    let it = s.login("it");
    let form = it
        .get(s.url("/admin/proxies"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let recorded = it
        .post(s.url("/admin/proxies"))
        .form(&[
            ("csrf", hidden(&form, "csrf").as_str()),
            ("proxy", PROXY_NHS),
            ("person", others[1].as_str()),
            ("basis", "consent"),
            ("starts_on", ""),
            ("ends_on", ""),
            ("evidence", "Signed consent form seen"),
        ])
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(recorded.contains("Recorded (relationship"), "{recorded}");
    let (citizen, _) = sign_up(&s, PERSON_A_NHS, "margaret");
    let (proxy, _) = sign_up(&s, PROXY_NHS, "john");
    let proxy_csrf = hidden_csrf(&s, &proxy);
    let r = proxy
        .post(s.url("/citizen/act-as"))
        .form(&[
            ("csrf", proxy_csrf.as_str()),
            ("person", &acted_for.to_string()),
        ])
        .send()
        .unwrap();
    assert_eq!(
        r.status(),
        303,
        "the proxy switches to the person they act for"
    );
    let callers = [
        Caller {
            name: "citizen",
            csrf: hidden_csrf(&s, &citizen),
            client: citizen,
            own: margaret,
            shows: margaret,
        },
        Caller {
            name: "proxy",
            csrf: proxy_csrf,
            client: proxy,
            own: john,
            shows: acted_for,
        },
    ];
    let anonymous = s.client();
    let routes: Vec<(String, reqwest::Method, &'static str, bool)> = sharedcare::web::routes()
        .into_iter()
        .flat_map(|(routes, base, public)| {
            routes.into_iter().map(move |route| {
                let path = format!("{}{}", base.trim_end_matches('/'), route.uri.path());
                let path = if path.is_empty() {
                    "/".to_owned()
                } else {
                    path
                };
                let method: reqwest::Method = route.method.as_str().parse().unwrap();
                (path, method, base, public)
            })
        })
        .collect();

    let mut rows = Vec::new();
    let mut unknown = Vec::new();
    let (mut staff_routes, mut citizen_routes) = (0, 0);
    // Reads first, then what changes the session (switching, signing out).
    for caller in &callers {
        let foreign: Vec<&Known> = people
            .iter()
            .filter(|p| p.id != caller.own && p.id != caller.shows)
            .collect();
        let shown = people.iter().find(|p| p.id == caller.shows).unwrap();
        for (path, method, base, public) in &routes {
            let key = format!("{method} {path}");
            let mut ask =
                |target: String, url: String, form: Vec<(&str, String)>, expected: String| {
                    let send = |c: &reqwest::blocking::Client| {
                        let request = c.request(method.clone(), s.url(&url));
                        let request = if *method == reqwest::Method::POST {
                            request.form(&form)
                        } else {
                            request
                        };
                        outcome(request.send().unwrap(), &foreign)
                    };
                    let expected = if expected.is_empty() {
                        send(&anonymous)
                    } else {
                        expected
                    };
                    rows.push(Asked {
                        caller: caller.name,
                        route: key.clone(),
                        target,
                        expected,
                        actual: send(&caller.client),
                    });
                };
            let targets: Vec<&Known> = if path.contains('<') {
                people.iter().collect()
            } else {
                vec![shown]
            };
            if *public {
                // As for someone not signed in (expected "" asks the anonymous client).
                for p in &targets {
                    let form = vec![("csrf", "forged".to_owned())];
                    ask(
                        p.id.to_string(),
                        filled(path, &p.id.to_string()),
                        form,
                        String::new(),
                    );
                }
            } else if *base != "/citizen" {
                staff_routes += 1;
                let refused = if *base == "/fhir" {
                    "401"
                } else {
                    "303 /login"
                };
                for p in &targets {
                    let form = vec![("csrf", caller.csrf.clone())];
                    let url = filled(path, &p.id.to_string());
                    ask(p.id.to_string(), url, form, refused.to_owned());
                }
            } else {
                citizen_routes += 1;
                let csrf = || vec![("csrf", caller.csrf.clone())];
                match key.as_str() {
                    "GET /citizen"
                    | "GET /citizen/"
                    | "GET /citizen/record.json"
                    | "GET /citizen/looked"
                    | "GET /citizen/looked.csv"
                    | "GET /citizen/sharing"
                    | "GET /citizen/reports"
                    | "GET /citizen/people" => {
                        ask("-".into(), path.clone(), vec![], "200".into());
                    }
                    // A session whose second factor is set up has nothing to set up.
                    "GET /citizen/second-factor" | "POST /citizen/second-factor" => {
                        let mut form = csrf();
                        form.push(("code", "123456".into()));
                        ask("-".into(), path.clone(), form, "403".into());
                    }
                    // A forged form changes nothing: the page again, saying so.
                    "POST /citizen/sharing/object" | "POST /citizen/sharing/withdraw" => {
                        let form = vec![
                            ("csrf", "forged".to_owned()),
                            ("understood", "true".to_owned()),
                        ];
                        ask("-".into(), path.clone(), form, "200".into());
                    }
                    "GET /citizen/item/<id>/report" => {
                        for p in &people {
                            let ok = if p.id == caller.shows { "200" } else { "404" };
                            let url = filled(path, &p.entry.to_string());
                            ask(format!("entry of {}", p.id), url, vec![], ok.into());
                        }
                    }
                    "POST /citizen/item/<id>/report" => {
                        for p in &people {
                            let ok = if p.id == caller.shows {
                                "303 /citizen/reports"
                            } else {
                                "404"
                            };
                            let mut form = csrf();
                            form.push(("text", "This is not mine".into()));
                            let url = filled(path, &p.entry.to_string());
                            ask(format!("entry of {}", p.id), url, form, ok.into());
                        }
                    }
                    // Asked below, after every read.
                    "POST /citizen/act-as" | "POST /citizen/logout" => {}
                    _ => unknown.push(key.clone()),
                }
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "citizen routes with no stated answer for a citizen — add each to \
         tests/it/access_matrix/citizens.rs:\n  {}",
        unknown.join("\n  ")
    );
    assert!(
        staff_routes > 50 && citizen_routes > 10,
        "{staff_routes} / {citizen_routes}"
    );

    // Positive controls: the record and its download are the shown person's.
    for caller in &callers {
        let shown = people.iter().find(|p| p.id == caller.shows).unwrap();
        let nhs = shown.nhs.as_deref().unwrap();
        for path in ["/citizen", "/citizen/record.json"] {
            let text = caller
                .client
                .get(s.url(path))
                .send()
                .unwrap()
                .text()
                .unwrap();
            assert!(
                names(&text, nhs),
                "{} {path} does not show {nhs}",
                caller.name
            );
        }
    }
    let reports_of_others = s.env.count(&format!(
        "SELECT count(*) FROM citizen_error_report WHERE person_id NOT IN ({margaret}, {acted_for})"
    ));
    assert_eq!(
        reports_of_others, 0,
        "no report was filed on anyone else's item"
    );

    // Switching: to themselves or the person acted for, never to anyone else.
    for caller in &callers {
        for p in &people {
            let may = p.id == caller.own || (caller.name == "proxy" && p.id == caller.shows);
            let answer = caller
                .client
                .post(s.url("/citizen/act-as"))
                .form(&[
                    ("csrf", caller.csrf.as_str()),
                    ("person", &p.id.to_string()),
                ])
                .send()
                .unwrap();
            rows.push(Asked {
                caller: caller.name,
                route: "POST /citizen/act-as".into(),
                target: p.id.to_string(),
                expected: if may { "303 /citizen" } else { "404" }.into(),
                actual: outcome(answer, &[]),
            });
            // A refused switch leaves the session where it was; the record still says whose.
            let record = caller
                .client
                .get(s.url("/citizen"))
                .send()
                .unwrap()
                .text()
                .unwrap();
            let now_shows = if may { p.id } else { caller.shows };
            let nhs = people
                .iter()
                .find(|k| k.id == now_shows)
                .unwrap()
                .nhs
                .clone()
                .unwrap();
            assert!(
                names(&record, &nhs),
                "{} after switching to {}",
                caller.name,
                p.id
            );
            if may && p.id != caller.shows {
                let back = caller
                    .client
                    .post(s.url("/citizen/act-as"))
                    .form(&[
                        ("csrf", caller.csrf.as_str()),
                        ("person", &caller.shows.to_string()),
                    ])
                    .send()
                    .unwrap();
                assert_eq!(back.status(), 303);
            }
        }
        // Signing out ends the session: every citizen page then goes to the citizens' sign-in.
        let out = caller
            .client
            .post(s.url("/citizen/logout"))
            .form(&[("csrf", caller.csrf.as_str())])
            .send()
            .unwrap();
        rows.push(Asked {
            caller: caller.name,
            route: "POST /citizen/logout".into(),
            target: "-".into(),
            expected: "303 /citizen/login".into(),
            actual: outcome(out, &[]),
        });
        let after = caller.client.get(s.url("/citizen")).send().unwrap();
        rows.push(Asked {
            caller: caller.name,
            route: "GET /citizen (signed out)".into(),
            target: "-".into(),
            expected: "303 /citizen/login".into(),
            actual: outcome(after, &[]),
        });
    }

    let wrong: Vec<&Asked> = rows.iter().filter(|r| r.expected != r.actual).collect();
    if !wrong.is_empty() {
        let mut table = format!(
            "{} of {} answers to citizens differ from the rule:\n{:<8} {:<40} {:<16} {:<20} {}\n",
            wrong.len(),
            rows.len(),
            "caller",
            "route",
            "target",
            "expected",
            "actual"
        );
        for r in &wrong {
            let _ = writeln!(
                table,
                "{:<8} {:<40} {:<16} {:<20} {}",
                r.caller, r.route, r.target, r.expected, r.actual
            );
        }
        panic!("{table}");
    }
    eprintln!(
        "citizens' access matrix: {} answers from 2 callers over {} routes, {} people",
        rows.len(),
        routes.len(),
        people.len()
    );
}
