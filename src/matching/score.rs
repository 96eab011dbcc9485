//! Field-by-field comparison of two sets of demographics, and the weight each outcome adds.
//!
//! Each field is compared on its own and gives one [`FieldScore`]: how far the two agree, the
//! weight that adds to the total, and a sentence a reviewer can read. The weights are the
//! table in the [`super`] module essay; the consts below are that table. A field missing on
//! either side scores zero: absence is not evidence.

use super::keys;
use crate::model::{Demographics, NhsNumberStatus, Sex};
use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use strsim::jaro_winkler;

const NHS_EQUAL_VERIFIED: f64 = 10.0;
const NHS_EQUAL_UNVERIFIED: f64 = 6.0;
const NHS_VERIFIED_CONFLICT: f64 = -20.0;
const NHS_UNVERIFIED_CONFLICT: f64 = -5.0;

const FAMILY_EXACT: f64 = 4.0;
const FAMILY_PART: f64 = 3.0;
const FAMILY_CLOSE: f64 = 2.5;
const FAMILY_SOUNDS_ALIKE: f64 = 1.0;
const FAMILY_DISAGREE: f64 = -3.0;
/// Jaro-Winkler at or above this is a spelling slip, not another name.
const FAMILY_JW_CLOSE: f64 = 0.92;
/// Below this, a shared phonetic code is only "sounds alike" (`Lee`/`Leigh`, but also `Law`).
const FAMILY_JW_PHONETIC: f64 = 0.8;

const GIVEN_EXACT: f64 = 3.0;
const GIVEN_CLOSE: f64 = 2.0;
const GIVEN_INITIAL: f64 = 1.0;
const GIVEN_DISAGREE: f64 = -4.0;
const GIVEN_JW_CLOSE: f64 = 0.9;

const BIRTH_EXACT: f64 = 5.0;
const BIRTH_CLOSE: f64 = 2.0;
const BIRTH_SAME_YEAR: f64 = 0.0;
const BIRTH_DISAGREE: f64 = -5.0;

const SEX_AGREE: f64 = 1.0;
const SEX_DISAGREE: f64 = -4.0;

const POSTCODE_EXACT: f64 = 3.0;
const POSTCODE_OUTWARD: f64 = 1.0;
const POSTCODE_DISAGREE: f64 = -0.5;

const ADDRESS_EXACT: f64 = 1.5;
const ADDRESS_CLOSE: f64 = 1.0;

/// Given names compared, at most; more is not a name.
const MAX_GIVEN_WORDS: usize = 8;
/// Address lines compared, at most.
const MAX_ADDRESS_LINES: usize = 4;

/// How far one field agrees between two records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Agreement {
    /// The same after normalisation.
    Exact,
    /// Almost certainly the same value written differently (typo, nickname, transposition).
    Close,
    /// Part of the value agrees (a shared outward code, one half of a double-barrelled name).
    Partial,
    /// Missing or unusable on at least one side: no evidence either way.
    Missing,
    /// Different values.
    Disagree,
}

impl Agreement {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Exact => "exact",
            Self::Close => "close",
            Self::Partial => "partial",
            Self::Missing => "missing",
            Self::Disagree => "disagree",
        }
    }
}

/// One field's part in a score.
#[derive(Clone, PartialEq, Serialize)]
pub struct FieldScore {
    /// `nhs_number`, `family`, `given`, `birth_date`, `sex`, `postcode` or `address`.
    pub field: &'static str,
    pub agreement: Agreement,
    pub weight: f64,
    /// For reviewers, stored with the decision; it quotes the values, so it is never logged.
    pub detail: String,
}

/// The total weight of evidence that two records are one person, and where it came from.
#[derive(Clone, PartialEq, Serialize)]
pub struct MatchScore {
    pub total: f64,
    pub fields: Vec<FieldScore>,
}

impl MatchScore {
    /// One line per field: name, agreement, weight, detail.
    pub fn explain(&self) -> String {
        self.fields
            .iter()
            .map(|f| {
                format!(
                    "{:<10} {:<8} {:>+6.1}  {}",
                    f.field,
                    f.agreement.as_str(),
                    f.weight,
                    f.detail
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The score of one field, by its name.
    pub fn field(&self, name: &str) -> Option<&FieldScore> {
        self.fields.iter().find(|f| f.field == name)
    }

    /// How one field agreed; `Missing` when it was not scored.
    pub fn agreement(&self, name: &str) -> Agreement {
        self.field(name).map_or(Agreement::Missing, |f| f.agreement)
    }
}

/// Redacted: the details quote names and dates. Agreements and weights are not patient data.
impl std::fmt::Debug for MatchScore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MatchScore({:+.1}", self.total)?;
        for field in &self.fields {
            write!(
                f,
                ", {} {} {:+.1}",
                field.field,
                field.agreement.as_str(),
                field.weight
            )?;
        }
        f.write_str(")")
    }
}

/// Redacted like [`MatchScore`].
impl std::fmt::Debug for FieldScore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "FieldScore({} {} {:+.1}, ***)",
            self.field,
            self.agreement.as_str(),
            self.weight
        )
    }
}

/// Scores how far `candidate` is the person `incoming` describes.
pub fn score(incoming: &Demographics, candidate: &Demographics) -> MatchScore {
    score_prepared(&Prepared::new(incoming), &Prepared::new(candidate))
}

/// One record's fields folded once, so that scoring it against many candidates repeats no
/// normalisation.
pub(super) struct Prepared<'a> {
    /// A number that passed its check digit, and whether the source verified it.
    nhs: Option<(&'a str, bool)>,
    family: Option<Family<'a>>,
    given: Vec<String>,
    given_raw: Vec<&'a str>,
    birth: Option<NaiveDate>,
    sex: Option<Sex>,
    postcode: Option<String>,
    address: Vec<String>,
    address_raw: Option<&'a str>,
}

struct Family<'a> {
    raw: &'a str,
    key: String,
    parts: Vec<String>,
    phonetic: Option<String>,
}

impl<'a> Prepared<'a> {
    pub(super) fn new(d: &'a Demographics) -> Self {
        let nhs = d.nhs_number.as_ref().and_then(|n| match n.status {
            NhsNumberStatus::Verified => Some((n.value.as_str(), true)),
            NhsNumberStatus::Unverified => Some((n.value.as_str(), false)),
            NhsNumberStatus::Invalid => None,
        });
        let family = d.family.as_deref().and_then(|raw| {
            let parts = keys::name_parts(raw);
            let key = parts.concat();
            (!key.is_empty()).then(|| Family {
                raw: raw.trim(),
                phonetic: keys::phonetic(&key),
                key,
                parts,
            })
        });
        let given: Vec<String> = d
            .given
            .iter()
            .flat_map(|g| keys::name_words(g))
            .take(MAX_GIVEN_WORDS)
            .collect();
        let lines = d
            .address
            .as_ref()
            .map(|a| a.lines.as_slice())
            .unwrap_or(&[]);
        Self {
            nhs,
            family,
            given,
            given_raw: d
                .given
                .iter()
                .map(|g| g.trim())
                .filter(|g| !g.is_empty())
                .collect(),
            birth: d.birth_date,
            sex: d.sex.filter(|s| *s != Sex::Unknown),
            postcode: d.postcode().and_then(keys::postcode_key),
            address: lines
                .iter()
                .take(MAX_ADDRESS_LINES)
                .map(|l| keys::address_key(l))
                .filter(|l| !l.is_empty())
                .collect(),
            address_raw: lines.iter().map(|l| l.trim()).find(|l| !l.is_empty()),
        }
    }

    /// The verified NHS number, if any.
    pub(super) fn trusted_nhs(&self) -> Option<&str> {
        self.nhs.and_then(|(n, verified)| verified.then_some(n))
    }
}

/// Two different verified NHS numbers: two people, whatever else agrees.
pub(super) fn verified_conflict(a: &Prepared<'_>, b: &Prepared<'_>) -> bool {
    matches!((a.trusted_nhs(), b.trusted_nhs()), (Some(x), Some(y)) if x != y)
}

pub(super) fn score_prepared(a: &Prepared<'_>, b: &Prepared<'_>) -> MatchScore {
    let mut family = compare_family(a, b);
    let mut given = compare_given(a, b);
    if family.agreement == Agreement::Disagree
        && matches!(given.agreement, Agreement::Disagree | Agreement::Partial)
        && names_swapped(a, b)
    {
        family = field(
            "family",
            Agreement::Close,
            FAMILY_CLOSE,
            "given and family names are swapped between the records".to_owned(),
        );
        given = field(
            "given",
            Agreement::Close,
            GIVEN_CLOSE,
            "given and family names are swapped between the records".to_owned(),
        );
    }
    let postcode = compare_postcode(a, b);
    let address = compare_address(a, b, postcode.agreement == Agreement::Disagree);
    let fields = vec![
        compare_nhs(a, b),
        family,
        given,
        compare_birth(a, b),
        compare_sex(a, b),
        postcode,
        address,
    ];
    MatchScore {
        total: fields.iter().map(|f| f.weight).sum(),
        fields,
    }
}

fn field(name: &'static str, agreement: Agreement, weight: f64, detail: String) -> FieldScore {
    FieldScore {
        field: name,
        agreement,
        weight,
        detail,
    }
}

fn missing(name: &'static str, what: &str) -> FieldScore {
    field(
        name,
        Agreement::Missing,
        0.0,
        format!("{what} missing on one side; not counted"),
    )
}

fn compare_nhs(a: &Prepared<'_>, b: &Prepared<'_>) -> FieldScore {
    const F: &str = "nhs_number";
    let (Some((x, xv)), Some((y, yv))) = (a.nhs, b.nhs) else {
        return missing(F, "a usable NHS number");
    };
    match (x == y, xv && yv) {
        (true, true) => field(
            F,
            Agreement::Exact,
            NHS_EQUAL_VERIFIED,
            "NHS number verified and equal".to_owned(),
        ),
        (true, false) => field(
            F,
            Agreement::Close,
            NHS_EQUAL_UNVERIFIED,
            "NHS numbers equal but not verified on both sides".to_owned(),
        ),
        (false, true) => field(
            F,
            Agreement::Disagree,
            NHS_VERIFIED_CONFLICT,
            "two different verified NHS numbers: two different people".to_owned(),
        ),
        (false, false) => field(
            F,
            Agreement::Disagree,
            NHS_UNVERIFIED_CONFLICT,
            "different NHS numbers (not verified on both sides)".to_owned(),
        ),
    }
}

fn compare_family(a: &Prepared<'_>, b: &Prepared<'_>) -> FieldScore {
    const F: &str = "family";
    let (Some(x), Some(y)) = (&a.family, &b.family) else {
        return missing(F, "family name");
    };
    let (xr, yr) = (x.raw, y.raw);
    if x.key == y.key {
        return field(F, Agreement::Exact, FAMILY_EXACT, format!("{xr} = {yr}"));
    }
    if let Some(shared) = x.parts.iter().find(|p| y.parts.contains(p)) {
        return field(
            F,
            Agreement::Partial,
            FAMILY_PART,
            format!("{xr} and {yr} share the part {shared}"),
        );
    }
    let jw = jaro_winkler(&x.key, &y.key);
    let same_sound = x.phonetic.is_some() && x.phonetic == y.phonetic;
    if jw >= FAMILY_JW_CLOSE || (same_sound && jw >= FAMILY_JW_PHONETIC) {
        let sound = if same_sound { ", same sound" } else { "" };
        return field(
            F,
            Agreement::Close,
            FAMILY_CLOSE,
            format!("{xr} ≈ {yr} (Jaro-Winkler {jw:.2}{sound})"),
        );
    }
    if same_sound {
        return field(
            F,
            Agreement::Partial,
            FAMILY_SOUNDS_ALIKE,
            format!("{xr} sounds like {yr} (Jaro-Winkler {jw:.2})"),
        );
    }
    field(
        F,
        Agreement::Disagree,
        FAMILY_DISAGREE,
        format!("{xr} ≠ {yr} (Jaro-Winkler {jw:.2})"),
    )
}

fn compare_given(a: &Prepared<'_>, b: &Prepared<'_>) -> FieldScore {
    const F: &str = "given";
    let (Some(x), Some(y)) = (a.given.first(), b.given.first()) else {
        return missing(F, "given name");
    };
    let (xr, yr) = (a.given_raw.join(" "), b.given_raw.join(" "));
    if x.chars().count() == 1 || y.chars().count() == 1 {
        // An initial agrees with many names; twins are often given the same one.
        return if x.chars().next() == y.chars().next() {
            field(
                F,
                Agreement::Partial,
                GIVEN_INITIAL,
                format!("{xr} and {yr}: only the initial can be compared, and it agrees"),
            )
        } else {
            field(
                F,
                Agreement::Disagree,
                GIVEN_DISAGREE,
                format!("{xr} ≠ {yr} (initials differ)"),
            )
        };
    }
    if x == y || a.given.concat() == b.given.concat() {
        return field(F, Agreement::Exact, GIVEN_EXACT, format!("{xr} = {yr}"));
    }
    if keys::are_nicknames(x, y) {
        return field(
            F,
            Agreement::Close,
            GIVEN_CLOSE,
            format!("{xr} ≈ {yr} (forms of one name)"),
        );
    }
    let jw = jaro_winkler(x, y);
    if jw >= GIVEN_JW_CLOSE {
        return field(
            F,
            Agreement::Close,
            GIVEN_CLOSE,
            format!("{xr} ≈ {yr} (Jaro-Winkler {jw:.2})"),
        );
    }
    // People are often known by a middle name, and feeds disagree about the order.
    let shared = a
        .given
        .iter()
        .find(|g| g.chars().count() > 1 && b.given.contains(g));
    if shared.is_some() {
        return field(
            F,
            Agreement::Close,
            GIVEN_CLOSE,
            format!("{xr} and {yr} share a given name in another position"),
        );
    }
    field(
        F,
        Agreement::Disagree,
        GIVEN_DISAGREE,
        format!("{xr} ≠ {yr} (Jaro-Winkler {jw:.2})"),
    )
}

/// Whether one record's family name is the other's first given name and vice versa.
fn names_swapped(a: &Prepared<'_>, b: &Prepared<'_>) -> bool {
    match (&a.family, &b.family, a.given.first(), b.given.first()) {
        (Some(af), Some(bf), Some(ag), Some(bg)) => af.key == *bg && bf.key == *ag,
        _ => false,
    }
}

fn compare_birth(a: &Prepared<'_>, b: &Prepared<'_>) -> FieldScore {
    const F: &str = "birth_date";
    let (Some(x), Some(y)) = (a.birth, b.birth) else {
        return missing(F, "birth date");
    };
    if x == y {
        return field(F, Agreement::Exact, BIRTH_EXACT, format!("{x} = {y}"));
    }
    if let Some(why) = birth_slip(x, y) {
        return field(
            F,
            Agreement::Close,
            BIRTH_CLOSE,
            format!("{x} ≈ {y} ({why})"),
        );
    }
    if x.year() == y.year() {
        return field(
            F,
            Agreement::Partial,
            BIRTH_SAME_YEAR,
            format!("{x} and {y}: same year only"),
        );
    }
    field(F, Agreement::Disagree, BIRTH_DISAGREE, format!("{x} ≠ {y}"))
}

/// A keying slip that turns one birth date into the other, if there is one. A slip in the
/// tens of the year is deliberately not one: 1950 and 1980 with the same day and month is as
/// likely a parent and child as a typo.
fn birth_slip(x: NaiveDate, y: NaiveDate) -> Option<&'static str> {
    let (same_y, same_m, same_d) = (
        x.year() == y.year(),
        x.month() == y.month(),
        x.day() == y.day(),
    );
    if same_y && x.day() == y.month() && x.month() == y.day() {
        return Some("day and month transposed");
    }
    if same_y && same_m && one_digit_apart(x.day(), y.day()) {
        return Some("one digit of the day differs");
    }
    if same_y && same_d && one_digit_apart(x.month(), y.month()) {
        return Some("one digit of the month differs");
    }
    let units_only = x.year().div_euclid(10) == y.year().div_euclid(10);
    if same_m && same_d && units_only {
        return Some("the last digit of the year differs");
    }
    None
}

/// Two-digit numbers differing in exactly one of their two digits.
fn one_digit_apart(a: u32, b: u32) -> bool {
    (a / 10 == b / 10) != (a % 10 == b % 10)
}

fn compare_sex(a: &Prepared<'_>, b: &Prepared<'_>) -> FieldScore {
    const F: &str = "sex";
    let (Some(x), Some(y)) = (a.sex, b.sex) else {
        return missing(F, "a known sex");
    };
    let (xs, ys) = (x.as_str(), y.as_str());
    if x == y {
        field(F, Agreement::Exact, SEX_AGREE, format!("{xs} = {ys}"))
    } else if x == Sex::Other || y == Sex::Other {
        field(
            F,
            Agreement::Missing,
            0.0,
            format!("{xs} and {ys}: recorded differently, not counted"),
        )
    } else {
        field(F, Agreement::Disagree, SEX_DISAGREE, format!("{xs} ≠ {ys}"))
    }
}

fn compare_postcode(a: &Prepared<'_>, b: &Prepared<'_>) -> FieldScore {
    const F: &str = "postcode";
    let (Some(x), Some(y)) = (&a.postcode, &b.postcode) else {
        return missing(F, "a real postcode");
    };
    let (xd, yd) = (keys::postcode_display(x), keys::postcode_display(y));
    if x == y {
        return field(F, Agreement::Exact, POSTCODE_EXACT, format!("{xd} = {yd}"));
    }
    let out = keys::outward(x);
    if out == keys::outward(y) {
        return field(
            F,
            Agreement::Partial,
            POSTCODE_OUTWARD,
            format!("{xd} and {yd} share the district {out}"),
        );
    }
    field(
        F,
        Agreement::Disagree,
        POSTCODE_DISAGREE,
        format!("{xd} ≠ {yd} (people move, so this weighs little)"),
    )
}

/// An agreeing first line counts only where the postcodes do not disagree: `1 High Street`
/// exists in every town.
fn compare_address(a: &Prepared<'_>, b: &Prepared<'_>, postcodes_differ: bool) -> FieldScore {
    const F: &str = "address";
    let (Some(x), Some(y)) = (a.address.first(), b.address.first()) else {
        return missing(F, "an address line");
    };
    let (xr, yr) = (a.address_raw.unwrap_or(""), b.address_raw.unwrap_or(""));
    let (agreement, weight, detail) = if x == y {
        (Agreement::Exact, ADDRESS_EXACT, format!("{xr} = {yr}"))
    } else if b.address.contains(x) || a.address.contains(y) {
        // One source puts a flat or house name on the first line and the other does not.
        (
            Agreement::Close,
            ADDRESS_CLOSE,
            format!("{xr} ≈ {yr} (one first line is among the other's lines)"),
        )
    } else {
        return field(
            F,
            Agreement::Disagree,
            0.0,
            format!("{xr} ≠ {yr} (not counted against: people move)"),
        );
    };
    if postcodes_differ {
        return field(
            F,
            agreement,
            0.0,
            format!("{detail}; the postcodes differ, so not counted"),
        );
    }
    field(F, agreement, weight, detail)
}
