-- nthpi database schema: the task queue shared by the web app and the worker.
--
-- This file creates a new database at the current schema version. An older
-- database is brought up to date by sql/migrations/NNNN.sql, where NNNN is the
-- version the migration produces. Both programs apply them on open.

-- One row per task ever asked for. Every change bumps queue_state.version in
-- the same transaction (see the triggers below), which is what long-polling
-- clients wait on.
CREATE TABLE tasks (
	-- Task number, shown to people and used in URLs; never reused.
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	-- Decimal place asked for: 1 is the first digit after "3.".
	n INTEGER NOT NULL CHECK (n >= 1),
	-- Where the task is: queued, running, done, error or cancelled.
	status TEXT NOT NULL DEFAULT 'queued'
	    CHECK (status IN ('queued', 'running', 'done', 'error', 'cancelled')),
	-- The n-th decimal digit of pi, set when status is done.
	digit INTEGER CHECK (digit BETWEEN 0 AND 9),
	-- A sentence a person can read, set when status is error.
	error TEXT,
	-- Fraction of the computation done, from 0 to 1.
	progress REAL NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 1),
	-- When the task was asked for, in milliseconds since the Unix epoch.
	created_at INTEGER NOT NULL,
	-- When a worker last claimed it (ms since the epoch), or NULL.
	started_at INTEGER,
	-- When it reached done, error or cancelled (ms since the epoch), or NULL.
	finished_at INTEGER,
	-- A running task whose lease (ms since the epoch) has passed belongs to a
	-- worker that died; it is claimed again.
	lease_until INTEGER,
	-- How many times a worker has claimed the task.
	attempts INTEGER NOT NULL DEFAULT 0,
	-- Set when someone asked to cancel the task; the worker stops it.
	cancel_requested INTEGER NOT NULL DEFAULT 0
	    CHECK (cancel_requested IN (0, 1)),
	-- queue_state.version after the last change to this row.
	version INTEGER NOT NULL DEFAULT 0,
	-- Milliseconds from the worker's last claim of the task to its end, on
	-- the worker's monotonic clock; NULL until it ends, or for tasks ended
	-- before this column (schema version 5).
	elapsed_ms INTEGER CHECK (elapsed_ms >= 0)
);

-- The worker claims the oldest queued task; the page filters by status.
CREATE INDEX tasks_by_status ON tasks (status, id);
-- Long-poll answers list the rows changed since a version.
CREATE INDEX tasks_by_version ON tasks (version);
-- The claim finds running tasks whose lease has passed. Partial, so that it
-- holds the running rows only and no other query by status takes it in
-- place of tasks_by_status; status leads all the same, so that the claim's
-- status = 'running' AND lease_until < ? prefers it to tasks_by_status.
CREATE INDEX tasks_running_lease ON tasks (status, lease_until)
    WHERE status = 'running';
-- The worker finds the running tasks someone asked to cancel: few or none.
-- Both columns are indexed for the same reason as above.
CREATE INDEX tasks_cancel_requested ON tasks (status, cancel_requested)
    WHERE status = 'running' AND cancel_requested = 1;

-- A single row holding the change counter.
CREATE TABLE queue_state (
	-- Always 1: there is one counter.
	id INTEGER PRIMARY KEY CHECK (id = 1),
	-- Moves forward with every insert, update or delete of a task.
	version INTEGER NOT NULL
);
INSERT INTO queue_state (id, version) VALUES (1, 0);

-- Tasks that were deleted, so that long-polling clients learn of it.
CREATE TABLE deleted_tasks (
	-- The id the task had.
	id INTEGER PRIMARY KEY,
	-- queue_state.version after the delete.
	version INTEGER NOT NULL
);

-- Long-poll answers list the ids deleted since a version.
CREATE INDEX deleted_tasks_by_version ON deleted_tasks (version);

-- A single row the worker rewrites every few seconds, busy or idle, so that
-- monitoring (/metrics) can tell a stalled worker from an idle one.
CREATE TABLE worker_state (
	-- Always 1: there is one worker.
	id INTEGER PRIMARY KEY CHECK (id = 1),
	-- When the worker last reported in, in milliseconds since the epoch.
	last_seen INTEGER NOT NULL,
	-- 1 while the worker has not reported in for 10 s (set by the
	-- publisher, cleared by the worker).
	stalled INTEGER NOT NULL DEFAULT 0
	    CHECK (stalled IN (0, 1))
);

-- A change of the mark moves the queue version, so that long polls and
-- the page hear of it at once.
CREATE TRIGGER worker_state_stalled_update AFTER UPDATE OF stalled
    ON worker_state WHEN NEW.stalled <> OLD.stalled
BEGIN
	UPDATE queue_state SET version = version + 1 WHERE id = 1;
END;

-- The publisher makes the row of a worker that never reported in.
CREATE TRIGGER worker_state_stalled_insert AFTER INSERT ON worker_state
    WHEN NEW.stalled = 1
BEGIN
	UPDATE queue_state SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER tasks_version_insert AFTER INSERT ON tasks
BEGIN
	UPDATE queue_state SET version = version + 1 WHERE id = 1;
	UPDATE tasks SET version = (SELECT version FROM queue_state WHERE id = 1)
	    WHERE id = NEW.id;
END;

-- Fires on every column but version itself, so that the trigger's own update
-- does not count as a change.
CREATE TRIGGER tasks_version_update AFTER UPDATE OF
    n, status, digit, error, progress, created_at, started_at, finished_at,
    lease_until, attempts, cancel_requested ON tasks
BEGIN
	UPDATE queue_state SET version = version + 1 WHERE id = 1;
	UPDATE tasks SET version = (SELECT version FROM queue_state WHERE id = 1)
	    WHERE id = NEW.id;
END;

CREATE TRIGGER tasks_version_delete AFTER DELETE ON tasks
BEGIN
	UPDATE queue_state SET version = version + 1 WHERE id = 1;
	INSERT OR REPLACE INTO deleted_tasks (id, version)
	    VALUES (OLD.id, (SELECT version FROM queue_state WHERE id = 1));
END;

-- The histogram of computation times for /metrics, kept as running totals
-- by the triggers below: a delete leaves them as they are, so that they
-- only grow, as Prometheus expects of a histogram.
CREATE TABLE compute_time_buckets (
	-- The bucket's upper bound in milliseconds (Prometheus' le).
	le_ms INTEGER PRIMARY KEY,
	-- Tasks done so far that took at most le_ms.
	tasks INTEGER NOT NULL DEFAULT 0
);
INSERT INTO compute_time_buckets (le_ms)
    VALUES (10), (100), (1000), (10000), (60000), (600000), (3600000);

-- A single row: how many tasks were done so far, and their total time.
CREATE TABLE compute_totals (
	-- Always 1: there is one total.
	id INTEGER PRIMARY KEY CHECK (id = 1),
	-- Tasks done with both times set.
	tasks INTEGER NOT NULL,
	-- Their time from started_at to finished_at, summed, in milliseconds.
	sum_ms INTEGER NOT NULL
);
INSERT INTO compute_totals (id, tasks, sum_ms) VALUES (1, 0, 0);

-- The worker finishes a task by setting it done (QUEUE_FINISH), with the
-- time it measured. max(0, …): for a task without it, a wall clock
-- stepped back must not lower the sum, which only grows.
CREATE TRIGGER tasks_compute_time_update AFTER UPDATE OF status ON tasks
    WHEN NEW.status = 'done' AND OLD.status <> 'done'
    AND (NEW.elapsed_ms IS NOT NULL
	 OR (NEW.started_at IS NOT NULL AND NEW.finished_at IS NOT NULL))
BEGIN
	UPDATE compute_totals SET tasks = tasks + 1,
	    sum_ms = sum_ms + coalesce(NEW.elapsed_ms,
				       max(0, NEW.finished_at - NEW.started_at))
	    WHERE id = 1;
	UPDATE compute_time_buckets SET tasks = tasks + 1
	    WHERE le_ms >= coalesce(NEW.elapsed_ms,
				    max(0, NEW.finished_at - NEW.started_at));
END;

-- A task inserted done (an import, a test) counts too.
CREATE TRIGGER tasks_compute_time_insert AFTER INSERT ON tasks
    WHEN NEW.status = 'done'
    AND (NEW.elapsed_ms IS NOT NULL
	 OR (NEW.started_at IS NOT NULL AND NEW.finished_at IS NOT NULL))
BEGIN
	UPDATE compute_totals SET tasks = tasks + 1,
	    sum_ms = sum_ms + coalesce(NEW.elapsed_ms,
				       max(0, NEW.finished_at - NEW.started_at))
	    WHERE id = 1;
	UPDATE compute_time_buckets SET tasks = tasks + 1
	    WHERE le_ms >= coalesce(NEW.elapsed_ms,
				    max(0, NEW.finished_at - NEW.started_at));
END;

-- Submissions that can be sent again: a POST /api/tasks with an
-- Idempotency-Key header, or a form post with its one-time field, records
-- its key with the task it made; the same key again within 24 h answers
-- with that task.
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
