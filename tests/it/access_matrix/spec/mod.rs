//! What every route is asked and what the policy says it answers ([`spec`]), and how an
//! answer is read for the table.

mod citizen;
mod fhir;
mod records;
mod staff;

use super::case::Case;
use super::PASSWORD;

/// How a response is read into the outcome the table compares.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Read {
    /// The status code.
    Status,
    /// The search page: `200 full`, `200 identity` or `200 none` for its one person.
    SearchRows,
    /// A FHIR searchset: `200 entries` or `200 empty`.
    Bundle,
    /// A FHIR Patient search: `200 full` (with the address), `200 identity` or `200 none`.
    PatientSearch,
}

pub(crate) type Form = Vec<(&'static str, String)>;

/// What a route is asked and what the policy says it answers.
pub(crate) struct Spec {
    /// Asked about every person state (`true`), or once per role.
    pub(crate) per_person: bool,
    /// Changes what later requests see (grants): asked after every other request.
    pub(crate) changes: bool,
    /// A FHIR route: asked with the browser session and again with the user's API token.
    pub(crate) fhir: bool,
    pub(crate) read: Read,
    /// The path (with any query) and the form to post.
    pub(crate) request: fn(&Case) -> (String, Form),
    pub(crate) expect: fn(&Case) -> String,
}

pub(crate) fn get(path: String) -> (String, Form) {
    (path, Vec::new())
}

pub(crate) fn with_csrf(path: String, c: &Case, more: &[(&'static str, &str)]) -> (String, Form) {
    let mut form = vec![("csrf", c.csrf.to_owned())];
    form.extend(more.iter().map(|(k, v)| (*k, (*v).to_owned())));
    (path, form)
}

pub(crate) fn once(request: fn(&Case) -> (String, Form), expect: fn(&Case) -> String) -> Spec {
    Spec {
        per_person: false,
        changes: false,
        fhir: false,
        read: Read::Status,
        request,
        expect,
    }
}

pub(crate) fn per_person(
    request: fn(&Case) -> (String, Form),
    expect: fn(&Case) -> String,
) -> Spec {
    Spec {
        per_person: true,
        ..once(request, expect)
    }
}

pub(crate) fn fhir(
    read: Read,
    request: fn(&Case) -> (String, Form),
    expect: fn(&Case) -> String,
) -> Spec {
    Spec {
        fhir: true,
        read,
        ..per_person(request, expect)
    }
}

/// The policy of every route, by method and path as `web::routes()` mounts them.
pub(super) fn spec(key: &str) -> Option<Spec> {
    records::spec(key)
        .or_else(|| staff::spec(key))
        .or_else(|| fhir::spec(key))
        .or_else(|| citizen::spec(key))
}

pub(crate) fn claim_form(c: &Case, action: &str) -> (String, Form) {
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
pub(crate) fn route_keys() -> Vec<(String, reqwest::Method)> {
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
pub(crate) fn outcome(read: Read, r: reqwest::blocking::Response) -> String {
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
            } else if body.contains("<table id=\"results\"") {
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
