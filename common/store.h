/* store.h: the digit store, one file of pi's digits shared by all tasks. */
#ifndef NTHPI_STORE_H
#define NTHPI_STORE_H

#include <stddef.h>

/*
 * The file holds "3" followed by the decimals of pi, no point, no newline, so
 * byte i is decimal i. It is replaced whole by store_write (temp file, fsync,
 * rename), so a reader never sees a partial file.
 */

/*
 * Returns how many decimals the store at path holds (0 if there is no store),
 * or -1 if it exists but cannot be read (logged).
 */
long long store_decimals(const char *path);

/*
 * Copies decimals first..first+count-1 (first >= 1) into out, which needs
 * count bytes (no NUL added). Returns 0, or -1 if the store does not cover
 * them or cannot be read.
 */
int store_read(const char *path, long long first, size_t count, char *out);

/*
 * Reads up to max bytes of the store file from byte offset (byte 0 is the
 * "3", byte i decimal i) into out, fewer where the file ends. Sets *size
 * to the file's size (0 if there is no store), from the same open as the
 * bytes. Returns how many bytes were read (0 if offset is at or past the
 * end), or -1 if the store cannot be read (logged).
 */
long long store_read_at(const char *path, long long offset, size_t max,
			char *out, long long *size);

/* Returns decimal n (0-9), or -1 if the store does not cover n. */
int store_digit(const char *path, long long n);

/*
 * Writes the store: "3" then decimals[0..count) where decimals are ASCII
 * digits. Writes a temp file in the same directory, fsyncs it, renames it
 * over path and fsyncs the directory. On failure the old store is untouched,
 * the temp file is removed, and err holds a sentence (for example "the disk
 * is full"). Returns 0 or -1.
 */
int store_write(const char *path, const char *decimals, size_t count, char *err,
		size_t errlen);

#endif
