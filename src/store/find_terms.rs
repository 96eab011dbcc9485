//! What the person search index holds for each person, and the same words made from what a user
//! types, so that both sides fold a name the same way.
//!
//! The index (`person_search_fts`, FTS5) has three columns of ready-made tokens:
//! - `names`: every word of every name any linked source gives the person (given and family,
//!   so a maiden name still finds them), folded as the matcher folds names (accents removed,
//!   `Mc` read as `mac`); a name with an apostrophe gives both the joined word and its pieces
//!   (`O'Brien`: `obrien`, `o`, `brien`); a name of several words gives each word and the words
//!   run together (`Armstrong-Jones`: `armstrong`, `jones`, `armstrongjones`; `ap Rhys`: `ap`,
//!   `rhys`, `aprhys`);
//! - `sounds`: the phonetic key of each of those words, for the sound-alike fallback;
//! - `facts`: what a query narrows by, as tokens: year (`y1954`) and date of birth
//!   (`d19540312`), sex (`sexfemale`), postcode district (`pcwx3`) and full postcode
//!   (`pkwx31ab`).
//!
//! A query is then one FTS5 expression: name-word prefixes and the facts together, answered by
//! the index alone.

use crate::matching::keys::{is_particle, name_key, name_words, phonetic, postcode_key};
use crate::model::{Demographics, Sex};
use chrono::{Datelike, NaiveDate};

/// The three columns of one person's index row.
#[derive(Default, PartialEq)]
pub struct FindDoc {
    pub names: String,
    pub sounds: String,
    pub facts: String,
}

/// The index row of a person: the golden record's facts, the names of every version of them.
pub fn doc<'a>(
    golden: &'a Demographics,
    versions: impl IntoIterator<Item = &'a Demographics>,
) -> FindDoc {
    let mut names: Vec<String> = Vec::new();
    let mut add_name = |n: &str| {
        for t in name_tokens(n) {
            if !names.contains(&t) {
                names.push(t);
            }
        }
    };
    for d in std::iter::once(golden).chain(versions) {
        d.given.iter().for_each(|g| add_name(g));
        if let Some(f) = &d.family {
            add_name(f);
        }
    }
    let mut sounds: Vec<String> = Vec::new();
    for n in &names {
        if let Some(s) = sound_token(n) {
            if !sounds.contains(&s) {
                sounds.push(s);
            }
        }
    }
    let mut facts = Vec::new();
    if let Some(b) = golden.birth_date {
        facts.push(year_token(b.year()));
        facts.push(date_token(b));
    }
    if let Some(s) = golden.sex {
        facts.push(sex_token(s));
    }
    if let Some(key) = golden.postcode().and_then(postcode_key) {
        facts.push(postcode_token(&key, true));
        facts.push(postcode_token(&key, false));
    }
    FindDoc {
        names: names.join(" "),
        sounds: sounds.join(" "),
        facts: facts.join(" "),
    }
}

/// The index words of one name as a source wrote it.
fn name_tokens(name: &str) -> Vec<String> {
    let mut out = name_words(name);
    if out.len() > 1 {
        out.push(name_key(name));
    }
    let unjoined = name.replace(['\'', '\u{2019}', '\u{2018}', '`', '\u{b4}'], " ");
    if unjoined != name {
        out.extend(name_words(&unjoined));
    }
    out.retain(|t| !t.is_empty());
    out
}

/// What the typed name words must find, one term per word: each term is a list of ways to
/// find it, each way a list of index words that must all be there. A word is folded as names
/// are (`Smith-Jones` is two words, `O'Brien` one); a particle and the word after it may be
/// two names or one (`ben smith`, `ap rhys`, `mac donald`), so both ways are offered.
pub fn typed_terms(names: &[String]) -> Vec<Vec<Vec<String>>> {
    let words: Vec<String> = names.iter().flat_map(|n| name_words(n)).collect();
    let mut terms = Vec::new();
    let mut i = 0;
    while let Some(word) = words.get(i) {
        match words.get(i + 1) {
            Some(next) if is_particle(word) => {
                terms.push(vec![
                    vec![word.clone(), next.clone()],
                    vec![format!("{word}{next}")],
                ]);
                i += 2;
            }
            _ => {
                terms.push(vec![vec![word.clone()]]);
                i += 1;
            }
        }
    }
    terms
}

/// The phonetic token of a folded name word.
/// British spellings Caverphone keeps apart are brought together first: a silent `h` after an
/// initial `T` (`Thomson`, `Tomson`) and a silent `p` between `m` and `s` or `t` (`Thompson`,
/// `Simpson`, `Sampson`).
pub fn sound_token(word: &str) -> Option<String> {
    let key = name_key(word);
    let key = match key.strip_prefix("th") {
        Some(rest) => format!("t{rest}"),
        None => key,
    };
    let key = key.replace("mps", "ms").replace("mpt", "mt");
    phonetic(&key).map(|p| format!("ph{}", p.to_lowercase()))
}

pub fn year_token(year: i32) -> String {
    index_word(&format!("y{year:04}"))
}

pub fn date_token(d: NaiveDate) -> String {
    index_word(&format!("d{}", d.format("%Y%m%d")))
}

pub fn sex_token(s: Sex) -> String {
    index_word(&format!("sex{}", s.as_str()))
}

/// `key` is upper case without spaces; `district` keeps only its outward code.
pub fn postcode_token(key: &str, district: bool) -> String {
    let key = key.to_lowercase();
    if district {
        let split = key.len().saturating_sub(3);
        index_word(&format!("pc{}", key.get(..split).unwrap_or("")))
    } else {
        index_word(&format!("pk{key}"))
    }
}

/// One index word as the index's tokenizer keeps it whole: it splits at any ASCII character
/// that is not a letter or digit, so a word holding one (the minus of a year before 1 AD typed
/// into the search box) would become a phrase, which this index cannot answer. A minus is
/// spelt `n`; anything else of the kind is dropped, on both the index and the query side.
pub fn index_word(word: &str) -> String {
    word.chars()
        .filter_map(|c| match c {
            '-' => Some('n'),
            c if c.is_ascii_alphanumeric() || !c.is_ascii() => Some(c),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Address;

    fn person(given: &[&str], family: &str) -> Demographics {
        Demographics {
            given: given.iter().map(|g| (*g).to_owned()).collect(),
            family: Some(family.into()),
            birth_date: NaiveDate::from_ymd_opt(1954, 3, 12),
            sex: Some(Sex::Female),
            address: Some(Address {
                postcode: Some("wx3 1ab".into()),
                ..Address::default()
            }),
            ..Demographics::default()
        }
    }

    #[test]
    fn names_are_folded_split_and_joined() {
        let d = person(&["Siân", "Mary"], "O'Brien");
        let maiden = person(&["Sian"], "ap Rhys");
        let double = person(&["Ann"], "Armstrong-Jones");
        let doc = doc(&d, [&maiden, &double]);
        let names: Vec<&str> = doc.names.split(' ').collect();
        for want in [
            "sian",
            "mary",
            "obrien",
            "o",
            "brien",
            "ap",
            "rhys",
            "aprhys",
            "armstrong",
            "jones",
            "armstrongjones",
        ] {
            assert!(names.contains(&want), "{want} not in {names:?}");
        }
        assert_eq!(
            doc.facts, "y1954 d19540312 sexfemale pcwx3 pkwx31ab",
            "facts come from the golden record"
        );
        assert!(doc.sounds.split(' ').all(|s| s.starts_with("ph")));
        let typed = |t: &str| typed_terms(&[t.to_owned()]);
        assert_eq!(typed("O'Brien"), [[["obrien"]]]);
        assert_eq!(typed("Smith-Jones"), [[["smith"]], [["jones"]]]);
        assert_eq!(typed("SIÂN"), [[["sian"]]]);
        assert_eq!(
            typed("ben smith"),
            [vec![vec!["ben", "smith"], vec!["bensmith"]]]
        );
    }

    #[test]
    fn regression_a_year_before_1_ad_is_one_index_word_not_a_phrase() {
        assert_eq!(year_token(-900), "yn900");
        let d = NaiveDate::from_ymd_opt(-900, 2, 19).unwrap();
        assert_eq!(date_token(d), "dn09000219");
        assert_eq!(index_word("pc\"w;x3"), "pcwx3");
    }

    #[test]
    fn thompson_sounds_like_its_misspellings() {
        let t = sound_token("thompson");
        for typed in ["Thomson", "Tomson", "Thompsen"] {
            assert_eq!(sound_token(&name_words(typed)[0]), t, "{typed}");
        }
    }
}
