-- A person's number in what a reply says is masked when the reply is read (commit c6766be): its
-- anomaly codes, its ACRF error ids, the reason it was set aside. Rows recorded before kept the
-- receiver's text (or a library's message quoting it) as it was, and the reports show it so. They
-- are masked here, in place, by the rule of src/log/maskPersonalData.ts: any run of exactly 11
-- digits (an INSS or BIS number, valid or not: its check digits are not looked at) and the dotted
-- form 85.07.30-033.28 become their first two and last two digits around seven stars
-- (85*******28). The dotted form is masked first: masking the runs of digits first could make a
-- dotted form appear after one (12345678901.07.30-033.28), which the rule, in one pass, leaves.
-- A later NOTI's (masked) anomaly codes then compare equal to these again. The event chain keeps
-- what it recorded: it is append-only, and its hashes cover it.
CREATE FUNCTION maillon.masked_195(t text) RETURNS text LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT regexp_replace(
           regexp_replace(t, '(?<![0-9])([0-9]{2})\.[0-9]{2}\.[0-9]{2}-[0-9]{3}\.([0-9]{2})(?![0-9])', '\1*******\2', 'g'),
           '(?<![0-9])([0-9]{2})[0-9]{7}([0-9]{2})(?![0-9])', '\1*******\2', 'g')
$$;

UPDATE maillon.record_anomalies SET code = maillon.masked_195(code) WHERE code <> maillon.masked_195(code);
UPDATE maillon.replies SET reason = maillon.masked_195(reason) WHERE reason <> maillon.masked_195(reason);
UPDATE maillon.files SET ack_errors = ARRAY(SELECT maillon.masked_195(e) FROM unnest(ack_errors) WITH ORDINALITY AS u (e, n) ORDER BY n)
  WHERE EXISTS (SELECT FROM unnest(ack_errors) AS u (e) WHERE e <> maillon.masked_195(e));

DROP FUNCTION maillon.masked_195(text);
