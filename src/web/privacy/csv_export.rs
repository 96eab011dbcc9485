//! Reports as CSV for a spreadsheet. Audit details hold text people typed (reasons, notes), and
//! a spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage
//! return before one) as a formula: every such cell is written with a leading `'`, which
//! spreadsheets show as text.

use crate::store::AuditRow;
use rocket::http::Header;
use rocket::Responder;

/// A CSV download.
#[derive(Responder)]
#[response(content_type = "text/csv")]
pub struct CsvFile {
    body: Vec<u8>,
    disposition: Header<'static>,
}

pub const HEADERS: [&str; 9] = [
    "time_utc", "actor", "role", "org", "action", "person", "detail", "outcome", "ip",
];

/// A cell as written: formula-looking text is made inert.
pub fn cell(text: &str) -> std::borrow::Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}").into()
    } else {
        text.into()
    }
}

/// Audit events as a CSV file named `name` (letters, digits, `-` and `.` only).
pub fn audit_csv(rows: &[AuditRow], name: &str) -> Result<CsvFile, crate::error::Error> {
    let failed = |e: csv::Error| crate::error::Error::Invalid(format!("writing CSV: {e}"));
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(HEADERS).map_err(failed)?;
    for r in rows {
        let person = r.person_id.map(|p| p.to_string()).unwrap_or_default();
        let text = |o: &Option<String>| o.clone().unwrap_or_default();
        let record = [
            r.at.clone(),
            text(&r.actor),
            text(&r.role),
            text(&r.org),
            r.action.clone(),
            person,
            text(&r.detail),
            r.outcome.clone(),
            text(&r.ip),
        ];
        w.write_record(record.iter().map(|c| cell(c).into_owned()))
            .map_err(failed)?;
    }
    let body = w
        .into_inner()
        .map_err(|e| crate::error::Error::Invalid(format!("writing CSV: {e}")))?;
    let name: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'))
        .collect();
    Ok(CsvFile {
        body,
        disposition: Header::new(
            "Content-Disposition",
            format!("attachment; filename=\"{name}\""),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_made_text_and_others_left_alone() {
        for bad in [
            "=cmd|' /C calc'!A0",
            "+1",
            "-2+3",
            "@SUM(A1)",
            "\t=1",
            "\r=1",
        ] {
            assert_eq!(cell(bad), format!("'{bad}"), "{bad:?}");
        }
        for good in [
            "PA-000001 direct-care: seen today",
            "2025-03-01T10:00:00Z",
            "",
            "a=b",
        ] {
            assert_eq!(cell(good), good);
        }
    }

    #[test]
    fn a_file_has_the_headers_and_escaped_quoted_cells() {
        let row = AuditRow {
            seq: 1,
            at: "2025-03-01T10:00:00Z".into(),
            actor: Some("clin".into()),
            role: Some("clinician".into()),
            org: Some("X99001".into()),
            action: "self-claim".into(),
            person_id: Some(7),
            detail: Some("=HYPERLINK(\"http://x\", \"a, b\")".into()),
            outcome: "ok".into(),
            ip: None,
        };
        let file = audit_csv(&[row], "report.csv").unwrap();
        let text = String::from_utf8(file.body).unwrap();
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some("time_utc,actor,role,org,action,person,detail,outcome,ip")
        );
        assert_eq!(
            lines.next(),
            Some("2025-03-01T10:00:00Z,clin,clinician,X99001,self-claim,7,\"'=HYPERLINK(\"\"http://x\"\", \"\"a, b\"\")\",ok,")
        );
    }
}
