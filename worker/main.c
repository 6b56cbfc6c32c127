/* main.c: nthpi-worker, the daemon that answers tasks from the queue: the
 * command line (--digits), start-up and shutdown. The event loop is in
 * loop.c, the scheduling policy in policy.c and the files it uses. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compute.h"
#include "config.h"
#include "datalock.h"
#include "db.h"
#include "dbfile.h"
#include "log.h"
#include "loop.h"
#include "pi.h"
#include "pi_known.h"
#include "policy.h"
#include "queue.h"
#include "sdnotify.h"
#include "stops.h"
#include "store.h"
#include "storestate.h"
#include "timefmt.h"

/* What the daemon holds from start-up to shutdown. */
struct worker {
	struct config cfg;
	sqlite3 *db;
	struct queue *q;
	int lock_fd; /* the data directory's lock (datalock.c) */
	struct policy pol;
	struct loop loop;
};

/* Transaction body: puts every waiting task back to queued. */
static int
worker_requeue_tx(struct policy *pol, void *arg)
{
	size_t i;

	(void)arg;
	for (i = 0; i < pol->wait.n; i++)
		if (queue_requeue(pol->q, &pol->wait.v[i].t) == -1)
			return -1;
	return 0;
}

/* Stops the computation and gives its tasks back to the queue. */
static void
worker_shutdown(struct policy *pol)
{
	size_t n = pol->wait.n;

	sdnotify("STOPPING=1");
	if (compute_active(&pol->comp))
		compute_stop(&pol->comp);
	if (n == 0)
		return;
	if (dbfile_gone()) {
		log_warn("worker: %zu running task%s left as %s: the database "
			 "file went away",
			 n, n == 1 ? "" : "s", n == 1 ? "it is" : "they are");
		return;
	}
	/* One try only, waiting at most POLICY_BUSY_MS for the lock: a stop
	 * takes at most 2 s, and if the requeue fails the leases lapse and
	 * the tasks are claimed again all the same. */
	if (queue_begin(pol->q) == 0 && worker_requeue_tx(pol, NULL) == 0 &&
	    queue_commit(pol->q) == 0)
		log_info("worker: put %zu running task%s back in the queue", n,
			 n == 1 ? "" : "s");
	else {
		queue_rollback(pol->q);
		log_warn("worker: could not put %zu task%s back; their "
			 "leases will lapse and they will be claimed again",
			 n, n == 1 ? "" : "s");
	}
}

/* Writes "3" and `decimals` decimals to path, and its check file: the
 * benchmark mode. */
static int
worker_cli(const struct config *cfg, long long decimals, const char *path)
{
	long long t0 = time_mono_ms();
	char err[512], *out = NULL;
	enum pi_result r;
	struct pi_params params = { (size_t)decimals, cfg->compute_threads,
				    (size_t)cfg->memory_limit_mb << 20 };
	long long wrong;
	int rc = 1;

	log_info("computing %lld decimals with %d thread%s", decimals,
		 cfg->compute_threads, cfg->compute_threads == 1 ? "" : "s");
	r = pi_compute(&params, NULL, &out);
	if (r != PI_OK) {
		log_err("%s", pi_result_message(r));
		goto out;
	}
	log_info("computed %lld decimals in %lld ms", decimals,
		 time_mono_ms() - t0);
	if ((wrong = pi_known_check(out, (size_t)decimals)) > 0) {
		log_err("the first %lld decimals computed do not match the "
			"published SHA-256 of pi's; %s is not written",
			wrong, path);
		goto out;
	}
	if (store_write(path, out, (size_t)decimals, err, sizeof(err)) == -1) {
		log_err("%s: %s", path, err);
		goto out;
	}
	rc = 0;
out:
	free(out);
	return rc;
}

/*
 * Takes --digits and --output (which config_from_args would refuse) out of
 * argv. Returns 0, or -1 with a sentence in err.
 */
static int
worker_strip_cli(int *argc, char **argv, long long *digits, const char **output,
		 char *err, size_t errlen)
{
	int i, j = 1;

	*digits = -1;
	*output = NULL;
	for (i = 1; i < *argc; i++) {
		const char *a = argv[i], *v = NULL;
		int is_digits = 0;

		if (strcmp(a, "--digits") == 0 || strcmp(a, "--output") == 0) {
			if (i + 1 >= *argc) {
				policy_sentence(err, errlen, "%s needs a value",
						a);
				return -1;
			}
			is_digits = a[2] == 'd';
			v = argv[++i];
		} else if (strncmp(a, "--digits=", 9) == 0) {
			is_digits = 1;
			v = a + 9;
		} else if (strncmp(a, "--output=", 9) == 0)
			v = a + 9;
		if (v == NULL) {
			argv[j++] = argv[i];
			continue;
		}
		if (is_digits) {
			char *end;

			errno = 0;
			*digits = strtoll(v, &end, 10);
			if (v[0] < '0' || v[0] > '9' || *end != '\0' ||
			    errno != 0 || *digits < 1) {
				policy_sentence(
				    err, errlen,
				    "--digits: \"%s\" is not a whole number "
				    "of 1 or more",
				    v);
				return -1;
			}
		} else
			*output = v;
	}
	argv[j] = NULL;
	*argc = j;
	if ((*digits == -1) != (*output == NULL)) {
		policy_sentence(err, errlen,
				"--digits and --output go together");
		return -1;
	}
	return 0;
}

/* Transaction body: ends the leases of a dead worker's tasks. */
static int
worker_orphans_tx(struct policy *pol, void *arg)
{
	int *count = arg;

	return (*count = queue_release_orphans(pol->q)) == -1 ? -1 : 0;
}

/*
 * Takes the data directory's lock, or exits: two workers on one directory
 * would remove each other's temp files and compute the same digits twice.
 */
static void
worker_lock_data(struct worker *w)
{
	char who[32] = "";
	pid_t holder;

	if ((w->lock_fd = datalock_take(w->cfg.data_dir, &holder)) != -1)
		return;
	if (errno != EAGAIN)
		log_exit(LOG_EXIT_START, "cannot lock %s/%s: %s",
			 w->cfg.data_dir, DATALOCK_NAME, strerror(errno));
	if (holder > 0)
		snprintf(who, sizeof(who), " (pid %ld)", (long)holder);
	log_exit(LOG_EXIT_START,
		 "another nthpi-worker%s already works on %s; one worker per "
		 "data directory: stop that one first",
		 who, w->cfg.data_dir);
}

int
main(int argc, char **argv)
{
	struct worker w;
	sigset_t unblocked;
	const char *output;
	long long digits;
	char errbuf[PATH_MAX + 128];
	int rc = 1, orphans = 0;

	memset(&w, 0, sizeof(w));
	w.lock_fd = -1;
	log_init("nthpi-worker", LOG_LEVEL_INFO);
	config_defaults(&w.cfg);
	if (worker_strip_cli(&argc, argv, &digits, &output, errbuf,
			     sizeof(errbuf)) == -1)
		log_exit(LOG_EXIT_USAGE, "%s", errbuf);
	switch (config_from_args(&w.cfg, argc, argv, errbuf, sizeof(errbuf))) {
	case 0:
		break;
	case 1:
		config_usage(
		    "nthpi-worker",
		    "Takes tasks from the queue and computes the digits of "
		    "pi.\n"
		    "With --digits N --output FILE, writes \"3\" and N "
		    "decimals to FILE and exits.");
		return 0;
	default:
		log_exit(LOG_EXIT_USAGE, "%s", errbuf);
	}
	log_init("nthpi-worker",
		 w.cfg.log_debug ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	if (output != NULL)
		return worker_cli(&w.cfg, digits, output);

	if (mkdir(w.cfg.data_dir, 0750) == -1 && errno != EEXIST)
		log_exit(LOG_EXIT_START, "%s: %s", w.cfg.data_dir,
			 strerror(errno));
	worker_lock_data(&w);
	stops_install(&unblocked);
	/* db_open has logged why, with the path and what to do. */
	if ((w.db = db_open(w.cfg.db_path)) == NULL)
		return LOG_EXIT_START;
	if ((w.q = queue_open(w.db)) == NULL)
		log_exit(LOG_EXIT_START, "cannot prepare the queue statements");
	if (policy_init(&w.pol, &w.cfg, w.db, w.q) == -1)
		log_exit(LOG_EXIT_START, "out of memory");
	loop_open(&w.loop, &w.pol, w.cfg.db_path, &unblocked);
	/* We hold the data directory's lock and no computation of ours runs
	 * yet: any temp file there and any running task is a dead worker's.
	 * Its tasks are claimed again now rather than when their leases
	 * lapse. */
	compute_remove_temps(w.cfg.store_path);
	if (store_check_path(w.cfg.store_path, errbuf, sizeof(errbuf)) == 0)
		compute_remove_temps(errbuf);
	if (policy_transaction(&w.pol, "releasing a dead worker's tasks",
			       worker_orphans_tx, &orphans) == 0 &&
	    orphans > 0)
		log_info("worker: %d running task%s of a stopped worker taken "
			 "up again",
			 orphans, orphans == 1 ? "" : "s");
	/* Before any task is answered from it. */
	storestate_check(&w.pol, 1);
	log_info("worker: ready; data %s, store holds %lld decimals, n_max "
		 "%lld, memory limit %lld MiB fits %lld decimals, %d compute "
		 "thread%s",
		 w.cfg.data_dir, w.pol.store.have, w.cfg.n_max,
		 w.cfg.memory_limit_mb, w.pol.fit_max, w.cfg.compute_threads,
		 w.cfg.compute_threads == 1 ? "" : "s");
	sdnotify("READY=1\nSTATUS=Waiting for tasks");

	loop_run(&w.loop);

	log_info("worker: stopping");
	worker_shutdown(&w.pol);
	rc = 0;
	loop_close(&w.loop);
	policy_free(&w.pol);
	queue_close(w.q);
	db_close(w.db);
	/* Last: a new worker may start once this one has let go of all. */
	if (w.lock_fd != -1)
		close(w.lock_fd);
	return rc;
}
