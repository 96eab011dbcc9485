//! Patient → demographics (UK Core identifiers and extensions), and the people around the
//! patient — RelatedPerson and Patient.contact — → next-of-kin entries.

use super::adapt::{first_label, Adapted, Base, Outcome};
use super::resources::{
    non_empty, telecom, Address, CodeableConcept, HumanName, Patient, PatientContact, Reference,
    RelatedPerson,
};
use super::NHS_NUMBER_SYSTEM;
use crate::model::entry::NextOfKin;
use crate::model::person::{normalise_postcode, Address as PostalAddress};
use crate::model::{Demographics, EntryBody, EntryDraft, Identifier, ReportedNhsNumber, Sex};

const VERIFICATION_EXTENSION: &str = "NHSNumberVerificationStatus";
const ODS_SYSTEM: &str = "https://fhir.nhs.uk/Id/ods-organization-code";
/// The NHS number system of older (pre-UK Core, STU3 CareConnect era) feeds.
const LEGACY_NHS_NUMBER_SYSTEM: &str = "http://fhir.nhs.net/Id/nhs-number";

pub(super) fn patient(p: Patient, base: &Base<'_>) -> Result<Outcome, String> {
    let mut d = Demographics {
        restricted: base.restricted,
        ..Demographics::default()
    };
    for ident in &p.identifier {
        let system = ident.system.as_deref().unwrap_or("").trim();
        let Some(value) = non_empty(ident.value.as_deref()) else {
            continue;
        };
        if is_nhs_number_system(system) {
            if d.nhs_number.is_none() {
                d.nhs_number = Some(ReportedNhsNumber::classify(&value, verified(ident)));
            }
        } else {
            d.identifiers.push(Identifier {
                system: system.to_owned(),
                kind: ident
                    .kind
                    .as_ref()
                    .and_then(|k| k.codes().next())
                    .map(str::to_owned),
                value,
            });
        }
    }
    if let Some(name) = preferred_name(&p.name) {
        d.family = non_empty(name.family.as_deref());
        d.given = name
            .given
            .iter()
            .filter_map(|g| non_empty(Some(g)))
            .collect();
        d.title = name.prefix.iter().find_map(|t| non_empty(Some(t)));
    }
    d.birth_date = p.birth_date.as_deref().and_then(full_date);
    d.sex = p.gender.as_deref().and_then(Sex::parse);
    d.ethnicity = ethnicity(&p.extension);
    d.address = preferred_address(&p.address).map(|a| PostalAddress {
        lines: a.line.iter().filter_map(|l| non_empty(Some(l))).collect(),
        city: non_empty(a.city.as_deref()),
        postcode: a.postal_code.as_deref().and_then(normalise_postcode),
    });
    d.phone = telecom(&p.telecom, "phone");
    d.email = telecom(&p.telecom, "email");
    d.death_date = p.deceased_date_time.as_deref().and_then(full_date);
    d.deceased = p.deceased_boolean == Some(true) || p.deceased_date_time.is_some();
    for gp in &p.general_practitioner {
        read_gp(gp, &mut d);
    }

    let subject = base
        .id
        .clone()
        .or_else(|| base.full_url.map(str::to_owned))
        .or_else(|| {
            d.nhs_number
                .as_ref()
                .and_then(ReportedNhsNumber::trusted)
                .map(|n| format!("NHS:{n}"))
        })
        .ok_or("the Patient has no id, no fullUrl and no valid NHS number, so it cannot be told apart from others")?;
    let merge_from = p
        .link
        .iter()
        .filter(|l| l.kind.as_deref() == Some("replaces"))
        .find_map(|l| base.ctx.subject_of(l.other.as_ref()).ok());
    let entries = p
        .contact
        .iter()
        .enumerate()
        .filter_map(|(i, c)| contact_entry(c, i, base))
        .collect();
    Ok(Outcome::Unit(Box::new(Adapted {
        subject,
        demographics: Some(d),
        entries,
        merge_from,
        last_updated: base.last_updated(),
    })))
}

/// The ethnic category from UK Core's (or CareConnect's) ethnic category extension.
fn ethnicity(extensions: &[serde_json::Value]) -> Option<String> {
    extensions
        .iter()
        .filter(|e| {
            e.get("url")
                .and_then(serde_json::Value::as_str)
                .is_some_and(|u| u.contains("EthnicCategory"))
        })
        .filter_map(|e| e.pointer("/valueCodeableConcept/coding"))
        .filter_map(serde_json::Value::as_array)
        .flatten()
        .filter_map(|c| c.get("code").and_then(serde_json::Value::as_str))
        .find_map(crate::model::person::ethnic_category)
}

fn is_nhs_number_system(system: &str) -> bool {
    system == NHS_NUMBER_SYSTEM || system == LEGACY_NHS_NUMBER_SYSTEM
}

/// The UK Core (or CareConnect) verification status: code `01` is "number present and
/// verified"; any other code says it is not; no extension says nothing.
fn verified(ident: &super::resources::Identifier) -> Option<bool> {
    let ext = ident
        .extension
        .iter()
        .find(|e| e.url.contains(VERIFICATION_EXTENSION))?;
    let code = ext
        .value_codeable_concept
        .as_ref()
        .and_then(|c| c.codes().next())
        .or_else(|| ext.value_coding.as_ref().and_then(|c| c.code.as_deref()))?;
    Some(code.trim() == "01")
}

/// Official, then usual, then any current name, then the first.
fn preferred_name(names: &[HumanName]) -> Option<&HumanName> {
    let current = |n: &&HumanName| n.usage.as_deref() != Some("old");
    ["official", "usual"]
        .iter()
        .find_map(|u| names.iter().find(|n| n.usage.as_deref() == Some(u)))
        .or_else(|| names.iter().find(current))
        .or_else(|| names.first())
}

/// Home, then any address that is not old or temporary, then the first.
fn preferred_address(addresses: &[Address]) -> Option<&Address> {
    addresses
        .iter()
        .find(|a| a.usage.as_deref() == Some("home"))
        .or_else(|| {
            addresses
                .iter()
                .find(|a| !matches!(a.usage.as_deref(), Some("old" | "temp" | "billing")))
        })
        .or_else(|| addresses.first())
}

/// A full date from `YYYY-MM-DD` or the date part of a dateTime; partial dates give none,
/// since demographics hold a whole date or nothing.
fn full_date(text: &str) -> Option<chrono::NaiveDate> {
    let day = text.trim().get(..10)?;
    chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()
}

fn read_gp(gp: &Reference, d: &mut Demographics) {
    let target = gp.reference.as_deref().unwrap_or("");
    let is_practitioner = gp.kind.as_deref() == Some("Practitioner")
        || gp.kind.as_deref() == Some("PractitionerRole")
        || target.contains("Practitioner");
    let ods = gp
        .identifier
        .as_ref()
        .filter(|i| i.system.as_deref() == Some(ODS_SYSTEM))
        .and_then(|i| non_empty(i.value.as_deref()));
    if is_practitioner {
        if d.gp_name.is_none() {
            d.gp_name = gp.label();
        }
    } else if d.gp_practice.is_none() && (ods.is_some() || gp.display.is_some()) {
        d.gp_practice = ods;
        d.gp_practice_name = non_empty(gp.display.as_deref());
    }
}

fn contact_entry(c: &PatientContact, index: usize, base: &Base<'_>) -> Option<EntryDraft> {
    let name = c.name.as_ref().and_then(HumanName::full);
    let relationship = first_label(&c.relationship);
    if name.is_none() && relationship.is_none() {
        return None;
    }
    let body = NextOfKin {
        name: name.clone(),
        relationship: relationship.clone(),
        phone: telecom(&c.telecom, "phone"),
        address: c.address.as_ref().and_then(Address::one_line),
        is_carer: is_carer(&c.relationship),
    };
    let mut entry = base.draft(name.or(relationship), "Contact", EntryBody::NextOfKin(body));
    entry.source_ref = format!("{}#contact-{}", base.source_ref, index + 1);
    // An S-flagged patient's contacts' addresses could reveal where the patient lives.
    entry.sensitive = base.sensitive || base.restricted;
    entry.start = c.period.as_ref().and_then(|p| p.start.clone());
    entry.end = c.period.as_ref().and_then(|p| p.end.clone());
    Some(entry)
}

fn is_carer(relationship: &[CodeableConcept]) -> bool {
    relationship.iter().any(|r| {
        r.words().contains("carer")
            || r.words().contains("caregiver")
            || r.codes().any(|c| c.eq_ignore_ascii_case("CAREGIVER"))
    })
}

pub(super) fn related_person(r: RelatedPerson, base: &Base<'_>) -> Result<Outcome, String> {
    let subject = base.ctx.subject_of(r.patient.as_ref())?;
    let name = preferred_name(&r.name).and_then(HumanName::full);
    let relationship = first_label(&r.relationship);
    let body = NextOfKin {
        name: name.clone(),
        relationship: relationship.clone(),
        phone: telecom(&r.telecom, "phone"),
        address: preferred_address(&r.address).and_then(Address::one_line),
        is_carer: is_carer(&r.relationship),
    };
    let mut entry = base.draft(
        name.or(relationship),
        "Related person",
        EntryBody::NextOfKin(body),
    );
    entry.status = r
        .active
        .map(|a| if a { "active" } else { "inactive" }.to_owned());
    entry.start = r.period.as_ref().and_then(|p| p.start.clone());
    entry.end = r.period.as_ref().and_then(|p| p.end.clone());
    Ok(base.unit(subject, vec![entry]))
}
