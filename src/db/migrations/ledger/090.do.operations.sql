-- Operations: pausing a flow and the instances' heartbeats.
-- A pause or resume is an event of the chain (kind flow_paused / flow_resumed, detail naming the
-- flow and environment): the latest one per flow says whether it is paused. This index finds it
-- without reading the submissions' events.
CREATE INDEX events_flow_pauses ON maillon.events ((detail->>'environment'), (detail->>'flow'), event_id DESC)
  WHERE kind IN ('flow_paused', 'flow_resumed');

-- Each `maillon serve` process writes its last tick here (one row per instance, updated in place),
-- so that the status page, /healthz and /metrics show which instances are alive.
CREATE TABLE maillon.heartbeats (
  instance     text PRIMARY KEY,
  environment  char(1) NOT NULL,
  host         text NOT NULL,
  pid          integer NOT NULL,
  started_at   timestamptz NOT NULL,
  last_tick_at timestamptz NOT NULL,
  tick_seconds integer NOT NULL
);
