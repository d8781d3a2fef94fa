-- A record's trail (maillon trace, issue 22): every extraction of a dossier key or of an INSS,
-- across flows and periods, read by index instead of a scan of the whole lineage (about 25
-- million rows at national scale). record_key is the record's key in its file (the INSS of person
-- records); records quarantined before they had one are found by their dossier key.
CREATE INDEX IF NOT EXISTS record_outcomes_source_key ON maillon.record_outcomes (source_key);
CREATE INDEX IF NOT EXISTS record_outcomes_record_key ON maillon.record_outcomes (record_key) WHERE record_key IS NOT NULL;
