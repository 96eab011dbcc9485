#!/usr/bin/env python3
"""Reads a Patient by NHS number and searches its AllergyIntolerance with the independent
SMART on FHIR client library (PyPI `fhirclient`), to show an ordinary FHIR client can use the API.

Usage: fhirclient_check.py BASE TOKEN NHS
  BASE   the API base, e.g. https://127.0.0.1:8443/fhir
  TOKEN  an API token from `sharedcare token create --user NAME`
  NHS    the NHS number of a person who has at least one allergy

HTTPS is verified as `requests` does: set REQUESTS_CA_BUNDLE to the server's certificate
(`tls/cert.pem` in the data directory) for a self-signed one. Prints what it found and exits 0;
exits 1 when the client cannot read what it should, 2 when the library is missing.

Needs `fhirclient` (pip install fhirclient).
"""

import sys

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"


def main() -> int:
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    base, token, nhs = sys.argv[1:]
    try:
        from fhirclient import server as fhir_server
        from fhirclient.models.allergyintolerance import AllergyIntolerance
        from fhirclient.models.patient import Patient
    except ImportError as err:
        print(f"fhirclient is not installed: {err}", file=sys.stderr)
        return 2

    # No SMART launch: the server takes a bearer token, sent on every request of the session.
    server = fhir_server.FHIRServer(None, base_uri=base)
    server.session.headers["Authorization"] = f"Bearer {token}"

    patients = Patient.where({"identifier": f"{NHS_NUMBER_SYSTEM}|{nhs}"}).perform_resources(server)
    if len(patients) != 1:
        print(f"expected one Patient with NHS number {nhs}, got {len(patients)}")
        return 1
    patient = patients[0]
    numbers = [i.value for i in (patient.identifier or []) if i.system == NHS_NUMBER_SYSTEM]
    if numbers != [nhs]:
        print(f"the Patient's NHS number identifiers are {numbers}, expected [{nhs}]")
        return 1

    again = Patient.read(patient.id, server)
    if again.id != patient.id:
        print(f"reading Patient/{patient.id} gave Patient/{again.id}")
        return 1

    allergies = AllergyIntolerance.where({"patient": patient.id}).perform_resources(server)
    if not allergies:
        print(f"no AllergyIntolerance for Patient/{patient.id}")
        return 1
    expected = f"Patient/{patient.id}"
    for allergy in allergies:
        if allergy.patient is None or allergy.patient.reference != expected:
            print(f"AllergyIntolerance/{allergy.id} does not reference {expected}")
            return 1
    names = [a.code.text for a in allergies if a.code is not None and a.code.text]
    print(f"ok: Patient/{patient.id} with {len(allergies)} AllergyIntolerance: {', '.join(names)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
