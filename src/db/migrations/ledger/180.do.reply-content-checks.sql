-- The modification time the server listed for a reply when it was read (SFTP gives whole seconds),
-- then when it was last checked. A reply already read that a later listing shows with the same
-- size but another time is hashed again as it is read (nothing kept), to tell other content
-- under the same name and size; a listing that shows the recorded time is trusted, so no reply is
-- read again on every pass. Null for a reply read before this column (hashed once, at its next
-- listing) and when the server lists no time (then only its size is compared).
ALTER TABLE maillon.replies ADD COLUMN listed_mtime timestamptz;

-- With replaced_bytes, the sha256 of the other content a reply already read was found to hold
-- under the same size (null when its size alone told it): it is reported once per size and content.
ALTER TABLE maillon.replies ADD COLUMN replaced_sha256 text;
ALTER TABLE maillon.replies ADD CONSTRAINT replies_replaced_sha256_sized CHECK (replaced_sha256 IS NULL OR replaced_bytes IS NOT NULL);
