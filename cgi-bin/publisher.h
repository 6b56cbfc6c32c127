/* publisher.h: the process that sends each change of the task list to
 * nginx once, for nginx to hand to every viewer waiting for it. */
#ifndef NTHPI_PUBLISHER_H
#define NTHPI_PUBLISHER_H

#include "config.h"
#include "liveboard.h"

/*
 * Channels (nginx.conf has a publisher location for each kind):
 *   /pub/once/lV       the list's changes after queue version V: the
 *                      message that long polls at V wait for;
 *   /pub/once/xID_V    task ID's change after its row was at version V:
 *                      what its task page waits for;
 *   /pub/stream/tasks  every list message, in order (event streams);
 *   /pub/stream/taskID every message of task ID (its event stream);
 *   /pub/tick/tS       "nothing new" at Unix second S, for the polls whose
 *                      hold ends then (api_live.c).
 * A long poll waits on its "once" channel and its tick channel at once.
 */

/* How often a tick goes out: once a second, as hold ends are counted in
 * seconds. */
#define PUBLISHER_TICK_MS 1000
/* A list message holds at most about this many bytes of tasks; more
 * changes go out as several messages, each covering its versions. */
#define PUBLISHER_CHUNK_BYTES (192 * 1024)

/*
 * Runs the publisher until SIGTERM, SIGINT or SIGHUP: watches the
 * database, publishes every change after what live says was published
 * (or after the database's version at start), and records in live how far
 * it got. Returns the exit status (1 if it could not start).
 */
int publisher_run(const struct config *cfg, struct liveboard *live);

#endif
