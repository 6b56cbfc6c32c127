/* store.h: the digit store, one file of pi's digits shared by all tasks. */
#ifndef NTHPI_STORE_H
#define NTHPI_STORE_H

#include <stddef.h>

/*
 * The file holds "3" followed by the decimals of pi, no point, no newline, so
 * byte i is decimal i. Beside it, PATH.check (common/storesum.h) holds the
 * CRC-32C of each block of 64 KiB, the store's size and its SHA-256. Both
 * are written by store_write, each to a temp file that is flushed and then
 * renamed, the store first: a reader never sees a partial file, and a store
 * with a check file for another size is read as far as the two agree.
 *
 * Every read is checked: a block is read whole and compared with its CRC the
 * first time this process reads it after the store (or its check file) was
 * replaced or changed (device, inode, size, modification or change time),
 * and the result is kept for the process. No byte is given out from a
 * block that does not match, that its check file does not cover, or of a
 * store that has no check file: only the intact prefix, everything before
 * the first such block, is served.
 */

enum store_state {
	STORE_NONE,      /* there is no store */
	STORE_SOUND,     /* it matches its check file, as far as it was read */
	STORE_UNCHECKED, /* it has no check file: nothing of it is served */
	STORE_DAMAGED,   /* it or its check file is damaged, or they differ */
	STORE_STATE__MAX
};

/* What this process knows of the store just now. */
struct store_view {
	enum store_state state;
	long long bytes;  /* the file's size, 0 if there is none */
	long long held;   /* bytes it held when it was written: its check
			     file's size, else the file's; 0 if neither */
	long long intact; /* bytes from the "3" on that may be served: before
			     the first block found damaged, not covered or
			     past the end; the rest is unchecked until read */
	long long bad_first, bad_last; /* the first damaged block's bytes, or
					  -1 if none was found */
	unsigned long version;         /* moves whenever the store or its check
				  file is found changed */
	char why[400]; /* what is wrong, for a log; "" if nothing */
};

/*
 * Fills v, reading the check file again if the store changed. Cheap: it
 * checks no block. Returns 0, or -1 if the store cannot be opened (logged).
 */
int store_view(const char *path, struct store_view *v);

/*
 * The check a program makes at start, before it serves anything: reads the
 * check file and compares it with the store's size, reading no block (well
 * under a millisecond at 10^8 decimals), and logs what it found, once.
 * Returns as store_view.
 */
int store_check_start(const char *path, struct store_view *v);

/*
 * Checks every block of the store not yet checked by this process and fills
 * v, whose intact is then exact. Reads the whole store the first time (about
 * 40 ms at 10^8 decimals from the page cache). Returns as store_view.
 */
int store_verify(const char *path, struct store_view *v);

/*
 * Checks every block of the store's first `bytes` bytes not yet checked by
 * this process. Returns how many of them may be served (bytes if all;
 * fewer if the store is damaged, cut short or unchecked before that), or
 * -1 if it cannot be opened (logged).
 */
long long store_check_prefix(const char *path, long long bytes);

/*
 * Returns how many decimals of the store may be served (the intact prefix
 * less the "3", as far as this process has read it; 0 if there is no
 * store), or -1 if it cannot be opened (logged).
 */
long long store_decimals(const char *path);

/*
 * Copies decimals first..first+count-1 (first >= 1) into out, which needs
 * count bytes (no NUL added), after checking the blocks that hold them.
 * Returns 0, or -1 if the store does not cover them, one of their blocks is
 * damaged or unchecked (store_view then says so) or it cannot be read.
 */
int store_read(const char *path, long long first, size_t count, char *out);

/*
 * Reads up to max bytes of the store file from byte offset (byte 0 is the
 * "3", byte i decimal i) into out, fewer where the intact prefix ends. Sets
 * *size to the file's size (0 if there is no store), from the same open as
 * the bytes. Returns how many bytes were read (0 if offset is at or past
 * the end of the intact prefix), or -1 if the store cannot be read
 * (logged).
 */
long long store_read_at(const char *path, long long offset, size_t max,
			char *out, long long *size);

/* Returns decimal n (0-9), or -1 if the store does not give it (not
 * covered, damaged, unchecked or unreadable). */
int store_digit(const char *path, long long n);

/*
 * Writes the store: "3" then decimals[0..count) where decimals are ASCII
 * digits, and its check file. Writes each to a temp file in the same
 * directory (PATH.tmp.PID, PATH.check.tmp.PID), fsyncs them, renames the
 * store then the check file into place and fsyncs the directory. On failure
 * the old store is untouched (unless only the check file's rename failed:
 * then the new store is read as far as the old check file covers it), the
 * temp files are removed, and err holds a sentence (for example "the disk
 * is full"). Returns 0 or -1.
 */
int store_write(const char *path, const char *decimals, size_t count, char *err,
		size_t errlen);

/* Writes PATH.check for path into out. Returns 0, or -1 if it does not
 * fit. */
int store_check_path(const char *path, char *out, size_t len);

#endif
