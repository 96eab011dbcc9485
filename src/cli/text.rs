//! Making text safe for a terminal. Names, addresses, reject reasons and entry titles come from
//! feeds, and a feed can carry bytes a terminal obeys rather than shows: ESC starts sequences
//! that retitle the window, clear the screen, move the cursor or rewrite what was printed
//! before; C1 controls do the same on terminals that honour them; bidirectional overrides
//! reorder a line so that what is read is not what is there. A terminal is not a place where
//! patient data may act, so every line the command line prints for a person to read passes
//! through [`inert`] (the `say!` and `tell!` macros do it), and
//! `--json` output through [`inert_json`].
//!
//! Such characters are not removed (that would hide that the feed sent them) but shown as
//! escapes a reader can see and a terminal does nothing with: `\x1b`, `\u{202e}`. Line breaks
//! and tabs stay, because our own output is laid out with them; a carriage return does not,
//! since it lets a later part of a line overwrite an earlier one.

use std::borrow::Cow;
use std::fmt::Write;

/// Prints a line to standard output with every control character and bidirectional override
/// made visible and inert. Use it (never `println!`) for output a person reads.
macro_rules! say {
    () => { println!() };
    ($($arg:tt)*) => { println!("{}", $crate::cli::text::inert(&format!($($arg)*))) };
}

/// As `say!`, to standard error.
macro_rules! tell {
    ($($arg:tt)*) => { eprintln!("{}", $crate::cli::text::inert(&format!($($arg)*))) };
}

pub(crate) use {say, tell};

/// Whether a character may not reach a terminal as itself.
fn dangerous(c: char) -> bool {
    matches!(c,
        // C0 controls (ESC, BEL, CR, backspace …) and DEL; line feed and tab lay out our own
        // output.
        '\u{0}'..='\u{8}' | '\u{b}'..='\u{1f}' | '\u{7f}'
        // C1 controls: CSI (U+009B) and OSC (U+009D) start sequences on their own.
        | '\u{80}'..='\u{9f}'
        // Bidirectional embeddings, overrides and isolates.
        | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        // Left-to-right and right-to-left marks, and the Arabic letter mark: invisible, and
        // they reorder neighbouring text too.
        | '\u{200e}' | '\u{200f}' | '\u{61c}')
}

/// `text` with every character a terminal would obey shown as an escape instead (`\x1b`,
/// `\u{202e}`); borrowed unchanged when there is none, which is nearly always.
pub fn inert(text: &str) -> Cow<'_, str> {
    if !text.chars().any(dangerous) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if !dangerous(c) {
            out.push(c);
        } else if u32::from(c) < 0x80 {
            let _ = write!(out, "\\x{:02x}", u32::from(c));
        } else {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        }
    }
    Cow::Owned(out)
}

/// JSON text as `serde_json` writes it, with the characters it leaves raw (DEL, C1 controls,
/// bidirectional controls; it escapes C0 itself) written as `\uXXXX` escapes. They can only
/// occur inside strings, where the escape means the same character, so the document a
/// program reads is unchanged while a terminal shown it obeys nothing.
pub fn inert_json(json: &str) -> Cow<'_, str> {
    if !json.chars().any(dangerous) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if dangerous(c) {
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_and_bidi_overrides_become_visible_text() {
        let name = "Smith\u{1b}]0;pwned\u{7}\u{1b}[2J\u{202e}nhoJ\r\u{9b}31m\u{7f}";
        let shown = inert(name);
        assert_eq!(
            shown,
            "Smith\\x1b]0;pwned\\x07\\x1b[2J\\u{202e}nhoJ\\x0d\\u{9b}31m\\x7f"
        );
        assert!(!shown.chars().any(dangerous));
    }

    #[test]
    fn ordinary_text_with_line_breaks_and_tabs_is_left_alone() {
        let text = "Zoë O'Brien-Łukasz\tborn 1954\n    ME14 1AA — مرحبا";
        assert!(matches!(inert(text), Cow::Borrowed(_)));
    }

    #[test]
    fn json_keeps_its_meaning_and_loses_its_effect() {
        let value = serde_json::json!({ "family": "A\u{1b}[2J\u{202e}B\u{85}C\u{7f}" });
        let raw = serde_json::to_string(&value).unwrap();
        let shown = inert_json(&raw);
        assert!(!shown.chars().any(dangerous), "{shown}");
        let back: serde_json::Value = serde_json::from_str(&shown).unwrap();
        assert_eq!(back, value);
    }
}
