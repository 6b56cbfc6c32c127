/* pi_known.h: the SHA-256 of published prefixes of pi, a second check of
 * what the engine computes. */
#ifndef NTHPI_PI_KNOWN_H
#define NTHPI_PI_KNOWN_H

#include <stddef.h>

/* A published fact: the SHA-256 of "3" and that many decimals. */
struct pi_known {
	long long decimals;
	const char *sha256; /* 64 lower-case hex digits */
};

/* How many there are in pi_known_prefixes. */
#define PI_KNOWN_COUNT 4

/* The facts, by decimals, smallest first; tests/data/pi-prefix.sha256 holds
 * the same (test_pi_known checks that they agree). */
extern const struct pi_known pi_known_prefixes[PI_KNOWN_COUNT];

/*
 * Checks "3" and decimals[0..count) against every known prefix of at most
 * count decimals, in one pass. Returns 0 if each matches (or none is that
 * short), else the decimals of the smallest prefix that does not.
 */
long long pi_known_check(const char *decimals, size_t count);

#endif
