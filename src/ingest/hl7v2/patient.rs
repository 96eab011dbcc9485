//! Who a message is about: identifiers (PID-2, PID-3, MRG-1), demographics (PID, PD1) and the
//! per-person segments that ride along with ADT events (NK1, AL1, DG1).
//!
//! Real feeds put the NHS number in different places: a PID-3 repetition whose assigning
//! authority is `NHS` or whose type is `NH`, `HN` or `NI`, or PID-2. Wherever it is, it is
//! classified by its check digit (a failing one is kept, marked invalid, never matched on) and
//! kept apart from the source's own identifiers, the first of which becomes the subject.

use super::er7::{Rep, Segment};
use super::ts;
use crate::model::entry::{Allergy, NextOfKin, Problem};
use crate::model::person::normalise_postcode;
use crate::model::{
    Address, Demographics, EntryBody, EntryDraft, Identifier, NhsNumberStatus, ReportedNhsNumber,
    Sex,
};

/// The NHS number's OID, which some systems send as the assigning authority.
const NHS_OID: &str = "2.16.840.1.113883.2.1.4.1";

/// One CX identifier as sent.
#[derive(Clone)]
struct Cx {
    value: String,
    authority: Option<String>,
    kind: Option<String>,
}

impl Cx {
    fn read(rep: Rep<'_>) -> Option<Self> {
        let value = rep.get(1)?;
        let authority_comp = rep.comp(4);
        let authority = authority_comp.sub(1).or_else(|| authority_comp.sub(2));
        Some(Self {
            value,
            authority,
            kind: rep.get(5),
        })
    }

    /// Marked as the NHS number by authority or identifier type.
    fn is_marked_nhs(&self) -> bool {
        let authority_says = self
            .authority
            .as_deref()
            .is_some_and(|a| a.eq_ignore_ascii_case("NHS") || a == NHS_OID);
        let kind_says = self
            .kind
            .as_deref()
            .is_some_and(|k| ["NH", "HN", "NI"].iter().any(|t| k.eq_ignore_ascii_case(t)));
        authority_says || kind_says
    }

    fn is_local_record_number(&self) -> bool {
        self.kind
            .as_deref()
            .is_some_and(|k| k.eq_ignore_ascii_case("MR") || k.eq_ignore_ascii_case("PI"))
    }

    fn identifier(&self) -> Identifier {
        Identifier {
            system: self.authority.clone().unwrap_or_default(),
            kind: self.kind.clone(),
            value: self.value.clone(),
        }
    }
}

/// The identifiers of the person a message is about.
pub struct PatientIds {
    /// The source's local id for the person (or `NHS:<digits>` when it sent no other).
    pub subject: String,
    pub nhs_number: Option<ReportedNhsNumber>,
    /// Every identifier other than the NHS number.
    pub identifiers: Vec<Identifier>,
}

/// Reads PID-3 and PID-2. `None` when the person has no identifier at all.
pub fn identify(pid: &Segment<'_, '_>) -> Option<PatientIds> {
    let pid3: Vec<Cx> = pid.field(3).reps().filter_map(Cx::read).collect();
    let pid2: Vec<Cx> = pid.field(2).reps().filter_map(Cx::read).collect();

    // PID-2 was the NHS number's home in older UK feeds, often with no type at all.
    let unmarked_nhs_shape = |cx: &Cx| {
        cx.authority.is_none() && cx.kind.is_none() && {
            let digits: String = cx.value.chars().filter(|c| !c.is_whitespace()).collect();
            digits.len() == 10 && digits.bytes().all(|b| b.is_ascii_digit())
        }
    };
    let candidates: Vec<ReportedNhsNumber> = pid3
        .iter()
        .filter(|cx| cx.is_marked_nhs())
        .chain(
            pid2.iter()
                .filter(|cx| cx.is_marked_nhs() || unmarked_nhs_shape(cx)),
        )
        .map(|cx| ReportedNhsNumber::classify(&cx.value, None))
        .collect();
    let nhs_number = candidates
        .iter()
        .find(|n| n.status == NhsNumberStatus::Verified)
        .or_else(|| candidates.first())
        .cloned();

    let local3: Vec<&Cx> = pid3.iter().filter(|cx| !cx.is_marked_nhs()).collect();
    let mut identifiers: Vec<Identifier> = Vec::new();
    let local2 = pid2
        .iter()
        .filter(|cx| !cx.is_marked_nhs() && !unmarked_nhs_shape(cx));
    for cx in local3.iter().copied().chain(local2) {
        let id = cx.identifier();
        if !identifiers.contains(&id) {
            identifiers.push(id);
        }
    }

    let subject = local3
        .iter()
        .find(|cx| cx.is_local_record_number())
        .or_else(|| local3.first())
        .map(|cx| cx.value.clone())
        .or_else(|| nhs_number.as_ref().map(|n| format!("NHS:{}", n.value)))?;
    Some(PatientIds {
        subject,
        nhs_number,
        identifiers,
    })
}

/// The local id an A34/A40 retires, from MRG-1: its first identifier that is not an NHS
/// number, else `NHS:<digits>`.
pub fn merged_id(mrg: &Segment<'_, '_>) -> Option<String> {
    let ids: Vec<Cx> = mrg.field(1).reps().filter_map(Cx::read).collect();
    ids.iter()
        .find(|cx| !cx.is_marked_nhs())
        .map(|cx| cx.value.clone())
        .or_else(|| {
            ids.first()
                .map(|cx| format!("NHS:{}", ReportedNhsNumber::classify(&cx.value, None).value))
        })
}

/// Demographics from PID (and PD1, the registered GP, when present).
pub fn demographics(
    pid: &Segment<'_, '_>,
    pd1: Option<&Segment<'_, '_>>,
    ids: &PatientIds,
) -> Demographics {
    let mut d = Demographics {
        nhs_number: ids.nhs_number.clone(),
        identifiers: ids.identifiers.clone(),
        ..Demographics::default()
    };

    let names = pid.field(5);
    let legal = names
        .reps()
        .find(|r| r.get(7).is_some_and(|t| t.eq_ignore_ascii_case("L")));
    if let Some(name) = legal.or_else(|| names.reps().find(|r| !r.raw().trim().is_empty())) {
        d.family = name.get(1);
        d.given = [name.get(2), name.get(3)].into_iter().flatten().collect();
        d.title = name.get(5);
    }
    d.birth_date = pid.text(7, 1).and_then(|t| ts::to_date(&t));
    d.sex = pid.text(8, 1).and_then(|s| Sex::parse(&s));
    d.ethnicity = pid
        .text(22, 1)
        .and_then(|c| crate::model::person::ethnic_category(&c));
    d.address = address(pid);

    for rep in pid.field(13).reps() {
        let number = rep.get(1).or_else(|| rep.get(12));
        if d.phone.is_none() {
            d.phone = number;
        }
        if d.email.is_none() {
            d.email = rep.get(4).filter(|e| e.contains('@'));
        }
    }

    d.death_date = pid.text(29, 1).and_then(|t| ts::to_date(&t));
    let flagged_dead = pid.text(30, 1).is_some_and(|f| f.eq_ignore_ascii_case("Y"));
    d.deceased = flagged_dead || d.death_date.is_some();

    if let Some(pd1) = pd1 {
        let practice = pd1.field(3).first();
        d.gp_practice = practice.get(10).or_else(|| practice.get(3));
        d.gp_practice_name = practice.get(1);
        d.gp_name = person_name(pd1.field(4).first());
        d.restricted = pd1.text(12, 1).is_some_and(|f| f.eq_ignore_ascii_case("Y"));
    }
    d
}

/// The home address (type `H`) or else the first one given.
fn address(pid: &Segment<'_, '_>) -> Option<Address> {
    let field = pid.field(11);
    let home = field
        .reps()
        .find(|r| r.get(7).is_some_and(|t| t.eq_ignore_ascii_case("H")) && has_address(r));
    let rep = home.or_else(|| field.reps().find(has_address))?;
    Some(Address {
        lines: [rep.get(1), rep.get(2)].into_iter().flatten().collect(),
        city: rep.get(3),
        postcode: rep.get(5).and_then(|p| normalise_postcode(&p)),
    })
}

fn has_address(rep: &Rep<'_>) -> bool {
    [1, 2, 3, 5].iter().any(|&c| rep.get(c).is_some())
}

/// An XCN person (doctor, GP) for people to read: "Dr Honey Badger", or the code alone.
pub fn person_name(rep: Rep<'_>) -> Option<String> {
    let parts: Vec<String> = [rep.get(6), rep.get(3), rep.get(2)]
        .into_iter()
        .flatten()
        .collect();
    if parts.len() > usize::from(rep.get(6).is_some()) {
        Some(parts.join(" "))
    } else {
        rep.get(1)
    }
}

/// An XPN name for people to read: "Given Family".
fn display_name(rep: Rep<'_>) -> Option<String> {
    let parts: Vec<String> = [rep.get(5), rep.get(2), rep.get(1)]
        .into_iter()
        .flatten()
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// CE/CWE as text: the text component, else the code.
pub fn coded_text(rep: Rep<'_>) -> Option<String> {
    rep.get(2)
        .or_else(|| rep.get(1))
        .or_else(|| rep.get(5))
        .or_else(|| rep.get(4))
}

/// A draft with the category taken from its body.
pub fn draft(source_ref: String, title: String, body: EntryBody) -> EntryDraft {
    EntryDraft {
        source_ref,
        category: body.category(),
        code_system: None,
        code: None,
        title,
        status: None,
        start: None,
        end: None,
        recorded_at: None,
        sensitive: false,
        not_for_patient: false,
        body,
    }
}

/// A reference part made from a code: trimmed, with no `/` (which separates the parts).
pub fn ref_part(text: &str) -> String {
    text.trim().replace('/', "_")
}

/// A reference part made from a name, which sources spell with varying case.
pub fn name_key(text: &str) -> String {
    ref_part(&text.to_lowercase())
}

/// The reference part for a coded thing: its code, else its name.
fn code_or_name_key(code: Option<&str>, name: &str) -> String {
    code.map_or_else(|| name_key(name), ref_part)
}

/// NK1 → a next-of-kin entry. `ordinal` numbers NK1 segments when NK1-1 is empty.
pub fn next_of_kin(nk1: &Segment<'_, '_>, subject: &str, ordinal: usize) -> Option<EntryDraft> {
    let name = nk1.field(2).reps().find_map(display_name);
    let relation = nk1.field(3).first();
    let relationship = coded_text(relation);
    let phone = nk1
        .field(5)
        .reps()
        .find_map(|r| r.get(1).or_else(|| r.get(12)));
    let address_rep = nk1.field(4).first();
    let address_parts: Vec<String> = [1, 2, 3, 5]
        .iter()
        .filter_map(|&c| address_rep.get(c))
        .collect();
    if name.is_none() && relationship.is_none() && phone.is_none() {
        return None;
    }
    let is_carer = relation
        .get(1)
        .is_some_and(|c| c.eq_ignore_ascii_case("CGV"))
        || relationship
            .as_deref()
            .is_some_and(|r| r.to_lowercase().contains("carer"));
    let set_id = nk1.text(1, 1).unwrap_or_else(|| ordinal.to_string());
    let title = match (&name, &relationship) {
        (Some(n), Some(r)) => format!("{n} ({r})"),
        (Some(n), None) => n.clone(),
        _ => "Next of kin".to_owned(),
    };
    let body = NextOfKin {
        name,
        relationship,
        phone,
        address: (!address_parts.is_empty()).then(|| address_parts.join(", ")),
        is_carer,
    };
    Some(draft(
        format!("{subject}/nok/{}", ref_part(&set_id)),
        title,
        EntryBody::NextOfKin(body),
    ))
}

/// AL1 → an allergy entry, referenced by the allergen's code (or name) so a resend updates it.
pub fn allergy(al1: &Segment<'_, '_>, subject: &str) -> Option<EntryDraft> {
    let allergen = al1.field(3).first();
    let code = allergen.get(1);
    let substance = coded_text(allergen)?;
    let severity = al1
        .text(4, 1)
        .map(|s| match s.to_ascii_uppercase().as_str() {
            "MI" => "mild".to_owned(),
            "MO" => "moderate".to_owned(),
            "SV" => "severe".to_owned(),
            _ => s,
        });
    let reaction = al1.field(5).joined("; ");
    let key = code_or_name_key(code.as_deref(), &substance);
    let mut entry = draft(
        format!("{subject}/allergy/{key}"),
        substance.clone(),
        EntryBody::Allergy(Allergy {
            substance: Some(substance),
            allergy_type: Some("allergy".to_owned()),
            reaction,
            severity,
            criticality: None,
        }),
    );
    entry.code = code;
    entry.code_system = allergen.get(3);
    entry.status = Some("active".to_owned());
    entry.start = al1.text(6, 1).and_then(|t| ts::to_iso(&t));
    Some(entry)
}

/// DG1 → a problem entry of kind diagnosis.
pub fn diagnosis(dg1: &Segment<'_, '_>, subject: &str) -> Option<EntryDraft> {
    let coded = dg1.field(3).first();
    let code = coded.get(1);
    let name = coded_text(coded).or_else(|| dg1.text(4, 1))?;
    let verification = dg1
        .text(6, 1)
        .map(|t| match t.to_ascii_uppercase().as_str() {
            "F" => "confirmed".to_owned(),
            "A" | "W" => "provisional".to_owned(),
            _ => t,
        });
    let key = code_or_name_key(code.as_deref(), &name);
    let mut entry = draft(
        format!("{subject}/diagnosis/{key}"),
        name.clone(),
        EntryBody::Problem(Problem {
            name: Some(name),
            kind: Some("diagnosis".to_owned()),
            clinical_status: None,
            verification_status: verification,
            severity: None,
        }),
    );
    entry.code = code;
    entry.code_system = coded.get(3);
    entry.start = dg1.text(5, 1).and_then(|t| ts::to_iso(&t));
    Some(entry)
}

#[cfg(test)]
mod tests {
    use super::super::er7::Message;
    use super::*;

    fn ids_of(pid: &str) -> Option<PatientIds> {
        let text = format!("MSH|^~\\&|A|B|||20240101||ADT^A08|1|P|2.4\r{pid}");
        let m = Message::parse(&text).unwrap();
        identify(&m.segment("PID").unwrap())
    }

    #[test]
    fn nhs_number_in_each_real_place() {
        let cases = [
            (
                "PID|1||40800000^^^MRENTR^MEDREC~9999999999^^^NHS^HN",
                "9999999999",
                "40800000",
            ),
            (
                "PID|1||8888888^^^252^PI~6666666666^^^NHS^NH",
                "6666666666",
                "8888888",
            ),
            (
                "PID|1|1000000001^^^^NH|1000000001^^^^NH~V1000001^^^^PAS",
                "1000000001",
                "V1000001",
            ),
            (
                "PID|||2083964527^06^^^NI~N5022773^^^^PI",
                "2083964527",
                "N5022773",
            ),
            ("PID||943 476 5919|X1^^^H^MR", "9434765919", "X1"),
        ];
        for (pid, nhs, subject) in cases {
            let ids = ids_of(pid).unwrap();
            assert_eq!(ids.nhs_number.as_ref().unwrap().value, nhs, "{pid}");
            assert_eq!(ids.subject, subject, "{pid}");
            assert!(ids.identifiers.iter().all(|i| i.value != nhs));
        }
        let welsh = ids_of("PID|||2083964527^06^^^NI~N5022773^^^^PI").unwrap();
        assert_eq!(welsh.nhs_number.unwrap().status, NhsNumberStatus::Invalid);
        let valid = ids_of("PID|||9434765919^^^NHS^NH~1^^^X^MR").unwrap();
        assert_eq!(valid.nhs_number.unwrap().status, NhsNumberStatus::Verified);
    }

    #[test]
    fn subject_prefers_mr_then_falls_back_to_nhs() {
        assert_eq!(ids_of("PID|||A^^^X^PE~B^^^Y^MR").unwrap().subject, "B");
        assert_eq!(
            ids_of("PID|||9434765919^^^NHS^NH").unwrap().subject,
            "NHS:9434765919"
        );
        assert!(ids_of("PID|1||").is_none());
        assert!(ids_of("PID|1||~^^^X^MR").is_none());
    }

    #[test]
    fn xcn_names() {
        let m = Message::parse("MSH|^~\\&|\rPV1|1|I|||||P1^BROWN^M^^^DR~X|G7").unwrap();
        let pv1 = m.segment("PV1").unwrap();
        assert_eq!(
            person_name(pv1.field(7).first()).as_deref(),
            Some("DR M BROWN")
        );
        assert_eq!(person_name(pv1.field(8).first()).as_deref(), Some("G7"));
    }
}
