//! The lab code table: which local laboratory codes and names mean the same test, under one
//! common code, in which unit that test is trended, and which panel it belongs to.
//!
//! Laboratories name the same test differently (`HB`, `HGB`, SNOMED CT 1022431000000105, LOINC
//! 718-7, "Haemoglobin estimation"), so without a table two labs' haemoglobins are two tests
//! and no trend spans them. The table ships with the binary (`lab-codes.toml` beside this
//! file) and an operator may replace it with `[results] lab_codes = "FILE"`; it is read once at
//! start. A code listed under two tests, or a test naming a panel that is not listed, stops the
//! start: an ambiguous table would silently merge different tests.

use super::units::{self, Conversion};
use crate::error::{Error, Result};
use serde::Deserialize;
use std::collections::HashMap;
use std::path::Path;

const SHIPPED: &str = include_str!("lab-codes.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TableFile {
    #[serde(default)]
    panel: Vec<Panel>,
    #[serde(default)]
    test: Vec<CommonTest>,
}

/// A group of tests ordered together: FBC, U&E, LFT …
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Panel {
    /// The short name a clinician uses: "FBC".
    pub name: String,
    /// In words: "Full blood count".
    pub title: String,
    /// Order codes that mean this panel (local and SNOMED CT / LOINC).
    #[serde(default)]
    pub codes: Vec<String>,
    /// Order names that mean this panel, any case.
    #[serde(default)]
    pub names: Vec<String>,
}

/// A unit another lab reports the test in, and how it becomes the test's unit:
/// `value × factor + offset`. Only for conversions that depend on the substance (mass to
/// amount, HbA1c % to mmol/mol); prefixes (mmol/µmol, g/dL to g/L) convert by themselves.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Declared {
    pub from: String,
    pub factor: f64,
    #[serde(default)]
    pub offset: f64,
}

/// One test under its common code.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommonTest {
    /// The common code: SNOMED CT where one exists.
    pub code: String,
    pub name: String,
    /// The panel's short name, when the test belongs to one.
    #[serde(default)]
    pub panel: Option<String>,
    /// The unit the trend is drawn in; empty for tests without one (INR).
    #[serde(default)]
    pub unit: String,
    /// Decimal places for a value converted into `unit`.
    #[serde(default)]
    pub decimals: Option<usize>,
    /// Other codes that mean this test: LOINC, other SNOMED CT concepts, local lab codes.
    #[serde(default)]
    pub codes: Vec<String>,
    /// Names that mean this test, any case.
    #[serde(default)]
    pub names: Vec<String>,
    #[serde(default)]
    pub convert: Vec<Declared>,
}

/// Why a value cannot join its test's trend.
#[derive(Debug, Clone, PartialEq)]
pub enum Unconvertible {
    /// The result came without a unit, the trend has one.
    NoUnit,
    /// No known conversion from this unit to the trend's.
    Unit(String),
}

impl CommonTest {
    /// How a value in `unit` becomes a value in this test's unit, when that is known.
    pub fn conversion(&self, unit: Option<&str>) -> std::result::Result<Conversion, Unconvertible> {
        let unit = unit.map(str::trim).filter(|u| !u.is_empty());
        match unit {
            None if self.unit.is_empty() => Ok(Conversion::SAME),
            None => Err(Unconvertible::NoUnit),
            Some(u) => units::convert(u, &self.unit)
                .or_else(|| {
                    self.convert.iter().find_map(|d| {
                        units::convert(u, &d.from).map(|c| {
                            c.then(&Conversion {
                                factor: d.factor,
                                offset: d.offset,
                            })
                        })
                    })
                })
                .ok_or_else(|| Unconvertible::Unit(u.to_owned())),
        }
    }
}

/// The table, indexed.
#[derive(Debug)]
pub struct LabCodes {
    panels: Vec<Panel>,
    tests: Vec<CommonTest>,
    test_by_code: HashMap<String, usize>,
    test_by_name: HashMap<String, usize>,
    panel_by_code: HashMap<String, usize>,
    panel_by_name: HashMap<String, usize>,
}

fn code_key(code: &str) -> String {
    code.trim().to_uppercase()
}

/// Lower case, single spaces, no trailing full stop or colon.
pub fn name_key(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .trim_end_matches(['.', ':'])
        .to_lowercase()
}

fn index<'a>(
    keys: impl Iterator<Item = (usize, &'a String)>,
    key: fn(&str) -> String,
    what: &str,
    origin: &str,
) -> Result<HashMap<String, usize>> {
    let mut map = HashMap::new();
    for (i, k) in keys {
        if let Some(other) = map.insert(key(k), i) {
            if other != i {
                return Err(Error::Invalid(format!(
                    "{origin}: {what} \"{k}\" is listed twice; each code or name may mean one thing"
                )));
            }
        }
    }
    Ok(map)
}

impl LabCodes {
    pub fn shipped() -> Result<Self> {
        Self::parse(SHIPPED, "the shipped lab code table")
    }

    /// The operator's table when one is named, else the shipped one.
    pub fn load(file: Option<&Path>) -> Result<Self> {
        match file {
            None => Self::shipped(),
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
                    doing: "read the lab code table",
                    path: path.to_path_buf(),
                    source,
                })?;
                Self::parse(&text, &path.display().to_string())
            }
        }
    }

    /// The shipped table's text, for `sharedcare lab-codes show --shipped`.
    pub fn shipped_text() -> &'static str {
        SHIPPED
    }

    pub fn test_count(&self) -> usize {
        self.tests.len()
    }

    pub fn panel_count(&self) -> usize {
        self.panels.len()
    }

    pub fn parse(text: &str, origin: &str) -> Result<Self> {
        let file: TableFile =
            toml::from_str(text).map_err(|e| Error::Invalid(format!("{origin}: {e}")))?;
        for t in &file.test {
            if let Some(p) = &t.panel {
                if !file.panel.iter().any(|x| &x.name == p) {
                    return Err(Error::Invalid(format!(
                        "{origin}: test \"{}\" names panel \"{p}\", which is not listed",
                        t.name
                    )));
                }
            }
            if t.convert
                .iter()
                .any(|d| !d.factor.is_finite() || d.factor == 0.0)
            {
                return Err(Error::Invalid(format!(
                    "{origin}: test \"{}\" has a conversion factor that is zero or not a number",
                    t.name
                )));
            }
        }
        let tests = &file.test;
        let panels = &file.panel;
        let test_by_code = index(
            tests.iter().enumerate().flat_map(|(i, t)| {
                std::iter::once((i, &t.code)).chain(t.codes.iter().map(move |c| (i, c)))
            }),
            code_key,
            "test code",
            origin,
        )?;
        let test_by_name = index(
            tests.iter().enumerate().flat_map(|(i, t)| {
                std::iter::once((i, &t.name)).chain(t.names.iter().map(move |n| (i, n)))
            }),
            name_key,
            "test name",
            origin,
        )?;
        let panel_by_code = index(
            panels.iter().enumerate().flat_map(|(i, p)| {
                std::iter::once((i, &p.name)).chain(p.codes.iter().map(move |c| (i, c)))
            }),
            code_key,
            "panel code",
            origin,
        )?;
        let panel_by_name = index(
            panels.iter().enumerate().flat_map(|(i, p)| {
                std::iter::once((i, &p.title)).chain(p.names.iter().map(move |n| (i, n)))
            }),
            name_key,
            "panel name",
            origin,
        )?;
        Ok(Self {
            panels: file.panel,
            tests: file.test,
            test_by_code,
            test_by_name,
            panel_by_code,
            panel_by_name,
        })
    }

    /// The common test a result's code (else its name) means.
    pub fn test(&self, code: Option<&str>, name: &str) -> Option<&CommonTest> {
        code.filter(|c| !c.trim().is_empty())
            .and_then(|c| self.test_by_code.get(&code_key(c)))
            .or_else(|| self.test_by_name.get(&name_key(name)))
            .and_then(|&i| self.tests.get(i))
    }

    /// The panel an order's code (else its name) means.
    pub fn panel(&self, code: Option<&str>, name: Option<&str>) -> Option<&Panel> {
        code.filter(|c| !c.trim().is_empty())
            .and_then(|c| self.panel_by_code.get(&code_key(c)))
            .or_else(|| name.and_then(|n| self.panel_by_name.get(&name_key(n))))
            // A feed that names its order only by its short name: `FBC^FBC`.
            .or_else(|| name.and_then(|n| self.panel_by_code.get(&code_key(n))))
            .and_then(|&i| self.panels.get(i))
    }

    /// The panel a test belongs to by the table.
    pub fn panel_named(&self, short: &str) -> Option<&Panel> {
        self.panels.iter().find(|p| p.name == short)
    }

    /// Where a test comes in its panel: the table's order.
    pub fn test_rank(&self, code: &str) -> Option<usize> {
        self.tests.iter().position(|t| t.code == code)
    }

    /// Where a panel comes in the page: the table's order.
    pub fn panel_rank(&self, short: &str) -> Option<usize> {
        self.panels.iter().position(|p| p.name == short)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_table_loads_and_maps_two_labs_haemoglobin_to_one_test() {
        let t = LabCodes::shipped().unwrap();
        let a = t.test(Some("HB"), "Haemoglobin").unwrap();
        let b = t
            .test(Some("1022431000000105"), "Haemoglobin estimation")
            .unwrap();
        let c = t
            .test(Some("718-7"), "Hemoglobin [Mass/volume] in Blood")
            .unwrap();
        assert_eq!(a.code, b.code);
        assert_eq!(a.code, c.code);
        assert_eq!(a.panel.as_deref(), Some("FBC"));
        // By name alone, when the code is one the table does not list.
        let d = t.test(Some("ZZHB9"), "  HAEMOGLOBIN ").unwrap();
        assert_eq!(d.code, a.code);
        assert!(t.test(Some("ZZ1"), "Something else").is_none());
    }

    #[test]
    fn the_shipped_table_covers_the_winpath_codes_in_real_messages() {
        let t = LabCodes::shipped().unwrap();
        for (code, name, panel) in [
            ("ALP", "Alkaline phosphatase", "LFT"),
            ("ALB", "Albumin", "LFT"),
            ("ALT", "Alanine transaminase", "LFT"),
            ("BILI", "Bilirubin (total)", "LFT"),
            ("RCC", "Red cell count", "FBC"),
            ("WCC", "White cell count", "FBC"),
            ("RDWU", "RDW", "FBC"),
            ("MG", "Magnesium", "Bone"),
            ("FE", "Iron", "Iron"),
            ("VB12", "Vitamin B12", "Haematinics"),
            ("SFOL", "Serum folate", "Haematinics"),
        ] {
            let test = t.test(Some(code), name).unwrap_or_else(|| panic!("{code}"));
            assert_eq!(test.panel.as_deref(), Some(panel), "{code}");
        }
        for (code, name, panel) in [
            ("FBC", "FBC AND DIFFERENTIAL", "FBC"),
            ("FBCC", "FBC - CANCER CENTRE", "FBC"),
            ("BON", "BONE PROFILE", "Bone"),
            ("LBN", "LIVER/BONE PROFILE", "LFT"),
            ("IRON", "IRON PROFILE", "Iron"),
            ("XX", "Urea and electrolytes", "U&E"),
        ] {
            assert_eq!(
                t.panel(Some(code), Some(name)).map(|p| p.name.as_str()),
                Some(panel),
                "{code}"
            );
        }
    }

    #[test]
    fn creatinine_converts_from_milligrams_per_decilitre_and_from_millimoles() {
        let t = LabCodes::shipped().unwrap();
        let crea = t.test(Some("CREA"), "Creatinine").unwrap();
        assert_eq!(crea.unit, "umol/L");
        let c = crea.conversion(Some("mg/dL")).unwrap();
        assert!((c.apply(1.0) - 88.42).abs() < 0.01);
        let c = crea.conversion(Some("mmol/L")).unwrap();
        assert!((c.apply(0.09) - 90.0).abs() < 1e-9);
        let c = crea.conversion(Some("µmol/l")).unwrap();
        assert!(c.is_identity());
    }

    #[test]
    fn hba1c_in_dcct_percent_converts_by_the_ifcc_equation() {
        let t = LabCodes::shipped().unwrap();
        let a1c = t.test(Some("HBA1C"), "HbA1c").unwrap();
        let c = a1c.conversion(Some("%")).unwrap();
        // 7.0 % DCCT is 53 mmol/mol IFCC.
        assert_eq!(c.apply(7.0).round(), 53.0);
    }

    #[test]
    fn units_that_cannot_be_converted_are_refused_not_merged() {
        let t = LabCodes::shipped().unwrap();
        let hb = t.test(Some("HB"), "Haemoglobin").unwrap();
        assert_eq!(
            hb.conversion(Some("mmol/L")),
            Err(Unconvertible::Unit("mmol/L".into())),
            "haemoglobin in mmol/L needs a molar mass the table does not give"
        );
        assert_eq!(hb.conversion(None), Err(Unconvertible::NoUnit));
        assert_eq!(hb.conversion(Some("  ")), Err(Unconvertible::NoUnit));
        let na = t.test(Some("NA"), "Sodium").unwrap();
        assert!(matches!(
            na.conversion(Some("mg/dL")),
            Err(Unconvertible::Unit(_))
        ));
        let inr = t.test(Some("INR"), "INR").unwrap();
        assert_eq!(inr.conversion(None), Ok(Conversion::SAME));
        assert!(inr.conversion(Some("ratio")).is_ok_and(|c| c.is_identity()));
        let egfr = t.test(Some("EGFR"), "eGFR").unwrap();
        assert!(egfr.conversion(Some("mL/min/1.73m²")).is_ok());
        assert!(
            egfr.conversion(Some("mL/min")).is_err(),
            "not the same without the body area"
        );
    }

    #[test]
    fn an_ambiguous_table_is_refused() {
        let twice = r#"
            [[panel]]
            name = "P"
            title = "Panel"
            [[test]]
            code = "1"
            name = "One"
            codes = ["X"]
            [[test]]
            code = "2"
            name = "Two"
            codes = ["x"]
        "#;
        let e = LabCodes::parse(twice, "t").unwrap_err().to_string();
        assert!(e.contains("listed twice"), "{e}");
        let no_panel = "[[test]]\ncode = \"1\"\nname = \"One\"\npanel = \"Nope\"\n";
        assert!(LabCodes::parse(no_panel, "t").is_err());
        let zero =
            "[[test]]\ncode = \"1\"\nname = \"One\"\nconvert = [{ from = \"%\", factor = 0.0 }]\n";
        assert!(LabCodes::parse(zero, "t").is_err());
    }
}
