/* oomkills.c: how often the kernel's OOM killer acted inside the worker's
 * cgroup (cgroup v2 memory.events), to tell a memory kill from others. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oomkills.h"

/* Where cgroup v2 is mounted on every system that has it. */
#define OOMKILLS_ROOT "/sys/fs/cgroup"

/*
 * The path of this process's cgroup v2 memory.events into out. Returns 0,
 * or -1 if /proc/self/cgroup has no v2 line ("0::/path") or it is too
 * long.
 */
static int
oomkills_events_path(char *out, size_t len)
{
	char line[PATH_MAX + 8];
	FILE *f = fopen("/proc/self/cgroup", "re");
	int n, rc = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "0::", 3) != 0)
			continue;
		line[strcspn(line, "\n")] = '\0';
		/* The root cgroup ("/") has no memory.events; a path that
		 * ends in '/' would give "//memory.events", which is fine. */
		n = snprintf(out, len, "%s%s/memory.events", OOMKILLS_ROOT,
			     line + 3);
		rc = n < 0 || (size_t)n >= len ? -1 : 0;
		break;
	}
	fclose(f);
	return rc;
}

long long
oomkills_read(void)
{
	char path[PATH_MAX], line[128];
	long long count = -1;
	FILE *f;

	if (oomkills_events_path(path, sizeof(path)) == -1 ||
	    (f = fopen(path, "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "oom_kill ", 9) == 0) {
			count = strtoll(line + 9, NULL, 10);
			break;
		}
	fclose(f);
	return count;
}
