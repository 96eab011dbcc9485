//! Free text → the codes FHIR requires: statuses from each resource's required value set,
//! code-system names → URIs, priorities and interpretation flags.
//!
//! Sources write statuses many ways ("Active", "DISCHARGED", HL7 `F`); each table lists the
//! spellings that mean a code, and anything else falls back to the safest code for that
//! resource (usually `unknown`).

/// Lower case, trimmed, spaces and underscores as hyphens: "On Hold" → "on-hold".
fn normalise(raw: &str) -> String {
    raw.trim()
        .to_lowercase()
        .chars()
        .map(|c| if c == ' ' || c == '_' { '-' } else { c })
        .collect()
}

type Table = &'static [(&'static [&'static str], &'static str)];

fn lookup(raw: Option<&str>, table: Table) -> Option<&'static str> {
    let key = normalise(raw?);
    table
        .iter()
        .find(|(spellings, _)| spellings.contains(&key.as_str()))
        .map(|(_, code)| *code)
}

const ERROR: &[&str] = &["entered-in-error", "error", "deleted", "w", "d"];

pub fn allergy_clinical(raw: Option<&str>) -> Option<&'static str> {
    lookup(
        raw,
        &[
            (&["active", "current", "a"], "active"),
            (&["inactive", "i"], "inactive"),
            (&["resolved", "ended", "r"], "resolved"),
        ],
    )
}

pub fn is_entered_in_error(raw: Option<&str>) -> bool {
    raw.is_some_and(|r| ERROR.contains(&normalise(r).as_str()))
}

pub fn medication_statement(raw: Option<&str>) -> &'static str {
    lookup(
        raw,
        &[
            (
                &[
                    "active",
                    "current",
                    "in-progress",
                    "ongoing",
                    "repeat",
                    "acute",
                ],
                "active",
            ),
            (
                &[
                    "completed",
                    "complete",
                    "finished",
                    "ended",
                    "course-completed",
                ],
                "completed",
            ),
            (
                &["stopped", "discontinued", "cancelled", "revoked", "ceased"],
                "stopped",
            ),
            (&["on-hold", "onhold", "suspended", "paused"], "on-hold"),
            (&["intended", "draft", "planned", "proposed"], "intended"),
            (&["not-taken"], "not-taken"),
            (ERROR, "entered-in-error"),
        ],
    )
    .unwrap_or("unknown")
}

pub fn flag(raw: Option<&str>, ended: bool) -> &'static str {
    lookup(
        raw,
        &[
            (&["active", "current", "open", "in-force"], "active"),
            (
                &[
                    "inactive",
                    "closed",
                    "resolved",
                    "ended",
                    "expired",
                    "cancelled",
                    "completed",
                    "removed",
                ],
                "inactive",
            ),
            (ERROR, "entered-in-error"),
        ],
    )
    .unwrap_or(if ended { "inactive" } else { "active" })
}

pub fn condition_clinical(raw: Option<&str>) -> Option<&'static str> {
    lookup(
        raw,
        &[
            (&["active", "current"], "active"),
            (&["recurrence"], "recurrence"),
            (&["relapse"], "relapse"),
            (&["inactive", "past", "historic", "historical"], "inactive"),
            (&["remission"], "remission"),
            (&["resolved", "ended"], "resolved"),
        ],
    )
}

pub fn condition_verification(raw: Option<&str>) -> Option<&'static str> {
    lookup(
        raw,
        &[
            (&["confirmed"], "confirmed"),
            (&["unconfirmed"], "unconfirmed"),
            (&["provisional"], "provisional"),
            (&["differential"], "differential"),
            (&["refuted"], "refuted"),
            (ERROR, "entered-in-error"),
        ],
    )
}

pub fn care_plan(raw: Option<&str>) -> &'static str {
    lookup(
        raw,
        &[
            (&["active", "current", "in-progress", "open"], "active"),
            (&["draft", "proposed", "planned"], "draft"),
            (&["on-hold", "onhold", "suspended"], "on-hold"),
            (&["revoked", "cancelled", "withdrawn"], "revoked"),
            (
                &["completed", "finished", "ended", "closed", "inactive"],
                "completed",
            ),
            (ERROR, "entered-in-error"),
        ],
    )
    .unwrap_or("unknown")
}

/// HL7 v2 OBX-11 letters as well as FHIR words.
pub fn observation(raw: Option<&str>) -> &'static str {
    lookup(
        raw,
        &[
            (
                &["final", "f", "complete", "completed", "verified"],
                "final",
            ),
            (&["preliminary", "p", "s", "r", "partial"], "preliminary"),
            (&["registered", "i", "pending"], "registered"),
            (&["amended", "a"], "amended"),
            (&["corrected", "c"], "corrected"),
            (&["cancelled", "x"], "cancelled"),
            (ERROR, "entered-in-error"),
        ],
    )
    .unwrap_or("unknown")
}

pub fn encounter(raw: Option<&str>, ended: bool) -> &'static str {
    lookup(
        raw,
        &[
            (
                &["planned", "booked", "scheduled", "pending", "proposed"],
                "planned",
            ),
            (&["arrived", "checked-in"], "arrived"),
            (&["triaged"], "triaged"),
            (
                &[
                    "in-progress",
                    "active",
                    "admitted",
                    "current",
                    "open",
                    "attending",
                ],
                "in-progress",
            ),
            (&["onleave", "on-leave", "leave"], "onleave"),
            (
                &[
                    "finished",
                    "completed",
                    "complete",
                    "discharged",
                    "closed",
                    "ended",
                    "attended",
                    "fulfilled",
                ],
                "finished",
            ),
            (
                &["cancelled", "dna", "did-not-attend", "noshow", "no-show"],
                "cancelled",
            ),
            (ERROR, "entered-in-error"),
        ],
    )
    .unwrap_or(if ended { "finished" } else { "unknown" })
}

pub fn episode(raw: Option<&str>, ended: bool) -> &'static str {
    lookup(
        raw,
        &[
            (
                &["active", "open", "current", "allocated", "in-progress"],
                "active",
            ),
            (&["planned", "proposed"], "planned"),
            (
                &["waitlist", "waiting", "referred", "unallocated"],
                "waitlist",
            ),
            (&["onhold", "on-hold", "suspended"], "onhold"),
            (
                &[
                    "finished",
                    "closed",
                    "ended",
                    "completed",
                    "discharged",
                    "inactive",
                ],
                "finished",
            ),
            (&["cancelled"], "cancelled"),
            (ERROR, "entered-in-error"),
        ],
    )
    .unwrap_or(if ended { "finished" } else { "active" })
}

pub fn service_request(raw: Option<&str>) -> &'static str {
    lookup(
        raw,
        &[
            (
                &[
                    "active",
                    "open",
                    "pending",
                    "accepted",
                    "received",
                    "in-progress",
                    "sent",
                    "requested",
                ],
                "active",
            ),
            (&["draft"], "draft"),
            (&["on-hold", "onhold", "suspended"], "on-hold"),
            (
                &["revoked", "cancelled", "rejected", "declined", "withdrawn"],
                "revoked",
            ),
            (
                &[
                    "completed",
                    "closed",
                    "fulfilled",
                    "discharged",
                    "finished",
                    "seen",
                ],
                "completed",
            ),
            (ERROR, "entered-in-error"),
        ],
    )
    .unwrap_or("unknown")
}

pub fn care_team(raw: Option<&str>) -> Option<&'static str> {
    lookup(
        raw,
        &[
            (&["active", "current", "open"], "active"),
            (&["proposed", "planned"], "proposed"),
            (&["suspended", "on-hold"], "suspended"),
            (
                &["inactive", "ended", "closed", "finished", "completed"],
                "inactive",
            ),
            (ERROR, "entered-in-error"),
        ],
    )
}

/// An immunisation entry records a vaccination given, so that is the default.
pub fn immunization(raw: Option<&str>) -> &'static str {
    lookup(
        raw,
        &[
            (
                &["not-done", "not-given", "refused", "declined", "cancelled"],
                "not-done",
            ),
            (ERROR, "entered-in-error"),
        ],
    )
    .unwrap_or("completed")
}

pub fn procedure(raw: Option<&str>) -> &'static str {
    match raw {
        None => "completed",
        Some(_) => lookup(
            raw,
            &[
                (
                    &["completed", "complete", "done", "performed", "finished"],
                    "completed",
                ),
                (&["preparation", "planned", "scheduled"], "preparation"),
                (&["in-progress", "active"], "in-progress"),
                (&["not-done", "cancelled"], "not-done"),
                (&["on-hold", "suspended"], "on-hold"),
                (&["stopped", "abandoned"], "stopped"),
                (ERROR, "entered-in-error"),
            ],
        )
        .unwrap_or("unknown"),
    }
}

pub fn consent(raw: Option<&str>) -> &'static str {
    lookup(
        raw,
        &[
            (
                &[
                    "active",
                    "current",
                    "valid",
                    "in-force",
                    "signed",
                    "completed",
                    "final",
                ],
                "active",
            ),
            (&["draft"], "draft"),
            (&["proposed", "pending"], "proposed"),
            (&["rejected", "refused", "declined"], "rejected"),
            (
                &[
                    "inactive",
                    "revoked",
                    "cancelled",
                    "withdrawn",
                    "expired",
                    "ended",
                    "superseded",
                    "rescinded",
                ],
                "inactive",
            ),
            (ERROR, "entered-in-error"),
        ],
    )
    .unwrap_or("active")
}

pub fn priority(raw: Option<&str>) -> Option<&'static str> {
    lookup(
        raw,
        &[
            (&["routine", "normal", "r"], "routine"),
            (&["urgent", "2ww", "two-week-wait", "u"], "urgent"),
            (&["asap", "soon", "a"], "asap"),
            (&["stat", "emergency", "immediate", "s"], "stat"),
        ],
    )
}

pub fn allergy_type(raw: Option<&str>) -> Option<&'static str> {
    lookup(
        raw,
        &[
            (&["allergy"], "allergy"),
            (&["intolerance", "adverse-reaction"], "intolerance"),
        ],
    )
}

pub fn criticality(raw: Option<&str>) -> Option<&'static str> {
    lookup(
        raw,
        &[
            (&["low", "l"], "low"),
            (&["high", "h"], "high"),
            (&["unable-to-assess"], "unable-to-assess"),
        ],
    )
}

pub fn reaction_severity(raw: Option<&str>) -> Option<&'static str> {
    lookup(
        raw,
        &[
            (&["mild", "mi"], "mild"),
            (&["moderate", "mo"], "moderate"),
            (&["severe", "sv", "se"], "severe"),
        ],
    )
}

/// HL7 v3 ObservationInterpretation codes; HL7 v2 table 0078 uses the same letters.
const INTERPRETATIONS: [&str; 30] = [
    "<", ">", "A", "AA", "AC", "B", "CAR", "D", "DET", "E", "EX", "H", "HH", "HU", "I", "IE",
    "IND", "L", "LL", "LU", "MS", "N", "ND", "NEG", "NR", "POS", "R", "S", "U", "W",
];

pub fn interpretation(raw: &str) -> Option<&'static str> {
    let key = raw.trim().to_ascii_uppercase();
    INTERPRETATIONS.iter().find(|c| **c == key).copied()
}

/// A code-system name as sources send it (HL7 v2 names, URIs) → the FHIR system URI.
pub fn system_uri(raw: &str) -> String {
    let raw = raw.trim();
    let known = match raw.to_ascii_uppercase().as_str() {
        "SCT" | "SNOMED" | "SNOMEDCT" | "SNOMED CT" | "SNOMED-CT" => Some("http://snomed.info/sct"),
        "LN" | "LOINC" => Some("http://loinc.org"),
        "I10" | "ICD10" | "ICD-10" => Some("http://hl7.org/fhir/sid/icd-10"),
        "READ" | "READ2" | "R2" => Some("http://read.info/readv2"),
        "CTV3" | "READ3" => Some("http://read.info/ctv3"),
        "DMD" | "DM+D" => Some("https://dmd.nhs.uk"),
        "OPCS" | "OPCS4" | "OPCS-4" => Some("https://fhir.hl7.org.uk/Id/opcs-4"),
        _ => None,
    };
    match known {
        Some(uri) => uri.to_owned(),
        None if is_uri(raw) => raw.to_owned(),
        None => format!("urn:sharedcare:code-system:{}", slug(raw)),
    }
}

/// Good enough to use as a FHIR `uri`: a scheme and no whitespace.
pub fn is_uri(raw: &str) -> bool {
    let scheme_ok = raw.split_once(':').is_some_and(|(s, rest)| {
        !s.is_empty()
            && !rest.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
    });
    scheme_ok && !raw.chars().any(char::is_whitespace)
}

/// Letters, digits and `-._` kept; anything else becomes `-`.
pub fn slug(raw: &str) -> String {
    raw.trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-._".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect()
}
