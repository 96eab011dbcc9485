//! A person's record as a FHIR R4 `Bundle` of type `collection`: the golden demographics as
//! one Patient, then one resource per entry, each referencing the Patient by its `fullUrl`.
//!
//! Every resource must validate as FHIR R4 (`tests/fhir_validate.py` checks with an
//! independent library): required elements are always present, statuses are mapped to their
//! required value sets with a safe default ([`codes`]), and times are converted to FHIR's
//! formats or dropped ([`dates`]). Nothing is invented: a detail with no FHIR element of its
//! own travels in a `urn:sharedcare:extension:*` extension rather than being lost or forced
//! into the wrong element.
//!
//! Every resource claims its UK Core profile in `meta.profile` ([`profiles`]).
//!
//! `fullUrl`s are `urn:uuid:`s derived from the person and entry ids, so exporting the same
//! record twice gives the same Bundle.

mod care;
mod clinical;
mod codes;
mod dates;
mod entries;
mod profiles;
#[cfg(test)]
mod tests;

pub use profiles::{uk_core_profile, PROFILED_TYPES};

use super::PersonRecord;
use crate::model::{Demographics, NhsNumberStatus};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

const NHS_NUMBER_SYSTEM: &str = "https://fhir.nhs.uk/Id/nhs-number";
const ODS_SYSTEM: &str = "https://fhir.nhs.uk/Id/ods-organization-code";
const VERIFICATION_URL: &str =
    "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus";
const VERIFICATION_SYSTEM: &str =
    "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland";
const CONFIDENTIALITY_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality";

pub fn bundle(record: &PersonRecord) -> Value {
    let patient_url = uuid_url("person", record.person_id);
    let mut entries = vec![json!({
        "fullUrl": patient_url,
        "resource": patient(record),
    })];
    for stored in &record.entries {
        entries.push(json!({
            "fullUrl": uuid_url("entry", stored.id),
            "resource": entries::resource(stored, &patient_url),
        }));
    }
    json!({
        "resourceType": "Bundle",
        "id": format!("person-{}-record", record.person_id),
        "type": "collection",
        "entry": entries,
    })
}

/// The `id` of a person's Patient resource; REST clients address the Patient by it.
pub fn patient_id(person_id: i64) -> String {
    format!("person-{person_id}")
}

/// The person's Patient resource alone, as in [`bundle`].
pub fn patient_resource(record: &PersonRecord) -> Value {
    patient(record)
}

/// One resource per entry, as in [`bundle`] but referencing the Patient RESTfully
/// (`Patient/person-N`), as a FHIR server answers.
pub fn entry_resources(record: &PersonRecord) -> Vec<Value> {
    let reference = format!("Patient/{}", patient_id(record.person_id));
    record
        .entries
        .iter()
        .map(|stored| entries::resource(stored, &reference))
        .collect()
}

/// A name-based UUID (SHA-256 truncated, version and variant bits set as for v5) so the same
/// id always gives the same `urn:uuid:`.
fn uuid_url(kind: &str, id: i64) -> String {
    let digest = Sha256::digest(format!("sharedcare:{kind}:{id}").as_bytes());
    let mut b = [0u8; 16];
    for (slot, byte) in b.iter_mut().zip(digest.iter()) {
        *slot = *byte;
    }
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    let part = |r: std::ops::Range<usize>| h.get(r).unwrap_or("");
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        part(0..8),
        part(8..12),
        part(12..16),
        part(16..20),
        part(20..32)
    )
}

fn patient(record: &PersonRecord) -> Value {
    let mut p = patient_unprofiled(record);
    profiles::claim_profile(&mut p);
    p
}

fn patient_unprofiled(record: &PersonRecord) -> Value {
    let d = &record.demographics;
    let mut p = Resource::new("Patient");
    p.set("id", json!(patient_id(record.person_id)));
    if d.restricted {
        p.set("meta", json!({"security": [restricted_label()]}));
    }
    p.list("identifier", identifiers(record));
    if !d.given.is_empty() || d.family.is_some() {
        let mut name = Resource::default();
        name.set("use", json!("official"));
        name.text("family", d.family.as_deref());
        name.list(
            "given",
            d.given
                .iter()
                .filter(|g| !g.trim().is_empty())
                .map(|g| json!(g))
                .collect(),
        );
        name.list("prefix", d.title.iter().map(|t| json!(t)).collect());
        p.list("name", vec![name.into_value()]);
    }
    let mut telecom = Vec::new();
    if let Some(phone) = d.phone.as_deref().filter(|s| !s.trim().is_empty()) {
        telecom.push(json!({"system": "phone", "value": phone}));
    }
    if let Some(email) = d.email.as_deref().filter(|s| !s.trim().is_empty()) {
        telecom.push(json!({"system": "email", "value": email}));
    }
    p.list("telecom", telecom);
    p.opt("gender", d.sex.map(|s| json!(s.as_str())));
    p.opt(
        "birthDate",
        d.birth_date.and_then(fhir_date).map(Value::from),
    );
    if let Some(date) = d.death_date.and_then(fhir_date) {
        p.set("deceasedDateTime", json!(date));
    } else if d.deceased {
        p.set("deceasedBoolean", json!(true));
    }
    p.list("address", address(d).into_iter().collect());
    let mut gps = Vec::new();
    if let Some(ods) = d.gp_practice.as_deref().filter(|s| !s.trim().is_empty()) {
        let mut r = Resource::default();
        r.set("type", json!("Organization"));
        r.set(
            "identifier",
            json!({"system": ODS_SYSTEM, "value": ods.trim()}),
        );
        r.text("display", d.gp_practice_name.as_deref());
        gps.push(r.into_value());
    }
    if let Some(gp) = d.gp_name.as_deref().filter(|s| !s.trim().is_empty()) {
        gps.push(json!({"type": "Practitioner", "display": gp.trim()}));
    }
    p.list("generalPractitioner", gps);
    p.into_value()
}

/// The NHS number only when verified (an unverified or invalid one must not be read as the
/// person's NHS number downstream), the sources' other identifiers, and each source's own
/// local id for the person.
fn identifiers(record: &PersonRecord) -> Vec<Value> {
    let d = &record.demographics;
    let mut out = Vec::new();
    if let Some(n) = d
        .nhs_number
        .as_ref()
        .filter(|n| n.status == NhsNumberStatus::Verified)
    {
        out.push(json!({
            "system": NHS_NUMBER_SYSTEM,
            "value": n.value,
            "extension": [{
                "url": VERIFICATION_URL,
                "valueCodeableConcept": {"coding": [{
                    "system": VERIFICATION_SYSTEM, "code": "01", "display": "Number present and verified"
                }]}
            }]
        }));
    }
    for ident in &d.identifiers {
        if ident.value.trim().is_empty() {
            continue;
        }
        let mut i = Resource::default();
        if codes::is_uri(&ident.system) {
            i.set("system", json!(ident.system));
        } else if !ident.system.trim().is_empty() {
            i.set("assigner", json!({"display": ident.system.trim()}));
        }
        if let Some(kind) = ident.kind.as_deref().filter(|k| !k.trim().is_empty()) {
            i.set(
                "type",
                json!({"coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": kind.trim()
                }]}),
            );
        }
        i.set("value", json!(ident.value.trim()));
        out.push(i.into_value());
    }
    for source in &record.sources {
        if !source.local_id.trim().is_empty() {
            out.push(json!({
                "system": format!("{}:person", source_uri(&source.source_code)),
                "value": source.local_id.trim(),
                "assigner": {"display": source.source_name},
            }));
        }
    }
    out
}

fn address(d: &Demographics) -> Option<Value> {
    let a = d.address.as_ref()?;
    let mut r = Resource::default();
    r.list(
        "line",
        a.lines
            .iter()
            .filter(|l| !l.trim().is_empty())
            .map(|l| json!(l.trim()))
            .collect(),
    );
    r.text("city", a.city.as_deref());
    r.text("postalCode", a.postcode.as_deref());
    (!r.0.is_empty()).then(|| r.into_value())
}

fn fhir_date(d: chrono::NaiveDate) -> Option<String> {
    dates::date(&d.format("%Y-%m-%d").to_string())
}

fn restricted_label() -> Value {
    json!({"system": CONFIDENTIALITY_SYSTEM, "code": "R", "display": "restricted"})
}

/// The URI naming a source in `meta.source`; identifier systems add `:person` or `:entry`.
fn source_uri(code: &str) -> String {
    format!("urn:sharedcare:source:{}", codes::slug(code))
}

/// A JSON object under construction that never gets an empty string, array or object, since
/// FHIR forbids empty elements.
#[derive(Default)]
struct Resource(Map<String, Value>);

impl Resource {
    fn new(kind: &str) -> Self {
        let mut r = Self::default();
        r.set("resourceType", json!(kind));
        r
    }

    fn set(&mut self, key: &str, value: Value) {
        self.0.insert(key.to_owned(), value);
    }

    fn opt(&mut self, key: &str, value: Option<Value>) {
        if let Some(v) = value {
            self.set(key, v);
        }
    }

    /// Text, when there is some.
    fn text(&mut self, key: &str, value: Option<&str>) {
        if let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) {
            self.set(key, json!(v));
        }
    }

    fn list(&mut self, key: &str, values: Vec<Value>) {
        if !values.is_empty() {
            self.set(key, Value::Array(values));
        }
    }

    fn into_value(self) -> Value {
        Value::Object(self.0)
    }
}
