/* search.h: finds a string of digits in the digit store through its search
 * index: where it first starts, how often it occurs, and around it. */
#ifndef NTHPI_SEARCH_H
#define NTHPI_SEARCH_H

#include <stddef.h>

/* The longest string searched for, and the digits shown on each side. */
#define SEARCH_LEN_MAX 20
#define SEARCH_CONTEXT 40

enum search_rc {
	SEARCH_OK,
	SEARCH_NOT_READY, /* no index for the store yet: being built */
	SEARCH_DAMAGED,   /* the index or the store does not match its check */
	SEARCH_RC__MAX
};

struct search_answer {
	long long searched; /* decimals searched: 1 to searched */
	long long count;    /* occurrences in them, overlapping ones too */
	long long position; /* first start at or after from; 0: none */
	long long previous; /* the last start before position; 0: none */
	long long next;     /* the first start after position; 0: none */
	/* Up to SEARCH_CONTEXT decimals before and after the string at
	 * position, NUL-terminated; "" without a position. */
	char before[SEARCH_CONTEXT + 1];
	char after[SEARCH_CONTEXT + 1];
};

/*
 * Parses what a person typed: surrounding spaces trimmed, then 1 to
 * SEARCH_LEN_MAX digits, copied NUL-terminated into q (SEARCH_LEN_MAX + 1
 * bytes). Returns 0, or -1 with a sentence in err saying what is wrong and
 * what to type.
 */
int search_parse(const char *typed, char *q, char *err, size_t errlen);

/*
 * Finds q (1 to SEARCH_LEN_MAX digits) in the store at store_path, from
 * decimal from (>= 1) on, into *a. Counts are over the whole store; a
 * decimal counts as the store counts them (decimal 1 is the 1 after the
 * 3). Safe from many threads. Returns SEARCH_OK, or why it could not
 * (logged).
 */
enum search_rc search_find(const char *store_path, const char *q,
			   long long from, struct search_answer *a);

#endif
