//! Names spelt differently: with a full date of birth, the search also lists people born that
//! day whose surname is a few letters away from one typed (edit distance, not only sound:
//! "Thomson", "Tomson" and "Thompsen" all find THOMPSON). A typo in the surname must not hide
//! a record, least of all when a possible duplicate under the typed spelling is found instead.

use crate::store::SearchPerson;

/// How many letters (inserted, deleted, changed or swapped) a word may differ by: none for the
/// shortest words, where one letter makes another name, more for longer ones.
fn allowed_edits(word: &str) -> usize {
    match word.chars().count() {
        0..=3 => 0,
        4..=5 => 1,
        _ => 2,
    }
}

fn close(typed: &str, name: &str) -> bool {
    strsim::damerau_levenshtein(typed, name) <= allowed_edits(typed)
}

/// Whether the typed words fit the person with the surname spelt differently: one word is
/// close to a family name the person has (as the golden record or any source gives it), and
/// every other word starts or is close to one of their names.
pub fn fits(words: &[String], person: &SearchPerson) -> bool {
    let d = &person.demographics;
    let mut families: Vec<String> = d.family.iter().map(|f| f.to_lowercase()).collect();
    let mut names: Vec<String> = d.given.iter().map(|g| g.to_lowercase()).collect();
    for (given, family) in &person.source_names {
        families.extend(family.iter().map(|f| f.to_lowercase()));
        names.extend(given.iter().map(|g| g.to_lowercase()));
    }
    let families: Vec<String> = families
        .iter()
        .flat_map(|f| f.split([' ', '-']).map(str::to_owned).collect::<Vec<_>>())
        .filter(|f| !f.is_empty())
        .collect();
    names.extend(families.iter().cloned());
    let surname_close = words.iter().any(|w| families.iter().any(|f| close(w, f)));
    let every_word_fits = words.iter().all(|w| {
        names
            .iter()
            .any(|n| n.starts_with(w.as_str()) || close(w, n))
    });
    surname_close && every_word_fits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Demographics;

    fn thompson() -> SearchPerson {
        SearchPerson {
            id: 1,
            demographics: Demographics {
                family: Some("THOMPSON".into()),
                given: vec!["MARGARET".into(), "ELLEN".into()],
                ..Default::default()
            },
            source_names: vec![(vec!["Margaret".into()], Some("Thompson".into()))],
        }
    }

    fn words(text: &str) -> Vec<String> {
        text.split(' ').map(str::to_lowercase).collect()
    }

    #[test]
    fn surnames_a_few_letters_away_fit() {
        for typed in [
            "Margaret Thomson",
            "Tomson",
            "Thompsen",
            "marg thomsen",
            "Thompson",
        ] {
            assert!(fits(&words(typed), &thompson()), "{typed}");
        }
    }

    #[test]
    fn other_names_do_not() {
        for typed in ["John Thomson", "Tomkins", "Smith", "Margaret", "Thom"] {
            assert!(!fits(&words(typed), &thompson()), "{typed}");
        }
    }
}
