-- Migration to schema version 2: what the dashboard and /metrics need.
--
-- Long-poll answers read deleted_tasks by version; with many deletes a scan
-- of the table would make every answer slower. The worker records when it
-- last reported in, so that monitoring can tell a stalled worker from an
-- idle one.

CREATE INDEX deleted_tasks_by_version ON deleted_tasks (version);

-- A single row the worker rewrites every few seconds, busy or idle.
CREATE TABLE worker_state (
	-- Always 1: there is one worker.
	id INTEGER PRIMARY KEY CHECK (id = 1),
	-- When the worker last reported in, in milliseconds since the epoch.
	last_seen INTEGER NOT NULL
);

PRAGMA user_version = 2;
