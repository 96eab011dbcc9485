//! The record page as a clinician reads it: a banner with who this is and what must not be
//! missed (allergies, DNACPR, alerts, Mental Health Act status, recent test results, death), then every category in
//! clinical order, each item with where it came from and whether that feed has gone quiet.
//!
//! Everything here is display text, ready for a template; nothing is decided in the template.

pub use alerts::AlertLine;

use super::PersonRecord;
use crate::model::entry::LocationKind;
use crate::model::{Category, Demographics, EntryBody, NhsNumber, NhsNumberStatus, StoredEntry};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use std::collections::{BTreeSet, HashMap};

pub use super::when::{date_text, when_text};

/// A feed whose latest file is older than this is marked stale.
pub const STALE_AFTER_DAYS: i64 = 7;

pub struct RecordView {
    pub person_id: i64,
    pub banner: Banner,
    /// What the ninety-second reader needs, above everything else.
    pub summary: summary::Summary,
    /// Which summary blocks the reader's role sees: a block for a category the role does not
    /// see is left out rather than shown empty.
    pub shows: Shows,
    pub sections: Vec<Section>,
    /// Sources whose latest file is older than [`STALE_AFTER_DAYS`], by name.
    pub stale_sources: Vec<String>,
}

/// The summary blocks shown to this reader.
pub struct Shows {
    pub alerts: bool,
    pub directives: bool,
    pub allergies: bool,
    pub medications: bool,
    pub contacts: bool,
    pub location: bool,
}

pub struct Banner {
    pub name: String,
    pub born: String,
    pub age: String,
    pub nhs_number: String,
    /// Set when the number is not verified: "unverified", "invalid".
    pub nhs_status: Option<String>,
    pub sex: String,
    pub address: String,
    pub gp: String,
    pub location: Option<String>,
    pub flags: Vec<Flag>,
    /// Active alerts (safeguarding, risk to staff, clinical, other), for the banner's alert
    /// block.
    pub alerts: Vec<AlertLine>,
    /// Possible duplicates of this person waiting for review, as the reader may see them
    /// (filled in by the page, through `access`).
    pub duplicates: Vec<Duplicate>,
}

/// A banner flag; `kind` becomes the CSS class `flag-{kind}`.
pub struct Flag {
    pub kind: &'static str,
    pub text: String,
}

pub struct Section {
    /// The category's stable name: the section's id is `cat-{category}`.
    pub category: &'static str,
    pub label: &'static str,
    pub items: Vec<Item>,
    /// "None recorded by …" for an empty section.
    pub none_note: String,
    /// How many items show before "show all": the latest few, or every match of a search.
    pub shown: usize,
}

/// Items a section of the full record shows before "show all".
pub const SECTION_SHOWN: usize = 2;

/// Categories the summary already gives in full: their sections show the latest item only.
const SUMMARISED: [Category; 6] = [
    Category::AdvanceDirective,
    Category::Allergy,
    Category::Medication,
    Category::Safeguarding,
    Category::NextOfKin,
    Category::CareNetwork,
];

impl Section {
    pub fn first(&self) -> &[Item] {
        &self.items[..self.shown.min(self.items.len())]
    }

    pub fn rest(&self) -> &[Item] {
        &self.items[self.shown.min(self.items.len())..]
    }
}

pub struct Item {
    pub id: i64,
    pub title: String,
    pub status: Option<String>,
    pub when: Option<String>,
    pub details: Vec<Detail>,
    pub organisation: String,
    pub system: String,
    pub recorded: Option<String>,
    pub received: String,
    pub stale: bool,
    /// Matched the search inside this record.
    pub found: bool,
    pub sensitive: bool,
}

pub struct Detail {
    pub label: String,
    pub value: String,
}

/// When each source's latest file arrived, by source code; and which are stale at `now`.
pub struct Freshness {
    stale: HashMap<String, bool>,
}

impl Freshness {
    pub fn new(last_received: &[(String, Option<String>)], now: DateTime<Utc>) -> Self {
        let limit = chrono::Duration::days(STALE_AFTER_DAYS);
        let stale = last_received
            .iter()
            .map(|(code, at)| {
                let old = at
                    .as_deref()
                    .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                    .is_some_and(|t| now.signed_duration_since(t) > limit);
                (code.clone(), old)
            })
            .collect();
        Self { stale }
    }

    pub fn is_stale(&self, source_code: &str) -> bool {
        self.stale.get(source_code).copied().unwrap_or(false)
    }
}

impl RecordView {
    /// `found` lists entries that matched a search inside the record: they come first in
    /// their section and are marked.
    pub fn build(r: &PersonRecord, today: NaiveDate, fresh: &Freshness, found: &[i64]) -> Self {
        let sources_note = source_names(r);
        let sections = Category::ALL
            .into_iter()
            .map(|category| {
                let mut items: Vec<Item> = r
                    .entries
                    .iter()
                    .filter(|e| e.entry.category == category)
                    .map(|e| item(e, fresh, found.contains(&e.id)))
                    .collect();
                // Stable: keeps newest-first order within matches and non-matches.
                items.sort_by_key(|i| !i.found);
                let few = if SUMMARISED.contains(&category) {
                    1
                } else {
                    SECTION_SHOWN
                };
                let shown = items.iter().filter(|i| i.found).count().max(few);
                Section {
                    category: category.as_str(),
                    label: category.label(),
                    items,
                    none_note: format!("None recorded by {sources_note}."),
                    shown,
                }
            })
            .collect();
        let mut stale_sources: Vec<String> = r
            .sources
            .iter()
            .filter(|s| fresh.is_stale(&s.source_code))
            .map(|s| s.source_name.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        stale_sources.dedup();
        Self {
            person_id: r.person_id,
            banner: banner(r, today),
            summary: summary::Summary::build(r, today),
            shows: Shows {
                alerts: true,
                directives: true,
                allergies: true,
                medications: true,
                contacts: true,
                location: true,
            },
            sections,
            stale_sources,
        }
    }
}

impl RecordView {
    /// Drops the sections of categories the reader's role does not see, so that "none
    /// recorded" is never said of data that exists but is not theirs to see.
    pub fn keep_categories(&mut self, shown: &BTreeSet<Category>) {
        self.sections
            .retain(|s| Category::parse(s.category).is_some_and(|c| shown.contains(&c)));
        let sees = |c: Category| shown.contains(&c);
        self.shows = Shows {
            alerts: sees(Category::Safeguarding) || sees(Category::Alert),
            directives: sees(Category::AdvanceDirective),
            allergies: sees(Category::Allergy),
            medications: sees(Category::Medication),
            contacts: sees(Category::NextOfKin)
                || sees(Category::CareNetwork)
                || sees(Category::MentalHealth)
                || sees(Category::SocialCare),
            location: sees(Category::Location),
        };
        if !self.shows.allergies {
            // "No allergy information" would be untrue of allergies the role does not see.
            self.banner
                .flags
                .retain(|f| !f.kind.starts_with("allerg") && f.kind != "nka");
        }
    }
}

fn source_names(r: &PersonRecord) -> String {
    let names: BTreeSet<&str> = r.sources.iter().map(|s| s.source_name.as_str()).collect();
    if names.is_empty() {
        return "any source".into();
    }
    names.into_iter().collect::<Vec<_>>().join(", ")
}

/// "Margaret Ellen THOMPSON": the family name in capitals, as NHS banners show it.
pub fn person_name(d: &Demographics) -> String {
    let mut parts: Vec<String> = d.given.iter().map(|g| title_case(g)).collect();
    if let Some(f) = &d.family {
        parts.push(f.to_uppercase());
    }
    if parts.is_empty() {
        return "Name not known".into();
    }
    parts.join(" ")
}

fn title_case(s: &str) -> String {
    if s.chars().any(char::is_lowercase) {
        return s.to_owned();
    }
    s.split(' ')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f
                    .to_uppercase()
                    .chain(c.flat_map(char::to_lowercase))
                    .collect(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// NHS number 3-3-4, or what the source sent when it is not a number.
pub fn nhs_display(d: &Demographics) -> (String, Option<String>) {
    match &d.nhs_number {
        None => ("not known".into(), None),
        Some(n) => {
            let shown = NhsNumber::parse(&n.value)
                .map(|p| p.formatted())
                .unwrap_or_else(|_| n.value.clone());
            let status =
                (n.status != NhsNumberStatus::Verified).then(|| n.status.as_str().to_owned());
            (shown, status)
        }
    }
}

/// "86 years" (or months for an infant); at death when the person has died.
pub fn age(d: &Demographics, today: NaiveDate) -> String {
    let Some(born) = d.birth_date else {
        return "age not known".into();
    };
    let on = d.death_date.unwrap_or(today);
    let months = (on.year() - born.year()) * 12 + on.month() as i32
        - born.month() as i32
        - i32::from(on.day() < born.day());
    let text = if months < 24 {
        format!("{} months", months.max(0))
    } else {
        format!("{} years", months / 12)
    };
    if d.deceased || d.death_date.is_some() {
        format!("died aged {text}")
    } else {
        text
    }
}

/// Whether an entry still holds: not ended, resolved, refuted or entered in error.
pub fn is_current(e: &StoredEntry, today: NaiveDate) -> bool {
    let status = e.entry.status.as_deref().unwrap_or("").to_ascii_lowercase();
    let finished = [
        "inactive",
        "resolved",
        "refuted",
        "entered-in-error",
        "closed",
        "ended",
        "revoked",
        "rejected",
        "cancelled",
        "completed",
        "finished",
    ];
    if finished.contains(&status.as_str()) {
        return false;
    }
    let ended = e
        .entry
        .end
        .as_deref()
        .and_then(|t| t.get(..10))
        .and_then(|t| NaiveDate::parse_from_str(t, "%Y-%m-%d").ok())
        .is_some_and(|end| end < today);
    !ended
}

fn banner(r: &PersonRecord, today: NaiveDate) -> Banner {
    let d = &r.demographics;
    let (nhs_number, nhs_status) = nhs_display(d);
    let address = if d.restricted && d.address.is_none() {
        "Withheld: restricted record".to_owned()
    } else {
        d.address
            .as_ref()
            .map(|a| {
                let mut parts: Vec<String> = a.lines.iter().map(|l| title_case(l)).collect();
                parts.extend(a.city.iter().map(|c| title_case(c)));
                parts.extend(a.postcode.clone());
                parts.join(", ")
            })
            .filter(|a| !a.is_empty())
            .unwrap_or_else(|| "not known".into())
    };
    let gp = match (&d.gp_practice_name, &d.gp_practice, &d.gp_name) {
        (None, None, None) => "not known".to_owned(),
        (name, code, doctor) => {
            let mut s = name.clone().unwrap_or_default();
            if let Some(c) = code {
                s = if s.is_empty() {
                    c.clone()
                } else {
                    format!("{s} ({c})")
                };
            }
            if let Some(g) = doctor {
                s = if s.is_empty() {
                    g.clone()
                } else {
                    format!("{s}, {g}")
                };
            }
            s
        }
    };
    // A restricted person's location reaches here only for a reader allowed to see it.
    let location = current_location(r);
    Banner {
        name: person_name(d),
        born: d
            .birth_date
            .map(date_text)
            .unwrap_or_else(|| "not known".into()),
        age: age(d, today),
        nhs_number,
        nhs_status,
        sex: d
            .sex
            .map(|s| status_words(s.as_str()))
            .unwrap_or_else(|| "not known".into()),
        address,
        gp,
        location,
        flags: flags::flags(r, today),
        alerts: alerts::alerts(r, today),
        duplicates: Vec::new(),
    }
}

/// The most recent location any source reported, as that one entry says it: its own ward
/// and bed, never another version's. A location its source has cancelled (an admission that
/// never happened, with nothing before it) is not a location.
fn current_location(r: &PersonRecord) -> Option<String> {
    let standing = || {
        r.entries
            .iter()
            .filter(|e| e.entry.category == Category::Location)
            .filter(|e| e.entry.status.as_deref() != Some("cancelled"))
    };
    let is_death = |e: &&StoredEntry| matches!(&e.entry.body, EntryBody::Location(l) if l.kind == LocationKind::Deceased);
    // A death, once recorded (and not cancelled), is where the person is: a later location
    // from a feed that has not heard of it does not bring them back.
    let latest = standing()
        .filter(is_death)
        .max_by(|a, b| a.entry.start.cmp(&b.entry.start))
        .or_else(|| standing().max_by(|a, b| a.entry.start.cmp(&b.entry.start)))?;
    let mut text = latest.entry.title.clone();
    let mut died = false;
    if let EntryBody::Location(l) = &latest.entry.body {
        let hospital = l.kind.in_hospital().then_some(&l.organisation);
        for part in [&l.name, &l.ward, &l.bed]
            .into_iter()
            .chain(hospital)
            .flatten()
        {
            if !text.contains(part.as_str()) {
                text = format!("{text}, {part}");
            }
        }
        if let Some(away) = &l.temporarily_at {
            text = format!("{text}; temporarily at {away}");
        }
        died = l.kind == LocationKind::Deceased;
    }
    if let Some(s) = &latest.entry.start {
        text = match died {
            true => format!("{text} ({})", when_text(s)),
            false => format!("{text} (since {})", when_text(s)),
        };
    }
    Some(text)
}

fn item(e: &StoredEntry, fresh: &Freshness, found: bool) -> Item {
    let x = &e.entry;
    let p = &e.provenance;
    Item {
        id: e.id,
        title: x.title.clone(),
        status: x.status.as_deref().map(status_words),
        when: period(x.start.as_deref(), x.end.as_deref()),
        details: details(&x.body)
            .into_iter()
            .filter(|d| !d.value.eq_ignore_ascii_case(&x.title))
            .collect(),
        organisation: p.organisation.clone(),
        system: p.source_name.clone(),
        recorded: x.recorded_at.as_deref().map(when_text),
        received: when_text(&p.received_at),
        stale: fresh.is_stale(&p.source_code),
        found,
        sensitive: x.sensitive,
    }
}

/// A workflow status as the source says it, in words: `entered-in-error` → `Entered in error`.
pub fn status_words(status: &str) -> String {
    let mut s = status.trim().replace(['-', '_'], " ").to_lowercase();
    if let Some(first) = s.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    s
}

/// "3 Feb 2024 – 5 Feb 2024", "from 3 Feb 2024", "until 5 Feb 2024".
pub fn period(start: Option<&str>, end: Option<&str>) -> Option<String> {
    match (start, end) {
        (Some(a), Some(b)) => Some(format!("{} – {}", when_text(a), when_text(b))),
        (Some(a), None) => Some(when_text(a)),
        (None, Some(b)) => Some(format!("until {}", when_text(b))),
        (None, None) => None,
    }
}

/// The body's fields as label and text, in reading order.
pub fn details(body: &EntryBody) -> Vec<Detail> {
    if let EntryBody::Result(r) = body {
        return super::results::words::details(r);
    }
    words::details(body)
}

#[cfg(test)]
mod alert_tests;
mod alerts;
mod duplicate;
mod flags;
mod recent_tests;
pub mod summary;
pub use duplicate::Duplicate;
#[cfg(test)]
mod tests;
mod words;
