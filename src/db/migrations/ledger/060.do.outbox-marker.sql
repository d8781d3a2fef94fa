-- The outbox that every instance of maillon shares (docs/deployment.md): the id of the marker
-- file (.maillon-outbox) that `maillon serve` writes in it at its first use. An instance whose
-- outbox holds another marker, or none once one is recorded here, refuses to serve
-- (src/package/outboxMarker.ts). One row at most.
CREATE TABLE maillon.outbox_marker (
  singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  marker      uuid NOT NULL,
  recorded_at timestamptz NOT NULL
);
