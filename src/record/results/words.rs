//! Results in words: flags, values, ranges and statuses as a clinician reads them, and the
//! fields of one result in reading order (value and unit, range, flag, then the rest).

use super::units;
use crate::model::entry::LabResult;
use crate::record::view::Detail;

/// An abnormal flag (HL7 table 0078, FHIR ObservationInterpretation) in words; `None` when
/// normal or absent.
pub fn flag_words(flag: &str) -> Option<String> {
    let words = match flag.trim().to_ascii_uppercase().as_str() {
        "" | "N" | "NORMAL" => return None,
        "H" | "HIGH" => "High",
        "L" | "LOW" => "Low",
        "HH" | ">" | "HU" | "CRITICAL HIGH" => "Critically high",
        "LL" | "<" | "LU" | "CRITICAL LOW" => "Critically low",
        "A" | "ABNORMAL" => "Abnormal",
        "AA" => "Critically abnormal",
        "POS" => "Positive",
        "NEG" => return None,
        "DET" => "Detected",
        "S" => "Susceptible",
        "R" => "Resistant",
        "I" => "Intermediate",
        other => return Some(format!("Abnormal ({other})")),
    };
    Some(words.to_owned())
}

/// Whether the flag words mean the value is critical: those come first in the summary.
pub fn is_critical(words: &str) -> bool {
    words.starts_with("Critically")
}

/// A result status in words, `None` for a final result (the usual case says nothing).
pub fn status_words(status: Option<&str>) -> Option<String> {
    let s = status?.trim().to_lowercase();
    match s.as_str() {
        "" | "final" | "f" => None,
        "entered-in-error" => Some("Entered in error".into()),
        "preliminary" | "registered" | "partial" => Some(format!("{} (not final)", capital(&s))),
        other => Some(capital(&other.replace('-', " "))),
    }
}

/// Whether a result with this status must not be read as a value (not plotted, not summarised).
pub fn is_withdrawn(status: Option<&str>) -> bool {
    status.is_some_and(|s| {
        matches!(
            s.trim().to_lowercase().as_str(),
            "entered-in-error" | "cancelled" | "canceled"
        )
    })
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// `4.1`, `98`, `0.088`: a number without trailing zeros.
pub fn number_text(v: f64) -> String {
    let s = format!("{v:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// A converted number: to the test's decimal places, else three significant figures.
pub fn converted_text(v: f64, decimals: Option<usize>) -> String {
    match decimals {
        Some(d) => format!("{v:.d$}"),
        None => {
            let magnitude = if v == 0.0 {
                0
            } else {
                v.abs().log10().floor() as i32
            };
            let d = (2 - magnitude).clamp(0, 6) as usize;
            format!("{v:.d$}")
        }
    }
}

/// The value as the laboratory sent it, without a unit the source folded into the text
/// (`47 g/L` from a FHIR quantity), with the unit in words after it.
pub fn value_with_unit(r: &LabResult) -> String {
    let unit = r.unit.as_deref().map(units::display).unwrap_or_default();
    let value = r.value.as_deref().map(str::trim).unwrap_or_default();
    let value = match (r.numeric, value.split_once(' ')) {
        (Some(_), Some((number, rest)))
            if r.unit.as_deref().is_some_and(|u| units::same(rest, u)) =>
        {
            number
        }
        _ => value,
    };
    match (value.is_empty(), unit.is_empty()) {
        (true, _) => "no value".into(),
        (false, true) => value.to_owned(),
        (false, false) => format!("{value} {unit}"),
    }
}

/// The reference range with its unit in words: `115-165 g/L`, `<5 mg/L`.
pub fn range_text(r: &LabResult) -> Option<String> {
    let range = r
        .reference_range
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())?;
    let unit = r.unit.as_deref().map(units::display).unwrap_or_default();
    let has_unit = range.chars().any(|c| c.is_alphabetic() || c == '%');
    Some(if has_unit || unit.is_empty() {
        range.to_owned()
    } else {
        format!("{range} {unit}")
    })
}

/// A result's fields in reading order, for the record page: value and unit, range, flag,
/// then the order it came under, the specimen and any comment.
pub fn details(r: &LabResult) -> Vec<Detail> {
    let detail = |label: &str, value: String| Detail {
        label: label.to_owned(),
        value,
    };
    let mut out = Vec::new();
    if r.value.is_some() {
        out.push(detail("Value", value_with_unit(r)));
    }
    if let Some(range) = range_text(r) {
        out.push(detail("Reference range", range));
    }
    if let Some(flag) = r.abnormal_flag.as_deref().and_then(flag_words) {
        out.push(detail("Flag", flag));
    }
    if let Some(panel) = r.panel.clone().or_else(|| r.report.clone()) {
        out.push(detail("Requested as", panel));
    }
    if let Some(s) = &r.specimen {
        out.push(detail("Specimen", s.clone()));
    }
    if let Some(c) = &r.comment {
        out.push(detail("Comment", c.clone()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_words() {
        assert_eq!(flag_words("L").as_deref(), Some("Low"));
        assert_eq!(flag_words("h").as_deref(), Some("High"));
        assert_eq!(flag_words("HH").as_deref(), Some("Critically high"));
        assert_eq!(flag_words("N"), None);
        assert_eq!(flag_words(" "), None);
        assert_eq!(flag_words("W").as_deref(), Some("Abnormal (W)"));
    }

    #[test]
    fn a_fhir_value_does_not_repeat_its_unit() {
        let r = LabResult {
            value: Some("47 g/L".into()),
            numeric: Some(47.0),
            unit: Some("g/L".into()),
            ..LabResult::default()
        };
        assert_eq!(value_with_unit(&r), "47 g/L");
        let r = LabResult {
            value: Some("11.2".into()),
            numeric: Some(11.2),
            unit: Some("10*9/L".into()),
            reference_range: Some("4.0-11.0".into()),
            ..LabResult::default()
        };
        assert_eq!(value_with_unit(&r), "11.2 ×10⁹/L");
        assert_eq!(range_text(&r).as_deref(), Some("4.0-11.0 ×10⁹/L"));
    }

    #[test]
    fn converted_numbers_have_sensible_places() {
        assert_eq!(converted_text(88.42, Some(0)), "88");
        assert_eq!(converted_text(0.088512, None), "0.0885");
        assert_eq!(converted_text(123.4, None), "123");
        assert_eq!(number_text(4.10), "4.1");
    }

    #[test]
    fn the_record_shows_a_result_value_first_and_its_flag_in_words() {
        let r = LabResult {
            value: Some("98".into()),
            numeric: Some(98.0),
            unit: Some("g/L".into()),
            reference_range: Some("115-165".into()),
            abnormal_flag: Some("L".into()),
            ..LabResult::default()
        };
        let d = details(&r);
        let labels: Vec<&str> = d.iter().map(|d| d.label.as_str()).collect();
        assert_eq!(labels, ["Value", "Reference range", "Flag"]);
        assert_eq!(d[2].value, "Low");
    }
}
