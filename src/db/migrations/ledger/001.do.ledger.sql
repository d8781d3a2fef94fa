-- maillon's own ledger: runs, submissions, files, record lineage and quarantine, sequences, imports.
CREATE TABLE maillon.runs (
  run_id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  flow          text NOT NULL,
  period        text NOT NULL,
  environment   char(1) NOT NULL CHECK (environment IN ('R', 'T', 'S')),
  as_of         timestamptz NOT NULL,
  dry_run       boolean NOT NULL,
  state         text NOT NULL CHECK (state IN ('running', 'succeeded', 'failed')),
  started_at    timestamptz NOT NULL,
  finished_at   timestamptz,
  extracted     integer,
  emitted       integer,
  quarantined   integer,
  error_class   text,
  error_message text,
  started_by    text NOT NULL,
  host          text NOT NULL,
  pid           integer NOT NULL
);
CREATE INDEX runs_flow_period ON maillon.runs (flow, period, environment, run_id DESC);

-- One row per (sender, creation date, environment): the last sequence handed out. Allocation
-- happens in the transaction that records the submission, so a rollback leaves no gap.
CREATE TABLE maillon.sequences (
  sender        char(6) NOT NULL,
  creation_date date NOT NULL,
  environment   char(1) NOT NULL CHECK (environment IN ('R', 'T', 'S')),
  last_value    integer NOT NULL CHECK (last_value > 0),
  PRIMARY KEY (sender, creation_date, environment)
);

CREATE TABLE maillon.submissions (
  submission_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id        bigint NOT NULL REFERENCES maillon.runs,
  flow          text NOT NULL,
  period        text NOT NULL,
  environment   char(1) NOT NULL CHECK (environment IN ('R', 'T', 'S')),
  receiver      text NOT NULL,
  sender        char(6) NOT NULL,
  purpose       char(4) NOT NULL,
  creation_date date NOT NULL,
  sequence      text NOT NULL,
  parts         integer NOT NULL,
  state         text NOT NULL CHECK (state IN ('written')),
  created_at    timestamptz NOT NULL,
  UNIQUE (sender, creation_date, environment, sequence)
);
CREATE INDEX submissions_flow_period ON maillon.submissions (flow, period, environment);

CREATE TABLE maillon.files (
  file_id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  submission_id bigint NOT NULL REFERENCES maillon.submissions,
  run_id        bigint NOT NULL REFERENCES maillon.runs,
  file_key      text NOT NULL,
  kind          char(2) NOT NULL CHECK (kind IN ('FI', 'FS', 'GO', 'TD')),
  name          text NOT NULL UNIQUE,
  part          integer NOT NULL,
  receiver      text NOT NULL,
  path          text NOT NULL,
  records       integer NOT NULL,
  bytes         bigint NOT NULL,
  sha256        char(64) NOT NULL,
  created_at    timestamptz NOT NULL,
  UNIQUE (run_id, file_key)
);

-- One row per extracted record: emitted into (file_key, position) or quarantined under a rule.
-- extracted = count(*), emitted + quarantined = extracted by construction.
CREATE TABLE maillon.record_outcomes (
  run_id         bigint NOT NULL REFERENCES maillon.runs,
  ordinal        integer NOT NULL,
  source_key     text NOT NULL,
  outcome        text NOT NULL CHECK (outcome IN ('emitted', 'quarantined')),
  record_key     text,
  file_key       text,
  position       integer,
  attestation_id bigint,
  record_hash    text,
  rule           text,
  message        text,
  PRIMARY KEY (run_id, ordinal),
  FOREIGN KEY (run_id, file_key) REFERENCES maillon.files (run_id, file_key) DEFERRABLE INITIALLY DEFERRED,
  CHECK ((outcome = 'emitted') = (file_key IS NOT NULL AND position IS NOT NULL)),
  CHECK ((outcome = 'quarantined') = (rule IS NOT NULL))
);

CREATE TABLE maillon.imports (
  import_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  folder      text NOT NULL,
  started_at  timestamptz NOT NULL,
  finished_at timestamptz NOT NULL,
  rows        bigint NOT NULL,
  files       jsonb NOT NULL
);
