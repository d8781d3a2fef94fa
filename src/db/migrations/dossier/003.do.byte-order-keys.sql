-- Identifiers and period keys are compared byte by byte (COLLATE "C"), as every flow already
-- orders its output (ORDER BY affiliate_id COLLATE "C"). With the database's own collation
-- (C.UTF-8 or a language's, through the C library) PostgreSQL could not tell that its key
-- indexes were in that order, so career and contribution-slips sorted their ~1.1M records again
-- at the end of the query and sent nothing until all were computed; and every key and index the
-- import builds sorts faster in byte order. Names, streets and cities keep the database's
-- collation. Rewrites the tables once (about 20 s at 1.3M affiliates); equality, and so every
-- key, is unchanged.
ALTER TABLE dossier.affiliates ALTER affiliate_id TYPE text COLLATE "C";
ALTER TABLE dossier.activity_periods ALTER affiliate_id TYPE text COLLATE "C", ALTER company_number TYPE text COLLATE "C";
ALTER TABLE dossier.mutuality_affiliations ALTER affiliate_id TYPE text COLLATE "C";
ALTER TABLE dossier.contributions ALTER contribution_id TYPE text COLLATE "C", ALTER affiliate_id TYPE text COLLATE "C", ALTER quarter TYPE text COLLATE "C";
ALTER TABLE dossier.payments ALTER payment_id TYPE text COLLATE "C", ALTER affiliate_id TYPE text COLLATE "C", ALTER contribution_id TYPE text COLLATE "C";
ALTER TABLE dossier.allowances ALTER allowance_id TYPE text COLLATE "C", ALTER affiliate_id TYPE text COLLATE "C", ALTER month TYPE text COLLATE "C";
ALTER TABLE dossier.companies ALTER company_number TYPE text COLLATE "C";
