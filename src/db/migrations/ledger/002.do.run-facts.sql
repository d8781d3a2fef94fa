-- Facts a flow reports beside its records (e.g. tax-attestations: unallocated payments left out).
ALTER TABLE maillon.runs ADD COLUMN facts jsonb;
