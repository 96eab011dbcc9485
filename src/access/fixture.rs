//! Records and profiles for the access tests.

use super::Profile;
use crate::model::entry::{Contact, ContactKind};
use crate::model::{Address, Demographics, EntryBody, EntryDraft, Provenance, StoredEntry};
use crate::record::{PersonRecord, SourcePersonView};

pub fn profile(role: &str, org: &str, team: Option<&str>) -> Profile {
    Profile {
        id: 1,
        user_id: 1,
        username: "u".into(),
        role: role.into(),
        org: org.into(),
        org_name: None,
        team: team.map(Into::into),
    }
}

pub fn entry(id: i64, org: &str, body: EntryBody) -> StoredEntry {
    StoredEntry {
        id,
        version: 1,
        entry: EntryDraft {
            source_ref: format!("r{id}"),
            category: body.category(),
            code_system: None,
            code: None,
            title: format!("entry {id}"),
            status: None,
            start: None,
            end: None,
            recorded_at: None,
            sensitive: false,
            not_for_patient: false,
            body,
        },
        provenance: Provenance {
            source_code: format!("{org}-SRC"),
            source_name: "A system".into(),
            organisation: format!("Organisation {org}"),
            organisation_code: org.into(),
            format: "hl7v2".into(),
            file_name: None,
            message: None,
            received_at: "2026-01-01T00:00:00Z".into(),
            as_of: None,
        },
    }
}

pub fn contact(
    id: i64,
    org: &str,
    kind: ContactKind,
    start: &str,
    end: Option<&str>,
) -> StoredEntry {
    let mut e = entry(
        id,
        org,
        EntryBody::Contact(Contact {
            kind,
            organisation: None,
            site: Some("Main site".into()),
            ward: Some("Ward 7".into()),
            bed: None,
            specialty: None,
            clinician: None,
            reason: None,
            discharge_destination: end.map(|_| "Rowan Unit".into()),
        }),
    );
    e.entry.title = "Admission: WARD 7".into();
    e.entry.start = Some(start.into());
    e.entry.end = end.map(Into::into);
    e
}

pub fn record(gp: &str, entries: Vec<StoredEntry>) -> PersonRecord {
    let demographics = Demographics {
        given: vec!["Ann".into()],
        family: Some("Canary".into()),
        gp_practice: Some(gp.into()),
        phone: Some("07700 900123".into()),
        address: Some(Address {
            lines: vec!["1 Secret Lane".into()],
            postcode: Some("ZZ1 1ZZ".into()),
            ..Address::default()
        }),
        ..Demographics::default()
    };
    PersonRecord {
        person_id: 9,
        demographics: demographics.clone(),
        sources: vec![SourcePersonView {
            source_person_id: 1,
            source_code: format!("{gp}-SRC"),
            source_name: "GP system".into(),
            local_id: "1".into(),
            demographics,
            link_kind: "exact".into(),
            updated_at: None,
            organisation_code: gp.into(),
            source_kind: crate::model::SourceKind::Gp,
        }],
        entries,
    }
}
