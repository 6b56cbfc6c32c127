/* pollcache.h: long-poll answers shared by the requests of one process
 * that wake for the same change. */
#ifndef NTHPI_POLLCACHE_H
#define NTHPI_POLLCACHE_H

#include <stddef.h>

#include "blob.h"

struct pollcache;

/* Makes an empty cache. Returns NULL if memory ran out. */
struct pollcache *pollcache_new(void);

/* Frees it; nobody may be using it. Accepts NULL. */
void pollcache_free(struct pollcache *c);

/*
 * Looks for the answer to "since=since" built from a snapshot at version
 * at_least or later, and returns a reference to it (drop it with
 * blob_unref). If another thread is building that answer, waits for it
 * first, unless nowait. Otherwise returns NULL and the caller builds the
 * answer, then calls pollcache_put or pollcache_abandon with the same
 * since (they do nothing if the caller was not the one to build it).
 */
struct blob *pollcache_get(struct pollcache *c, long long since,
			   long long at_least, int nowait);

/* Stores the answer to since, built from a snapshot at version at. */
void pollcache_put(struct pollcache *c, long long since, long long at,
		   const char *body, size_t len);

/* Gives up building the answer to since (the database failed). */
void pollcache_abandon(struct pollcache *c, long long since);

#endif
