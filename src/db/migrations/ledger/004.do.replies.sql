-- Replies of the receivers (ACRF, NOTI) and what they say about our files and records.
ALTER TABLE maillon.files
  ADD COLUMN ack_state text CHECK (ack_state IN ('received', 'rejected')),
  ADD COLUMN ack_errors text[],
  ADD COLUMN noti_state text CHECK (noti_state IN ('accepted', 'accepted_with_anomalies', 'rejected'));

CREATE TABLE maillon.replies (
  reply_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  server      text NOT NULL,
  name        text NOT NULL,
  received_at timestamptz NOT NULL,
  bytes       bigint,
  sha256      text,
  local_path  text,
  state       text NOT NULL CHECK (state IN ('processed', 'set_aside')),
  reason      text,
  kind        text,
  file_name   text,
  UNIQUE (server, name)
);

CREATE TABLE maillon.record_anomalies (
  anomaly_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  reply_id       bigint NOT NULL REFERENCES maillon.replies,
  file_id        bigint NOT NULL REFERENCES maillon.files,
  run_id         bigint NOT NULL,
  ordinal        integer,
  inss           text,
  attestation_id text,
  blocking       boolean NOT NULL,
  code           text NOT NULL,
  description    text
);
CREATE INDEX record_anomalies_run ON maillon.record_anomalies (run_id, ordinal);
