-- The manifest of every evidence pack (and addendum) is anchored in the chain: an event of kind
-- evidence_written, detail naming the pack and the sha256 of its manifest.json. The export reads
-- a submission's anchors, and the ledger's first one, by this index without reading the other
-- events.
CREATE INDEX events_evidence_written ON maillon.events (submission_id, event_id) WHERE kind = 'evidence_written';
