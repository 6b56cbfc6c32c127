/* storecheck.h: what this process has checked of the digit store against
 * its check file, and so what of it may be served. */
#ifndef NTHPI_STORECHECK_H
#define NTHPI_STORECHECK_H

#include <sys/stat.h>

#include "store.h"

/*
 * One read of the store: opened by storecheck_open, checked by
 * storecheck_servable, ended by storecheck_close. The record of checked
 * blocks is the process's, shared by its threads (under a lock), for one
 * store path at a time.
 */
struct storecheck_file {
	int fd;                /* the store, or -1 if there is none */
	struct stat st;        /* the store as opened */
	unsigned long version; /* the record's version at open */
};

/*
 * Opens the store at path and brings the record up to date: if the store
 * (or, while they do not match, its check file) is not the one recorded,
 * the check file is read again and every block is unchecked. Returns 0
 * (f->fd is -1 if there is no store), or -1 if it cannot be opened
 * (logged).
 */
int storecheck_open(struct storecheck_file *f, const char *path);

/*
 * Checks the blocks holding bytes [first, first + len) that the record has
 * not checked, reading each whole from f, and returns how many of those
 * bytes, from first, may be served: up to the first that is in a block
 * found damaged, past what the check file covers, or past the store's end.
 * len may run past the end (LLONG_MAX - first checks the whole store).
 */
long long storecheck_servable(struct storecheck_file *f, long long first,
			      long long len);

/* Fills v from the record, as the last storecheck_open or
 * storecheck_servable left it. */
void storecheck_view(struct store_view *v);

/*
 * Closes f. Returns 1 if the store is still the file storecheck_open found,
 * unchanged, so that what was read from it was what was checked; 0 if it
 * changed meanwhile (read it again).
 */
int storecheck_close(struct storecheck_file *f);

#endif
