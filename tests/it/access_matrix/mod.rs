//! The access matrix: every route the server answers (`sharedcare::web::routes()`), asked by a
//! user of every role of the shipped policy about people in every relationship state, against
//! what the policy says they should get. Every mismatch is reported at once, as a table.
//!
//! A route these files do not know fails the test: whoever adds a route states in `spec/` what each
//! role gets from it ([`spec::spec`]), derived from the policy's activities, never from the server.

mod case;
mod citizens;
mod duties;
mod spec;

use super::server::*;
use super::support::*;
use case::{Case, Person, State, STATES};
use sharedcare::access::{Activity, Policy};
use spec::{outcome, route_keys, spec, Spec};
use std::fmt::Write as _;

/// The organisation of every matrix user: Orchard Surgery, where person A is registered.
const ORG: &str = "X99001";
/// A person id no one has.
const MISSING_ID: i64 = 987_654_321;
/// Margaret Thompson of the sample feeds, registered at Orchard Surgery.
const PERSON_A_NHS: &str = "9994837567";
/// One user of the matrix, signed in.
struct User {
    role: String,
    client: reqwest::blocking::Client,
    token: String,
    csrf: String,
}

struct Row {
    role: String,
    state: &'static str,
    route: String,
    via: &'static str,
    expected: String,
    actual: String,
}

/// People with no relationship to Orchard Surgery: admitted to another trust, registered at
/// another practice, each with an allergy (so a FHIR search about them finds something).
fn other_trusts_patients(env: &Env, names: &[&str]) -> Vec<String> {
    env.ok(&[
        "source",
        "add",
        "OTHER-PAS",
        "--name",
        "Another trust's PAS",
        "--org",
        "R1K",
        "--kind",
        "acute",
        "--format",
        "hl7v2",
    ]);
    // The first person was first registered under another hospital number, merged since (so
    // a reviewer has a merge to undo).
    let alias = segment(
        "PID",
        &[
            (1, "1"),
            (3, "KX0000^^^R1K^MR"),
            (5, "ALIAS^UNKNOWN^^^MX"),
            (7, "19690101"),
            (8, "F"),
        ],
    );
    let mut messages = adt(
        "A08",
        "R1K",
        "MXA",
        "20251201090000",
        &[alias, segment("PV1", &[(1, "1"), (2, "O")])],
    );
    let mut numbers = Vec::new();
    for (i, given) in names.iter().enumerate() {
        let nhs = nhs_number(4100 + i as u32);
        let mrn = format!("K{i:05}");
        let pid = segment(
            "PID",
            &[
                (1, "1"),
                (3, &format!("{mrn}^^^R1K^MR~{nhs}^^^NHS^NH")),
                (5, &format!("MATRIX^{given}^^^MX")),
                (7, "19700101"),
                (8, "F"),
                (11, "1 Test Road^^Testtown^^WX5 5AA^GBR^H"),
                (13, "01632 960500"),
            ],
        );
        let pd1 = segment("PD1", &[(3, "RIVERSIDE MEDICAL CENTRE^^X99002")]);
        let pv1 = segment(
            "PV1",
            &[
                (1, "1"),
                (2, "I"),
                (3, "WARD 1^BAY 1^BED 1^R1K"),
                (19, &format!("V{mrn}")),
                (44, "20260101090000"),
            ],
        );
        let al1 = segment(
            "AL1",
            &[
                (1, "1"),
                (2, "DA^Drug allergy^HL70127"),
                (3, "PEN^Penicillin^L"),
            ],
        );
        messages.push_str(&adt(
            "A01",
            "R1K",
            &format!("MX{i}"),
            "20260101090000",
            &[pid, pd1, pv1, al1],
        ));
        numbers.push(nhs);
    }
    let merge = [
        segment(
            "PID",
            &[
                (1, "1"),
                (3, &format!("K00000^^^R1K^MR~{}^^^NHS^NH", numbers[0])),
                (5, &format!("MATRIX^{}^^^MX", names[0])),
                (7, "19700101"),
                (8, "F"),
            ],
        ),
        segment("MRG", &[(1, "KX0000^^^R1K^MR")]),
    ];
    messages.push_str(&adt("A40", "R1K", "MXM", "20260102090000", &merge));
    let file = env.write("other-trust.hl7", messages);
    env.ok(&["import", "--source", "OTHER-PAS", file.to_str().unwrap()]);
    numbers
}

fn home_csrf(s: &Server, client: &reqwest::blocking::Client) -> String {
    let home = client.get(s.url("/")).send().unwrap().text().unwrap();
    hidden(&home, "csrf")
}

#[test]
fn every_route_for_every_role_and_relationship_matches_the_policy() {
    let policy = Policy::shipped().unwrap();
    let env = Env::new();
    env.load_sample_feeds();
    let others = other_trusts_patients(&env, &["Without", "Claimed", "Glass", "Expired"]);
    let roles: Vec<String> = policy.roles().map(|r| r.name.clone()).collect();
    let mut tokens = Vec::new();
    for role in &roles {
        add_user_at(&env, role, role, ORG);
        tokens.push(token(&env, role));
    }
    let store = sharedcare::store::Store::open(&env.db()).unwrap();
    let person = |nhs: &str| {
        let id = person_with_nhs(&env, nhs);
        let allergy_entry = env.count(&format!(
            "SELECT e.id FROM entry e JOIN source_person sp ON sp.id = e.source_person_id
             WHERE sp.person_id = {id} AND e.category = 'allergy' ORDER BY e.id LIMIT 1"
        ));
        Person {
            id,
            nhs: nhs.to_owned(),
            unmergeable: store.unmerge_preview(id).unwrap().is_some(),
            allergy_entry,
        }
    };
    let people = [
        (State::With, person(PERSON_A_NHS)),
        (State::Without, person(&others[0])),
        (State::SelfClaimed, person(&others[1])),
        (State::BreakGlass, person(&others[2])),
        (State::Expired, person(&others[3])),
        (
            State::Nonexistent,
            Person {
                id: MISSING_ID,
                nhs: nhs_number(4999),
                unmergeable: false,
                allergy_entry: MISSING_ID,
            },
        ),
    ];
    drop(store);
    assert!(
        people.iter().any(|(_, p)| p.unmergeable),
        "someone should have a merge to undo"
    );
    let person_in = |state: State| &people.iter().find(|(s, _)| *s == state).unwrap().1;
    let s = Server::start_in(env);
    let users: Vec<User> = roles
        .iter()
        .zip(tokens)
        .map(|(role, token)| {
            let client = s.login(role);
            let csrf = home_csrf(&s, &client);
            User {
                role: role.clone(),
                client,
                token,
                csrf,
            }
        })
        .collect();

    let mut rows = Vec::new();
    let mut ask = |user: &User, state: State, key: &str, method: &reqwest::Method, spec: &Spec| {
        let case = Case {
            policy: &policy,
            role: &user.role,
            state,
            person: person_in(state),
            csrf: &user.csrf,
        };
        let (path, form) = (spec.request)(&case);
        let expected = (spec.expect)(&case);
        let mut vias = vec![("session", user.client.request(method.clone(), s.url(&path)))];
        if spec.fhir {
            let bearer = s
                .client()
                .request(method.clone(), s.url(&path))
                .bearer_auth(&user.token);
            vias.push(("token", bearer));
        }
        for (via, request) in vias {
            let request = if form.is_empty() {
                request
            } else {
                request.form(&form)
            };
            let actual = outcome(spec.read, request.send().unwrap());
            rows.push(Row {
                role: user.role.clone(),
                state: if spec.per_person { state.label() } else { "-" },
                route: key.to_owned(),
                via,
                expected: expected.clone(),
                actual,
            });
        }
    };

    // The states users give themselves: claims, broken glass, and a claim that lapses.
    let setup = [
        ("POST /person/<id>/claim", State::SelfClaimed),
        ("POST /person/<id>/break-glass", State::BreakGlass),
        ("POST /person/<id>/claim", State::Expired),
    ];
    for user in &users {
        for (key, state) in setup {
            let rule = spec(key).unwrap();
            ask(user, state, key, &reqwest::Method::POST, &rule);
        }
    }
    let lapsed = s
        .env
        .sql()
        .execute(
            "UPDATE access_grant SET expires_at = '2020-01-01T00:00:00Z' WHERE person_id = ?1",
            [person_in(State::Expired).id],
        )
        .unwrap();
    let may_claim = roles
        .iter()
        .filter(|r| policy.allows(r, Activity::SelfClaim))
        .count();
    assert_eq!(
        lapsed, may_claim,
        "one lapsed claim per role that may claim"
    );

    let keys = route_keys();
    let unknown: Vec<&str> = keys
        .iter()
        .filter(|(k, _)| spec(k).is_none())
        .map(|(k, _)| k.as_str())
        .collect();
    assert!(
        unknown.is_empty(),
        "routes with no stated access policy — add each to `spec` in tests/it/access_matrix.rs \
         with what every role gets from it:\n  {}",
        unknown.join("\n  ")
    );
    for changes in [false, true] {
        for user in &users {
            for (key, method) in &keys {
                let rule = spec(key).unwrap();
                if rule.changes != changes {
                    continue;
                }
                let states: &[State] = if rule.per_person {
                    &STATES
                } else {
                    &[State::With]
                };
                for state in states {
                    ask(user, *state, key, method, &rule);
                }
            }
        }
    }

    let wrong: Vec<&Row> = rows.iter().filter(|r| r.expected != r.actual).collect();
    if !wrong.is_empty() {
        let mut table = format!(
            "{} of {} answers differ from the policy:\n{:<24} {:<13} {:<38} {:<8} {:<14} {}\n",
            wrong.len(),
            rows.len(),
            "role",
            "state",
            "route",
            "via",
            "expected",
            "actual"
        );
        for r in &wrong {
            let _ = writeln!(
                table,
                "{:<24} {:<13} {:<38} {:<8} {:<14} {}",
                r.role, r.state, r.route, r.via, r.expected, r.actual
            );
        }
        panic!("{table}");
    }

    // Administrators and analysts open no record: no record answered, none audited as seen.
    for role in ["admin", "analyst"] {
        let opened: Vec<&Row> = rows
            .iter()
            .filter(|r| r.role == role && r.state != "-" && r.actual.starts_with("200"))
            .filter(|r| r.route.contains("/person/") || r.route.starts_with("GET /fhir/"))
            .filter(|r| !r.route.starts_with("GET /review/"))
            .filter(|r| r.actual != "200 empty")
            .collect();
        assert!(
            opened.is_empty(),
            "{role} opened records: {:?}",
            opened.iter().map(|r| &r.route).collect::<Vec<_>>()
        );
        let seen = s.env.count(&format!(
            "SELECT count(*) FROM audit_event e JOIN app_user u ON u.id = e.user_id
             WHERE u.username = '{role}' AND e.person_id IS NOT NULL
               AND e.action NOT IN ('review-view')"
        ));
        assert_eq!(seen, 0, "{role} has person events in the audit trail");
    }
    eprintln!(
        "access matrix: {} answers from {} roles over {} routes",
        rows.len(),
        users.len(),
        keys.len()
    );
}

/// The no-access answer for a person who exists but is not related, with the id taken out.
fn refusal(c: &reqwest::blocking::Client, url: &str, id: i64) -> (u16, String) {
    let r = c.get(url).send().unwrap();
    let status = r.status().as_u16();
    let body = r
        .text()
        .unwrap()
        .replace(&format!("/person/{id}"), "/person/ID")
        .replace(&format!("record {id}"), "record ID")
        .replace(&format!("person-{id}"), "person-ID");
    (status, body)
}

/// `page` without its block naming the refused person, which must name Daniel Okafor by what
/// a search row shows (name, date of birth, NHS number) and nothing more.
fn without_named_person(page: &str, user: &str, path: &str) -> String {
    let start = page
        .find("<dl class=\"refused-person\"")
        .unwrap_or_else(|| panic!("{user} {path}: the page does not name the person: {page}"));
    let end = start + page[start..].find("</dl>").unwrap() + "</dl>".len();
    let named = &page[start..end];
    for shown in ["Daniel OKAFOR", "3 Jun 1978", "999 766 1001"] {
        assert!(named.contains(shown), "{user} {path}: {named}");
    }
    assert_eq!(named.matches("<dt>").count(), 3, "{user} {path}: {named}");
    let rest = format!("{}{}", &page[..start], page[end..].trim_start_matches('\n'));
    assert!(!rest.contains("OKAFOR"), "{user} {path}: {rest}");
    rest
}

#[test]
fn no_access_reads_the_same_for_an_unrelated_person_and_for_no_one() {
    let env = Env::new();
    env.load_sample_feeds();
    // Daniel Okafor is registered at Riverside only: nothing ties him to Orchard Surgery.
    let unrelated = person_with_nhs(&env, "9997661001");
    add_user_at(&env, "clin", "clinician", ORG);
    add_user_at(&env, "carer", "care-provider-staff", ORG);
    let tokens = [token(&env, "clin"), token(&env, "carer")];
    let s = Server::start_in(env);
    for (user, token) in ["clin", "carer"].iter().zip(tokens) {
        let c = s.login(user);
        for path in [
            "/person/{}",
            "/person/{}/timeline",
            "/person/{}/results",
            "/fhir/Patient/person-{}",
            "/fhir/Patient/person-{}/$everything",
        ] {
            let url = |id: i64| s.url(&path.replace("{}", &id.to_string()));
            let mut real = refusal(&c, &url(unrelated), unrelated);
            let none = refusal(&c, &url(MISSING_ID), MISSING_ID);
            assert!(real.0 == 403 || real.0 == 404, "{user} {path}: {}", real.0);
            if !path.starts_with("/fhir") {
                // The page names the person as the search row does (issue 11, item 8), and
                // otherwise reads as for no one.
                real.1 = without_named_person(&real.1, user, path);
            }
            assert_eq!(real, none, "{user} {path}: unrelated person vs no one");
            let bearer = s.client();
            let with_token = |id: i64| {
                let r = bearer.get(url(id)).bearer_auth(&token).send().unwrap();
                let status = r.status().as_u16();
                let body = r.text().unwrap();
                (status, body.replace(&format!("person-{id}"), "person-ID"))
            };
            if path.starts_with("/fhir") {
                assert_eq!(
                    with_token(unrelated),
                    with_token(MISSING_ID),
                    "{user} {path}"
                );
            }
        }
        // Searching by the person's NHS number says who they are and nothing more.
        let page = c
            .get(s.url("/search?q=9997661001"))
            .send()
            .unwrap()
            .text()
            .unwrap();
        assert!(page.contains("no-relationship"), "{page}");
        assert!(!page.contains("Riverside"), "{page}");
    }
}
