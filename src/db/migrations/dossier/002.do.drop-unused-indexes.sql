-- No flow's query uses an index on the affiliate of a contribution or of a payment (the plans at
-- 1.3M affiliates join them through contribution_id, or read them whole), and the import rebuilds
-- every index at every load: these two cost it about 6.5 s of its 43 s at 1.3M affiliates. The
-- dossier tables are only ever emptied with TRUNCATE, so no foreign-key check needs them either.
DROP INDEX IF EXISTS dossier.contributions_affiliate;
DROP INDEX IF EXISTS dossier.payments_affiliate;
