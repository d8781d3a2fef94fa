-- The verification of a reply's signature (FS companion), when it came with one.
ALTER TABLE maillon.replies ADD COLUMN signature text;
