//! Which entries are sensitive: a shipped, replaceable list of codes and words, plus anything
//! the source itself marked sensitive.

use crate::error::{Error, Result};
use crate::model::EntryDraft;
use serde::Deserialize;
use std::path::Path;

const SHIPPED: &str = include_str!("sensitive.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListFile {
    group: Vec<Group>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Group {
    name: String,
    label: String,
    #[serde(default)]
    codes: Vec<String>,
    #[serde(default)]
    words: Vec<String>,
}

/// The sensitive code list, ready to test entries against.
#[derive(Debug, Clone)]
pub struct SensitiveCodes {
    groups: Vec<Group>,
}

fn normalise_code(code: &str) -> String {
    code.chars()
        .filter(|c| !matches!(c, '.' | ' '))
        .flat_map(char::to_uppercase)
        .collect()
}

/// Whether `word` occurs in `hay` as a whole word; both already lower case.
fn contains_word(hay: &str, word: &str) -> bool {
    let boundary = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric());
    hay.match_indices(word).any(|(at, _)| {
        boundary(hay[..at].chars().next_back()) && boundary(hay[at + word.len()..].chars().next())
    })
}

impl SensitiveCodes {
    pub fn shipped() -> Result<Self> {
        Self::parse(SHIPPED, "the shipped sensitive-code list")
    }

    pub fn load(file: Option<&Path>) -> Result<Self> {
        match file {
            None => Self::shipped(),
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
                    doing: "read the sensitive-code list",
                    path: path.to_path_buf(),
                    source,
                })?;
                Self::parse(&text, &path.display().to_string())
            }
        }
    }

    pub fn parse(text: &str, origin: &str) -> Result<Self> {
        let mut file: ListFile =
            toml::from_str(text).map_err(|e| Error::Invalid(format!("{origin}: {e}")))?;
        // Matched case-insensitively against every entry a reader sees: prepared once here.
        for g in &mut file.group {
            g.codes = g.codes.iter().map(|c| normalise_code(c)).collect();
            g.words = g.words.iter().map(|w| w.to_lowercase()).collect();
        }
        Ok(Self { groups: file.group })
    }

    /// The group that makes `entry` sensitive (`source-marked` when the source said so), or
    /// `None` when it may be shown.
    pub fn classify(&self, entry: &EntryDraft) -> Option<&str> {
        if entry.sensitive {
            return Some("source-marked");
        }
        let code = entry.code.as_deref().map(normalise_code);
        let title = entry.title.to_lowercase();
        self.groups
            .iter()
            .find(|g| {
                let by_code = code.as_deref().is_some_and(|code| {
                    g.codes.iter().any(|listed| match listed.strip_suffix('*') {
                        Some(prefix) => code.starts_with(prefix),
                        None => code == listed,
                    })
                });
                by_code || g.words.iter().any(|w| contains_word(&title, w))
            })
            .map(|g| g.name.as_str())
    }

    /// The label people read for a group name.
    pub fn label(&self, group: &str) -> Option<&str> {
        self.groups
            .iter()
            .find(|g| g.name == group)
            .map(|g| g.label.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::entry::Problem;
    use crate::model::{Category, EntryBody};

    fn entry(code: Option<&str>, title: &str) -> EntryDraft {
        EntryDraft {
            source_ref: "r".into(),
            category: Category::Problem,
            code_system: None,
            code: code.map(str::to_owned),
            title: title.into(),
            status: None,
            start: None,
            end: None,
            recorded_at: None,
            sensitive: false,
            not_for_patient: false,
            body: EntryBody::Problem(Problem::default()),
        }
    }

    #[test]
    fn codes_words_and_source_marks_make_an_entry_sensitive() {
        let list = SensitiveCodes::shipped().unwrap();
        assert_eq!(
            list.classify(&entry(Some("A54.9"), "Infection")),
            Some("sexually-transmitted-infection")
        );
        assert_eq!(
            list.classify(&entry(None, "Letter from the sexual health clinic")),
            Some("sexually-transmitted-infection")
        );
        assert_eq!(
            list.classify(&entry(Some("Z31.2"), "x")),
            Some("assisted-conception")
        );
        assert_eq!(
            list.classify(&entry(None, "Referred for IVF")),
            Some("assisted-conception")
        );
        assert_eq!(
            list.classify(&entry(None, "Termination of pregnancy")),
            Some("termination-of-pregnancy")
        );
        assert_eq!(
            list.classify(&entry(Some("F64.0"), "x")),
            Some("gender-reassignment")
        );
        assert_eq!(list.classify(&entry(Some("I10"), "Hypertension")), None);
        // Whole words only: "archive" does not contain the word "HIV".
        assert_eq!(list.classify(&entry(None, "Archived letters")), None);
        assert_eq!(list.classify(&entry(None, "Shiva's note")), None);
        let mut marked = entry(None, "Clinic letter");
        marked.sensitive = true;
        assert_eq!(list.classify(&marked), Some("source-marked"));
        assert_eq!(
            list.label("gender-reassignment"),
            Some("Gender reassignment")
        );
    }
}
