-- A record's dossier key of any length in the lineage. record_outcomes_source_key (migration 080)
-- was a btree, whose entry holds at most 2,704 bytes: a key stored longer failed the whole run at
-- its lineage write ("index row size 2712 exceeds btree version 4 maximum 2704"; statistics
-- stores `affiliate:<id>`, so an affiliate_id of 2,690 bytes, which the dossier's own key took).
-- The import now refuses identifiers over 2,600 bytes; the lineage must not depend on that, nor
-- on the prefixes a flow adds. A hash index stores a 4-byte hash of the key, whatever its length,
-- and serves what the btree served: maillon trace looks a key up by equality only
-- (source_key = $1, and source_key = ANY($2) in a BitmapOr with record_outcomes_record_key); no
-- query orders or ranges by it through this index (the reports order by source_key COLLATE "C",
-- which this index never served). Same name, so plans and docs/decisions/0301-trace-indexes.md
-- still name it. The numbers: that record's amendment.
DROP INDEX maillon.record_outcomes_source_key;
CREATE INDEX record_outcomes_source_key ON maillon.record_outcomes USING hash (source_key);
