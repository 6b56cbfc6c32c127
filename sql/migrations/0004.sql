-- Migration to schema version 4: the histogram of computation times kept as
-- running totals, for /metrics.
--
-- /metrics counted it by reading every done task (17 ms at 100,000 tasks),
-- and its counts fell when done tasks were deleted, which Prometheus takes
-- for a counter reset. Now triggers add each task as it becomes done, and a
-- delete leaves the totals as they are.

-- The histogram's buckets, cumulative as Prometheus has them.
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

-- The tasks done before this migration count from the start.
INSERT INTO compute_totals (id, tasks, sum_ms)
    SELECT 1, count(*), coalesce(sum(max(0, finished_at - started_at)), 0)
    FROM tasks WHERE status = 'done' AND started_at IS NOT NULL
    AND finished_at IS NOT NULL;
UPDATE compute_time_buckets SET tasks = (SELECT count(*) FROM tasks
    WHERE status = 'done' AND started_at IS NOT NULL
    AND finished_at IS NOT NULL
    AND max(0, finished_at - started_at) <= le_ms);

-- The worker finishes a task by setting it done (QUEUE_FINISH). max(0, …):
-- a wall clock stepped back must not lower the sum, which only grows.
CREATE TRIGGER tasks_compute_time_update AFTER UPDATE OF status ON tasks
    WHEN NEW.status = 'done' AND OLD.status <> 'done'
    AND NEW.started_at IS NOT NULL AND NEW.finished_at IS NOT NULL
BEGIN
	UPDATE compute_totals SET tasks = tasks + 1,
	    sum_ms = sum_ms + max(0, NEW.finished_at - NEW.started_at)
	    WHERE id = 1;
	UPDATE compute_time_buckets SET tasks = tasks + 1
	    WHERE le_ms >= max(0, NEW.finished_at - NEW.started_at);
END;

-- A task inserted done (an import, a test) counts too.
CREATE TRIGGER tasks_compute_time_insert AFTER INSERT ON tasks
    WHEN NEW.status = 'done'
    AND NEW.started_at IS NOT NULL AND NEW.finished_at IS NOT NULL
BEGIN
	UPDATE compute_totals SET tasks = tasks + 1,
	    sum_ms = sum_ms + max(0, NEW.finished_at - NEW.started_at)
	    WHERE id = 1;
	UPDATE compute_time_buckets SET tasks = tasks + 1
	    WHERE le_ms >= max(0, NEW.finished_at - NEW.started_at);
END;

PRAGMA user_version = 4;
