//! Reference ranges read as numbers, for the band on a trend chart: `115-165`, `4.0 - 11.0`,
//! `-2-2`, `<5`, `<=5`, `>60`, `35-50 g/L`. A shape not read here draws no band rather than a
//! wrong one.

use super::units::{self, Conversion};

/// The reference range as limits; one may be open (`<5` has no low limit).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Band {
    pub low: Option<f64>,
    pub high: Option<f64>,
}

impl Band {
    /// The band in another unit; `None` when the conversion would turn it over.
    pub fn converted(&self, c: &Conversion) -> Option<Self> {
        (c.factor > 0.0).then(|| Self {
            low: self.low.map(|v| c.apply(v)),
            high: self.high.map(|v| c.apply(v)),
        })
    }

    /// Whether `v` lies above the band (`Some(true)`), below it (`Some(false)`) or in it.
    pub fn outside(&self, v: f64) -> Option<bool> {
        if self.high.is_some_and(|h| v > h) {
            Some(true)
        } else if self.low.is_some_and(|l| v < l) {
            Some(false)
        } else {
            None
        }
    }
}

/// A plain decimal number with an optional leading minus sign.
fn number(s: &str) -> Option<f64> {
    let s = s.trim();
    let ok = !s.is_empty()
        && s.trim_start_matches('-')
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.')
        && s.bytes().any(|b| b.is_ascii_digit());
    ok.then(|| s.parse::<f64>().ok())
        .flatten()
        .filter(|v| v.is_finite())
}

/// Reads `text` as a range in `unit`. A trailing unit is allowed only when it is the result's
/// own unit: a range in another unit would put the band in the wrong place.
pub fn parse(text: &str, unit: Option<&str>) -> Option<Band> {
    let text = text.trim();
    let numeric_end = text
        .char_indices()
        .find(|(_, c)| c.is_alphabetic() || *c == '%' || *c == 'µ' || *c == '/')
        .map_or(text.len(), |(i, _)| i);
    let (limits, trailing) = text.split_at(numeric_end);
    let trailing = trailing.trim();
    if !trailing.is_empty() && !unit.is_some_and(|u| units::same(trailing, u)) {
        return None;
    }
    let limits = limits.trim();
    for (sign, above) in [
        ("<=", false),
        ("≤", false),
        ("<", false),
        (">=", true),
        ("≥", true),
        (">", true),
    ] {
        if let Some(rest) = limits.strip_prefix(sign) {
            let v = number(rest)?;
            return Some(if above {
                Band {
                    low: Some(v),
                    high: None,
                }
            } else {
                Band {
                    low: None,
                    high: Some(v),
                }
            });
        }
    }
    // `low-high`, where either may carry a minus sign: split at a hyphen that follows a digit.
    let bytes = limits.as_bytes();
    let split = (1..bytes.len()).find(|&i| {
        matches!(bytes.get(i), Some(b'-'))
            && bytes
                .get(..i)
                .and_then(|b| b.iter().rev().find(|c| **c != b' '))
                .is_some_and(|c| c.is_ascii_digit() || *c == b'.')
    });
    let (lo, hi) = match split {
        Some(i) => (limits.get(..i)?, limits.get(i + 1..)?),
        None => {
            let (lo, hi) = limits.split_once('–')?;
            (lo, hi)
        }
    };
    let (lo, hi) = (number(lo)?, number(hi)?);
    (lo < hi).then_some(Band {
        low: Some(lo),
        high: Some(hi),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(lo: f64, hi: f64) -> Option<Band> {
        Some(Band {
            low: Some(lo),
            high: Some(hi),
        })
    }

    #[test]
    fn ranges_in_the_shapes_labs_send() {
        assert_eq!(parse("115-165", Some("g/L")), both(115.0, 165.0));
        assert_eq!(parse(" 4.0 - 11.0 ", None), both(4.0, 11.0));
        assert_eq!(parse("35-50 g/L", Some("g/L")), both(35.0, 50.0));
        assert_eq!(parse("-2-2", Some("mmol/L")), both(-2.0, 2.0));
        assert_eq!(parse("-5--1", None), both(-5.0, -1.0));
        assert_eq!(parse("3.5–5.3", None), both(3.5, 5.3));
        assert_eq!(
            parse("<5", Some("mg/L")),
            Some(Band {
                low: None,
                high: Some(5.0)
            })
        );
        assert_eq!(
            parse(">=60", None),
            Some(Band {
                low: Some(60.0),
                high: None
            })
        );
    }

    #[test]
    fn shapes_not_understood_draw_no_band() {
        assert_eq!(parse("see report", None), None);
        assert_eq!(parse("165-115", None), None);
        assert_eq!(parse(">2-7.2", None), None);
        assert_eq!(parse("", None), None);
        assert_eq!(
            parse("3.5-5.5 mg/dL", Some("mmol/L")),
            None,
            "a range in another unit"
        );
    }

    #[test]
    fn a_band_converts_with_its_values() {
        let c = units::convert("g/dL", "g/L").unwrap();
        assert_eq!(
            parse("11.5-16.5", Some("g/dL")).and_then(|b| b.converted(&c)),
            both(115.0, 165.0)
        );
        assert_eq!(both(1.0, 2.0).unwrap().outside(3.0), Some(true));
        assert_eq!(both(1.0, 2.0).unwrap().outside(0.5), Some(false));
        assert_eq!(both(1.0, 2.0).unwrap().outside(1.5), None);
    }
}
