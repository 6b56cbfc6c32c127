/* listcache.h: GET /api/tasks answers kept per process for the queue
 * version they were read at. */
#ifndef NTHPI_LISTCACHE_H
#define NTHPI_LISTCACHE_H

#include <stddef.h>

#include "blob.h"

/* Answers kept at most, and their bytes at most, per process. */
#define LISTCACHE_ENTRIES 32
#define LISTCACHE_BYTES (4 * 1024 * 1024)

/* What an answer depends on: the queue's version and the query. */
struct listcache_key {
	long long version;
	long long before; /* 0: none */
	int limit;
	int status; /* -1: any */
};

struct listcache;

/* Makes an empty cache. Returns NULL if memory ran out. */
struct listcache *listcache_new(void);

/* Frees it and drops its answers (requests may still hold theirs). Accepts
 * NULL. */
void listcache_free(struct listcache *c);

/*
 * Returns a reference to the answer kept for k (the caller drops it with
 * blob_unref), or NULL if there is none.
 */
struct blob *listcache_get(struct listcache *c, const struct listcache_key *k);

/*
 * Keeps a copy of the answer body[0..len) for k. Answers of any other
 * version are dropped (they cannot be asked for again while the version
 * stays), the least recently used past LISTCACHE_ENTRIES or
 * LISTCACHE_BYTES too; an answer larger than a quarter of LISTCACHE_BYTES
 * is not kept. Memory running out only means it is not kept.
 */
void listcache_put(struct listcache *c, const struct listcache_key *k,
		   const char *body, size_t len);

#endif
