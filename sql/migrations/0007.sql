-- Migration to schema version 7: submissions that can be sent again.
--
-- A POST whose answer was lost (a connection cut at the wrong moment)
-- left a task the client never heard of, and its retry made a second one.
-- A POST /api/tasks with an Idempotency-Key header, or a form post with
-- its one-time field, records its key here with the task it made; the
-- same key again within 24 h answers with that task.

CREATE TABLE request_keys (
	-- "api:" and the Idempotency-Key header, or "form:" and the form's
	-- one-time field.
	key TEXT PRIMARY KEY,
	-- The n the request asked for: the same key with another n is
	-- refused.
	n INTEGER NOT NULL,
	-- The task the request made.
	task_id INTEGER NOT NULL,
	-- When the request was made (ms since the epoch); keys older than
	-- 24 h are forgotten.
	created_at INTEGER NOT NULL
);

-- Keys past 24 h are deleted oldest first.
CREATE INDEX request_keys_by_time ON request_keys (created_at);

PRAGMA user_version = 7;
