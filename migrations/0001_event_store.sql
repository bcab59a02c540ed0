-- The append-only event log: the only source of truth (ARCHITECTURE.md, invariants 1-4, 8).
--
-- Read order is (tx_id, global_position), read only below
-- pg_snapshot_xmin(pg_current_snapshot()): a subscriber then never skips an
-- event whose sequence value committed late. This is safe for per-stream
-- order because an append is one INSERT statement and the first write of its
-- transaction (events/store/event_store.cpp).

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'furrsight_app') THEN
    CREATE ROLE furrsight_app LOGIN;
  END IF;
END
$$;

CREATE TABLE events (
  global_position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tx_id           xid8 NOT NULL DEFAULT pg_current_xact_id(),
  event_id        uuid NOT NULL,
  stream_id       text NOT NULL,
  stream_category text GENERATED ALWAYS AS (split_part(stream_id, '-', 1)) STORED,
  stream_version  bigint NOT NULL,
  event_type      text NOT NULL,
  schema_version  integer NOT NULL DEFAULT 1,
  payload         jsonb NOT NULL,
  metadata        jsonb NOT NULL,
  recorded_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
  CONSTRAINT events_event_id_key UNIQUE (event_id),
  CONSTRAINT events_stream_version_key UNIQUE (stream_id, stream_version),
  CONSTRAINT events_stream_id_format CHECK (stream_id ~ '^[a-z][a-z0-9_]*-.+$'),
  CONSTRAINT events_stream_version_positive CHECK (stream_version >= 1),
  CONSTRAINT events_event_type_format CHECK (event_type ~ '^[A-Z][A-Za-z0-9]*$'),
  -- Invariant 8: who, why and which request, on every event.
  CONSTRAINT events_metadata_complete CHECK (
    coalesce(metadata->>'actor', '') <> ''
    AND coalesce(metadata->>'correlation_id', '') <> ''
    AND coalesce(metadata->>'causation_id', '') <> '')
);

-- The gap-free read order, and the same order within one category.
CREATE INDEX events_read_order ON events (tx_id, global_position);
CREATE INDEX events_category_read_order ON events (stream_category, tx_id, global_position);

-- Invariant 2: no event is ever updated or deleted, whoever asks.
CREATE FUNCTION events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the % table is append-only: % is refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege',
          HINT = 'record a correcting event instead';
END
$$;

CREATE TRIGGER events_append_only
  BEFORE UPDATE OR DELETE OR TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change();

REVOKE ALL ON events FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO furrsight_app;
GRANT SELECT, INSERT ON events TO furrsight_app;
