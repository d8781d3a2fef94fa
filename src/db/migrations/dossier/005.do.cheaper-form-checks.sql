-- The forms of digits and letters are checked without the regular-expression engine, on the
-- columns of the large tables. PostgreSQL runs every CHECK on every row the import copies, and a
-- regular expression costs a conversion of the value and a matcher per row. At 1.3M affiliates,
-- on a slow hour of the 2-core machine: the contributions' quarter took 7.4 s of a core (count(*)
-- of the 10.2M rows with the check as a condition, against without), 3.4 s in this form; the
-- import's server CPU, old and new alternating twice, 57.3-58.7 s -> 51.6-52.8 s, and its wall
-- time 38.1-38.7 s -> 35.1-36.1 s. Each form accepts exactly what its expression did
-- (test/db/formChecks.test.ts): a length in bytes, then what is left once the leading digits (or
-- capitals) are trimmed; a character outside ASCII stops the trim and fails the check. The small
-- allowances table keeps its expressions. On a dossier of 1.3M affiliates this migration takes
-- about 5 s (each new check scans its table once, under an exclusive lock).
ALTER TABLE dossier.affiliates
  DROP CONSTRAINT affiliates_inss_check,
  ADD CONSTRAINT affiliates_inss_check CHECK (octet_length(inss) = 11 AND ltrim(inss, '0123456789') = ''),
  DROP CONSTRAINT affiliates_country_check,
  ADD CONSTRAINT affiliates_country_check CHECK (octet_length(country) = 2 AND ltrim(country, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ') = '');
ALTER TABLE dossier.activity_periods
  DROP CONSTRAINT activity_periods_company_number_check,
  ADD CONSTRAINT activity_periods_company_number_check CHECK (octet_length(company_number) = 10 AND ltrim(company_number, '0123456789') = '');
ALTER TABLE dossier.contributions
  DROP CONSTRAINT contributions_quarter_check,
  ADD CONSTRAINT contributions_quarter_check CHECK (octet_length(quarter) = 7 AND ltrim(quarter, '0123456789') IN ('-Q1', '-Q2', '-Q3', '-Q4'));
ALTER TABLE dossier.companies
  DROP CONSTRAINT companies_company_number_check,
  ADD CONSTRAINT companies_company_number_check CHECK (octet_length(company_number) = 10 AND ltrim(company_number, '0123456789') = '');
