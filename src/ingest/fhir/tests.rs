//! Tests for the FHIR importer.
