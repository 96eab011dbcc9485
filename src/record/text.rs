//! A person's record as plain text for the terminal: banner first, then every category in
//! clinical order, each item with where it came from.

use super::PersonRecord;
use crate::model::{Category, NhsNumber, StoredEntry};
use std::fmt::Write;

pub fn render(r: &PersonRecord) -> String {
    let d = &r.demographics;
    let mut out = String::new();
    let nhs = d
        .nhs_number
        .as_ref()
        .map(|n| match NhsNumber::parse(&n.value) {
            Ok(p) => format!("{} ({})", p.formatted(), n.status.as_str()),
            Err(_) => format!("{} (invalid)", n.value),
        })
        .unwrap_or_else(|| "none".into());
    let _ = writeln!(
        out,
        "{}, {}   person {}",
        d.family.as_deref().unwrap_or("?").to_uppercase(),
        d.given.join(" "),
        r.person_id
    );
    let _ = writeln!(
        out,
        "NHS number {nhs}   born {}   {}",
        d.birth_date
            .map(|b| b.to_string())
            .unwrap_or_else(|| "unknown".into()),
        d.sex.map(|s| s.as_str()).unwrap_or("sex unknown")
    );
    if let Some(a) = &d.address {
        let mut parts = a.lines.clone();
        parts.extend(a.city.clone());
        parts.extend(a.postcode.clone());
        let _ = writeln!(out, "Address {}", parts.join(", "));
    }
    if let Some(gp) = &d.gp_practice {
        let _ = writeln!(
            out,
            "GP practice {gp} {}",
            d.gp_practice_name.as_deref().unwrap_or("")
        );
    }
    if d.deceased {
        let _ = writeln!(
            out,
            "DECEASED {}",
            d.death_date.map(|x| x.to_string()).unwrap_or_default()
        );
    }
    let sources: Vec<String> = r
        .sources
        .iter()
        .map(|s| format!("{} ({}, {})", s.source_code, s.local_id, s.link_kind))
        .collect();
    let _ = writeln!(out, "Sources {}", sources.join("; "));
    for category in Category::ALL {
        let items: Vec<&StoredEntry> = r
            .entries
            .iter()
            .filter(|e| e.entry.category == category)
            .collect();
        let _ = writeln!(out, "\n== {} ==", category.label());
        if items.is_empty() {
            let _ = writeln!(out, "  none recorded by {}", source_codes(r));
        }
        for e in items {
            let _ = writeln!(out, "  {}", line(e));
        }
    }
    out
}

fn source_codes(r: &PersonRecord) -> String {
    if r.sources.is_empty() {
        return "any source".into();
    }
    r.sources
        .iter()
        .map(|s| s.source_code.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn line(e: &StoredEntry) -> String {
    let x = &e.entry;
    let mut s = x.title.clone();
    if let Some(st) = &x.status {
        let _ = write!(s, " [{st}]");
    }
    match (&x.start, &x.end) {
        (Some(a), Some(b)) => {
            let _ = write!(s, " {a} – {b}");
        }
        (Some(a), None) => {
            let _ = write!(s, " from {a}");
        }
        _ => {}
    }
    if let Ok(serde_json::Value::Object(body)) = serde_json::to_value(&x.body) {
        let details: Vec<String> = body
            .iter()
            .filter(|(k, _)| k.as_str() != "type")
            .map(|(k, v)| match v {
                serde_json::Value::String(t) => format!("{k}: {t}"),
                other => format!("{k}: {other}"),
            })
            .collect();
        if !details.is_empty() {
            let _ = write!(s, "\n      {}", details.join("; "));
        }
    }
    let p = &e.provenance;
    let _ = write!(
        s,
        "\n      from {} ({}), {}, received {}",
        p.source_name,
        p.organisation,
        p.file_name.as_deref().unwrap_or("unknown file"),
        p.received_at
    );
    s
}
