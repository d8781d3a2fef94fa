-- A reply set aside for a reason that depends on maillon's configuration is read again once that
-- configuration changes: depends_on names it (max_reply_bytes: over MAILLON_MAX_REPLY_BYTES;
-- trust_store: a signature that could not be verified against MAILLON_TRUST_STORE; signature: no
-- signature while one is required), depends_value its value then (the limit in bytes, or the
-- trust store's fingerprint, 'none' without one).
ALTER TABLE maillon.replies ADD COLUMN depends_on text CHECK (depends_on IN ('max_reply_bytes', 'trust_store', 'signature'));
ALTER TABLE maillon.replies ADD COLUMN depends_value text;
ALTER TABLE maillon.replies ADD CONSTRAINT replies_depends_set_aside CHECK (depends_on IS NULL OR (state = 'set_aside' AND depends_value IS NOT NULL));

-- The size the server listed when the reply was judged: a later listing of another size under the
-- same name is other content (a set-aside reply is then read again; one already read is a conflict).
ALTER TABLE maillon.replies ADD COLUMN listed_bytes bigint;

-- A reply already read that the server later lists with another size (replaced under its name):
-- that size and when it was first seen. Its new content is never read; it is reported once per size.
ALTER TABLE maillon.replies ADD COLUMN replaced_bytes bigint;
ALTER TABLE maillon.replies ADD COLUMN replaced_at timestamptz;
ALTER TABLE maillon.replies ADD CONSTRAINT replies_replaced_read CHECK (replaced_bytes IS NULL OR state <> 'set_aside');
