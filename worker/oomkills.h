/* oomkills.h: how often the kernel's OOM killer acted inside the worker's
 * cgroup (cgroup v2 memory.events), to tell a memory kill from others. */
#ifndef NTHPI_OOMKILLS_H
#define NTHPI_OOMKILLS_H

/*
 * Returns the oom_kill count of memory.events of the cgroup this process
 * is in (cgroup v2), which counts the processes the OOM killer ended
 * there and below because the cgroup's memory.max (systemd's MemoryMax)
 * was reached. A compute child is forked into the same cgroup, so a count
 * that rose while it ran, and a child ended by SIGKILL, is the memory
 * limit. Returns -1 where there is no such file (cgroup v1, the root
 * cgroup, no /sys); nothing is logged, as that is a normal set-up.
 */
long long oomkills_read(void);

#endif
