-- Finding people by an NHS number as any source sent it (verified or not) without scanning
-- every source record.
CREATE INDEX source_person_nhs_number ON source_person(nhs_number) WHERE nhs_number IS NOT NULL;
