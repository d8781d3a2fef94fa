-- The index on a contribution's quarter is not worth its build. At 1.3M affiliates the import
-- spent 9 s of its critical path on it (10.2M rows and 8 distinct values: the sort compares whole
-- keys and row positions, 12.5 s on one core), while career and contribution-slips, the flows
-- that used it for a bitmap scan of one quarter, extract as fast with a sequential scan of the
-- table (psql \copy of each query, best of 3: career 9.7 s with the index, 10.2 s without;
-- contribution-slips 11.8 s and 11.7 s). With a longer history a sequential scan reads more, but
-- the index's build grows with the table too, and it is paid at every import of the dossier,
-- where each flow reads one quarter once per period.
DROP INDEX IF EXISTS dossier.contributions_quarter;
