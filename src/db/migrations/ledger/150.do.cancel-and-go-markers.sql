-- A cancel records that it is about to write the TD file before writing it (like go_started_at
-- for the GO): a cancel killed between the TD and its ledger update leaves a mark that `send`
-- respects (it never sends such a submission) and that the next `cancel` completes.
ALTER TABLE maillon.submissions ADD COLUMN td_started_at timestamptz;

-- From this version on, the GO is written under its temporary name before go_started_at is
-- recorded, and renamed after (docs/decisions/0205-go-written-before-it-is-recorded.md): a GO
-- started, absent from IN and without its temporary file was renamed, so the receiver took it.
-- Earlier versions recorded go_started_at first: for a submission they left written with its GO
-- started, a GO absent may never have been written. Those keep the earlier rule (every data file
-- still there: the GO is written).
ALTER TABLE maillon.submissions ADD COLUMN go_maybe_unwritten boolean NOT NULL DEFAULT false;
UPDATE maillon.submissions SET go_maybe_unwritten = true WHERE state = 'written' AND go_started_at IS NOT NULL;

-- The highest submission id of the ledger when answered_after_cancel_at was set: a later
-- submission to the same receiver for the period (a higher id) was written knowing that the
-- receiver may hold the cancelled one (the operator's decision); one written before (serve or
-- backfill after the cancel, before the reply) says nothing of it. Null for facts recorded by
-- earlier versions: then any later submission counts, as it did.
ALTER TABLE maillon.submissions ADD COLUMN answered_after_cancel_last_id bigint;
