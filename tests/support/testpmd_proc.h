/*
 * testpmd_proc.h - runs DPDK's dpdk-testpmd (Debian's dpdk package) as a
 * child process for tests and benchmarks: non-interactive, forwarding from
 * the start, its output in a log file; stopped by closing its standard
 * input ("Press enter to exit"), after which it prints its port statistics.
 *
 * Each run gets its own --file-prefix, so concurrent runs do not collide in
 * /var/run/dpdk. Hugepages are used when the machine has free ones, else
 * --no-huge with anonymous memory.
 */
#ifndef TESTPMD_PROC_H
#define TESTPMD_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct testpmd_params {
    const char *vdev;         /* the --vdev argument, e.g. net_vhost0,iface=/tmp/x.sock */
    const char *forward_mode; /* io, macswap, rxonly, txonly, ... */
    const char *lcores;       /* -l list, e.g. "0,1": the first is the main lcore */
    const char *tag;          /* names the log, socket and file prefix */
    const char *extra;        /* more testpmd application arguments (space separated), or NULL */
    bool no_huge;             /* force --no-huge even when hugepages are free */
} testpmd_params;

typedef struct testpmd_proc {
    pid_t pid;
    int stdin_fd;
    char log_path[256];
    bool used_hugepages;
} testpmd_proc;

typedef struct testpmd_port_stats {
    uint64_t rx_packets, rx_dropped, tx_packets, tx_dropped;
    bool found;
} testpmd_port_stats;

/* The program's path, or NULL with *why filled (not installed). */
const char *testpmd_find(char *why, size_t why_len);
/* Free 2 MiB hugepages on the machine. */
long testpmd_free_hugepages(void);

bool testpmd_start(testpmd_proc *p, const testpmd_params *params);
/* Waits until `path` exists (its vhost-user socket); false if testpmd
 * exited or timeout_ms passed first. */
bool testpmd_wait_for_file(testpmd_proc *p, const char *path, int timeout_ms);
/* Closes its input and waits up to timeout_ms for it to exit (then kills
 * it). True if it exited by itself with status 0. */
bool testpmd_stop(testpmd_proc *p, int timeout_ms);
/* Reads the log after the stop: the accumulated port statistics of the
 * first port ("Accumulated forward statistics for all ports" block) and the
 * number of log lines in which DPDK's vhost or virtio code complains
 * (VHOST_DATA/VHOST_CONFIG errors, "invalid", "failed"). */
bool testpmd_read_log(const testpmd_proc *p, testpmd_port_stats *stats, unsigned *complaints,
                      char *first_complaint, size_t complaint_len);
/* Prints the log to stderr (for a failing test). */
void testpmd_dump_log(const testpmd_proc *p);

#endif /* TESTPMD_PROC_H */
