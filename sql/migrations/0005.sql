-- Migration to schema version 5: how long a task ran, as the worker
-- measured it.
--
-- "Ran for" and the histogram of /metrics took finished_at - started_at,
-- two readings of the wall clock: a clock stepped back between them gave
-- a finish before the start, no "ran for", and a task counted as 0 s. The
-- worker now measures the time from its claim to the end on the monotonic
-- clock and stores it; the difference of the stamps stays the fallback
-- for the tasks done before.

-- Milliseconds from the worker's last claim of the task to its end, on
-- the worker's monotonic clock; NULL until it ends, or for tasks ended
-- before this column.
ALTER TABLE tasks ADD COLUMN elapsed_ms INTEGER CHECK (elapsed_ms >= 0);

DROP TRIGGER tasks_compute_time_update;
DROP TRIGGER tasks_compute_time_insert;

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

PRAGMA user_version = 5;
