//! The summary a clinician reads in the first ninety seconds, above everything else (after the
//! alerts, which are the banner's: `super::alerts`):
//! advance directives (with the attorney and review dates), allergies (saying only what a
//! source said), current medications reconciled across sources, and who to call.
//!
//! Fail closed: "No known allergies" only where a source recorded it; two sources that
//! disagree are shown disagreeing; a dose that differs between sources is said to differ.

use super::{date_text, is_current, when_text, PersonRecord};
use crate::model::entry::DirectiveKind;
use crate::model::{EntryBody, StoredEntry};
use crate::record::when::{date_of, days_until};
use chrono::NaiveDate;
use std::collections::BTreeSet;

/// A review date this close (or passed) is flagged.
pub const REVIEW_WARN_DAYS: i64 = 30;

/// Medication lines shown before "show all".
pub const MEDICATIONS_SHOWN: usize = 6;

/// Contacts shown before "show all": next of kin and carers come first.
pub const CONTACTS_SHOWN: usize = 5;

pub struct Summary {
    pub directives: Vec<DirectiveLine>,
    pub allergies: Allergies,
    pub medications: Vec<MedicationLine>,
    pub contacts: Vec<ContactLine>,
}

pub struct DirectiveLine {
    pub title: String,
    pub description: Option<String>,
    pub person_label: &'static str,
    /// The attorney of an LPA.
    pub person: Option<String>,
    pub phone: Option<String>,
    pub since: Option<String>,
    pub review: Option<Review>,
    pub source: String,
}

pub struct Review {
    pub text: String,
    /// Passed, or within [`REVIEW_WARN_DAYS`].
    pub warn: bool,
}

/// What the sources say about allergies, as one of four states.
pub struct Allergies {
    /// `none` (no source sent any), `nkda`, `listed`, `conflict`: the CSS class.
    pub state: &'static str,
    pub headline: String,
    pub items: Vec<AllergyLine>,
    /// Who recorded "no known allergies", and when.
    pub nkda_from: Vec<String>,
}

pub struct AllergyLine {
    pub text: String,
    pub source: String,
}

pub struct MedicationLine {
    pub name: String,
    pub sources: Vec<MedicationSource>,
    /// Set when the sources' doses differ.
    pub dose_warning: Option<String>,
}

pub struct MedicationSource {
    pub source: String,
    pub dose: String,
    /// "last issued 3 Feb 2024" or "recorded 3 Feb 2024".
    pub dated: Option<String>,
    /// How many of this source's entries were folded into the line.
    pub records: usize,
}

pub struct ContactLine {
    pub role: String,
    pub name: String,
    pub phone: Option<String>,
}

impl Summary {
    pub fn build(r: &PersonRecord, today: NaiveDate) -> Self {
        let current: Vec<&StoredEntry> =
            r.entries.iter().filter(|e| is_current(e, today)).collect();
        Self {
            directives: directives(&current, today),
            allergies: allergies::allergies(&current),
            medications: medications::medications(r, &current),
            contacts: contacts(&current),
        }
    }

    /// The allergy state of these current entries (the banner's flag says the same).
    pub fn allergies_of(current: &[&StoredEntry]) -> Allergies {
        allergies::allergies(current)
    }

    pub fn contacts_first(&self) -> &[ContactLine] {
        &self.contacts[..self.contacts.len().min(CONTACTS_SHOWN)]
    }

    pub fn contacts_rest(&self) -> &[ContactLine] {
        &self.contacts[self.contacts.len().min(CONTACTS_SHOWN)..]
    }

    pub fn medications_first(&self) -> &[MedicationLine] {
        &self.medications[..self.medications.len().min(MEDICATIONS_SHOWN)]
    }

    pub fn medications_rest(&self) -> &[MedicationLine] {
        &self.medications[self.medications.len().min(MEDICATIONS_SHOWN)..]
    }
}

fn source_of(e: &StoredEntry) -> String {
    e.provenance.organisation.clone()
}

fn review(date: &str, today: NaiveDate) -> Review {
    let Some(d) = date_of(date) else {
        return Review {
            text: format!("Review: {date}"),
            warn: false,
        };
    };
    let days = days_until(d, today);
    let shown = date_text(d);
    if days < 0 {
        Review {
            text: format!("Review date passed: {shown}"),
            warn: true,
        }
    } else if days == 0 {
        Review {
            text: format!("Review due today ({shown})"),
            warn: true,
        }
    } else if days <= REVIEW_WARN_DAYS {
        let unit = if days == 1 { "day" } else { "days" };
        Review {
            text: format!("Review due in {days} {unit} ({shown})"),
            warn: true,
        }
    } else {
        Review {
            text: format!("Review by {shown}"),
            warn: false,
        }
    }
}

/// The phone number of the person named, from the next-of-kin or care-network entries of the
/// same record: feeds name the attorney on the directive and give their number with the person.
fn phone_of(name: &str, current: &[&StoredEntry]) -> Option<String> {
    let wanted = name_key(name);
    let same = |n: &Option<String>| n.as_deref().map(name_key).as_ref() == Some(&wanted);
    current.iter().find_map(|e| match &e.entry.body {
        EntryBody::NextOfKin(k) if same(&k.name) => k.phone.clone(),
        EntryBody::CareNetwork(c) if same(&c.name) => c.phone.clone(),
        _ => None,
    })
}

/// A person's name as compared: case, spacing, a title and a note in brackets ("Mrs Jean
/// Clarke", "Jean Clarke (attorney)") do not make two names different.
fn name_key(name: &str) -> String {
    let plain = name.split('(').next().unwrap_or(name);
    plain
        .split_whitespace()
        .map(|w| w.trim_end_matches('.').to_lowercase())
        .filter(|w| !matches!(w.as_str(), "mr" | "mrs" | "ms" | "miss" | "mx" | "dr"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn directives(current: &[&StoredEntry], today: NaiveDate) -> Vec<DirectiveLine> {
    current
        .iter()
        .filter_map(|e| match &e.entry.body {
            EntryBody::AdvanceDirective(a) => {
                let lpa = matches!(
                    a.kind,
                    DirectiveKind::LpaHealthWelfare | DirectiveKind::LpaPropertyFinance
                );
                let person = a.responsible_person.clone();
                Some(DirectiveLine {
                    title: e.entry.title.clone(),
                    description: a
                        .description
                        .clone()
                        .filter(|d| !restates(d, &e.entry.title)),
                    person_label: "Attorney",
                    // Who made a DNACPR or ReSPECT decision is in the full record; the
                    // attorney is someone to call.
                    phone: person
                        .as_deref()
                        .filter(|_| lpa)
                        .and_then(|p| phone_of(p, current)),
                    person: person.filter(|_| lpa),
                    since: e.entry.start.as_deref().map(when_text),
                    review: a.review_date.as_deref().map(|d| review(d, today)),
                    source: source_of(e),
                })
            }
            _ => None,
        })
        .collect()
}

/// Whether a directive's description only says again what its title says ("DNACPR - do not
/// attempt cardiopulmonary resuscitation" under "DNACPR decision").
fn restates(description: &str, title: &str) -> bool {
    let d = description.to_lowercase();
    d == title.to_lowercase()
        || title
            .split_whitespace()
            .next()
            .is_some_and(|first| d.contains(&first.to_lowercase()))
}

fn contacts(current: &[&StoredEntry]) -> Vec<ContactLine> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    let mut push =
        |out: &mut Vec<ContactLine>, role: String, name: String, phone: Option<String>| {
            if seen.insert((role.clone(), name.to_lowercase())) {
                out.push(ContactLine { role, name, phone });
            }
        };
    for e in current {
        if let EntryBody::NextOfKin(k) = &e.entry.body {
            let who = if k.is_carer { "Carer" } else { "Next of kin" };
            let role = match &k.relationship {
                Some(rel) => format!("{who} ({})", rel.to_lowercase()),
                None => who.to_owned(),
            };
            let name = k.name.clone().unwrap_or_else(|| e.entry.title.clone());
            push(&mut out, role, name, k.phone.clone());
        }
    }
    for e in current {
        match &e.entry.body {
            EntryBody::MentalHealth(m) => {
                if let Some(name) = &m.care_coordinator {
                    let role = match &m.team {
                        Some(t) => format!("Care coordinator, {t}"),
                        None => "Care coordinator".to_owned(),
                    };
                    push(&mut out, role, name.clone(), m.coordinator_contact.clone());
                }
            }
            EntryBody::SocialCare(s) => {
                if let Some(name) = &s.named_worker {
                    let role = match &s.team {
                        Some(t) => format!("Social care named worker, {t}"),
                        None => "Social care named worker".to_owned(),
                    };
                    push(&mut out, role, name.clone(), s.worker_contact.clone());
                }
            }
            _ => {}
        }
    }
    for e in current {
        if let EntryBody::CareNetwork(c) = &e.entry.body {
            let Some(name) = c.name.clone().or_else(|| c.team.clone()) else {
                continue;
            };
            let role = [c.role.as_deref(), c.agency.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", ");
            let role = if role.is_empty() {
                "Care network".to_owned()
            } else {
                role
            };
            push(&mut out, role, name, c.phone.clone());
        }
    }
    out
}

mod allergies;
mod medications;
#[cfg(test)]
mod tests;

pub use allergies::{allergy_text, is_no_known_allergy};
pub use medications::drug_key;
