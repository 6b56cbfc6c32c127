/* liveboard.h: what the publisher tells the request threads, in memory the
 * master shares with all its children. */
#ifndef NTHPI_LIVEBOARD_H
#define NTHPI_LIVEBOARD_H

#include <stdatomic.h>

/*
 * The publisher (publisher.c) sends each change of the task list to nginx
 * once, as a message on the Nchan channel named for the version it starts
 * from ("l" and that version). A request thread may hand a long poll to
 * nginx only once the publisher has caught up with the database: then the
 * message that will move the client on goes to the channel it is given.
 */
struct liveboard {
	/* The queue version published so far; -1 until the publisher ran. */
	atomic_llong published;
};

/* Maps a board shared with the processes forked later. Returns NULL if
 * mmap failed (logged). */
struct liveboard *liveboard_new(void);

/* Unmaps it. Accepts NULL. */
void liveboard_free(struct liveboard *b);

/* The version published so far, or -1. */
long long liveboard_published(const struct liveboard *b);

/* Records that every change up to version v is published. */
void liveboard_set_published(struct liveboard *b, long long v);

#endif
