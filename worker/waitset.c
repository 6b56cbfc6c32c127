/* waitset.c: the tasks that wait for a computation, by the policy's flags. */
#include <stdlib.h>
#include <string.h>

#include "waitset.h"

int
waitset_add(struct waitset *ws, const struct queue_task *t)
{
	const struct queue_task **held;
	struct waitset_task *v;
	size_t i, cap;

	for (i = 0; i < ws->n; i++)
		if (ws->v[i].t.id == t->id) {
			ws->v[i].t = *t;
			return 0;
		}
	if (ws->n == ws->cap) {
		cap = ws->cap ? 2 * ws->cap : 64;
		if ((held = realloc(ws->held, cap * sizeof(*held))) == NULL)
			return -1;
		ws->held = held;
		if ((v = realloc(ws->v, cap * sizeof(*v))) == NULL)
			return -1;
		ws->v = v;
		ws->cap = cap;
	}
	memset(&ws->v[ws->n], 0, sizeof(ws->v[ws->n]));
	ws->v[ws->n].t = *t;
	ws->v[ws->n++].digit = -1;
	return 1;
}

void
waitset_remove_if(struct waitset *ws, int (*drop)(const struct waitset_task *))
{
	size_t i, j = 0;

	for (i = 0; i < ws->n; i++)
		if (!drop(&ws->v[i]))
			ws->v[j++] = ws->v[i];
	ws->n = j;
}

int
waitset_needs_digits(const struct waitset_task *x, long long have)
{
	return !x->failing && x->t.n > have;
}

long long
waitset_max_needed(const struct waitset *ws, long long have)
{
	long long m = 0;
	size_t i;

	for (i = 0; i < ws->n; i++)
		if (waitset_needs_digits(&ws->v[i], have) && ws->v[i].t.n > m)
			m = ws->v[i].t.n;
	return m;
}

int
waitset_any_failing(const struct waitset *ws)
{
	size_t i;

	for (i = 0; i < ws->n; i++)
		if (ws->v[i].failing)
			return 1;
	return 0;
}

void
waitset_fail_needing(struct waitset *ws, long long have)
{
	size_t i;

	for (i = 0; i < ws->n; i++)
		if (waitset_needs_digits(&ws->v[i], have))
			ws->v[i].failing = 1;
}

const struct queue_task **
waitset_held(struct waitset *ws)
{
	size_t i;

	for (i = 0; i < ws->n; i++)
		ws->held[i] = &ws->v[i].t;
	return ws->held;
}

void
waitset_free(struct waitset *ws)
{
	free(ws->v);
	free(ws->held);
	memset(ws, 0, sizeof(*ws));
}
