-- Migration to schema version 6: a worker that stopped reporting in is
-- marked, and the mark moves the queue version.
--
-- A stalled or absent worker left its tasks running with frozen progress
-- and the page said nothing. The worker reports in every 2 s; the FastCGI
-- app's publisher marks it stalled once it has not for 10 s, and the
-- worker's next report clears the mark. Each change of the mark moves the
-- queue version, so that long polls and the page hear of it at once.

-- 1 while the worker has not reported in for 10 s (set by the publisher,
-- cleared by the worker).
ALTER TABLE worker_state ADD COLUMN stalled INTEGER NOT NULL DEFAULT 0
    CHECK (stalled IN (0, 1));

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

PRAGMA user_version = 6;
