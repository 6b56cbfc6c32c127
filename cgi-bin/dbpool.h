/* dbpool.h: a few database connections shared by a process's threads. */
#ifndef NTHPI_DBPOOL_H
#define NTHPI_DBPOOL_H

#include "queries.h"

struct dbpool;

/*
 * Makes a pool of at most size connections to the database at path,
 * opened when first needed. Returns the pool, or NULL (out of memory).
 */
struct dbpool *dbpool_new(const char *path, int size);

/*
 * Takes a connection, waiting while all are in use. Returns NULL if a new
 * connection could not be opened (logged); the caller answers 503 with
 * Retry-After (ctx_fail_rc with TASK_UNAVAILABLE).
 */
struct dbconn *dbpool_get(struct dbpool *p);

/* Gives a connection back, for the next waiting thread. */
void dbpool_put(struct dbpool *p, struct dbconn *c);

/* Closes every connection; none may be out. Accepts NULL. */
void dbpool_free(struct dbpool *p);

#endif
