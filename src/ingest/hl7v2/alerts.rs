//! Alerts in ADT messages, where a sender has them: a `ZAL` segment, or an `OBX` whose
//! observation identifier is one of the alert codes below. Both become alerts (or, when
//! safeguarding, safeguarding entries) through [`crate::ingest::alerts`].
//!
//! `ZAL` (a Z-segment; the fields as read here — README "HL7 v2 alerts"):
//!
//! | field | meaning |
//! | --- | --- |
//! | ZAL-1 | set id |
//! | ZAL-2 | the sender's id for the alert (a later message with the same id updates it) |
//! | ZAL-3 | the alert, CWE: `code^text^system` |
//! | ZAL-4 | kind: `SG` safeguarding, `RTS` risk to staff, `CLIN` clinical, `OTH` other (or the words) |
//! | ZAL-5 | status: `A` active (or empty), `I` inactive, `E` entered in error |
//! | ZAL-6, ZAL-7 | start and end (TS) |
//! | ZAL-8 | recorded by (XCN, or text) |
//! | ZAL-9 | who to call (text) |
//! | ZAL-10 | comment |
//!
//! `OBX` alert codes (OBX-3.1, any case): `ALERT` (the words decide the kind), `ALERT-SG`,
//! `ALERT-RTS`, `ALERT-CLIN`, `ALERT-OTH`. OBX-5 is the alert's text, OBX-11 its status (`D`,
//! `W` entered in error; `X` cancelled; anything else active), OBX-14 when, OBX-16 who
//! recorded it. Any other OBX in an ADT message is not an alert and is left alone.

use super::er7::{Rep, Segment};
use super::patient::{coded_text, draft, name_key, person_name, ref_part};
use super::ts;
use crate::ingest::alerts::{self, AlertText, NamedKind};
use crate::model::EntryDraft;

/// ZAL → an alert entry; `None` when it names no alert.
pub fn zal(zal: &Segment<'_, '_>, subject: &str) -> Option<EntryDraft> {
    let alert = zal.field(3).first();
    let title = coded_text(alert)?;
    let code = alert.get(1);
    let named = zal
        .text(4, 1)
        .and_then(|k| alerts::named_kind(&k))
        .or_else(|| {
            zal.field(4)
                .first()
                .get(2)
                .and_then(|k| alerts::named_kind(&k))
        });
    let key = zal
        .text(2, 1)
        .map(|id| ref_part(&id))
        .or_else(|| code.as_deref().map(ref_part))
        .unwrap_or_else(|| name_key(&title));
    let body = alerts::body(
        named,
        AlertText {
            title: title.clone(),
            description: zal.field(10).joined(" "),
            recorded_by: recorder(zal.field(8).first()),
            contact: zal.field(9).joined("; "),
        },
    );
    let mut e = draft(format!("{subject}/alert/{key}"), title, body);
    e.code = code;
    e.code_system = alert.get(3);
    e.status = Some(
        match zal
            .text(5, 1)
            .unwrap_or_default()
            .to_ascii_uppercase()
            .as_str()
        {
            "I" => "inactive",
            "E" => "entered-in-error",
            _ => "active",
        }
        .to_owned(),
    );
    e.start = zal.text(6, 1).and_then(|t| ts::to_iso(&t));
    e.end = zal.text(7, 1).and_then(|t| ts::to_iso(&t));
    Some(e)
}

/// The alert codes OBX-3.1 may carry, and the kind each names (`None`: the words decide).
fn obx_alert_code(code: &str) -> Option<Option<NamedKind>> {
    let code = code.trim().to_ascii_uppercase();
    let kind = code.strip_prefix("ALERT")?;
    match kind {
        "" => Some(None),
        "-SG" => Some(alerts::named_kind("SG")),
        "-RTS" => Some(alerts::named_kind("RTS")),
        "-CLIN" => Some(alerts::named_kind("CLIN")),
        "-OTH" => Some(alerts::named_kind("OTH")),
        _ => None,
    }
}

/// OBX with an alert code → an alert entry; `None` for any other OBX.
pub fn obx(obx: &Segment<'_, '_>, subject: &str) -> Option<EntryDraft> {
    let id = obx.field(3).first();
    let named = obx_alert_code(&id.get(1)?)?;
    let title = obx.field(5).joined(" ")?;
    let body = alerts::body(
        named,
        AlertText {
            title: title.clone(),
            description: None,
            recorded_by: recorder(obx.field(16).first()),
            contact: None,
        },
    );
    let kind = id.get(1).map(|c| ref_part(&c.to_ascii_lowercase()));
    let mut e = draft(
        format!(
            "{subject}/alert/{}/{}",
            kind.unwrap_or_default(),
            name_key(&title)
        ),
        title,
        body,
    );
    e.status = Some(
        match obx
            .text(11, 1)
            .unwrap_or_default()
            .to_ascii_uppercase()
            .as_str()
        {
            "D" | "W" => "entered-in-error",
            "X" => "cancelled",
            _ => "active",
        }
        .to_owned(),
    );
    e.start = obx.text(14, 1).and_then(|t| ts::to_iso(&t));
    Some(e)
}

/// Who recorded it: an XCN person, or the text as sent.
fn recorder(rep: Rep<'_>) -> Option<String> {
    person_name(rep).or_else(|| rep.text())
}
