//! Places: a person's postcode district (the outward code), the higher level it belongs to
//! from a lookup file the operator can replace (district → local authority), and the map's
//! shapes from a HexJSON boundary file. The demo's synthetic `WX` districts ship with both.

use crate::error::{Error, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

pub const SHIPPED_LOOKUP: &str = include_str!("areas.csv");
pub const SHIPPED_HEXES: &str = include_str!("areas.hexjson");

/// Where a district not in the lookup is counted at the higher level.
pub const OUTSIDE: &str = "outside";
/// The district of people with no usable postcode.
pub const UNKNOWN: &str = "unknown";

/// The postcode district of a full or partial postcode: "WX7 3AB" → "WX7"; none when the text
/// is not shaped like a UK postcode's outward code.
pub fn district(postcode: Option<&str>) -> String {
    let text = postcode.unwrap_or("").trim().to_uppercase();
    let outward = match text.split_whitespace().next() {
        Some(first) if text.contains(' ') => first.to_owned(),
        // "WX73AB": the inward code is always three characters.
        _ if text.len() >= 5 => text[..text.len() - 3].to_owned(),
        _ => String::new(),
    };
    let shaped = (2..=4).contains(&outward.len())
        && outward
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
        && outward.chars().all(|c| c.is_ascii_alphanumeric());
    if shaped {
        outward
    } else {
        UNKNOWN.into()
    }
}

/// District → (higher-level code, its name).
#[derive(Debug, Clone)]
pub struct Lookup {
    pub parents: BTreeMap<String, (String, String)>,
}

impl Lookup {
    pub fn load(path: Option<&Path>) -> Result<Self> {
        let text = match path {
            None => SHIPPED_LOOKUP.to_owned(),
            Some(p) => std::fs::read_to_string(p).map_err(|source| Error::Io {
                doing: "read the area lookup",
                path: p.to_path_buf(),
                source,
            })?,
        };
        let mut reader = csv::ReaderBuilder::new()
            .comment(Some(b'#'))
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let mut parents = BTreeMap::new();
        for (n, row) in reader.records().enumerate() {
            let row = row.map_err(|e| Error::Invalid(format!("area lookup row {}: {e}", n + 1)))?;
            let (Some(d), Some(code), Some(name)) = (row.get(0), row.get(1), row.get(2)) else {
                return Err(Error::Invalid(format!(
                    "area lookup row {}: needs district, code and name",
                    n + 1
                )));
            };
            parents.insert(d.to_uppercase(), (code.to_owned(), name.to_owned()));
        }
        Ok(Self { parents })
    }

    /// The higher-level area of a district, and its name.
    pub fn parent(&self, district: &str) -> (String, String) {
        self.parents
            .get(district)
            .cloned()
            .unwrap_or_else(|| (OUTSIDE.into(), "Outside the lookup".into()))
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Hex {
    pub q: i32,
    pub r: i32,
}

/// A HexJSON file: one hexagon per area, in offset coordinates.
#[derive(Debug, Clone, Deserialize)]
pub struct Hexes {
    pub layout: String,
    pub hexes: BTreeMap<String, Hex>,
}

impl Hexes {
    pub fn load(path: Option<&Path>) -> Result<Self> {
        let text = match path {
            None => SHIPPED_HEXES.to_owned(),
            Some(p) => std::fs::read_to_string(p).map_err(|source| Error::Io {
                doing: "read the map's boundary file",
                path: p.to_path_buf(),
                source,
            })?,
        };
        let hexes: Self = serde_json::from_str(&text)
            .map_err(|e| Error::Invalid(format!("the map's boundary file is not HexJSON: {e}")))?;
        if !matches!(
            hexes.layout.as_str(),
            "odd-r" | "even-r" | "odd-q" | "even-q"
        ) {
            return Err(Error::Invalid(format!(
                "HexJSON layout {:?}: use odd-r, even-r, odd-q or even-q",
                hexes.layout
            )));
        }
        Ok(hexes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn districts_come_from_the_outward_code() {
        assert_eq!(district(Some("wx7 3ab")), "WX7");
        assert_eq!(district(Some("WX173AB")), "WX17");
        assert_eq!(district(Some("")), UNKNOWN);
        assert_eq!(district(None), UNKNOWN);
        assert_eq!(district(Some("12 34")), UNKNOWN);
    }

    #[test]
    fn the_shipped_files_cover_the_demo_districts() {
        let lookup = Lookup::load(None).unwrap();
        let hexes = Hexes::load(None).unwrap();
        for n in 1..=19 {
            let d = format!("WX{n}");
            assert_ne!(lookup.parent(&d).0, OUTSIDE, "{d}");
            assert!(hexes.hexes.contains_key(&d), "{d}");
        }
    }
}
