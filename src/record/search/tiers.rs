//! Who a query finds, best first, asked of the person index one tier at a time: the NHS number;
//! then the name words as whole words, then as prefixes; and only when those fill less than a
//! page, names that sound alike, then names spelt a few letters differently. Every tier's
//! index query carries the query's date or year of birth, sex and postcode as well, so the index
//! answers it alone and no tier reads more people than it may list.

use super::{similar, Query, PAGE};
use crate::error::Result;
use crate::store::find_terms::{
    date_token, index_word, postcode_token, sex_token, sound_token, typed_terms, year_token,
};
use crate::store::Store;

/// How well a person matched; lower is better, and results are listed in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tier {
    NhsNumber,
    ExactNameAndBirthDate,
    ExactName,
    NamePrefix,
    SoundsLike,
    Misspelt,
    /// A search by date of birth or postcode alone: no name to rank by.
    Facts,
}

/// The most people the misspelling fallback checks letter by letter.
const MISSPELT_CANDIDATES: usize = 500;

/// Up to `want` people for the query, in tier order (lowest id first within a tier).
pub fn candidates(store: &Store, q: &Query, want: usize) -> Result<Vec<(i64, Tier)>> {
    let mut out: Vec<(i64, Tier)> = Vec::new();
    if let Some(nhs) = &q.nhs_number {
        out.extend(
            store
                .find_by_nhs_number(nhs)?
                .into_iter()
                .map(|h| (h.id, Tier::NhsNumber)),
        );
        out.truncate(want);
        return Ok(out);
    }
    let facts = facts(q);
    let words = typed_terms(&q.names);
    if words.is_empty() {
        if let Some(f) = &facts {
            // A year or sex alone is not a search (see `Query::is_searchable`).
            if q.birth_date.is_some() || q.postcode.is_some() {
                add(&mut out, store.find_people(f, want)?, Tier::Facts, want);
            }
        }
        return Ok(out);
    }
    let exact = names(&words, false);
    let prefix = names(&words, true);
    let exact_tier = if q.birth_date.is_some() {
        Tier::ExactNameAndBirthDate
    } else {
        Tier::ExactName
    };
    let found = store.find_people(&and(&exact, facts.as_deref()), want)?;
    add(&mut out, found, exact_tier, want);
    if out.len() < want {
        let expr = not(&and(&prefix, facts.as_deref()), &exact);
        add(
            &mut out,
            store.find_people(&expr, want)?,
            Tier::NamePrefix,
            want,
        );
    }
    // A page of the first pass, or all that was asked for (a smaller page), needs no fallback.
    if out.len() >= PAGE.min(want) {
        return Ok(out);
    }
    // Fewer than a page: the fallbacks.
    let sounds = sounds(&words);
    let expr = not(&and(&sounds, facts.as_deref()), &prefix);
    add(
        &mut out,
        store.find_people(&expr, want)?,
        Tier::SoundsLike,
        want,
    );
    if out.len() < want {
        // With a date of birth, everyone born that day; otherwise names sharing the typed
        // words' first letters. Each is then checked letter by letter.
        let pool = match (&facts, q.birth_date) {
            (Some(f), Some(_)) => not(f, &sounds),
            _ => not(&and(&initials(&words), facts.as_deref()), &sounds),
        };
        let ids = store.find_people(&pool, MISSPELT_CANDIDATES)?;
        let close: Vec<i64> = store
            .search_people(&ids)?
            .iter()
            .filter(|p| similar::fits(&q.names, p))
            .map(|p| p.id)
            .collect();
        add(&mut out, close, Tier::Misspelt, want);
    }
    Ok(out)
}

fn add(out: &mut Vec<(i64, Tier)>, ids: Vec<i64>, tier: Tier, want: usize) {
    for id in ids {
        if out.len() >= want {
            return;
        }
        if !out.iter().any(|(o, _)| *o == id) {
            out.push((id, tier));
        }
    }
}

/// A token as an FTS5 string, kept to what the index holds as one word (see [`index_word`]).
fn quoted(token: &str) -> String {
    format!("\"{}\"", index_word(token))
}

/// A typed name term found by the names column: any of its ways, each way's words whole or
/// (the last of them) as a prefix.
fn term(ways: &[Vec<String>], prefix: bool) -> String {
    let each: Vec<String> = ways
        .iter()
        .map(|way| {
            let last = way.len().saturating_sub(1);
            let words: Vec<String> = way
                .iter()
                .enumerate()
                .map(|(i, w)| {
                    if prefix && i == last {
                        format!("{} *", quoted(w))
                    } else {
                        quoted(w)
                    }
                })
                .collect();
            format!("({})", words.join(" AND "))
        })
        .collect();
    format!("({})", each.join(" OR "))
}

/// Every typed term in the names column.
fn names(terms: &[Term], prefix: bool) -> String {
    let each: Vec<String> = terms.iter().map(|t| term(t, prefix)).collect();
    format!("names : ({})", each.join(" AND "))
}

/// Every typed term as a prefix of a name or sounding like one.
fn sounds(terms: &[Term]) -> String {
    let each: Vec<String> = terms
        .iter()
        .map(|t| {
            let prefix = format!("names : {}", term(t, true));
            match t.last().and_then(|way| sound_token(&way.concat())) {
                Some(s) => format!("({prefix} OR sounds : {})", quoted(&s)),
                None => prefix,
            }
        })
        .collect();
    each.join(" AND ")
}

/// Names starting with the first letters of every typed term (three, or two of a short one).
fn initials(terms: &[Term]) -> String {
    let each: Vec<String> = terms
        .iter()
        .map(|t| {
            let joined = t.last().map(|way| way.concat()).unwrap_or_default();
            let n = if joined.chars().count() >= 5 { 3 } else { 2 };
            let start: String = joined.chars().take(n).collect();
            format!("{} *", quoted(&start))
        })
        .collect();
    format!("names : ({})", each.join(" AND "))
}

/// One typed name term: the ways it may be found (see [`typed_terms`]).
type Term = Vec<Vec<String>>;

/// What the query narrows by, as index tokens; `None` when it has none.
fn facts(q: &Query) -> Option<String> {
    let mut tokens = Vec::new();
    if let Some(d) = q.birth_date {
        tokens.push(date_token(d));
    } else if let Some(y) = q.birth_year {
        tokens.push(year_token(y));
    }
    if let Some(s) = q.sex {
        tokens.push(sex_token(s));
    }
    if let Some(p) = &q.postcode {
        // An outward code alone is the whole district.
        tokens.push(if p.outward {
            format!("pc{}", p.key.to_lowercase())
        } else {
            postcode_token(&p.key, false)
        });
    }
    (!tokens.is_empty()).then(|| {
        let quoted: Vec<String> = tokens.iter().map(|t| quoted(t)).collect();
        format!("facts : ({})", quoted.join(" AND "))
    })
}

fn and(expr: &str, facts: Option<&str>) -> String {
    match facts {
        Some(f) => format!("({expr}) AND ({f})"),
        None => expr.to_owned(),
    }
}

fn not(expr: &str, without: &str) -> String {
    format!("({expr}) NOT ({without})")
}
