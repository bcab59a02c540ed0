-- The audit seal: a contiguous sequence and a SHA-256 hash chain over the
-- events, in the log's read order (events/store/audit_seal.cpp).
--   event_hash = SHA-256 of the event's canonical encoding
--   chain_hash = SHA-256(previous chain_hash || event_hash), the first one
--                chained to 32 zero bytes.
-- Append-only like the events themselves.

CREATE TABLE audit_seal (
  audit_seq       bigint PRIMARY KEY CHECK (audit_seq >= 1),
  global_position bigint NOT NULL UNIQUE REFERENCES events (global_position),
  tx_id           xid8 NOT NULL,
  event_hash      bytea NOT NULL CHECK (length(event_hash) = 32),
  chain_hash      bytea NOT NULL CHECK (length(chain_hash) = 32),
  sealed_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TRIGGER audit_seal_append_only
  BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_seal
  FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change();

REVOKE ALL ON audit_seal FROM PUBLIC;
GRANT SELECT, INSERT ON audit_seal TO furrsight_app;
