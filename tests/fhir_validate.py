#!/usr/bin/env python3
"""Validates a FHIR R4 Bundle (JSON) with the independent `fhir.resources` library.

Usage: fhir_validate.py [FILE]   (reads standard input when no file is given)

Parsing as `fhir.resources.bundle.Bundle` validates every nested resource against its R4
model: required elements, cardinality, primitive formats (dates, ids, uris) and types. The
library does not check two rules FHIR states, so this script adds them:
  - codes from required value sets (statuses, intents, gender …) for the resource types the
    exporter writes;
  - a dateTime or instant that carries a time must carry a time-zone offset.
Exits 0 when the Bundle is valid; otherwise prints the errors and exits 1 (2 when the input is
not JSON or the library is missing).

Needs `fhir.resources==6.1.0` (pydantic v1):
    pip install 'fhir.resources==6.1.0' 'pydantic<2'
"""

import json
import re
import sys

# (resource type, element) -> the codes of its required binding in FHIR R4.
REQUIRED_CODES = {
    ("Bundle", "type"): {"document", "message", "transaction", "transaction-response", "batch",
                         "batch-response", "history", "searchset", "collection"},
    ("Patient", "gender"): {"male", "female", "other", "unknown"},
    ("AllergyIntolerance", "type"): {"allergy", "intolerance"},
    ("AllergyIntolerance", "criticality"): {"low", "high", "unable-to-assess"},
    ("MedicationStatement", "status"): {"active", "completed", "entered-in-error", "intended",
                                        "stopped", "on-hold", "unknown", "not-taken"},
    ("Flag", "status"): {"active", "inactive", "entered-in-error"},
    ("CarePlan", "status"): {"draft", "active", "on-hold", "revoked", "completed",
                             "entered-in-error", "unknown"},
    ("CarePlan", "intent"): {"proposal", "plan", "order", "option"},
    ("Observation", "status"): {"registered", "preliminary", "final", "amended", "corrected",
                                "cancelled", "entered-in-error", "unknown"},
    ("Encounter", "status"): {"planned", "arrived", "triaged", "in-progress", "onleave",
                              "finished", "cancelled", "entered-in-error", "unknown"},
    ("EpisodeOfCare", "status"): {"planned", "waitlist", "active", "onhold", "finished",
                                  "cancelled", "entered-in-error"},
    ("ServiceRequest", "status"): {"draft", "active", "on-hold", "revoked", "completed",
                                   "entered-in-error", "unknown"},
    ("ServiceRequest", "intent"): {"proposal", "plan", "directive", "order", "original-order",
                                   "reflex-order", "filler-order", "instance-order", "option"},
    ("ServiceRequest", "priority"): {"routine", "urgent", "asap", "stat"},
    ("CareTeam", "status"): {"proposed", "active", "suspended", "inactive", "entered-in-error"},
    ("Immunization", "status"): {"completed", "entered-in-error", "not-done"},
    ("Procedure", "status"): {"preparation", "in-progress", "not-done", "on-hold", "stopped",
                              "completed", "entered-in-error", "unknown"},
    ("Consent", "status"): {"draft", "proposed", "active", "rejected", "inactive",
                            "entered-in-error"},
}

# (resource type, element) -> (code system, codes) for required CodeableConcept bindings.
REQUIRED_CONCEPTS = {
    ("AllergyIntolerance", "clinicalStatus"): (
        "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
        {"active", "inactive", "resolved"}),
    ("AllergyIntolerance", "verificationStatus"): (
        "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
        {"unconfirmed", "confirmed", "refuted", "entered-in-error"}),
    ("Condition", "clinicalStatus"): (
        "http://terminology.hl7.org/CodeSystem/condition-clinical",
        {"active", "recurrence", "relapse", "inactive", "remission", "resolved"}),
    ("Condition", "verificationStatus"): (
        "http://terminology.hl7.org/CodeSystem/condition-ver-status",
        {"unconfirmed", "provisional", "differential", "confirmed", "refuted",
         "entered-in-error"}),
}

LOOKS_LIKE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T")
DATE_TIME_WITH_ZONE = re.compile(
    r"^\d{4}-\d{2}-\d{2}T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?"
    r"(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00))$")


def extra_checks(data):
    """What FHIR requires and the library does not check; yields (location, message)."""
    def walk(value, path):
        if isinstance(value, dict):
            for key, child in value.items():
                yield from walk(child, f"{path}.{key}" if path else key)
        elif isinstance(value, list):
            for index, child in enumerate(value):
                yield from walk(child, f"{path}.{index}")
        elif isinstance(value, str) and LOOKS_LIKE_TIME.match(value):
            if not DATE_TIME_WITH_ZONE.match(value):
                yield path, "a dateTime with a time needs seconds and a time-zone offset"

    def check_resource(resource, path):
        kind = resource.get("resourceType")
        for (rtype, element), allowed in REQUIRED_CODES.items():
            if rtype != kind or element not in resource:
                continue
            value = resource[element]
            if not isinstance(value, str) or value not in allowed:
                yield f"{path}.{element}", f"{value!r} is not in the required value set"
        for (rtype, element), (system, allowed) in REQUIRED_CONCEPTS.items():
            if rtype != kind or element not in resource:
                continue
            concept = resource[element]
            codings = concept.get("coding") if isinstance(concept, dict) else None
            codings = [c for c in codings if isinstance(c, dict)] if isinstance(codings, list) else []
            if not any(c.get("system") == system and c.get("code") in allowed for c in codings):
                yield f"{path}.{element}", f"needs a code from {system}"

    yield from walk(data, "")
    yield from check_resource(data, "Bundle")
    entries = data.get("entry")
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict):
            yield from check_resource(resource, f"entry.{index}.resource")


def main() -> int:
    try:
        from fhir.resources.bundle import Bundle
        from pydantic import ValidationError
    except ImportError as err:
        print(f"fhir.resources is not installed: {err}", file=sys.stderr)
        return 2

    source = sys.argv[1] if len(sys.argv) > 1 else None
    try:
        if source:
            with open(source, encoding="utf-8") as handle:
                data = json.load(handle)
        else:
            data = json.load(sys.stdin)
    except (OSError, ValueError) as err:
        print(f"cannot read JSON: {err}", file=sys.stderr)
        return 2

    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        print("not a FHIR Bundle: resourceType must be 'Bundle'")
        return 1

    problems = []
    try:
        Bundle.parse_obj(data)
    except ValidationError as err:
        for problem in err.errors():
            location = ".".join(str(part) for part in problem.get("loc", ()))
            problems.append((location, problem.get("msg")))
    except Exception as err:  # the library raises plain errors for some malformed input
        problems.append(("Bundle", f"invalid: {err}"))
    problems.extend(extra_checks(data))
    if problems:
        for location, message in problems:
            print(f"{location}: {message}")
        return 1

    print(f"valid: Bundle with {len(data.get('entry') or [])} entries")
    return 0


if __name__ == "__main__":
    sys.exit(main())
