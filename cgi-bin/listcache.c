/* listcache.c: GET /api/tasks answers kept per process for the queue
 * version they were read at. */
#include <pthread.h>
#include <stdlib.h>

#include "listcache.h"

/*
 * Why: the task list is asked for far more often than the queue changes
 * (every page script starts with it; dashboards poll it), and building it
 * (a snapshot, the counts, 50 rows, 50 JSON objects with three dates each)
 * costs many times what sending it does. Every change moves the queue's
 * version (triggers), and the version is read first, from the database,
 * by each request: a kept answer is used only if nothing changed since it
 * was read, so a client sees its own change at once, whichever process
 * made it.
 */

struct listcache_entry {
	struct listcache_key key;
	struct blob *body; /* NULL: free */
	unsigned long long used;
};

struct listcache {
	pthread_mutex_t lock;
	struct listcache_entry e[LISTCACHE_ENTRIES];
	size_t bytes;
	unsigned long long clock;
};

struct listcache *
listcache_new(void)
{
	struct listcache *c = calloc(1, sizeof(*c));

	if (c != NULL)
		pthread_mutex_init(&c->lock, NULL);
	return c;
}

/* Frees entry e. Called with the lock held. */
static void
listcache_drop(struct listcache *c, struct listcache_entry *e)
{
	c->bytes -= e->body->len;
	blob_unref(e->body);
	e->body = NULL;
}

void
listcache_free(struct listcache *c)
{
	int i;

	if (c == NULL)
		return;
	for (i = 0; i < LISTCACHE_ENTRIES; i++)
		if (c->e[i].body != NULL)
			listcache_drop(c, &c->e[i]);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static int
listcache_same(const struct listcache_key *a, const struct listcache_key *b)
{
	return a->version == b->version && a->before == b->before &&
	       a->limit == b->limit && a->status == b->status;
}

struct blob *
listcache_get(struct listcache *c, const struct listcache_key *k)
{
	struct blob *b = NULL;
	int i;

	pthread_mutex_lock(&c->lock);
	for (i = 0; i < LISTCACHE_ENTRIES; i++) {
		struct listcache_entry *e = &c->e[i];

		if (e->body != NULL && listcache_same(&e->key, k)) {
			e->used = ++c->clock;
			b = blob_ref(e->body);
			break;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return b;
}

void
listcache_put(struct listcache *c, const struct listcache_key *k,
	      const char *body, size_t len)
{
	struct listcache_entry *slot = NULL;
	struct blob *b;
	int i;

	if (len > LISTCACHE_BYTES / 4 || (b = blob_new(body, len)) == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	for (i = 0; i < LISTCACHE_ENTRIES; i++) {
		struct listcache_entry *e = &c->e[i];

		if (e->body != NULL && (e->key.version != k->version ||
					listcache_same(&e->key, k)))
			listcache_drop(c, e);
	}
	for (;;) {
		struct listcache_entry *oldest = NULL;

		slot = NULL;
		for (i = 0; i < LISTCACHE_ENTRIES; i++) {
			struct listcache_entry *e = &c->e[i];

			if (e->body == NULL)
				slot = slot ? slot : e;
			else if (oldest == NULL || e->used < oldest->used)
				oldest = e;
		}
		if (slot != NULL && c->bytes + len <= LISTCACHE_BYTES)
			break;
		if (oldest == NULL) {
			/* Cannot be: an empty cache has room for it. */
			pthread_mutex_unlock(&c->lock);
			blob_unref(b);
			return;
		}
		/* Full, in entries or bytes: the least recently used go. */
		listcache_drop(c, oldest);
	}
	slot->key = *k;
	slot->body = b;
	slot->used = ++c->clock;
	c->bytes += len;
	pthread_mutex_unlock(&c->lock);
}
