/* pollcache.c: long-poll answers shared by the requests of one process
 * that wake for the same change. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "pollcache.h"

/*
 * Why: when the queue moves, every held long-poll of a process wakes at
 * once, and nearly all of them ask since= the same version. The watcher
 * (api_tasks_prepare) or the first of them reads the database, and the
 * others send its answer, so a wake costs one query per process and
 * version instead of one per client. Answers are shared, not copied: the
 * lock is held only to find one and take a reference.
 */

/* Distinct since= values kept; more only means more queries. */
#define POLLCACHE_ENTRIES 16

struct pollcache_entry {
	int used;
	int building;   /* a thread is reading the database for it */
	unsigned claim; /* counts the claims, so a ticket names one */
	long long since;
	long long at;      /* the snapshot's version */
	struct blob *body; /* NULL until built */
};

struct pollcache {
	pthread_mutex_t lock;
	pthread_cond_t built;
	struct pollcache_entry e[POLLCACHE_ENTRIES];
};

struct pollcache *
pollcache_new(void)
{
	struct pollcache *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->built, NULL);
	return c;
}

void
pollcache_free(struct pollcache *c)
{
	int i;

	if (c == NULL)
		return;
	for (i = 0; i < POLLCACHE_ENTRIES; i++)
		blob_unref(c->e[i].body);
	pthread_cond_destroy(&c->built);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* The entry for since, or NULL. Called with the lock held. */
static struct pollcache_entry *
pollcache_find(struct pollcache *c, long long since)
{
	int i;

	for (i = 0; i < POLLCACHE_ENTRIES; i++)
		if (c->e[i].used && c->e[i].since == since)
			return &c->e[i];
	return NULL;
}

/*
 * Takes an entry for since: a free one, or the one of the oldest snapshot
 * that nobody is building. Returns NULL if all are being built. Called
 * with the lock held.
 */
static struct pollcache_entry *
pollcache_claim(struct pollcache *c, long long since)
{
	struct pollcache_entry *victim = NULL;
	int i;

	for (i = 0; i < POLLCACHE_ENTRIES; i++) {
		struct pollcache_entry *x = &c->e[i];

		if (x->building)
			continue;
		if (!x->used) {
			victim = x;
			break;
		}
		if (victim == NULL || x->at < victim->at)
			victim = x;
	}
	if (victim != NULL) {
		victim->used = 1;
		victim->since = since;
		victim->at = -1;
		blob_unref(victim->body);
		victim->body = NULL;
	}
	return victim;
}

/* The ticket of a claim of entry e (never 0). */
static unsigned long long
pollcache_ticket(struct pollcache *c, struct pollcache_entry *e)
{
	return (unsigned long long)(e - c->e + 1) << 32 | e->claim;
}

/* The entry a ticket still holds the claim of, or NULL. Called with the
 * lock held. */
static struct pollcache_entry *
pollcache_claimed(struct pollcache *c, unsigned long long ticket)
{
	unsigned long long i = ticket >> 32;
	struct pollcache_entry *e;

	if (i < 1 || i > POLLCACHE_ENTRIES)
		return NULL;
	e = &c->e[i - 1];
	return e->used && e->building && e->claim == (unsigned)ticket ? e
								      : NULL;
}

struct blob *
pollcache_get(struct pollcache *c, long long since, long long at_least,
	      int nowait, unsigned long long *ticket)
{
	struct pollcache_entry *e;
	struct blob *b = NULL;

	*ticket = 0;
	pthread_mutex_lock(&c->lock);
	for (;;) {
		e = pollcache_find(c, since);
		if (e == NULL || !e->building)
			break;
		if (nowait) {
			pthread_mutex_unlock(&c->lock);
			return NULL;
		}
		pthread_cond_wait(&c->built, &c->lock);
	}
	if (e != NULL && e->body != NULL && e->at >= at_least)
		b = blob_ref(e->body);
	else {
		/* Ours to build; with no entry free, built without sharing. */
		if (e == NULL)
			e = pollcache_claim(c, since);
		if (e != NULL) {
			e->building = 1;
			e->claim++;
			*ticket = pollcache_ticket(c, e);
		}
	}
	pthread_mutex_unlock(&c->lock);
	return b;
}

void
pollcache_put(struct pollcache *c, unsigned long long ticket, long long at,
	      const char *body, size_t len)
{
	struct blob *b = blob_new(body, len);
	struct pollcache_entry *e;

	pthread_mutex_lock(&c->lock);
	if ((e = pollcache_claimed(c, ticket)) != NULL) {
		blob_unref(e->body);
		e->body = b;
		e->at = b != NULL ? at : -1;
		e->building = 0;
		b = NULL;
		pthread_cond_broadcast(&c->built);
	}
	pthread_mutex_unlock(&c->lock);
	blob_unref(b);
}

void
pollcache_abandon(struct pollcache *c, unsigned long long ticket)
{
	struct pollcache_entry *e;

	pthread_mutex_lock(&c->lock);
	if ((e = pollcache_claimed(c, ticket)) != NULL) {
		e->building = 0;
		e->used = 0;
		blob_unref(e->body);
		e->body = NULL;
		pthread_cond_broadcast(&c->built);
	}
	pthread_mutex_unlock(&c->lock);
}
