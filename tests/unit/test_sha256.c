/* test_sha256.c: SHA-256 against the test vectors of FIPS 180-4. */
#include <string.h>

#include "sha256.h"
#include "t.h"

/* The hex digest of len bytes of data, added in pieces of step bytes. */
static void
digest_in_steps(const char *data, size_t len, size_t step, char hex[65])
{
	struct sha256 s;
	unsigned char d[SHA256_LEN];
	size_t off;

	sha256_init(&s);
	for (off = 0; off < len; off += step)
		sha256_update(&s, data + off,
			      len - off < step ? len - off : step);
	sha256_final(&s, d);
	sha256_hex(d, hex);
}

static void
test_vectors(void)
{
	static const struct {
		const char *in;
		const char *want;
	} v[] = {
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b"
		      "7852b855" },
		{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410f"
			 "f61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db"
		  "06c1" },
	};
	char hex[65];
	size_t i, step;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		for (step = 1; step <= 65; step += 32) {
			digest_in_steps(v[i].in, strlen(v[i].in), step, hex);
			T_CHECK(strcmp(hex, v[i].want) == 0,
				"sha256 of %zu bytes \"%.8s\", in pieces of "
				"%zu",
				strlen(v[i].in), v[i].in, step);
		}
}

/* A million 'a', in pieces that cross block ends at every offset. */
static void
test_million_a(void)
{
	static char a[1000000];
	char hex[65];

	memset(a, 'a', sizeof(a));
	digest_in_steps(a, sizeof(a), 997, hex);
	T_CHECK(strcmp(hex,
		       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046"
		       "d39ccc7112cd0") == 0,
		"sha256 of a million 'a' in pieces of 997 bytes");
}

int
main(void)
{
	test_vectors();
	test_million_a();
	return T_EXIT();
}
