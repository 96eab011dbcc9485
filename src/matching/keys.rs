//! Normal forms of names, postcodes and address lines, and the blocking keys built from them.
//!
//! Feeds spell the same person many ways: `O'Brien`, `OBRIEN`, `O Brien`; `McDonald` and
//! `Macdonald`; `Zoë` and `Zoe`; `SE1 7EH` and `se17eh`. Everything here folds those spellings to
//! one key so that the field comparisons in `score.rs` and the store's candidate index see the same
//! thing. The phonetic key is Caverphone 2 (see the module essay in [`super`] for why).
//!
//! Every function bounds how much input it reads, so a pathological name costs no more than a
//! long ordinary one.

use crate::model::Demographics;
use rphonetic::{Caverphone2, Encoder};

/// More characters than any real name part; the rest of a longer value is ignored.
const MAX_NAME_CHARS: usize = 100;
/// An address line longer than this is not an address line.
const MAX_ADDRESS_CHARS: usize = 120;

/// The keys the store indexes golden persons by. Candidates are the persons sharing ANY of
/// them, so one wrong field (a surname typo, a move) still leaves the other keys to find them.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct BlockingKeys {
    /// ISO `yyyy-mm-dd`, exactly as `NaiveDate` displays it.
    pub birth_date: Option<String>,
    /// Upper case, no space (`SE17EH`); `None` for anything that is not a real postcode,
    /// including the `ZZ99` pseudo-postcodes for "no fixed abode / not known".
    pub postcode: Option<String>,
    /// Caverphone 2 of [`name_key`] of the family name, without its `1` padding.
    pub surname_phonetic: Option<String>,
}

/// Redacted: a birth date and postcode are patient data.
impl std::fmt::Debug for BlockingKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = |o: &Option<String>| if o.is_some() { "***" } else { "-" };
        write!(
            f,
            "BlockingKeys(birth_date: {}, postcode: {}, surname_phonetic: {})",
            shown(&self.birth_date),
            shown(&self.postcode),
            shown(&self.surname_phonetic)
        )
    }
}

/// The blocking keys of one set of demographics; each is `None` when the field is missing or
/// unusable (an absent birth date, a junk postcode, a family name with no letters).
pub fn blocking_keys(d: &Demographics) -> BlockingKeys {
    BlockingKeys {
        birth_date: d.birth_date.map(|b| b.to_string()),
        postcode: d.postcode().and_then(postcode_key),
        surname_phonetic: d.family.as_deref().and_then(|f| phonetic(&name_key(f))),
    }
}

/// A name folded for comparison: lower-case ASCII where a folding exists, diacritics removed,
/// punctuation and spaces dropped, `Mc` read as `mac` and `St` as `saint`.
/// `O'Brien`, `O BRIEN` and `Ó Brien` all give `obrien`; `McDonald` gives `macdonald`.
pub fn name_key(s: &str) -> String {
    name_parts(s).concat()
}

/// The separately meaningful parts of a name: a double-barrelled `Smith-Jones` (or
/// `Smith Jones`) gives `smith` and `jones`, while particles stay with the word they belong to
/// (`Van der Berg` is one part, `vanderberg`; `Mc Donald` is `macdonald`).
pub(crate) fn name_parts(s: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut pending = String::new();
    for word in name_words(s) {
        pending.push_str(&word);
        if !is_particle(&word) {
            parts.push(std::mem::take(&mut pending));
        }
    }
    if !pending.is_empty() {
        parts.push(pending);
    }
    parts
}

/// Words of a name, folded, split at spaces, hyphens, dots and other separators; apostrophes
/// join (`O'Brien` is one word).
pub(crate) fn name_words(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    for c in s.chars().take(MAX_NAME_CHARS) {
        if matches!(c, '\'' | '\u{2019}' | '\u{2018}' | '`' | '\u{b4}') {
            continue;
        }
        if !push_folded(c, &mut word) && !word.is_empty() {
            words.push(fold_word(std::mem::take(&mut word)));
        }
    }
    if !word.is_empty() {
        words.push(fold_word(word));
    }
    words
}

/// The Caverphone 2 code of a folded name, without padding; `None` when no ASCII letter is
/// left. Letters with no ASCII folding are dropped first: Caverphone only knows English
/// letters, and the encoder slices its output by bytes, which other letters would split.
pub(crate) fn phonetic(key: &str) -> Option<String> {
    let ascii: String = key.chars().filter(char::is_ascii_lowercase).collect();
    if ascii.is_empty() {
        return None;
    }
    let code = Caverphone2.encode(&ascii);
    let code = code.trim_end_matches('1');
    (!code.is_empty()).then(|| code.to_owned())
}

/// A UK postcode, upper case with no space, when the value has a postcode's shape: 5–7
/// letters and digits, starting with a letter and ending digit-letter-letter. Pseudo-postcodes
/// `ZZ99 …` (no fixed abode, not known, abroad) give `None`: they identify no place, and
/// thousands of people share them.
pub(crate) fn postcode_key(raw: &str) -> Option<String> {
    let compact: String = raw
        .chars()
        .filter(|c| !c.is_whitespace())
        .take(8)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let b = compact.as_bytes();
    let n = b.len();
    let shaped = (5..=7).contains(&n)
        && b.iter().all(u8::is_ascii_alphanumeric)
        && b.first().is_some_and(u8::is_ascii_alphabetic)
        && b.get(n - 3).is_some_and(u8::is_ascii_digit)
        && b.get(n - 2).is_some_and(u8::is_ascii_alphabetic)
        && b.get(n - 1).is_some_and(u8::is_ascii_alphabetic);
    (shaped && !compact.starts_with("ZZ99")).then_some(compact)
}

/// The outward code (district) of a key from [`postcode_key`]: `SE17EH` → `SE1`.
pub(crate) fn outward(postcode_key: &str) -> &str {
    let split = postcode_key.len().saturating_sub(3);
    postcode_key.get(..split).unwrap_or("")
}

/// A key from [`postcode_key`] as people write it: `SE17EH` → `SE1 7EH`.
pub(crate) fn postcode_display(postcode_key: &str) -> String {
    let split = postcode_key.len().saturating_sub(3);
    match (postcode_key.get(..split), postcode_key.get(split..)) {
        (Some(out), Some(inw)) => format!("{out} {inw}"),
        _ => postcode_key.to_owned(),
    }
}

/// An address line folded for comparison: lower case, punctuation gone, spaces collapsed and
/// the common street words abbreviated one way (`12, High Street` and `12 High St.` agree).
pub(crate) fn address_key(line: &str) -> String {
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    for c in line.chars().take(MAX_ADDRESS_CHARS) {
        if c.is_ascii_digit() {
            word.push(c);
        } else if matches!(c, '\'' | '\u{2019}') {
            continue;
        } else if !push_folded(c, &mut word) && !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
        .iter()
        .map(|w| street_abbreviation(w).unwrap_or(w))
        .collect::<Vec<_>>()
        .join(" ")
}

fn street_abbreviation(word: &str) -> Option<&'static str> {
    Some(match word {
        "street" => "st",
        "road" => "rd",
        "avenue" => "ave",
        "lane" => "ln",
        "drive" => "dr",
        "close" => "cl",
        "crescent" => "cres",
        "court" => "ct",
        "place" => "pl",
        "gardens" => "gdns",
        "terrace" => "ter",
        "square" => "sq",
        "grove" => "gr",
        "flat" | "apartment" | "apt" => "flat",
        _ => return None,
    })
}

/// Words that belong to the next word of a surname rather than standing alone.
pub(crate) fn is_particle(word: &str) -> bool {
    matches!(
        word,
        "mac"
            | "o"
            | "saint"
            | "de"
            | "da"
            | "di"
            | "del"
            | "della"
            | "der"
            | "den"
            | "du"
            | "van"
            | "von"
            | "le"
            | "la"
            | "al"
            | "el"
            | "ap"
            | "ab"
            | "bin"
            | "ben"
    )
}

/// `Mc…` and `Mac…` are one name written two ways, as are `St` and `Saint`.
fn fold_word(word: String) -> String {
    if word == "st" {
        return "saint".to_owned();
    }
    match word.strip_prefix("mc") {
        Some(rest) => format!("mac{rest}"),
        None => word,
    }
}

/// Appends the folded form of one character to `word`; false when the character is not a
/// letter (so it ends a word).
fn push_folded(c: char, word: &mut String) -> bool {
    if c.is_ascii_alphabetic() {
        word.push(c.to_ascii_lowercase());
        return true;
    }
    if c.is_ascii() || !c.is_alphabetic() {
        return false;
    }
    for lower in c.to_lowercase() {
        match fold_diacritic(lower) {
            Some(ascii) => word.push_str(ascii),
            // A letter with no Latin folding (Greek, Cyrillic, Arabic …) still compares equal
            // to itself.
            None => word.push(lower),
        }
    }
    true
}

/// Latin letters with diacritics, and the ligatures names use, as plain ASCII.
fn fold_diacritic(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'æ' => "ae",
        'ç' | 'ć' | 'č' | 'ĉ' | 'ċ' => "c",
        'ď' | 'đ' | 'ð' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => "e",
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => "g",
        'ĥ' | 'ħ' => "h",
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => "i",
        'ĵ' => "j",
        'ķ' => "k",
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => "l",
        'ñ' | 'ń' | 'ņ' | 'ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => "o",
        'œ' => "oe",
        'ŕ' | 'ŗ' | 'ř' => "r",
        'ś' | 'ŝ' | 'ş' | 'š' | 'ș' => "s",
        'ß' => "ss",
        'ţ' | 'ť' | 'ŧ' | 'ț' => "t",
        'þ' => "th",
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => "u",
        'ŵ' => "w",
        'ý' | 'ÿ' | 'ŷ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        _ => return None,
    })
}

/// Groups of given names people use for one another: a formal name and its short forms.
/// A name may sit in several groups (`alex`, `chris`, `sam`).
const NICKNAMES: &[&[&str]] = &[
    &["william", "bill", "billy", "will", "willie", "liam"],
    &["robert", "bob", "bobby", "rob", "robbie", "bert"],
    &["richard", "dick", "rick", "ricky", "rich", "richie"],
    &[
        "elizabeth",
        "liz",
        "lizzie",
        "beth",
        "betty",
        "bess",
        "eliza",
        "libby",
        "elspeth",
    ],
    &[
        "margaret", "maggie", "meg", "peggy", "madge", "greta", "rita", "margo",
    ],
    &["james", "jim", "jimmy", "jamie", "jas"],
    &["john", "jon", "jack", "johnny", "jonny"],
    &["jonathan", "jon", "jonny", "jonty"],
    &[
        "catherine",
        "katherine",
        "kathryn",
        "kate",
        "kath",
        "kathy",
        "cathy",
        "katie",
        "kay",
        "kit",
    ],
    &["thomas", "tom", "tommy"],
    &["michael", "mike", "mick", "mickey", "micky"],
    &["anthony", "antony", "tony"],
    &["edward", "ed", "eddie", "ted", "teddy", "ned"],
    &["alexander", "alex", "alec", "sandy", "xander"],
    &["alexandra", "alex", "sandra", "sandy", "lexi"],
    &["christopher", "chris", "kit"],
    &[
        "christine",
        "christina",
        "chris",
        "tina",
        "chrissie",
        "kirsty",
        "kirsten",
    ],
    &["daniel", "dan", "danny"],
    &["david", "dave", "davie", "dai"],
    &["joseph", "joe", "joey"],
    &["josephine", "jo", "josie"],
    &["joanne", "joanna", "jo", "joan"],
    &["samuel", "sam", "sammy"],
    &["samantha", "sam", "sammy"],
    &["benjamin", "ben", "benny"],
    &["matthew", "matt", "matty"],
    &["andrew", "andy", "drew"],
    &["stephen", "steven", "steve", "stevie"],
    &["peter", "pete"],
    &["patrick", "pat", "paddy"],
    &["patricia", "pat", "patsy", "trish", "tricia"],
    &["susan", "sue", "susie", "suzanne", "suzy"],
    &["deborah", "debra", "debbie", "deb"],
    &["rebecca", "becky", "becca"],
    &["victoria", "vicky", "vicki", "tori"],
    &["jennifer", "jenny", "jen", "jenna"],
    &["nicholas", "nick", "nicky"],
    &["nicola", "nicky", "nikki"],
    &["timothy", "tim", "timmy"],
    &["frederick", "fred", "freddie", "freddy"],
    &["henry", "harry", "hal", "hank"],
    &["charles", "charlie", "chas", "chuck"],
    &["charlotte", "charlie", "lottie", "lotte"],
    &["gerald", "gerry", "jerry"],
    &["gerard", "gerry", "ged"],
    &["philip", "phillip", "phil", "pip"],
    &["ronald", "ron", "ronnie"],
    &["donald", "don", "donnie"],
    &["kenneth", "ken", "kenny"],
    &["leonard", "len", "lenny", "leo"],
    &["terence", "terrence", "terry"],
    &["raymond", "ray"],
    &["albert", "bert", "bertie", "al"],
    &["alfred", "alf", "alfie", "fred"],
    &["dorothy", "dot", "dottie", "dolly"],
    &["helen", "helena", "nell", "nellie"],
    &["eleanor", "elinor", "ellie", "nell", "nora", "elle"],
    &["mary", "molly", "polly", "mae", "may"],
    &["sarah", "sara", "sally", "sadie"],
    &["ann", "anne", "anna", "annie", "nan", "nancy"],
    &["gillian", "jill", "gill", "gilly"],
    &["jacqueline", "jackie", "jacqui"],
    &["pamela", "pam"],
    &["abigail", "abbie", "abby", "gail"],
    &["zachary", "zach", "zack"],
    &["nathan", "nathaniel", "nate", "nat"],
    &["oliver", "ollie", "olly"],
    &["olivia", "liv", "livvy", "ollie"],
    &[
        "isabella", "isabel", "isobel", "bella", "izzy", "issy", "belle",
    ],
    &["sophie", "sophia"],
    &["alison", "allison", "ali", "ally"],
    &["lawrence", "laurence", "larry", "laurie"],
    &["douglas", "doug", "dougie"],
    &["gregory", "greg"],
    &["geoffrey", "jeffrey", "geoff", "jeff"],
    &["ian", "iain"],
    &["sean", "shaun", "shawn"],
    &["frances", "francesca", "fran", "frankie"],
    &["francis", "frank", "frankie"],
    &["theodore", "theo", "ted", "teddy"],
    &["barbara", "barb", "babs"],
    &["judith", "judy", "jude"],
    &["valerie", "val"],
    &["vincent", "vince", "vinny"],
    &["walter", "walt", "wally"],
    &["harold", "harry", "hal"],
    &["archibald", "archie", "archy"],
    &["evelyn", "eve", "evie"],
    &["florence", "flo", "florrie", "flossie"],
    &["louise", "louisa", "lou", "lulu"],
    &["lewis", "louis", "lou"],
    &["kimberley", "kimberly", "kim"],
    &["hamish", "james"],
    &["siobhan", "shevaun", "chevonne"],
    &["owen", "owain", "eoin"],
    &["gareth", "gaz", "garry"],
    &["dafydd", "david", "dai", "dewi"],
    &[
        "muhammad", "mohammed", "mohammad", "mohamed", "muhammed", "mohamad",
    ],
];

/// Whether two folded given names are forms of one another (`bill` and `william`).
pub(crate) fn are_nicknames(a: &str, b: &str) -> bool {
    NICKNAMES
        .iter()
        .any(|group| group.contains(&a) && group.contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Address, Demographics};
    use chrono::NaiveDate;

    #[test]
    fn name_key_folds_case_punctuation_diacritics_and_mac() {
        assert_eq!(name_key("O'Brien"), "obrien");
        assert_eq!(name_key("O BRIEN"), "obrien");
        assert_eq!(name_key("Ó Briain"), "obriain");
        assert_eq!(name_key("McDonald"), "macdonald");
        assert_eq!(name_key("Mc Donald"), "macdonald");
        assert_eq!(name_key("MACDONALD"), "macdonald");
        assert_eq!(name_key("St. John"), "saintjohn");
        assert_eq!(name_key("Saint-John"), "saintjohn");
        assert_eq!(name_key("Zoë"), "zoe");
        assert_eq!(name_key("Straße"), "strasse");
        assert_eq!(name_key("Łukasz"), "lukasz");
        assert_eq!(name_key("  "), "");
        assert_eq!(name_key("Smith-Jones"), "smithjones");
    }

    #[test]
    fn parts_split_double_barrels_but_keep_particles() {
        assert_eq!(name_parts("Smith-Jones"), vec!["smith", "jones"]);
        assert_eq!(name_parts("Bowes Lyon"), vec!["bowes", "lyon"]);
        assert_eq!(name_parts("Van der Berg"), vec!["vanderberg"]);
        assert_eq!(name_parts("Mc Donald"), vec!["macdonald"]);
        assert_eq!(
            name_parts("O'Neill-Mac Intyre"),
            vec!["oneill", "macintyre"]
        );
        assert_eq!(name_parts("de"), vec!["de"]);
    }

    #[test]
    fn phonetic_codes_agree_for_uk_spelling_variants() {
        let p = |s: &str| phonetic(&name_key(s));
        assert_eq!(p("Smith"), p("Smyth"));
        assert_eq!(p("Smith"), p("Smithe"));
        assert_eq!(p("McDonald"), p("Macdonald"));
        assert_eq!(p("Stephenson"), p("Stevenson"));
        assert_eq!(p("Reid"), p("Reed"));
        assert_eq!(p("Davies"), p("Davis"));
        assert_eq!(p("Gray"), p("Grey"));
        assert_eq!(p("Thomson"), p("Tomson"));
        assert_ne!(p("Smith"), p("Jones"));
        assert_eq!(p(""), None);
        assert_eq!(p("'-."), None);
        assert_eq!(p("Smith").as_deref(), Some("SMT"));
    }

    #[test]
    fn postcode_keys_need_a_postcode_shape() {
        assert_eq!(postcode_key("se1 7eh").as_deref(), Some("SE17EH"));
        assert_eq!(postcode_key(" M1 1AA ").as_deref(), Some("M11AA"));
        assert_eq!(postcode_key("EC1A 1BB").as_deref(), Some("EC1A1BB"));
        assert_eq!(postcode_key("UNKNOWN"), None);
        assert_eq!(postcode_key("ZZ99 3VZ"), None);
        assert_eq!(postcode_key("SE1"), None);
        assert_eq!(postcode_key("SÉ1 7EH"), None);
        assert_eq!(postcode_key(&"A".repeat(10_000)), None);
        assert_eq!(outward("SE17EH"), "SE1");
        assert_eq!(postcode_display("EC1A1BB"), "EC1A 1BB");
    }

    #[test]
    fn address_lines_fold_street_words() {
        assert_eq!(address_key("12, High Street"), address_key("12 high st."));
        assert_eq!(address_key("Flat 3, 4 Rose Road"), "flat 3 4 rose rd");
        assert_ne!(address_key("12 High St"), address_key("21 High St"));
    }

    #[test]
    fn nicknames_are_symmetric_and_specific() {
        assert!(are_nicknames("bill", "william"));
        assert!(are_nicknames("william", "bill"));
        assert!(are_nicknames("jon", "john"));
        assert!(are_nicknames("alex", "sandy"));
        assert!(!are_nicknames("emma", "sophie"));
    }

    #[test]
    fn blocking_keys_from_demographics() {
        let d = Demographics {
            family: Some("Smyth".into()),
            birth_date: NaiveDate::from_ymd_opt(1980, 3, 4),
            address: Some(Address {
                postcode: Some("SE1 7EH".into()),
                ..Address::default()
            }),
            ..Demographics::default()
        };
        let k = blocking_keys(&d);
        assert_eq!(k.birth_date.as_deref(), Some("1980-03-04"));
        assert_eq!(k.postcode.as_deref(), Some("SE17EH"));
        assert_eq!(
            k.surname_phonetic,
            blocking_keys(&Demographics {
                family: Some("SMITH".into()),
                ..Demographics::default()
            })
            .surname_phonetic
        );
        assert!(!format!("{k:?}").contains("SE17EH"));
        assert_eq!(
            blocking_keys(&Demographics::default()),
            BlockingKeys::default()
        );
    }

    #[test]
    fn long_and_odd_input_is_bounded() {
        let long = "ab-".repeat(100_000);
        assert!(name_key(&long).len() <= MAX_NAME_CHARS);
        assert!(address_key(&long).len() <= MAX_ADDRESS_CHARS);
        assert_eq!(name_key("\u{0}\u{202e}😀"), "");
        assert_eq!(name_key("Иванов"), "иванов");
        assert_eq!(phonetic("иванов"), None);
        // `tktktktktи` panics inside Caverphone2 itself (a byte slice through `и`).
        for odd in ["tktktktktи", "kии", "aиbиcиdиeиfиgи", "ŋŋŋ", "ǅ"] {
            let _ = phonetic(&name_key(odd));
        }
    }

    /// Deterministic noise from a fixed seed: mixed scripts, punctuation, digits and spaces.
    #[test]
    fn arbitrary_text_never_panics() {
        let alphabet: Vec<char> = "aZ09 -'.,éßøŁИиκ😀\u{301}\u{0}ǅ\t".chars().collect();
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..2_000 {
            let len = (state % 40) as usize;
            let s: String = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    alphabet[(state % alphabet.len() as u64) as usize]
                })
                .collect();
            let _ = phonetic(&name_key(&s));
            let _ = (name_parts(&s), address_key(&s), postcode_key(&s));
            let d = Demographics {
                family: Some(s.clone()),
                given: vec![s.clone()],
                address: Some(Address {
                    lines: vec![s.clone()],
                    postcode: Some(s.clone()),
                    city: None,
                }),
                ..Demographics::default()
            };
            let _ = blocking_keys(&d);
            let _ = super::super::score(&d, &d);
        }
    }
}
