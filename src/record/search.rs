//! The patient search box: what the words typed mean (an NHS number, a name, a date of birth, a
//! year, a postcode, or several at once), who they find, and why each person matched.
//!
//! Every term narrows: "smith 1954" is people called Smith born in 1954. An NHS number, a full
//! date of birth or a postcode can start a search on its own; a year or a sex ("female") only
//! narrows. Results come a page at a time, best first (see [`tiers`]); only the people on the
//! page are read.

use crate::error::Result;
use crate::model::{NhsNumber, Sex};
use crate::store::{SearchPerson, Store};
use chrono::NaiveDate;
pub use tiers::Tier;

/// How many people one page of results lists.
pub const PAGE: usize = 20;

/// What was understood in the search box.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    /// Ten digits, spaces removed (not necessarily a valid NHS number).
    pub nhs_number: Option<String>,
    /// Name words, lower case.
    pub names: Vec<String>,
    pub birth_date: Option<NaiveDate>,
    pub birth_year: Option<i32>,
    pub postcode: Option<Postcode>,
    pub sex: Option<Sex>,
    /// Words that fit none of the above.
    pub ignored: Vec<String>,
}

/// A postcode, upper case without spaces; `outward` when only the district (`WX3`) was given.
#[derive(Debug, Clone, PartialEq)]
pub struct Postcode {
    pub key: String,
    pub outward: bool,
}

impl Query {
    pub fn parse(text: &str) -> Self {
        let tokens: Vec<&str> = text
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|t| !t.is_empty())
            .collect();
        let mut q = Query::default();
        let mut i = 0;
        while let Some(&token) = tokens.get(i) {
            let rest = tokens.get(i..).unwrap_or_default();
            if let Some(d) = single_token_date(token) {
                q.birth_date = Some(d);
                i += 1;
            } else if let Some(d) = spelt_date(rest) {
                q.birth_date = Some(d);
                i += 3;
            } else if let Some((digits, used)) = nhs_digits(rest) {
                q.nhs_number = Some(digits);
                i += used;
            } else if let Some(year) = year(token) {
                q.birth_year = Some(year);
                i += 1;
            } else if let Some((postcode, used)) = postcode(rest) {
                q.postcode = Some(postcode);
                i += used;
            } else if let Some(sex) = sex(token) {
                q.sex = Some(sex);
                i += 1;
            } else if is_name_word(token) {
                q.names.push(token.to_lowercase());
                i += 1;
            } else {
                q.ignored.push(token.to_owned());
                i += 1;
            }
        }
        q
    }

    /// The kinds of term, for the audit trail (never the terms themselves): `name+dob`.
    pub fn kind(&self) -> String {
        let mut kinds = Vec::new();
        if self.nhs_number.is_some() {
            kinds.push("nhs-number");
        }
        if !self.names.is_empty() {
            kinds.push("name");
        }
        if self.birth_date.is_some() {
            kinds.push("dob");
        }
        if self.birth_year.is_some() {
            kinds.push("year");
        }
        if self.postcode.is_some() {
            kinds.push("postcode");
        }
        if self.sex.is_some() {
            kinds.push("sex");
        }
        if kinds.is_empty() {
            return "none".into();
        }
        kinds.join("+")
    }

    /// Whether the query can start a search (a year alone would list a whole generation).
    pub fn is_searchable(&self) -> bool {
        self.nhs_number.is_some()
            || !self.names.is_empty()
            || self.birth_date.is_some()
            || self.postcode.is_some()
    }
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// `12/03/1954`, `12-03-1954`, `12.03.1954`, `1954-03-12`.
fn single_token_date(t: &str) -> Option<NaiveDate> {
    let parts: Vec<&str> = t.split(['/', '-', '.']).collect();
    let [a, b, c] = parts.as_slice() else {
        return None;
    };
    let num = |s: &str| -> Option<u32> {
        (!s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let (a, b, c) = (num(a)?, num(b)?, num(c)?);
    if parts.first().is_some_and(|p| p.len() == 4) {
        NaiveDate::from_ymd_opt(i32::try_from(a).ok()?, b, c)
    } else if parts.get(2).is_some_and(|p| p.len() == 4) {
        NaiveDate::from_ymd_opt(i32::try_from(c).ok()?, b, a)
    } else {
        None
    }
}

/// `12 Mar 1954`, `12 March 1954`.
fn spelt_date(tokens: &[&str]) -> Option<NaiveDate> {
    let [day, month, year, ..] = tokens else {
        return None;
    };
    let day: u32 = day.parse().ok()?;
    let month = month.to_lowercase();
    let month = match month.trim_end_matches('.') {
        "sept" => "sep",
        m => m,
    };
    let m = MONTHS
        .iter()
        .position(|full| month.len() >= 3 && full.starts_with(month))?;
    if year.len() != 4 {
        return None;
    }
    NaiveDate::from_ymd_opt(year.parse().ok()?, u32::try_from(m).ok()? + 1, day)
}

/// Ten digits in one token or in consecutive all-digit tokens (`943 476 5919`).
fn nhs_digits(tokens: &[&str]) -> Option<(String, usize)> {
    let mut digits = String::new();
    for (n, t) in tokens.iter().enumerate() {
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.push_str(t);
        if digits.len() == 10 {
            return Some((digits, n + 1));
        }
        if digits.len() > 10 {
            return None;
        }
    }
    None
}

/// The words for a sex; a single letter stays an initial.
fn sex(t: &str) -> Option<Sex> {
    match t.to_lowercase().as_str() {
        "male" => Some(Sex::Male),
        "female" => Some(Sex::Female),
        _ => None,
    }
}

fn year(t: &str) -> Option<i32> {
    if t.len() != 4 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok().filter(|y| (1850..=2200).contains(y))
}

/// A full postcode in one or two tokens, or an outward code alone.
fn postcode(tokens: &[&str]) -> Option<(Postcode, usize)> {
    let first = tokens.first()?.to_ascii_uppercase();
    if let Some(second) = tokens.get(1) {
        let second = second.to_ascii_uppercase();
        if is_outward(&first) && is_inward(&second) {
            let key = format!("{first}{second}");
            return Some((
                Postcode {
                    key,
                    outward: false,
                },
                2,
            ));
        }
    }
    let n = first.len();
    if (5..=7).contains(&n) && first.is_ascii() {
        let (out, inward) = first.split_at(n - 3);
        if is_outward(out) && is_inward(inward) {
            return Some((
                Postcode {
                    key: first.clone(),
                    outward: false,
                },
                1,
            ));
        }
    }
    is_outward(&first).then_some((
        Postcode {
            key: first,
            outward: true,
        },
        1,
    ))
}

/// `A9`, `A99`, `A9A`, `AA9`, `AA99`, `AA9A`.
fn is_outward(s: &str) -> bool {
    let b = s.as_bytes();
    let letters = b.iter().take_while(|c| c.is_ascii_alphabetic()).count();
    let Some(rest) = b.get(letters..) else {
        return false;
    };
    (1..=2).contains(&letters)
        && matches!(rest, [d] | [d, _] if d.is_ascii_digit())
        && rest.iter().all(u8::is_ascii_alphanumeric)
}

/// `9AA`.
fn is_inward(s: &str) -> bool {
    matches!(s.as_bytes(), [d, a, b] if d.is_ascii_digit() && a.is_ascii_alphabetic() && b.is_ascii_alphabetic())
}

fn is_name_word(t: &str) -> bool {
    t.chars().any(char::is_alphabetic)
        && t.chars()
            .all(|c| c.is_alphabetic() || c == '\'' || c == '-' || c == '.')
}

/// One person found, with the reasons to show.
#[derive(Debug, Clone)]
pub struct Found {
    pub person: SearchPerson,
    pub reasons: Vec<String>,
    pub tier: Tier,
}

/// One page of a search's results.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub found: Vec<Found>,
    /// More people match than this page and those before it list.
    pub more: bool,
}

/// Runs a parsed query and returns page `page` (from 0) of its results. Only the people on that
/// page are read from the store.
pub fn run(store: &Store, q: &Query, page: usize) -> Result<Outcome> {
    run_sized(store, q, page, PAGE)
}

/// As [`run`], with pages of `size` people (1 to [`MAX_SIZE`]; the same ranking, so page 0 of
/// size 5 is the first five of page 0 of size 20). No page reaches past the
/// `(MAX_PAGE + 1) * PAGE` best matches: see [`last_page`].
pub fn run_sized(store: &Store, q: &Query, page: usize, size: usize) -> Result<Outcome> {
    let size = size.clamp(1, MAX_SIZE);
    let page = page.min(last_page(size));
    let listed = (page + 1) * size;
    let ranked = tiers::candidates(store, q, listed + 1)?;
    let more = ranked.len() > listed;
    let shown: Vec<(i64, Tier)> = ranked.into_iter().skip(page * size).take(size).collect();
    let ids: Vec<i64> = shown.iter().map(|(id, _)| *id).collect();
    let found = store
        .search_people(&ids)?
        .into_iter()
        .filter_map(|p| {
            let tier = shown.iter().find(|(id, _)| *id == p.id).map(|(_, t)| *t)?;
            explain(q, p, tier)
        })
        .collect();
    Ok(Outcome { found, more })
}

/// The last page a search offers: past it, a search needs another term.
pub const MAX_PAGE: usize = 49;

/// The most people one page lists when a caller chooses the size (FHIR `_count`).
pub const MAX_SIZE: usize = 100;

/// The last page (from 0) of `size` people a search offers: pages never reach past the
/// `(MAX_PAGE + 1) * PAGE` best matches.
pub fn last_page(size: usize) -> usize {
    ((MAX_PAGE + 1) * PAGE / size.clamp(1, MAX_SIZE)).saturating_sub(1)
}

/// The NHS number typed, when it fails its check digit (so the user can look again).
pub fn invalid_nhs_number(q: &Query) -> Option<String> {
    let n = q.nhs_number.as_ref()?;
    NhsNumber::parse(n).is_err().then(|| n.clone())
}

mod similar;
mod why;
use why::explain;
#[cfg(test)]
use why::name_reason;
#[cfg(test)]
mod tests;
mod tiers;
