//! The access matrix: every route the server answers (`sharedcare::web::routes()`), asked by a
//! user of every role of the shipped policy about people in every relationship state, against
//! what the policy says they should get. Every mismatch is reported at once, as a table.
//!
//! A route this file does not know fails the test: whoever adds a route states here what each
//! role gets from it ([`spec`]), derived from the policy's activities, never from the server.

use super::server::*;
use super::support::*;
use sharedcare::access::{Activity, Policy};
use std::fmt::Write as _;

/// The organisation of every matrix user: Orchard Surgery, where person A is registered.
const ORG: &str = "X99001";
/// A person id no one has.
const MISSING_ID: i64 = 987_654_321;
/// Margaret Thompson of the sample feeds, registered at Orchard Surgery.
const PERSON_A_NHS: &str = "9994837567";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// A relationship from the record: person A is registered at the users' practice.
    With,
    /// No relationship at all.
    Without,
    /// The user self-claimed a relationship (where the role may).
    SelfClaimed,
    /// The user broke glass (where the role may).
    BreakGlass,
    /// The user self-claimed a relationship that has since lapsed.
    Expired,
    /// No one has the id.
    Nonexistent,
}

const STATES: [State; 6] = [
    State::With,
    State::Without,
    State::SelfClaimed,
    State::BreakGlass,
    State::Expired,
    State::Nonexistent,
];

impl State {
    fn label(self) -> &'static str {
        match self {
            Self::With => "with",
            Self::Without => "without",
            Self::SelfClaimed => "self-claimed",
            Self::BreakGlass => "break-glass",
            Self::Expired => "expired",
            Self::Nonexistent => "nonexistent",
        }
    }
}

/// One person of the matrix.
#[derive(Debug, Clone)]
struct Person {
    id: i64,
    nhs: String,
    /// Whether the person has a merge or link a reviewer could undo.
    unmergeable: bool,
}

/// One user of one role asking about one person.
struct Case<'a> {
    policy: &'a Policy,
    role: &'a str,
    state: State,
    person: &'a Person,
    csrf: &'a str,
}

impl Case<'_> {
    fn may(&self, activity: Activity) -> bool {
        self.policy.allows(self.role, activity)
    }

    fn exists(&self) -> bool {
        self.state != State::Nonexistent
    }

    /// Whether the policy lets the role open the person's record: `view-record` and a care
    /// relationship, from the record or one the role may give itself and has not lapsed.
    fn opens(&self) -> bool {
        self.may(Activity::ViewRecord)
            && match self.state {
                State::With => true,
                State::SelfClaimed => self.may(Activity::SelfClaim),
                State::BreakGlass => self.may(Activity::BreakGlass),
                State::Without | State::Expired | State::Nonexistent => false,
            }
    }

    /// `ok` for a role that may do `activity`; 403 otherwise.
    fn gated(&self, activity: Activity, ok: &str) -> String {
        if self.may(activity) {
            ok.to_owned()
        } else {
            "403".to_owned()
        }
    }

    /// A record page: 403 for a role that may not search (the pages' guard), then the record
    /// (`ok`) when it opens and the no-access page (403) when it does not.
    fn record_page(&self, ok: &str) -> String {
        if !self.may(Activity::Search) || !self.opens() {
            return "403".to_owned();
        }
        ok.to_owned()
    }

    /// A self-claim or broken glass: recorded (303 back to the record) when the role may and
    /// the person exists; the no-access page with a message (403) otherwise.
    fn claim(&self, activity: Activity) -> String {
        if self.may(Activity::Search) && self.may(activity) && self.exists() {
            "303".to_owned()
        } else {
            "403".to_owned()
        }
    }

    /// The FHIR API: 403 for a role that may not read records, then the one 404 for a person
    /// the caller may not see (or who does not exist), then `ok`.
    fn fhir(&self, ok: &str) -> String {
        if !self.may(Activity::ViewRecord) {
            "403".to_owned()
        } else if !self.opens() {
            "404".to_owned()
        } else {
            ok.to_owned()
        }
    }

    /// A search hit: every column with a relationship, name/birth date/NHS number without.
    fn hit(&self) -> &'static str {
        if !self.exists() {
            "none"
        } else if self.opens() {
            "full"
        } else {
            "identity"
        }
    }
}

/// How a response is read into the outcome the table compares.
#[derive(Debug, Clone, Copy)]
enum Read {
    /// The status code.
    Status,
    /// The search page: `200 full`, `200 identity` or `200 none` for its one person.
    SearchRows,
    /// A FHIR searchset: `200 entries` or `200 empty`.
    Bundle,
    /// A FHIR Patient search: `200 full` (with the address), `200 identity` or `200 none`.
    PatientSearch,
}

type Form = Vec<(&'static str, String)>;

/// What a route is asked and what the policy says it answers.
struct Spec {
    /// Asked about every person state (`true`), or once per role.
    per_person: bool,
    /// Changes what later requests see (grants): asked after every other request.
    changes: bool,
    /// A FHIR route: asked with the browser session and again with the user's API token.
    fhir: bool,
    read: Read,
    /// The path (with any query) and the form to post.
    request: fn(&Case) -> (String, Form),
    expect: fn(&Case) -> String,
}

fn get(path: String) -> (String, Form) {
    (path, Vec::new())
}

fn with_csrf(path: String, c: &Case, more: &[(&'static str, &str)]) -> (String, Form) {
    let mut form = vec![("csrf", c.csrf.to_owned())];
    form.extend(more.iter().map(|(k, v)| (*k, (*v).to_owned())));
    (path, form)
}

fn once(request: fn(&Case) -> (String, Form), expect: fn(&Case) -> String) -> Spec {
    Spec {
        per_person: false,
        changes: false,
        fhir: false,
        read: Read::Status,
        request,
        expect,
    }
}

fn per_person(request: fn(&Case) -> (String, Form), expect: fn(&Case) -> String) -> Spec {
    Spec {
        per_person: true,
        ..once(request, expect)
    }
}

fn fhir(read: Read, request: fn(&Case) -> (String, Form), expect: fn(&Case) -> String) -> Spec {
    Spec {
        fhir: true,
        read,
        ..per_person(request, expect)
    }
}

/// The policy of every route, by method and path as `web::routes()` mounts them.
fn spec(key: &str) -> Option<Spec> {
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
        // Ending one's own broken glass: back to the record for a person who exists.
        "POST /person/<id>/break-glass/end" => Spec {
            changes: true,
            ..per_person(
                |c| with_csrf(format!("/person/{}/break-glass/end", c.person.id), c, &[]),
                |c| {
                    if c.may(Search) && c.exists() {
                        "303".into()
                    } else {
                        "403".into()
                    }
                },
            )
        },
        // Counts only.
        "GET /dashboard" => once(|_| get("/dashboard".into()), |c| c.gated(Dashboards, "200")),
        // Users and their role profiles; the forms name no one who exists, so nothing changes.
        "GET /admin/users" => once(
            |_| get("/admin/users".into()),
            |c| c.gated(ManageUsers, "200"),
        ),
        "POST /admin/users" => once(
            |c| {
                let fields = [
                    ("username", ""),
                    ("password", ""),
                    ("confirm", ""),
                    ("role", ""),
                    ("org", ""),
                ];
                with_csrf("/admin/users".into(), c, &fields)
            },
            |c| c.gated(ManageUsers, "422"),
        ),
        "GET /admin/users/<id>" => once(
            |_| get(format!("/admin/users/{MISSING_ID}")),
            |c| c.gated(ManageUsers, "404"),
        ),
        "POST /admin/users/<id>/profiles" => once(
            |c| {
                let path = format!("/admin/users/{MISSING_ID}/profiles");
                with_csrf(path, c, &[("role", "clinician"), ("org", "X99001")])
            },
            |c| c.gated(ManageUsers, "404"),
        ),
        "POST /admin/users/<id>/profiles/<profile>/remove" => once(
            |c| {
                let path = format!("/admin/users/{MISSING_ID}/profiles/{MISSING_ID}/remove");
                with_csrf(path, c, &[])
            },
            |c| c.gated(ManageUsers, "404"),
        ),
        "POST /admin/users/<id>/password" => once(
            |c| {
                let path = format!("/admin/users/{MISSING_ID}/password");
                let pw = "a long enough password";
                with_csrf(path, c, &[("password", pw), ("confirm", pw)])
            },
            |c| c.gated(ManageUsers, "404"),
        ),
        "POST /admin/users/<id>/disable" => once(
            |c| with_csrf(format!("/admin/users/{MISSING_ID}/disable"), c, &[]),
            |c| c.gated(ManageUsers, "404"),
        ),
        "POST /admin/users/<id>/sessions/<sid>/end" => once(
            |c| {
                let path = format!("/admin/users/{MISSING_ID}/sessions/{MISSING_ID}/end");
                with_csrf(path, c, &[])
            },
            |c| c.gated(ManageUsers, "404"),
        ),
        // The privacy officer's pages.
        "GET /privacy/alerts" => once(
            |_| get("/privacy/alerts".into()),
            |c| c.gated(ReviewAlerts, "200"),
        ),
        "POST /privacy/alerts/<id>/close" => once(
            |c| {
                let path = format!("/privacy/alerts/{MISSING_ID}/close");
                with_csrf(path, c, &[("note", "reviewed")])
            },
            |c| c.gated(ReviewAlerts, "404"),
        ),
        "GET /privacy/reports" => once(
            |_| get("/privacy/reports".into()),
            |c| c.gated(AuditReports, "200"),
        ),
        "GET /privacy/person" => per_person(
            |c| get(format!("/privacy/person?person={}", c.person.id)),
            // No one with that id: the form says so (422).
            |c| c.gated(AuditReports, if c.exists() { "200" } else { "422" }),
        ),
        "GET /privacy/user" => once(
            |_| get("/privacy/user?user=nobody-of-that-name".into()),
            |c| c.gated(AuditReports, "422"),
        ),
        "GET /privacy/objections" => once(
            |_| get("/privacy/objections".into()),
            |c| c.gated(RecordObjections, "200"),
        ),
        // No one has that id: the form says so and nothing is recorded.
        "POST /privacy/objections" => once(
            |c| {
                let person = MISSING_ID.to_string();
                let fields = [
                    ("person", person.as_str()),
                    ("reason", "test"),
                    ("date", "2025-01-01"),
                ];
                with_csrf("/privacy/objections".into(), c, &fields)
            },
            |c| c.gated(RecordObjections, "422"),
        ),
        "POST /privacy/objections/person/<id>/withdraw" => once(
            |c| {
                let path = format!("/privacy/objections/person/{MISSING_ID}/withdraw");
                with_csrf(path, c, &[])
            },
            |c| c.gated(RecordObjections, "404"),
        ),
        "GET /privacy/view-as" => once(
            |_| get("/privacy/view-as".into()),
            |c| c.gated(ViewAsRole, "200"),
        ),
        // The FHIR API.
        "GET /fhir/Patient/<id>" => fhir(
            Read::Status,
            |c| get(format!("/fhir/Patient/person-{}", c.person.id)),
            |c| c.fhir("200"),
        ),
        "GET /fhir/Patient/<id>/$everything" => fhir(
            Read::Status,
            |c| get(format!("/fhir/Patient/person-{}/$everything", c.person.id)),
            |c| c.fhir(if c.may(Export) { "200" } else { "403" }),
        ),
        "GET /fhir/<kind>" => fhir(
            Read::Bundle,
            |c| {
                get(format!(
                    "/fhir/AllergyIntolerance?patient=person-{}",
                    c.person.id
                ))
            },
            |c| match c.fhir("200 entries").as_str() {
                // A search about someone the caller may not see matches nothing.
                "404" => "200 empty".into(),
                other => other.into(),
            },
        ),
        "GET /fhir/Patient" => fhir(
            Read::PatientSearch,
            |c| get(format!("/fhir/Patient?identifier={}", c.person.nhs)),
            |c| c.gated(ViewRecord, &format!("200 {}", c.hit())),
        ),
        // The administrator's feed pages; the forms name nothing that exists, so nothing
        // changes.
        "GET /admin/sources/new" => once(
            |_| get("/admin/sources/new".into()),
            |c| c.gated(ManageSources, "200"),
        ),
        "GET /admin/sources/<code>/edit" => once(
            |_| get("/admin/sources/WGH-PAS/edit".into()),
            |c| c.gated(ManageSources, "200"),
        ),
        "POST /admin/sources" => once(
            |c| with_csrf("/admin/sources".into(), c, &[]),
            |c| c.gated(ManageSources, "422"),
        ),
        "GET /admin/feeds" => once(
            |_| get("/admin/feeds".into()),
            |c| c.gated(ManageSources, "200"),
        ),
        "GET /admin/feeds/<code>" => once(
            |_| get("/admin/feeds/WGH-PAS".into()),
            |c| c.gated(ManageSources, "200"),
        ),
        "GET /admin/files/<id>" => once(
            |_| get("/admin/files/1".into()),
            |c| c.gated(ManageSources, "200"),
        ),
        "POST /admin/files/<id>/replay" => once(
            |c| with_csrf(format!("/admin/files/{MISSING_ID}/replay"), c, &[]),
            |c| c.gated(ManageSources, "404"),
        ),
        "POST /admin/files/<id>/discard" => once(
            |c| {
                let path = format!("/admin/files/{MISSING_ID}/discard");
                with_csrf(path, c, &[("note", "test")])
            },
            |c| c.gated(ManageSources, "404"),
        ),
        "GET /admin/rejects/<id>" => once(
            |_| get(format!("/admin/rejects/{MISSING_ID}")),
            |c| c.gated(ManageSources, "404"),
        ),
        "POST /admin/rejects/<id>/replay" => once(
            |c| with_csrf(format!("/admin/rejects/{MISSING_ID}/replay"), c, &[]),
            |c| c.gated(ManageSources, "404"),
        ),
        "POST /admin/rejects/<id>/discard" => once(
            |c| {
                let path = format!("/admin/rejects/{MISSING_ID}/discard");
                with_csrf(path, c, &[("note", "test")])
            },
            |c| c.gated(ManageSources, "404"),
        ),
        // The matching review pages (demographics only).
        "GET /review/" => once(
            |_| get("/review/".into()),
            |c| c.gated(ReviewMatches, "200"),
        ),
        "GET /review/<id>" => once(
            |_| get(format!("/review/{MISSING_ID}")),
            |c| c.gated(ReviewMatches, "404"),
        ),
        "POST /review/<id>/link" => once(
            |c| with_csrf(format!("/review/{MISSING_ID}/link"), c, &[]),
            |c| c.gated(ReviewMatches, "404"),
        ),
        "POST /review/<id>/reject" => once(
            |c| with_csrf(format!("/review/{MISSING_ID}/reject"), c, &[]),
            |c| c.gated(ReviewMatches, "404"),
        ),
        "GET /review/person/<id>/unmerge" => per_person(
            |c| get(format!("/review/person/{}/unmerge", c.person.id)),
            |c| {
                let found = c.exists() && c.person.unmergeable;
                c.gated(ReviewMatches, if found { "200" } else { "404" })
            },
        ),
        "POST /review/person/<id>/unmerge" => per_person(
            // Only with nothing to undo does the form carry the real token, so nothing moves.
            |c| {
                let path = format!("/review/person/{}/unmerge", c.person.id);
                if c.exists() && c.person.unmergeable {
                    (path, vec![("csrf", "forged".into())])
                } else {
                    with_csrf(path, c, &[])
                }
            },
            |c| {
                let undoable = c.exists() && c.person.unmergeable;
                c.gated(ReviewMatches, if undoable { "403" } else { "404" })
            },
        ),
        _ => return None,
    };
    Some(s)
}

fn claim_form(c: &Case, action: &str) -> (String, Form) {
    let path = format!("/person/{}/{action}", c.person.id);
    if action == "break-glass" {
        let reason = "Unconscious in the emergency department";
        with_csrf(
            path,
            c,
            &[
                ("reason_code", "emergency-care"),
                ("reason", reason),
                ("password", PASSWORD),
            ],
        )
    } else {
        let reason = "Seeing them in clinic today";
        with_csrf(
            path,
            c,
            &[("reason_code", "direct-care"), ("reason", reason)],
        )
    }
}

/// Every route as `METHOD /path` (with its parameters), in the order the server mounts them.
fn route_keys() -> Vec<(String, reqwest::Method)> {
    let mut keys = Vec::new();
    for (routes, base, _) in sharedcare::web::routes() {
        for route in routes {
            let path = format!("{}{}", base.trim_end_matches('/'), route.uri.path());
            let path = if path.is_empty() {
                "/".to_owned()
            } else {
                path
            };
            let method: reqwest::Method = route.method.as_str().parse().unwrap();
            keys.push((format!("{} {path}", route.method), method));
        }
    }
    keys
}

/// Reads a response into the outcome the table compares.
fn outcome(read: Read, r: reqwest::blocking::Response) -> String {
    let status = r.status().as_u16();
    if status != 200 {
        return status.to_string();
    }
    let body = r.text().unwrap();
    let detail = match read {
        Read::Status => return "200".into(),
        Read::SearchRows => {
            if body.contains("class=\"no-relationship\"") {
                "identity"
            } else if body.contains("<table id=\"results\">") {
                "full"
            } else {
                "none"
            }
        }
        Read::Bundle => {
            let b: serde_json::Value = serde_json::from_str(&body).unwrap();
            if b["total"].as_u64().unwrap_or(0) > 0 {
                "entries"
            } else {
                "empty"
            }
        }
        Read::PatientSearch => {
            let b: serde_json::Value = serde_json::from_str(&body).unwrap();
            match b["entry"].as_array().and_then(|e| e.first()) {
                None => "none",
                Some(e) if e["resource"].get("address").is_some() => "full",
                Some(_) => "identity",
            }
        }
    };
    format!("200 {detail}")
}

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
    let r = env.run(&[
        "demo",
        "--from",
        repo().join("sample-feeds").to_str().unwrap(),
    ]);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
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
        Person {
            id,
            nhs: nhs.to_owned(),
            unmergeable: store.unmerge_preview(id).unwrap().is_some(),
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

#[test]
fn no_access_reads_the_same_for_an_unrelated_person_and_for_no_one() {
    let env = Env::new();
    let r = env.run(&[
        "demo",
        "--from",
        repo().join("sample-feeds").to_str().unwrap(),
    ]);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
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
            let real = refusal(&c, &url(unrelated), unrelated);
            let none = refusal(&c, &url(MISSING_ID), MISSING_ID);
            assert!(real.0 == 403 || real.0 == 404, "{user} {path}: {}", real.0);
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
