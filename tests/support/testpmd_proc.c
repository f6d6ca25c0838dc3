/*
 * testpmd_proc.c - see testpmd_proc.h.
 */
#define _GNU_SOURCE
#include "testpmd_proc.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_ARGS 48

static const char *const search_path[] = { "/usr/bin/dpdk-testpmd", "/usr/local/bin/dpdk-testpmd" };

const char *testpmd_find(char *why, size_t why_len)
{
    size_t i;

    for (i = 0; i < sizeof(search_path) / sizeof(search_path[0]); i++)
        if (access(search_path[i], X_OK) == 0)
            return search_path[i];
    snprintf(why, why_len, "dpdk-testpmd is not installed (Debian package dpdk, scripts/deps.sh)");
    return NULL;
}

long testpmd_free_hugepages(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[128];
    long n = 0;

    if (!f)
        return 0;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "HugePages_Free: %ld", &n) == 1)
            break;
    fclose(f);
    return n;
}

/* Splits `extra` on spaces into argv (the copy stays alive for the exec). */
static int add_extra(char **argv, int argc, char *extra)
{
    char *save = NULL, *tok;

    for (tok = strtok_r(extra, " ", &save); tok && argc < MAX_ARGS - 1;
         tok = strtok_r(NULL, " ", &save))
        argv[argc++] = tok;
    return argc;
}

static void exec_child(const testpmd_params *pp, const char *prog, int in_fd, int log_fd, bool huge)
{
    char prefix[96], vdev[320], mode[64], extra[512];
    char *argv[MAX_ARGS];
    int argc = 0;

    snprintf(prefix, sizeof(prefix), "--file-prefix=vfo-%s-%d", pp->tag, (int)getpid());
    snprintf(vdev, sizeof(vdev), "--vdev=%s", pp->vdev);
    snprintf(mode, sizeof(mode), "--forward-mode=%s", pp->forward_mode);
    snprintf(extra, sizeof(extra), "%s", pp->extra ? pp->extra : "");
    argv[argc++] = (char *)prog;
    argv[argc++] = "-l";
    argv[argc++] = (char *)pp->lcores;
    argv[argc++] = "--no-pci";
    argv[argc++] = prefix;
    if (huge) {
        argv[argc++] = "--in-memory"; /* no hugepage files left behind */
    } else {
        argv[argc++] = "--no-huge";
        argv[argc++] = "-m";
        argv[argc++] = "512";
    }
    argv[argc++] = vdev;
    argv[argc++] = "--";
    argv[argc++] = mode;
    argv[argc++] = "--auto-start";
    argv[argc++] = "--total-num-mbufs=16384";
    argc = add_extra(argv, argc, extra);
    argv[argc] = NULL;
    dup2(in_fd, 0);
    dup2(log_fd, 1);
    dup2(log_fd, 2);
    execv(prog, argv);
    _exit(127);
}

bool testpmd_start(testpmd_proc *p, const testpmd_params *pp)
{
    char why[128];
    const char *prog = testpmd_find(why, sizeof(why));
    int pipefd[2], log_fd;

    memset(p, 0, sizeof(*p));
    p->pid = -1;
    p->stdin_fd = -1;
    if (!prog)
        return false;
    snprintf(p->log_path, sizeof(p->log_path), "/tmp/vfo-testpmd-%s-%d.log", pp->tag,
             (int)getpid());
    log_fd = open(p->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (log_fd < 0)
        return false;
    if (pipe2(pipefd, O_CLOEXEC) != 0) {
        close(log_fd);
        return false;
    }
    p->used_hugepages = !pp->no_huge && testpmd_free_hugepages() >= 256;
    p->pid = fork();
    if (p->pid == 0)
        exec_child(pp, prog, pipefd[0], log_fd, p->used_hugepages);
    close(pipefd[0]);
    close(log_fd);
    p->stdin_fd = pipefd[1];
    return p->pid > 0;
}

bool testpmd_wait_for_file(testpmd_proc *p, const char *path, int timeout_ms)
{
    struct timespec pause = { 0, 10 * 1000 * 1000 };
    int waited = 0, status;

    while (access(path, F_OK) != 0) {
        if (p->pid <= 0 || waitpid(p->pid, &status, WNOHANG) == p->pid) {
            p->pid = -1;
            return false;
        }
        if (waited >= timeout_ms)
            return false;
        nanosleep(&pause, NULL);
        waited += 10;
    }
    return true;
}

bool testpmd_stop(testpmd_proc *p, int timeout_ms)
{
    struct timespec pause = { 0, 10 * 1000 * 1000 };
    int status = 0, waited = 0;
    pid_t r;

    if (p->pid <= 0)
        return false;
    signal(SIGPIPE, SIG_IGN); /* it may have gone already */
    if (p->stdin_fd >= 0) {
        if (write(p->stdin_fd, "\n", 1) < 0) {
            /* it has gone already; waitpid below tells */
        }
        close(p->stdin_fd);
        p->stdin_fd = -1;
    }
    while ((r = waitpid(p->pid, &status, WNOHANG)) == 0 && waited < timeout_ms) {
        nanosleep(&pause, NULL);
        waited += 10;
    }
    if (r == 0) {
        kill(p->pid, SIGKILL);
        waitpid(p->pid, &status, 0);
        p->pid = -1;
        return false;
    }
    p->pid = -1;
    return r > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static bool is_complaint(const char *line)
{
    static const char *const words[] = { "fail", "invalid", "error", "unsupported", "refus" };
    char low[512];
    size_t i;

    for (i = 0; line[i] && i < sizeof(low) - 1; i++)
        low[i] = (char)tolower((unsigned char)line[i]);
    low[i] = 0;
    if (!strstr(low, "vhost") && !strstr(low, "virtio"))
        return false;
    if (strstr(line, "\t-")) /* the device-status dump: "\t-FAILED: 0" is a bit */
        return false;
    for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (strstr(low, words[i]))
            return true;
    return false;
}

bool testpmd_read_log(const testpmd_proc *p, testpmd_port_stats *st, unsigned *complaints,
                      char *first, size_t first_len)
{
    FILE *f = fopen(p->log_path, "r");
    char line[512];
    bool in_port0 = false;
    unsigned long long a, b;

    memset(st, 0, sizeof(*st));
    *complaints = 0;
    if (first_len)
        first[0] = 0;
    if (!f)
        return false;
    while (fgets(line, sizeof(line), f)) {
        if (is_complaint(line)) {
            if (!*complaints && first_len)
                snprintf(first, first_len, "%s", line);
            (*complaints)++;
        }
        if (strstr(line, "Forward statistics for port 0"))
            in_port0 = true;
        else if (in_port0 && sscanf(line, " RX-packets: %llu RX-dropped: %llu", &a, &b) == 2) {
            st->rx_packets = a;
            st->rx_dropped = b;
        } else if (in_port0 && sscanf(line, " TX-packets: %llu TX-dropped: %llu", &a, &b) == 2) {
            st->tx_packets = a;
            st->tx_dropped = b;
            st->found = true;
            in_port0 = false;
        }
    }
    fclose(f);
    return true;
}

void testpmd_dump_log(const testpmd_proc *p)
{
    FILE *f = fopen(p->log_path, "r");
    char line[512];

    if (!f)
        return;
    fprintf(stderr, "---- %s\n", p->log_path);
    while (fgets(line, sizeof(line), f))
        fputs(line, stderr);
    fclose(f);
}
