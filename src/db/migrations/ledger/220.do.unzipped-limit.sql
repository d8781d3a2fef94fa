-- A zipped (CO) reply is limited twice: as downloaded by MAILLON_MAX_REPLY_BYTES, and once unzipped
-- by MAILLON_MAX_UNZIPPED_BYTES (before, MAILLON_MAX_REPLY_BYTES capped both, so a reply the channel
-- zips for being over 50 MB was set aside at the default). One set aside over the second limit
-- depends on it (max_unzipped_bytes, the limit then in depends_value) and is read again once it is
-- raised.
ALTER TABLE maillon.replies DROP CONSTRAINT replies_depends_on_check;
ALTER TABLE maillon.replies ADD CONSTRAINT replies_depends_on_check CHECK (depends_on IN ('max_reply_bytes', 'max_unzipped_bytes', 'trust_store', 'signature'));

-- Zipped replies set aside before for their unzipped size (the two reasons src/ack/unzipReply.ts
-- gave) depended on the old shared limit: they now depend on the new one, with the value they were
-- refused at, so the first acks with a higher MAILLON_MAX_UNZIPPED_BYTES (its default among them)
-- reads them again. Those refused for their downloaded size keep max_reply_bytes.
UPDATE maillon.replies SET depends_on = 'max_unzipped_bytes'
WHERE depends_on = 'max_reply_bytes' AND name LIKE 'CO.%'
  AND (reason LIKE 'The zipped reply % holds an entry of % bytes, over % bytes; it was set aside.'
       OR reason LIKE 'The zipped reply % inflates beyond % bytes; it was set aside.');
