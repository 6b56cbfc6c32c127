/* dbpool.c: a few database connections shared by a process's threads. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dbpool.h"

/*
 * Why a pool and not one connection per thread: a child runs hundreds of
 * threads, nearly all of them holding long-polls that need no connection
 * while they wait. Each SQLite connection costs descriptors (database and
 * WAL) and a page cache, and the descriptors must stay below 1024 (see
 * child.c), so a handful of connections serve all the threads.
 */
struct dbpool {
	pthread_mutex_t lock;
	pthread_cond_t freed;
	char *path;
	int size, opened;
	struct dbconn *free;
};

struct dbpool *
dbpool_new(const char *path, int size)
{
	struct dbpool *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	/* pthread_mutex_init and pthread_cond_init with default attributes
	 * cannot fail on Linux. */
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->freed, NULL);
	p->size = size > 0 ? size : 1;
	if ((p->path = strdup(path)) == NULL) {
		free(p);
		return NULL;
	}
	return p;
}

struct dbconn *
dbpool_get(struct dbpool *p)
{
	struct dbconn *c = NULL;

	pthread_mutex_lock(&p->lock);
	while (p->free == NULL && p->opened >= p->size)
		pthread_cond_wait(&p->freed, &p->lock);
	if (p->free != NULL) {
		c = p->free;
		p->free = c->next;
		pthread_mutex_unlock(&p->lock);
		return c;
	}
	/* Opened outside the lock: db_open may wait on the busy timeout. */
	p->opened++;
	pthread_mutex_unlock(&p->lock);
	if ((c = queries_open(p->path)) == NULL) {
		pthread_mutex_lock(&p->lock);
		p->opened--;
		pthread_cond_signal(&p->freed);
		pthread_mutex_unlock(&p->lock);
	}
	return c;
}

void
dbpool_put(struct dbpool *p, struct dbconn *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	c->next = p->free;
	p->free = c;
	pthread_cond_signal(&p->freed);
	pthread_mutex_unlock(&p->lock);
}

void
dbpool_free(struct dbpool *p)
{
	struct dbconn *c;

	if (p == NULL)
		return;
	while ((c = p->free) != NULL) {
		p->free = c->next;
		queries_close(c);
	}
	pthread_cond_destroy(&p->freed);
	pthread_mutex_destroy(&p->lock);
	free(p->path);
	free(p);
}
