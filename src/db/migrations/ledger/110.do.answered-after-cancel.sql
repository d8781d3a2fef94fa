-- A reply about a submission cancelled after its GO was started (a TD written) says the receiver
-- took the GO before the TD reached it: it may hold the period although the ledger says
-- cancelled. The instant of the first such reply; the period then needs an operator's decision
-- instead of being to do again (serve would otherwise send a second original).
ALTER TABLE maillon.submissions ADD COLUMN answered_after_cancel_at timestamptz;
