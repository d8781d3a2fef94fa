-- Tamper-evident history: every state change of a submission is an event whose hash covers the
-- previous event's hash (a chain); maillon verify-ledger recomputes it.
CREATE TABLE maillon.events (
  event_id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at            timestamptz NOT NULL,
  submission_id bigint REFERENCES maillon.submissions,
  kind          text NOT NULL,
  detail        jsonb NOT NULL,
  prev_hash     char(64) NOT NULL,
  hash          char(64) NOT NULL UNIQUE
);
