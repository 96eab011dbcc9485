//! Units as laboratories spell them: understood, shown the way a UK reader expects, and
//! converted only where the conversion is exact arithmetic.
//!
//! The same unit arrives as `10*9/L` (UCUM), `x10^9/L`, `x10\S\9/L` (HL7-escaped, decoded
//! before it gets here), `10^9/l` or `/nL`; micro as `u`, `µ` (micro sign) or `μ` (Greek mu).
//! A unit is understood as a quantity kind and a scale to that kind's base unit, so that
//! `mmol/L` and `µmol/L`, `g/dL` and `g/L`, `/nL` and `10^9/L` convert by a factor. Kinds are
//! never crossed here: mass to amount (mg/dL to µmol/L) depends on the substance, so only a
//! test's own entry in the lab code table may declare it. A unit not understood converts only
//! to exactly the same spelling: fail closed, never guess.

/// What a unit measures. Conversions stay within one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Amount of substance per volume; base mol/L.
    Amount,
    /// Mass per volume; base g/L.
    Mass,
    /// Cells or particles per volume; base count per litre.
    Count,
    /// Catalytic or international units per volume; base U/L (laboratories write IU/L and U/L
    /// for the same enzyme activity).
    Activity,
    /// A proportion; base 1 (L/L). `%` is 0.01.
    Fraction,
}

/// A unit understood: its kind and how many base units one of it is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Understood {
    pub kind: Kind,
    pub scale: f64,
}

/// The spelling reduced for comparison: no spaces, ASCII `u` for micro, `^` for powers,
/// lower case. `×10⁹/L` → `x10^9/l`.
fn squash(unit: &str) -> String {
    let mut out = String::new();
    let mut in_power = false;
    for c in unit.trim().chars() {
        let digit = match c {
            '⁰' => Some('0'),
            '¹' => Some('1'),
            '²' => Some('2'),
            '³' => Some('3'),
            '⁴' => Some('4'),
            '⁵' => Some('5'),
            '⁶' => Some('6'),
            '⁷' => Some('7'),
            '⁸' => Some('8'),
            '⁹' => Some('9'),
            _ => None,
        };
        if let Some(d) = digit {
            if !in_power {
                out.push('^');
                in_power = true;
            }
            out.push(d);
            continue;
        }
        in_power = false;
        match c {
            ' ' => {}
            'µ' | 'μ' => out.push('u'),
            '×' => out.push('x'),
            other => out.extend(other.to_lowercase()),
        }
    }
    // `mcg` is the pharmacist's micro-gram.
    out.replace("mcg", "ug")
}

/// SI prefixes laboratories use, as multipliers.
fn prefix(p: &str) -> Option<f64> {
    Some(match p {
        "" => 1.0,
        "k" => 1e3,
        "d" => 1e-1,
        "c" => 1e-2,
        "m" => 1e-3,
        "u" | "micro" => 1e-6,
        "n" => 1e-9,
        "p" => 1e-12,
        _ => return None,
    })
}

/// Litres in one of the volume units after the slash.
fn volume(v: &str) -> Option<f64> {
    Some(match v {
        "l" => 1.0,
        "dl" => 1e-1,
        "ml" => 1e-3,
        "ul" => 1e-6,
        "nl" => 1e-9,
        "pl" => 1e-12,
        "mm3" | "mm^3" | "cumm" => 1e-6,
        _ => return None,
    })
}

/// `10^9`, `10*9`, `10e9` → 1e9.
fn power_of_ten(p: &str) -> Option<f64> {
    let exp = p
        .strip_prefix("10^")
        .or_else(|| p.strip_prefix("10*"))
        .or_else(|| p.strip_prefix("10e"))?;
    let n: i32 = exp.parse().ok()?;
    (0..=15).contains(&n).then(|| 10f64.powi(n))
}

/// The unit's kind and scale, when it is one of the shapes laboratories use.
pub fn understand(unit: &str) -> Option<Understood> {
    let s = squash(unit);
    match s.as_str() {
        "%" => {
            return Some(Understood {
                kind: Kind::Fraction,
                scale: 0.01,
            })
        }
        "l/l" => {
            return Some(Understood {
                kind: Kind::Fraction,
                scale: 1.0,
            })
        }
        _ => {}
    }
    let (top, bottom) = s.split_once('/')?;
    let per = volume(bottom)?;
    // Counts: `x10^9/l`, `10*9/l`, `/nl`, `10^3/ul`, `cells/ul`.
    let count_top = top.strip_prefix('x').unwrap_or(top);
    if top.is_empty() || count_top == "cells" {
        return Some(Understood {
            kind: Kind::Count,
            scale: 1.0 / per,
        });
    }
    if let Some(n) = power_of_ten(count_top) {
        return Some(Understood {
            kind: Kind::Count,
            scale: n / per,
        });
    }
    for (base, kind) in [
        ("mol", Kind::Amount),
        ("iu", Kind::Activity),
        ("u", Kind::Activity),
        ("g", Kind::Mass),
    ] {
        if let Some(p) = top.strip_suffix(base) {
            // `u/l` is units per litre, not a bare micro prefix.
            if let Some(m) = prefix(p) {
                return Some(Understood {
                    kind,
                    scale: m / per,
                });
            }
        }
    }
    None
}

/// How to turn a value in one unit into another: `to = from × factor + offset`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Conversion {
    pub factor: f64,
    pub offset: f64,
}

impl Conversion {
    pub const SAME: Self = Self {
        factor: 1.0,
        offset: 0.0,
    };

    pub fn apply(&self, v: f64) -> f64 {
        v * self.factor + self.offset
    }

    /// This conversion, then `next`.
    pub fn then(&self, next: &Self) -> Self {
        Self {
            factor: self.factor * next.factor,
            offset: self.offset * next.factor + next.offset,
        }
    }

    pub fn is_identity(&self) -> bool {
        (self.factor - 1.0).abs() < 1e-12 && self.offset.abs() < 1e-12
    }
}

/// Whether two spellings name the same unit (`mmol/l` and `mmol/L`, `10*9/L` and `x10^9/L`).
pub fn same(a: &str, b: &str) -> bool {
    squash(a) == squash(b) || convert(a, b).is_some_and(|c| c.is_identity())
}

/// The conversion from `from` to `to` when both are understood and of one kind; `None`
/// otherwise (different kinds, or a unit not understood), which callers must say, not hide.
pub fn convert(from: &str, to: &str) -> Option<Conversion> {
    if squash(from) == squash(to) {
        return Some(Conversion::SAME);
    }
    let (a, b) = (understand(from)?, understand(to)?);
    (a.kind == b.kind).then(|| Conversion {
        factor: a.scale / b.scale,
        offset: 0.0,
    })
}

/// The unit as a UK reader expects it: `×10⁹/L`, `µmol/L`, `mmol/L`, `g/L`. A spelling not
/// understood is shown as it came.
pub fn display(unit: &str) -> String {
    let s = squash(unit);
    let Some(u) = understand(unit) else {
        return unit.trim().to_owned();
    };
    if u.kind == Kind::Fraction {
        return if s == "%" { "%".into() } else { "L/L".into() };
    }
    if u.kind == Kind::Count {
        // Counts read per litre in the UK: `/nL` and `10^3/µL` are both ×10⁹/L.
        let exp = u.scale.log10();
        if exp >= 1.0 && (exp - exp.round()).abs() < 1e-9 {
            return format!("×10{}/L", superscript(exp.round() as i32));
        }
    }
    let Some((top, bottom)) = s.split_once('/') else {
        return unit.trim().to_owned();
    };
    let bottom = match bottom {
        "l" => "L".to_owned(),
        "dl" => "dL".to_owned(),
        "ml" => "mL".to_owned(),
        "ul" => "µL".to_owned(),
        "nl" => "nL".to_owned(),
        "pl" => "pL".to_owned(),
        "mm3" | "mm^3" | "cumm" => "mm³".to_owned(),
        other => other.to_owned(),
    };
    let count_top = top.strip_prefix('x').unwrap_or(top);
    if let Some(exp) = power_of_ten(count_top).map(|n| n.log10().round() as i32) {
        return format!("×10{}/{bottom}", superscript(exp));
    }
    if top.is_empty() {
        return format!("/{bottom}");
    }
    let top = if let Some(p) = top.strip_suffix("iu") {
        format!("{}IU", prefix_text(p))
    } else if let Some(p) = top.strip_suffix("mol") {
        format!("{}mol", prefix_text(p))
    } else if let Some(p) = top.strip_suffix('u') {
        format!("{}U", prefix_text(p))
    } else if let Some(p) = top.strip_suffix('g') {
        format!("{}g", prefix_text(p))
    } else {
        top.to_owned()
    };
    format!("{top}/{bottom}")
}

fn prefix_text(p: &str) -> &str {
    match p {
        "u" | "micro" => "µ",
        other => other,
    }
}

fn superscript(n: i32) -> String {
    n.to_string()
        .chars()
        .map(|c| match c {
            '0' => '⁰',
            '1' => '¹',
            '2' => '²',
            '3' => '³',
            '4' => '⁴',
            '5' => '⁵',
            '6' => '⁶',
            '7' => '⁷',
            '8' => '⁸',
            '9' => '⁹',
            other => other,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9 * b.abs().max(1.0)
    }

    #[test]
    fn every_spelling_of_ten_to_the_ninth_per_litre_is_one_unit_shown_one_way() {
        for s in [
            "10*9/L",
            "x10^9/L",
            "X10^9/l",
            "10^9/L",
            "×10⁹/L",
            "x10E9/L",
            "/nL",
            "10*3/uL",
        ] {
            assert!(same(s, "10*9/L"), "{s}");
            assert_eq!(display(s), "×10⁹/L", "{s}");
        }
        assert_eq!(display("x10^12/L"), "×10¹²/L");
        assert!(!same("10*12/L", "10*9/L"));
        let c = convert("10*12/L", "10*9/L").unwrap();
        assert!(close(c.apply(4.5), 4500.0));
    }

    #[test]
    fn micro_in_any_spelling_is_micro() {
        for s in ["umol/L", "µmol/L", "μmol/L", "micromol/L", "UMOL/L"] {
            assert!(same(s, "µmol/L"), "{s}");
            assert_eq!(display(s), "µmol/L", "{s}");
        }
        assert_eq!(display("ug/L"), "µg/L");
        assert!(same("mcg/L", "µg/L"));
    }

    #[test]
    fn creatinine_in_millimoles_converts_to_micromoles() {
        let c = convert("mmol/L", "umol/L").unwrap();
        assert!(close(c.apply(0.088), 88.0));
    }

    #[test]
    fn haemoglobin_in_grams_per_decilitre_converts_to_grams_per_litre() {
        let c = convert("g/dL", "g/L").unwrap();
        assert!(close(c.apply(9.8), 98.0));
        let c = convert("mg/dL", "g/L").unwrap();
        assert!(close(c.apply(100.0), 1.0));
    }

    #[test]
    fn enzyme_units_and_fractions_convert_within_their_kind() {
        assert!(same("IU/L", "U/L"));
        assert!(close(convert("%", "L/L").unwrap().apply(40.0), 0.4));
    }

    #[test]
    fn units_of_different_kinds_are_refused() {
        // Mass to amount depends on the substance: never here.
        assert_eq!(convert("mg/dL", "umol/L"), None);
        assert_eq!(convert("mmol/L", "g/L"), None);
        assert_eq!(convert("%", "mmol/mol"), None, "HbA1c DCCT % is not IFCC");
        assert_eq!(convert("10*9/L", "%"), None);
    }

    #[test]
    fn units_not_understood_convert_only_to_themselves() {
        assert_eq!(convert("Ratio", "Ratio"), Some(Conversion::SAME));
        assert_eq!(convert("mmol/mol", "mmol/mol"), Some(Conversion::SAME));
        assert_eq!(convert("mL/min/1.73m2", "mL/min"), None);
        assert_eq!(convert("units", "U/L"), None);
        assert_eq!(convert("", "g/L"), None);
        assert_eq!(display("mL/min/1.73m2"), "mL/min/1.73m2");
    }

    #[test]
    fn affine_conversions_chain() {
        let a = Conversion {
            factor: 10.0,
            offset: 0.0,
        };
        let b = Conversion {
            factor: 10.929,
            offset: -23.5,
        };
        assert!(close(a.then(&b).apply(0.7), 7.0 * 10.929 - 23.5));
    }
}
