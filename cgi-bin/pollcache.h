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
 * first, unless nowait (then returns NULL with *ticket 0). Otherwise
 * returns NULL and the caller builds the answer; *ticket is then its
 * claim on the entry, to pass to pollcache_put or pollcache_abandon, or 0
 * if no entry was free (the answer is not shared).
 */
struct blob *pollcache_get(struct pollcache *c, long long since,
			   long long at_least, int nowait,
			   unsigned long long *ticket);

/* Stores the answer built under ticket (not 0), from a snapshot at version
 * at. Does nothing if the claim is no longer the ticket's. */
void pollcache_put(struct pollcache *c, unsigned long long ticket, long long at,
		   const char *body, size_t len);

/* Gives up the claim of ticket (the database failed). */
void pollcache_abandon(struct pollcache *c, unsigned long long ticket);

#endif
