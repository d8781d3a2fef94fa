-- A submission's events, read by index instead of a scan of the whole chain: whether a version
-- builds on one its receiver rejected (src/ledger/rejectedBase.ts: the first `written` event of a
-- submission, a `rejected` event of an earlier one) is asked for every live submission of a period
-- by the status, the report and send; an evidence pack reads one submission's events in order.
-- submission_id and kind lead (the queries name both), event_id last (min, and the order).
CREATE INDEX IF NOT EXISTS events_submission ON maillon.events (submission_id, kind, event_id);
