/* liveboard.c: what the publisher tells the request threads, in memory the
 * master shares with all its children. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "liveboard.h"
#include "log.h"

struct liveboard *
liveboard_new(void)
{
	struct liveboard *b;

	b = mmap(NULL, sizeof(*b), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (b == MAP_FAILED) {
		log_err("mmap: %s", strerror(errno));
		return NULL;
	}
	atomic_init(&b->published, -1);
	return b;
}

void
liveboard_free(struct liveboard *b)
{
	if (b != NULL)
		munmap(b, sizeof(*b));
}

long long
liveboard_published(const struct liveboard *b)
{
	return atomic_load(&((struct liveboard *)b)->published);
}

void
liveboard_set_published(struct liveboard *b, long long v)
{
	atomic_store(&b->published, v);
}
