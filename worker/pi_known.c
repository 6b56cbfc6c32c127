/* pi_known.c: the SHA-256 of published prefixes of pi, a second check of
 * what the engine computes. */
#include <string.h>

#include "pi_known.h"
#include "sha256.h"

/*
 * Facts, not results of this program: the lines of
 * tests/data/pi-prefix.sha256 (test_reference_data checks them up to 10^7
 * against MPFR's mpfr_const_pi, which shares no code with the engine;
 * test_pi_known checks that this table and that file agree).
 */
const struct pi_known pi_known_prefixes[PI_KNOWN_COUNT] = {
	{ 10000LL,
	  "ab03bf7037718e1525340a0c43f0049ddbe99c6067ad3e08a4de5c591fedc524" },
	{ 1000000LL,
	  "130203eb055a962b8441af76c22b75627ec18c672a485904e567f59251e8ee18" },
	{ 10000000LL,
	  "ae9c137083802006c204e6683c28c6727a862103d703b5e0d79a22ddaa201999" },
	{ 100000000LL,
	  "78e7c2e332736707ad75639f7abaa8fe132aea1757a16186e765a96130092d1f" },
};

long long
pi_known_check(const char *decimals, size_t count)
{
	unsigned char digest[SHA256_LEN];
	char hex[SHA256_HEX_LEN + 1];
	struct sha256 run, end;
	size_t at = 0;
	int i;

	sha256_init(&run);
	sha256_update(&run, "3", 1);
	for (i = 0; i < PI_KNOWN_COUNT; i++) {
		const struct pi_known *k = &pi_known_prefixes[i];

		if ((unsigned long long)k->decimals > count)
			break;
		/* One pass over the digits: the state at each prefix's end
		 * is copied and finished, and the run goes on. */
		sha256_update(&run, decimals + at, (size_t)k->decimals - at);
		at = (size_t)k->decimals;
		end = run;
		sha256_final(&end, digest);
		sha256_hex(digest, hex);
		if (strcmp(hex, k->sha256) != 0)
			return k->decimals;
	}
	return 0;
}
