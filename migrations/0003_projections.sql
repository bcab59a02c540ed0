-- Projection bookkeeping (projections/generations.cpp).
--
-- Each build of a projection is a generation with a schema of its own
-- ("<name>_g<generation>") holding its tables. The checkpoint is written in
-- the same transaction as the table changes, so each event takes effect
-- exactly once. Readers use views in `public` named after the tables; a
-- switch re-points them at another generation in one transaction.

CREATE TABLE projection_generations (
  name                text NOT NULL,
  generation          integer NOT NULL CHECK (generation >= 1),
  version             integer NOT NULL,
  schema_name         text NOT NULL UNIQUE,
  state               text NOT NULL CHECK (state IN ('building', 'live', 'retired', 'snapshot')),
  checkpoint_tx       xid8 NOT NULL DEFAULT '0',
  checkpoint_position bigint NOT NULL DEFAULT 0,
  events_applied      bigint NOT NULL DEFAULT 0,
  last_event_at       timestamptz,
  until_position      bigint,
  until_time          timestamptz,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (name, generation)
);
CREATE UNIQUE INDEX projection_generations_one_live ON projection_generations (name) WHERE state = 'live';

GRANT SELECT ON projection_generations TO furrsight_app;

-- Advances a generation's checkpoint from where the caller read it, or
-- raises: called first in each projector batch, so the row lock serialises
-- appliers and a stale one's whole batch rolls back (exactly once).
CREATE FUNCTION projection_advance(p_name text, p_generation integer, p_tx xid8, p_position bigint,
                                   p_count bigint, p_last_event_us bigint, p_from_tx xid8, p_from_position bigint)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  UPDATE projection_generations
  SET checkpoint_tx = p_tx, checkpoint_position = p_position, events_applied = events_applied + p_count,
      last_event_at = coalesce(to_timestamp(p_last_event_us::double precision / 1000000), last_event_at),
      updated_at = now()
  WHERE name = p_name AND generation = p_generation
    AND checkpoint_tx = p_from_tx AND checkpoint_position = p_from_position;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'projection % generation % was advanced by another process', p_name, p_generation
      USING ERRCODE = 'serialization_failure';
  END IF;
END
$$;
