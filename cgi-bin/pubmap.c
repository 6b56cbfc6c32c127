/* pubmap.c: the version each task was last published at, by task id. */
#include <stdint.h>
#include <stdlib.h>

#include "pubmap.h"

/* Ids are dense and increasing: a multiplicative hash spreads them. */
static size_t
pubmap_hash(long long id, size_t cap)
{
	return (size_t)(((uint64_t)id * 0x9E3779B97F4A7C15ULL) >> 17) &
	       (cap - 1);
}

/* The slot of id, or of the free slot where it would go. */
static size_t
pubmap_find(const struct pubmap *m, long long id)
{
	size_t i = pubmap_hash(id, m->cap);

	while (m->slots[i].id != 0 && m->slots[i].id != id)
		i = (i + 1) & (m->cap - 1);
	return i;
}

/* Doubles the table (or makes the first one). Returns 0 or -1. */
static int
pubmap_grow(struct pubmap *m)
{
	size_t cap = m->cap ? m->cap * 2 : 1024, i;
	struct pubmap old = *m;

	m->slots = calloc(cap, sizeof(*m->slots));
	if (m->slots == NULL) {
		*m = old;
		return -1;
	}
	m->cap = cap;
	for (i = 0; i < old.cap; i++)
		if (old.slots[i].id != 0)
			m->slots[pubmap_find(m, old.slots[i].id)] =
			    old.slots[i];
	free(old.slots);
	return 0;
}

int
pubmap_put(struct pubmap *m, long long id, long long version)
{
	size_t i;

	/* At most half full, so that probes stay short. */
	if ((m->used + 1) * 2 > m->cap && pubmap_grow(m) == -1)
		return -1;
	i = pubmap_find(m, id);
	if (m->slots[i].id == 0) {
		m->slots[i].id = id;
		m->used++;
	}
	m->slots[i].version = version;
	return 0;
}

long long
pubmap_get(const struct pubmap *m, long long id)
{
	size_t i;

	if (m->cap == 0)
		return -1;
	i = pubmap_find(m, id);
	return m->slots[i].id == id ? m->slots[i].version : -1;
}

void
pubmap_del(struct pubmap *m, long long id)
{
	size_t i, j, home;

	if (m->cap == 0)
		return;
	i = pubmap_find(m, id);
	if (m->slots[i].id != id)
		return;
	/* Backward shift: each later slot of the same run that may move
	 * into the hole does, so that no lookup stops at a false gap. */
	for (j = i;;) {
		j = (j + 1) & (m->cap - 1);
		if (m->slots[j].id == 0)
			break;
		home = pubmap_hash(m->slots[j].id, m->cap);
		/* Moves unless its home lies cyclically in (i, j]. */
		if (i <= j ? (home <= i || home > j)
			   : (home <= i && home > j)) {
			m->slots[i] = m->slots[j];
			i = j;
		}
	}
	m->slots[i].id = 0;
	m->used--;
}

void
pubmap_free(struct pubmap *m)
{
	free(m->slots);
	m->slots = NULL;
	m->cap = 0;
	m->used = 0;
}
