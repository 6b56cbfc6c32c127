/* config.c: settings shared by nthpi-fcgi and nthpi-worker. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

/* n_max can be raised this far; beyond it the digit store would not fit. */
#define CONFIG_N_MAX_LIMIT 1000000000LL

enum config_kind { CONFIG_PATH, CONFIG_INT, CONFIG_LLONG };

struct config_key {
	const char *name;
	enum config_kind kind;
	size_t offset;
	long long min, max;
	const char *help;
};

#define CONFIG_FIELD(f) offsetof(struct config, f)

static const struct config_key config_keys[] = {
	{ "data", CONFIG_PATH, CONFIG_FIELD(data_dir), 0, 0,
	  "directory for the database and the digit store" },
	{ "socket", CONFIG_PATH, CONFIG_FIELD(socket_path), 0, 0,
	  "FastCGI unix socket (default: DATA/nthpi-fcgi.sock)" },
	{ "publish", CONFIG_PATH, CONFIG_FIELD(publish_path), 0, 0,
	  "unix socket of nginx's Nchan publisher, where live updates go "
	  "(default: DATA/nthpi-publish.sock)" },
	{ "n_max", CONFIG_LLONG, CONFIG_FIELD(n_max), 1, CONFIG_N_MAX_LIMIT,
	  "largest n (decimal place) accepted" },
	{ "children", CONFIG_INT, CONFIG_FIELD(children), 1, 64,
	  "pre-forked FastCGI processes" },
	{ "threads", CONFIG_INT, CONFIG_FIELD(threads), 1, 900,
	  "request threads per FastCGI process" },
	{ "hold_seconds", CONFIG_INT, CONFIG_FIELD(hold_seconds), 1, 55,
	  "how long a long-poll request waits for a change" },
	{ "queue_cap", CONFIG_LLONG, CONFIG_FIELD(queue_cap), 1, 1000000000LL,
	  "most tasks queued at once; more get 503" },
	{ "memory_limit_mb", CONFIG_LLONG, CONFIG_FIELD(memory_limit_mb), 64,
	  1LL << 30, "memory a computation may use, in MiB" },
	{ "compute_threads", CONFIG_INT, CONFIG_FIELD(compute_threads), 1, 64,
	  "threads the pi engine uses" },
	{ "debug", CONFIG_INT, CONFIG_FIELD(log_debug), 0, 1,
	  "1 to log debug lines" },
};

#define CONFIG_NKEYS (sizeof(config_keys) / sizeof(config_keys[0]))

void
config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->data_dir, sizeof(c->data_dir), "var");
	c->n_max = 100000000LL;
	/* Long polls are held by nginx, not by threads: a thread serves
	 * only short requests (and pi.txt downloads), so 4 x 16 is plenty
	 * on a few cores. */
	c->children = 4;
	c->threads = 16;
	c->hold_seconds = 25;
	c->queue_cap = 100000;
	c->memory_limit_mb = 4096;
	c->compute_threads = 2;
	c->log_debug = 0;
}

/* Parses a whole decimal number in [min, max]. Returns 0 or -1. */
static int
config_parse_number(const char *value, long long min, long long max,
		    long long *out)
{
	char *end;
	long long v;

	if (value[0] < '0' || value[0] > '9')
		return -1;
	errno = 0;
	v = strtoll(value, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
config_set(struct config *c, const char *key, const char *value, char *err,
	   size_t errlen)
{
	const struct config_key *k = NULL;
	long long v;
	size_t i;

	for (i = 0; i < CONFIG_NKEYS; i++)
		if (strcmp(config_keys[i].name, key) == 0)
			k = &config_keys[i];
	if (k == NULL) {
		snprintf(err, errlen, "unknown setting \"%s\" (see --help)",
			 key);
		return -1;
	}
	if (k->kind == CONFIG_PATH) {
		char *dst = (char *)c + k->offset;
		int n = snprintf(dst, PATH_MAX, "%s", value);

		if (n < 0 || n >= PATH_MAX || value[0] == '\0') {
			snprintf(err, errlen, "%s: path is empty or too long",
				 key);
			return -1;
		}
		return 0;
	}
	if (config_parse_number(value, k->min, k->max, &v) == -1) {
		snprintf(err, errlen,
			 "%s: \"%s\" is not a whole number from %lld to %lld",
			 key, value, k->min, k->max);
		return -1;
	}
	if (k->kind == CONFIG_INT)
		*(int *)((char *)c + k->offset) = (int)v;
	else
		*(long long *)((char *)c + k->offset) = v;
	return 0;
}

/* Strips leading and trailing blanks in place; returns the start. */
static char *
config_trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' ||
			   end[-1] == '\n' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

int
config_read_file(struct config *c, const char *path, char *err, size_t errlen)
{
	char line[PATH_MAX + 64], msg[512];
	FILE *f;
	int lineno = 0, rc = -1;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *s, *eq;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(err, errlen, "%s:%d: line too long", path,
				 lineno);
			goto out;
		}
		s = config_trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		if ((eq = strchr(s, '=')) == NULL) {
			snprintf(err, errlen, "%s:%d: expected \"key = value\"",
				 path, lineno);
			goto out;
		}
		*eq = '\0';
		if (config_set(c, config_trim(s), config_trim(eq + 1), msg,
			       sizeof(msg)) == -1) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, msg);
			goto out;
		}
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		goto out;
	}
	rc = 0;
out:
	fclose(f);
	return rc;
}

int
config_finish(struct config *c, char *err, size_t errlen)
{
	int n;

	n = snprintf(c->db_path, sizeof(c->db_path), "%s/nthpi.db",
		     c->data_dir);
	if (n < 0 || (size_t)n >= sizeof(c->db_path))
		goto toolong;
	n = snprintf(c->store_path, sizeof(c->store_path), "%s/pi-digits.txt",
		     c->data_dir);
	if (n < 0 || (size_t)n >= sizeof(c->store_path))
		goto toolong;
	if (c->publish_path[0] == '\0') {
		n = snprintf(c->publish_path, sizeof(c->publish_path),
			     "%s/nthpi-publish.sock", c->data_dir);
		if (n < 0 || (size_t)n >= sizeof(c->publish_path))
			goto toolong;
	}
	if (c->socket_path[0] == '\0') {
		n = snprintf(c->socket_path, sizeof(c->socket_path),
			     "%s/nthpi-fcgi.sock", c->data_dir);
		if (n < 0 || (size_t)n >= sizeof(c->socket_path))
			goto toolong;
	}
	return 0;
toolong:
	snprintf(err, errlen, "data: path too long");
	return -1;
}

int
config_from_args(struct config *c, int argc, char **argv, char *err,
		 size_t errlen)
{
	char key[64];
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *eq;
		size_t klen;

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
			return 1;
		if (strcmp(a, "-f") == 0) {
			if (i + 1 >= argc) {
				snprintf(err, errlen, "-f needs a file name");
				return -1;
			}
			if (config_read_file(c, argv[++i], err, errlen) == -1)
				return -1;
			continue;
		}
		if (strncmp(a, "--config=", 9) == 0) {
			if (config_read_file(c, a + 9, err, errlen) == -1)
				return -1;
			continue;
		}
		if (strncmp(a, "--", 2) != 0 || (eq = strchr(a, '=')) == NULL) {
			snprintf(err, errlen,
				 "unexpected argument \"%s\" (settings are "
				 "--key=value; see --help)",
				 a);
			return -1;
		}
		klen = (size_t)(eq - a - 2);
		if (klen == 0 || klen >= sizeof(key)) {
			snprintf(err, errlen, "bad setting \"%s\"", a);
			return -1;
		}
		memcpy(key, a + 2, klen);
		key[klen] = '\0';
		/* Allow --n-max as well as --n_max. */
		for (size_t j = 0; j < klen; j++)
			if (key[j] == '-')
				key[j] = '_';
		if (config_set(c, key, eq + 1, err, errlen) == -1)
			return -1;
	}
	return config_finish(c, err, errlen) == -1 ? -1 : 0;
}

void
config_usage(const char *prog, const char *what)
{
	struct config d;
	size_t i;

	config_defaults(&d);
	fprintf(stderr,
		"usage: %s [-f FILE] [--key=value ...]\n%s\n\n"
		"Settings (in FILE as \"key = value\", or as --key=value):\n",
		prog, what);
	for (i = 0; i < CONFIG_NKEYS; i++) {
		const struct config_key *k = &config_keys[i];
		char def[PATH_MAX + 16];

		if (k->kind == CONFIG_PATH)
			snprintf(def, sizeof(def), "%s",
				 *((char *)&d + k->offset)
				     ? (char *)&d + k->offset
				     : "derived");
		else if (k->kind == CONFIG_INT)
			snprintf(def, sizeof(def), "%d",
				 *(int *)((char *)&d + k->offset));
		else
			snprintf(def, sizeof(def), "%lld",
				 *(long long *)((char *)&d + k->offset));
		fprintf(stderr, "  %-16s %s (default %s)\n", k->name, k->help,
			def);
	}
}
