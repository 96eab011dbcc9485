//! The NHS number: ten digits whose last is a Modulus 11 check digit over the first nine.
//!
//! A number is only trusted for matching when it passes the check; one that fails is still kept
//! (as the source said it) but marked [`NhsNumberStatus::Invalid`] so it is never matched on.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A ten-digit NHS number whose check digit is correct.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NhsNumber(String);

/// Why a string is not an NHS number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NhsNumberError {
    #[error("an NHS number has 10 digits; this has {0}")]
    WrongLength(usize),
    #[error("an NHS number has only digits (spaces and dashes allowed between groups)")]
    NotDigits,
    #[error("the first nine digits give check value 10, which no NHS number can have")]
    CheckValueTen,
    #[error("the check digit is {found} but the first nine digits need {expected}")]
    WrongCheckDigit { expected: u32, found: u32 },
    #[error("a Scottish (CHI) number starts with a date of birth DDMMYY; this date is impossible")]
    ImpossibleChiDate,
}

/// How far a source vouches for the NHS number it sent (PDS verification status, simplified).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NhsNumberStatus {
    /// Passes the check digit and the source says it was traced and verified (or did not say).
    Verified,
    /// Passes the check digit but the source says it was not verified: kept, not matched on.
    Unverified,
    /// Fails the check digit: kept as the source sent it, never matched on.
    Invalid,
}

impl NhsNumberStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Verified => "verified",
            Self::Unverified => "unverified",
            Self::Invalid => "invalid",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "verified" => Some(Self::Verified),
            "unverified" => Some(Self::Unverified),
            "invalid" => Some(Self::Invalid),
            _ => None,
        }
    }
}

/// Which body issued a number, from the published ranges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NhsNumberRange {
    Unallocated,
    Scotland,
    NorthernIreland,
    EnglandWalesIom,
    Eire,
    /// 900 000 0000 – 999 999 9999: synthetic numbers for testing, never issued to people.
    Synthetic,
}

impl NhsNumber {
    /// Accepts digits with optional spaces or dashes between them, and checks the check digit.
    pub fn parse(input: &str) -> Result<Self, NhsNumberError> {
        let digits = standardise_loose(input)?;
        if digits.len() != 10 {
            return Err(NhsNumberError::WrongLength(digits.len()));
        }
        let expected = check_value(&digits[..9]).ok_or(NhsNumberError::NotDigits)?;
        if expected == 10 {
            return Err(NhsNumberError::CheckValueTen);
        }
        let found = digit(digits.as_bytes()[9]);
        if found != expected {
            return Err(NhsNumberError::WrongCheckDigit { expected, found });
        }
        if range_of(digits.parse().unwrap_or(0)) == NhsNumberRange::Scotland
            && !chi_date_is_real(&digits)
        {
            return Err(NhsNumberError::ImpossibleChiDate);
        }
        Ok(Self(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number as people read it: `943 476 5919`.
    pub fn formatted(&self) -> String {
        format!("{} {} {}", &self.0[..3], &self.0[3..6], &self.0[6..])
    }

    pub fn range(&self) -> NhsNumberRange {
        range_of(self.0.parse().unwrap_or(0))
    }

    pub fn is_test_number(&self) -> bool {
        self.range() == NhsNumberRange::Synthetic
    }
}

/// The range a ten-digit value falls in (boundaries as published for NHS number allocation).
pub fn range_of(value: u64) -> NhsNumberRange {
    match value {
        100_000_000..=3_112_999_999 => NhsNumberRange::Scotland,
        3_200_000_000..=3_999_999_999 => NhsNumberRange::NorthernIreland,
        4_000_000_000..=7_999_999_999 => NhsNumberRange::EnglandWalesIom,
        8_000_000_000..=8_999_999_999 => NhsNumberRange::Eire,
        9_000_000_000..=9_999_999_999 => NhsNumberRange::Synthetic,
        _ => NhsNumberRange::Unallocated,
    }
}

/// Modulus 11 check value of nine digits: 0–9 is the check digit, 10 means no valid number.
/// `None` when the input is not exactly nine ASCII digits.
pub fn check_value(nine: &str) -> Option<u32> {
    if nine.len() != 9 || !nine.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let sum: u32 = nine
        .bytes()
        .zip((2..=10).rev())
        .map(|(b, weight)| digit(b) * weight)
        .sum();
    Some(match 11 - sum % 11 {
        11 => 0,
        v => v,
    })
}

/// Strips spaces and dashes; returns an empty string when anything else is present.
pub fn standardise(input: &str) -> String {
    standardise_loose(input).unwrap_or_default()
}

fn standardise_loose(input: &str) -> Result<String, NhsNumberError> {
    let mut out = String::with_capacity(10);
    for c in input.trim().chars() {
        match c {
            '0'..='9' => out.push(c),
            ' ' | '-' => {}
            _ => return Err(NhsNumberError::NotDigits),
        }
    }
    Ok(out)
}

/// CHI numbers begin with the holder's date of birth as DDMMYY.
fn chi_date_is_real(digits: &str) -> bool {
    let part = |r: std::ops::Range<usize>| digits.get(r).and_then(|p| p.parse::<u32>().ok());
    match (part(0..2), part(2..4), part(4..6)) {
        (Some(d), Some(m), Some(y)) => {
            // The century is not encoded; 00 is taken as 2000, a leap year, so 29 Feb 00 is real.
            let year = if y == 0 { 2000 } else { 1900 + y as i32 };
            chrono::NaiveDate::from_ymd_opt(year, m, d).is_some()
        }
        _ => false,
    }
}

fn digit(b: u8) -> u32 {
    u32::from(b.saturating_sub(b'0'))
}

impl TryFrom<String> for NhsNumber {
    type Error = NhsNumberError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<NhsNumber> for String {
    fn from(n: NhsNumber) -> String {
        n.0
    }
}

impl fmt::Display for NhsNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.formatted())
    }
}

/// Redacted: an NHS number identifies a person and must not reach logs.
impl fmt::Debug for NhsNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NhsNumber(***{})", &self.0[7..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_spaced_and_rejects_wrong_check_digit() {
        assert_eq!(
            NhsNumber::parse("943 476 5919").unwrap().as_str(),
            "9434765919"
        );
        assert_eq!(
            NhsNumber::parse("9434765918"),
            Err(NhsNumberError::WrongCheckDigit {
                expected: 9,
                found: 8
            })
        );
        assert_eq!(
            NhsNumber::parse("000000006X"),
            Err(NhsNumberError::NotDigits)
        );
    }

    #[test]
    fn formats_three_three_four_and_redacts_debug() {
        let n = NhsNumber::parse("9434765919").unwrap();
        assert_eq!(n.to_string(), "943 476 5919");
        assert!(!format!("{n:?}").contains("943476"));
    }
}
