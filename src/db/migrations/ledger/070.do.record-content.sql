-- Where the flow's content of each identified record is in its file (bytes after the engine's
-- AttestationIdentification, up to </Attestation>): a rerun cancels a record by sending that
-- content again under the engine's own identification, without reading the record's text.
ALTER TABLE maillon.record_outcomes ADD COLUMN content_offset bigint, ADD COLUMN content_bytes integer;
