/* pubmap.h: the version each task was last published at, by task id. */
#ifndef NTHPI_PUBMAP_H
#define NTHPI_PUBMAP_H

#include <stddef.h>

/*
 * A task page waits on the channel named for its task and the version its
 * row had ("x" id "_" version). The publisher sends a task's next change
 * there, so it must remember where each task was when last published.
 * An open-addressing hash table: ids are positive, 0 marks a free slot.
 */
struct pubmap {
	struct pubmap_slot {
		long long id, version;
	} * slots;
	size_t cap; /* a power of two */
	size_t used;
};

/* An empty map (no allocation yet). */
#define PUBMAP_INIT                                                            \
	{                                                                      \
		NULL, 0, 0                                                     \
	}

/* Sets id's version, adding it if new. Returns 0, or -1 if out of memory. */
int pubmap_put(struct pubmap *m, long long id, long long version);

/* The version recorded for id, or -1 if there is none. */
long long pubmap_get(const struct pubmap *m, long long id);

/* Forgets id (a deleted task). */
void pubmap_del(struct pubmap *m, long long id);

/* Frees the table; m is empty again. */
void pubmap_free(struct pubmap *m);

#endif
