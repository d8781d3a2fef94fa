-- answered_after_cancel_at (migration 110) is also set when the receiver accepts, in a later reply,
-- a file of a submission it rejected (a positive ACRF after a negative one, a NOTI accepting a file
-- its ACRF or NOTI rejected): the receiver may hold what the ledger says it does not, whether the
-- ledger says cancelled or rejected. The event says which (answered_after_cancel or
-- accepted_after_reject). No data changes.
COMMENT ON COLUMN maillon.submissions.answered_after_cancel_at IS
  'First reply saying the receiver may hold this submission although it is cancelled (answered after the cancel) or rejected (accepted after the rejection); see events answered_after_cancel, accepted_after_reject';
