-- Process managers (orchestrator/scheduler/job_coordinator.cpp) react to
-- events by appending others: a child job's end moves its parent, a finished
-- scrape starts pairing. What they append has ids derived from the event
-- that caused it, so re-reading an event is harmless; the checkpoint only
-- saves re-reading the whole log after a restart.

CREATE TABLE process_manager_checkpoints (
  name            text PRIMARY KEY,
  checkpoint_tx   xid8 NOT NULL DEFAULT '0',
  checkpoint_position bigint NOT NULL DEFAULT 0,
  events_handled  bigint NOT NULL DEFAULT 0,
  updated_at      timestamptz NOT NULL DEFAULT now()
);

GRANT SELECT, INSERT, UPDATE ON process_manager_checkpoints TO furrsight_app;
