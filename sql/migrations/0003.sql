-- Migration to schema version 3: indexes for the worker's searches of
-- running tasks.
--
-- The claim looks for a running task whose lease has passed, and the worker
-- looks for running tasks someone asked to cancel each time the queue
-- changes. Without these indexes both read every running row, and a long
-- queue can hold hundreds of them.

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

PRAGMA user_version = 3;
