/* config.h: settings shared by nthpi-fcgi and nthpi-worker. */
#ifndef NTHPI_CONFIG_H
#define NTHPI_CONFIG_H

#include <limits.h>
#include <stddef.h>

/*
 * Every setting has a key, used the same way in a config file
 * ("key = value" lines, # comments) and on the command line ("--key=value").
 */
struct config {
	char data_dir[PATH_MAX];     /* data: database and digit store */
	char socket_path[PATH_MAX];  /* socket: FastCGI unix socket */
	char publish_path[PATH_MAX]; /* publish: nginx's Nchan publisher */
	long long n_max;             /* n_max: largest n accepted */
	int children;              /* children: pre-forked FastCGI processes */
	int threads;               /* threads: request threads per child */
	int hold_seconds;          /* hold_seconds: long-poll hold time */
	long long queue_cap;       /* queue_cap: most queued tasks at once */
	long long memory_limit_mb; /* memory_limit_mb: worker's memory cap */
	int compute_threads;       /* compute_threads: engine threads */
	int log_debug;             /* debug: 1 to log debug lines */

	/* Derived by config_finish. */
	char db_path[PATH_MAX];    /* data_dir/nthpi.db */
	char store_path[PATH_MAX]; /* data_dir/pi-digits.txt */
};

/* Fills c with the defaults. */
void config_defaults(struct config *c);

/*
 * Sets one key from its text value. Returns 0, or -1 with a sentence in err
 * (unknown key, bad number, value out of range, path too long).
 */
int config_set(struct config *c, const char *key, const char *value, char *err,
	       size_t errlen);

/* Reads a config file of "key = value" lines. Returns as config_set. */
int config_read_file(struct config *c, const char *path, char *err,
		     size_t errlen);

/*
 * Applies command-line arguments: "-f FILE" or "--config=FILE" reads a file,
 * "--key=value" sets a key, "-h"/"--help" returns 1. Unknown arguments give
 * -1 with a sentence in err. Also fills the derived paths. Returns 0 if the
 * program should run.
 */
int config_from_args(struct config *c, int argc, char **argv, char *err,
		     size_t errlen);

/* Fills the derived paths from data_dir. Returns as config_set. */
int config_finish(struct config *c, char *err, size_t errlen);

/* Prints every key, its meaning and its default, for --help. */
void config_usage(const char *prog, const char *what);

#endif
