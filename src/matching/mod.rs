//! Who a record is about: deciding which golden person, if any, an incoming record describes.
//!
//! The NHS number is the spine. When a record arrives with a verified NHS number that a
//! golden person already holds, that is the answer ([`Outcome::Exact`]). Otherwise the store
//! fetches the persons that share any [`BlockingKeys`] with the record (birth date, postcode,
//! or phonetic surname with a birth date that could be a slip of the record's: same year, and a
//! month or day among the record's month and day — a date that agrees in its year only scores
//! nothing and can never link, and a region holds hundreds of such people for a common name),
//! and [`decide`] scores each one field by field in the Fellegi–Sunter
//! manner: every field adds a weight for agreement or subtracts one for disagreement, roughly
//! the log of how much likelier that outcome is for the same person than for two people. A
//! missing field adds nothing. Everything here is pure: no I/O, no SQL, no logging.
//!
//! A false merge (two people's records shown as one) is worse than a missed link (one person
//! split in two, which a reviewer can join later), so the weights and rules lean to caution.
//!
//! | field | exact | close | partial | disagree |
//! | --- | --- | --- | --- | --- |
//! | NHS number | +10 both verified, equal | +6 equal, not verified on both sides | — | −20 both verified; −5 otherwise |
//! | family name | +4 | +2.5 Jaro-Winkler ≥ 0.92, or same sound and ≥ 0.8 | +3 shares a part of a double-barrelled name; +1 same sound only | −3 |
//! | given name | +3 first names equal | +2 Jaro-Winkler ≥ 0.9, a short form (Bill/William), shared name in another position | +1 initial agrees | −4 |
//! | birth date | +5 | +2 day/month transposed, one digit of day or month, last digit of year | 0 same year only | −5 |
//! | sex | +1 | — | — | −4 (unknown, or "other" against male/female, is missing: 0) |
//! | postcode | +3 | — | +1 same outward code | −0.5 (people move) |
//! | address line 1 | +1.5 | +1 one first line among the other's lines | — | 0 |
//!
//! Where these differ from the obvious:
//! - A given-name disagreement is −4, not −2, so that same-sex twins (same surname, birth date,
//!   sex and address, different first names: 4 + 5 + 1 + 3 + 1.5 − 4 = 10.5) stay below
//!   [`PROBABLE`]. An initial alone is only +1 for the same reason: twins share initials.
//! - A birth-date slip in the tens of the year is a disagreement: 1950 and 1980 with the same
//!   day and month is a parent and child at one address as often as it is a typo.
//! - Address agreement counts only when the postcodes do not disagree; ZZ99 pseudo-postcodes
//!   (no fixed abode) are treated as missing.
//! - Given and family names swapped between records score as close on both.
//! - A family-name change (marriage) with given name, birth date and postcode agreeing scores
//!   −3 + 3 + 5 + 3 = 8 and more with sex and address: [`Outcome::Possible`], for review.
//!
//! The phonetic key is Caverphone 2 rather than Double Metaphone. Caverphone was built to
//! link names in New Zealand electoral rolls, whose names are overwhelmingly British and Irish,
//! and it gives one full-length code: Smith/Smyth/Smithe, Macdonald/McDonald,
//! Stephenson/Stevenson, Reid/Reed, Davies/Davis, Gray/Grey, Clark/Clarke and Foster/Forster
//! all agree. Double Metaphone agrees on most of those too, but truncates to four characters
//! (so McDonnell and Macdonald collide and the blocks grow) and gives two codes where the store
//! indexes one. `Mc` is folded to `mac` before the code is taken ([`name_key`]).
//!
//! Decision rules ([`decide`]): the best candidate is [`Outcome::Probable`] (linked, flagged)
//! when its total reaches [`PROBABLE`], it leads the runner-up by at least [`MARGIN`], its birth
//! date agrees exactly or closely, and it holds no verified NHS number different from a
//! verified incoming one. Otherwise, if the best total reaches [`POSSIBLE`], the outcome is
//! [`Outcome::Possible`]: nothing is linked and the candidates go to review. Otherwise
//! [`Outcome::None`]: a new person. Frequencies are not used (a `Smith` agreement weighs what a
//! rarer name's does); the birth-date requirement is what keeps common names in check.

pub(crate) mod keys;
mod score;
#[cfg(test)]
mod tests;

pub use keys::{blocking_keys, name_key, BlockingKeys};
pub use score::{score, Agreement, FieldScore, MatchScore};

use score::{score_prepared, verified_conflict, Prepared};
use serde::Serialize;

use crate::model::Demographics;

/// A total at or above this, with the other conditions in the module essay, links the record.
/// Reached by name, birth date and postcode all agreeing with at most small slips (a typo in
/// each of the names: 2.5 + 2 + 5 + 3 = 12.5), but not by exact names and postcode without a
/// birth date.
pub const PROBABLE: f64 = 12.0;
/// A total at or above this (and below a link) sends the candidates to review.
pub const POSSIBLE: f64 = 6.0;
/// How far the best candidate must lead the runner-up to be linked; closer than this, a
/// reviewer chooses.
pub const MARGIN: f64 = 3.0;
/// Candidates kept for review, at most.
const MAX_POSSIBLES: usize = 10;

/// What the matcher concluded about an incoming record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The verified NHS number is this person's.
    Exact(i64),
    /// Demographics agree strongly with this person and no one else: linked, flagged.
    Probable(i64),
    /// Some candidates might be this person: not linked; the possibles go to review.
    Possible,
    /// No candidate is close: a new person.
    None,
}

/// The outcome with its evidence.
#[derive(Debug, Clone, Serialize)]
pub struct MatchDecision {
    pub outcome: Outcome,
    /// The highest-scoring candidate, whatever the outcome (for `Exact`, the NHS match).
    pub best: Option<(i64, MatchScore)>,
    /// Every candidate scoring at least [`POSSIBLE`], best first, at most ten; empty for
    /// `Exact`. For `Probable` it includes the linked person.
    pub possibles: Vec<(i64, MatchScore)>,
}

/// Decides which of `candidates` (person id, golden demographics) the incoming record is
/// about. Ties are broken by the lower person id, so the decision does not depend on the order
/// the candidates come in.
pub fn decide(incoming: &Demographics, candidates: &[(i64, Demographics)]) -> MatchDecision {
    let inc = Prepared::new(incoming);
    if let Some(nhs) = inc.trusted_nhs() {
        let holder = candidates
            .iter()
            .filter(|(_, d)| d.nhs_number.as_ref().and_then(|n| n.trusted()) == Some(nhs))
            .min_by_key(|(id, _)| *id);
        if let Some((id, d)) = holder {
            return MatchDecision {
                outcome: Outcome::Exact(*id),
                best: Some((*id, score_prepared(&inc, &Prepared::new(d)))),
                possibles: Vec::new(),
            };
        }
    }

    let mut scored: Vec<(i64, MatchScore, bool)> = candidates
        .iter()
        .map(|(id, d)| {
            let cand = Prepared::new(d);
            let s = score_prepared(&inc, &cand);
            let linkable = !verified_conflict(&inc, &cand)
                && matches!(
                    s.agreement("birth_date"),
                    Agreement::Exact | Agreement::Close
                );
            (*id, s, linkable)
        })
        .collect();
    scored.sort_by(|a, b| b.1.total.total_cmp(&a.1.total).then(a.0.cmp(&b.0)));
    // A person listed twice must not be its own runner-up.
    let mut seen = std::collections::HashSet::new();
    scored.retain(|s| seen.insert(s.0));

    let runner_up = scored.get(1).map(|s| s.1.total);
    let outcome = match scored.first() {
        Some((id, s, true))
            if s.total >= PROBABLE && runner_up.is_none_or(|r| s.total - r >= MARGIN) =>
        {
            Outcome::Probable(*id)
        }
        Some((_, s, _)) if s.total >= POSSIBLE => Outcome::Possible,
        _ => Outcome::None,
    };
    let possibles = scored
        .iter()
        .filter(|s| s.1.total >= POSSIBLE)
        .take(MAX_POSSIBLES)
        .map(|(id, s, _)| (*id, s.clone()))
        .collect();
    MatchDecision {
        outcome,
        best: scored.into_iter().next().map(|(id, s, _)| (id, s)),
        possibles,
    }
}
