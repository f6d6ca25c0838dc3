/*
 * vhost_bench - lib/vnet against DPDK's own virtio front end
 * (net_virtio_user), both driving the same vhost-user device: DPDK's vhost
 * library run by dpdk-testpmd (net_vhost), forwarding on its own core.
 *
 * Per direction the back end runs in the mode that makes the device side
 * cheapest: tx-only -> rxonly (drops what it receives), rx-only -> txonly
 * (generates frames of the size), both -> macswap (returns every frame).
 * Per row (direction, frame size, batch) the two front ends take turns,
 * `runs` times each, on the same back end, pinned to the same core (CPU 0;
 * testpmd forwards on CPU 1): lib/vnet in this process (tests/support
 * vhu_rig: the emu/dev vhost-user function, memfd guest memory), DPDK's
 * in bench/vhost_bench/dpdk_peer. Both run the same loop:
 *
 *   tx    queue `batch` frames, notify (if the device asks), reap
 *   rx    take up to `batch` frames, give them back, notify
 *   both  queue `batch` frames, notify, receive until `batch` came back
 *
 * and neither touches payload bytes beyond the Ethernet header. Prints
 * Mpps as median [min-max] over the runs for each driver and the ratio
 * ours/DPDK, median [min-max] of the per-run ratios (each ours run paired
 * with the DPDK run right after it, so both saw the same machine load).
 * The load average is printed before and after. Wall-clock figures are
 * reported, never checked.
 *
 * Usage: vhost_bench [--runs N] [--ms N] [--peer PATH] [--dir tx|rx|both]
 *                    [--size 64|1500] [--batch N] [--huge] [--driver-cpu N]
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"
#include "testpmd_proc.h"
#include "vhu_rig.h"

#define MAX_RUNS  15
#define MAX_BATCH 32u

typedef enum dir { DIR_TX, DIR_RX, DIR_BOTH, DIR_COUNT } dir;

static const char *const dir_name[DIR_COUNT] = { "tx", "rx", "both" };
static const char *const backend_mode[DIR_COUNT] = { "rxonly", "txonly", "macswap" };

typedef struct options {
    unsigned runs, ms;
    const char *peer;
    int only_dir, only_size, only_batch;
    bool huge;
    int driver_cpu; /* where both drivers run; testpmd forwards on CPU 1 */
} options;

/* One run of one driver. */
typedef struct sample {
    double mpps;
    double cpu_ns_per_frame; /* the driver thread's CPU time per frame */
    double share;            /* the driver thread's CPU time / wall time */
    double backend_share;    /* testpmd's CPU time / wall time (its forwarding core) */
    double kicks_per_frame;  /* notifications the driver sent (lib/vnet only) */
} sample;

typedef struct row_result {
    sample ours[MAX_RUNS], dpdk[MAX_RUNS];
    double ratio[MAX_RUNS];
    unsigned n;
} row_result;

static void die(const char *what)
{
    fprintf(stderr, "vhost_bench: %s\n", what);
    exit(1);
}

static void pin_to(int cpu)
{
    cpu_set_t set;

    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set) != 0)
        die("cannot pin the driver to its CPU");
}

static void unpin(void)
{
    cpu_set_t set;
    int c;

    CPU_ZERO(&set);
    for (c = 0; c < CPU_SETSIZE; c++)
        CPU_SET(c, &set);
    sched_setaffinity(0, sizeof(set), &set);
}

static double thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* utime + stime of a process (all its threads), in ns. */
static double process_cpu_ns(pid_t pid)
{
    char path[64], buf[1024], *p;
    unsigned long long ut = 0, st = 0;
    FILE *f;
    int field;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    f = fopen(path, "r");
    if (!f)
        return 0;
    p = fgets(buf, sizeof(buf), f);
    fclose(f);
    p = p ? strrchr(buf, ')') : NULL; /* the command name may hold spaces */
    for (field = 2; p && field < 14; field++)
        p = strchr(p + 1, ' ');
    if (!p || sscanf(p + 1, "%llu %llu", &ut, &st) != 2)
        return 0;
    return (double)(ut + st) * 1e9 / (double)sysconf(_SC_CLK_TCK);
}

/* ---- lib/vnet's loops ------------------------------------------------------ */

static void prepare_frames(vhu_rig *r)
{
    unsigned i;

    for (i = 0; i < MAX_BATCH; i++) {
        uint8_t *f = (uint8_t *)r->payload.va + (size_t)i * VHU_RIG_SLOT;
        memset(f, 0xFF, 6);
        memcpy(f + 6, "\x02\x00\x00\x00\x00\x01\x88\xb5", 8);
    }
}

static void send_batch(vhu_rig *r, unsigned size, unsigned batch)
{
    unsigned i;

    for (i = 0; i < batch; i++) {
        uint8_t *va = (uint8_t *)r->payload.va + (size_t)i * VHU_RIG_SLOT;
        vnet_tx_seg seg = { r->payload.pa + (uint64_t)i * VHU_RIG_SLOT, va, size };

        while (vnet_tx(r->n, &seg, 1, NULL, va) == VNET_E_RING_FULL)
            vnet_tx_reap(r->n, 256); /* the device has not taken them yet */
    }
    vnet_tx_kick(r->n);
    vnet_tx_reap(r->n, batch);
}

static unsigned receive(vhu_rig *r, unsigned want)
{
    vnet_rx_frame f;
    unsigned got = 0;

    while (got < want && vnet_rx_next(r->n, &f) == VNET_OK) {
        vnet_rx_return(r->n, f.handle);
        got++;
    }
    vnet_rx_kick(r->n);
    return got;
}

static uint64_t ours_round(vhu_rig *r, dir d, unsigned size, unsigned batch)
{
    uint64_t got = 0;
    unsigned spins;

    if (d == DIR_TX) {
        send_batch(r, size, batch);
        return batch;
    }
    if (d == DIR_RX)
        return receive(r, batch);
    send_batch(r, size, batch);
    for (spins = 0; got < batch && spins < 100000000u; spins++)
        got += receive(r, batch - (unsigned)got); /* a lost frame must not hang us */
    return got;
}

static sample run_ours(const char *sock, pid_t backend, dir d, unsigned size, unsigned batch,
                       unsigned ms)
{
    vhu_rig_params p = { .socket_path = sock };
    testpmd_port_stats ps;
    unsigned complaints;
    uint64_t frames = 0, rounds = 0, kicks0;
    double t0, end, cpu0, be0;
    sample out;
    vhu_rig *r = calloc(1, sizeof(*r));

    if (!r || vhu_rig_up(r, &p) != 0)
        die(r ? r->error : "no memory");
    prepare_frames(r);
    end = bench_now_ns() + ms * 1e5; /* warm up for a tenth */
    while (bench_now_ns() < end)
        ours_round(r, d, size, batch);
    kicks0 = emu_vhu_net_get_stats(r->dev)->kicks;
    be0 = process_cpu_ns(backend);
    cpu0 = thread_cpu_ns();
    t0 = bench_now_ns();
    end = t0 + ms * 1e6;
    do {
        frames += ours_round(r, d, size, batch);
    } while ((++rounds & 15) || bench_now_ns() < end);
    t0 = bench_now_ns() - t0;
    out.cpu_ns_per_frame = (thread_cpu_ns() - cpu0) / (double)(frames ? frames : 1);
    out.share = out.cpu_ns_per_frame * (double)frames / t0;
    out.backend_share = (process_cpu_ns(backend) - be0) / t0;
    out.kicks_per_frame =
        (double)(emu_vhu_net_get_stats(r->dev)->kicks - kicks0) / (double)(frames ? frames : 1);
    out.mpps = (double)frames / t0 * 1e3;
    if (!vhu_rig_down(r, &ps, &complaints, NULL, 0))
        fprintf(stderr, "vhost_bench: lib/vnet run did not end cleanly\n");
    free(r);
    return out;
}

/* ---- DPDK's loops, in dpdk_peer -------------------------------------------------- */

static sample run_dpdk(const options *o, const char *sock, dir d, unsigned size, unsigned batch)
{
    char cmd[1024], line[256];
    unsigned long long frames = 0;
    double ns = 0, cpu = 0;
    sample out = { 0 };
    FILE *f;

    snprintf(cmd, sizeof(cmd),
             "timeout -k 5 %u %s -l %d --no-pci %s --file-prefix=vfo-peer-%d --log-level=8 "
             "--vdev=net_virtio_user0,path=%s,queues=1,queue_size=256 -- "
             "--mode %s --size %u --batch %u --ms %u 2>&1",
             o->ms / 1000 + 60, o->peer, o->driver_cpu,
             /* Hugepage memory reaches the vhost back end only through fds:
              * with 2 MiB pages, only --single-file-segments gives the
              * mempool's pages one (without it the peer's tx stalled for
              * good: the back end was sent a 2 MiB region only). */
             o->huge ? "--in-memory --single-file-segments" : "--no-huge -m 256", (int)getpid(),
             sock, dir_name[d], size, batch, o->ms);
    f = popen(cmd, "r");
    if (!f)
        die("cannot run dpdk_peer");
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "dpdk_peer: frames=%llu ns=%lf cpu_ns=%lf", &frames, &ns, &cpu) == 3)
            break;
    while (fgets(line, sizeof(line), f))
        ;
    if (pclose(f) != 0 || ns <= 0 || frames == 0) {
        fprintf(stderr, "vhost_bench: dpdk_peer failed: %s\n", cmd);
        return out;
    }
    out.mpps = (double)frames / ns * 1e3;
    out.cpu_ns_per_frame = cpu / (double)frames;
    out.share = cpu / ns;
    /* The back end's time spans the peer's start-up too: an upper bound. */
    out.backend_share = -1; /* its CPU time would include the peer's start-up: not shown */
    out.kicks_per_frame = -1;
    return out;
}

/* ---- rows ----------------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void summary(double *v, unsigned n, double *med, double *lo, double *hi)
{
    qsort(v, n, sizeof(*v), cmp_double);
    *lo = v[0];
    *hi = v[n - 1];
    *med = n & 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Median of one field of the samples. */
static double median_of(const sample *s, unsigned n, size_t field)
{
    double v[MAX_RUNS], med, lo, hi;
    unsigned i;

    for (i = 0; i < n; i++)
        memcpy(&v[i], (const char *)&s[i] + field, sizeof(double));
    summary(v, n, &med, &lo, &hi);
    return med;
}

static void print_row(dir d, unsigned size, unsigned batch, row_result *rr)
{
    double om, ol, oh, dm, dl, dh, rm, rl, rh, v[MAX_RUNS];
    unsigned i;

    for (i = 0; i < rr->n; i++)
        v[i] = rr->ours[i].mpps;
    summary(v, rr->n, &om, &ol, &oh);
    for (i = 0; i < rr->n; i++)
        v[i] = rr->dpdk[i].mpps;
    summary(v, rr->n, &dm, &dl, &dh);
    summary(rr->ratio, rr->n, &rm, &rl, &rh);
    printf("%-5s %5u %5u   %6.3f [%6.3f-%6.3f]   %6.3f [%6.3f-%6.3f]   %5.2f [%5.2f-%5.2f]"
           "  | %7.0f %7.0f  %3.0f%% %3.0f%%     %3.0f%%      %.4f\n",
           dir_name[d], size, batch, om, ol, oh, dm, dl, dh, rm, rl, rh,
           median_of(rr->ours, rr->n, offsetof(sample, cpu_ns_per_frame)),
           median_of(rr->dpdk, rr->n, offsetof(sample, cpu_ns_per_frame)),
           100 * median_of(rr->ours, rr->n, offsetof(sample, share)),
           100 * median_of(rr->dpdk, rr->n, offsetof(sample, share)),
           100 * median_of(rr->ours, rr->n, offsetof(sample, backend_share)),
           median_of(rr->ours, rr->n, offsetof(sample, kicks_per_frame)));
    fflush(stdout);
}

static double loadavg(void)
{
    double l = -1;
    FILE *f = fopen("/proc/loadavg", "r");

    if (f) {
        if (fscanf(f, "%lf", &l) != 1)
            l = -1;
        fclose(f);
    }
    return l;
}

static void run_direction(const options *o, dir d, unsigned size, unsigned *complaints_total)
{
    static const unsigned batches[] = { 1, 32 };
    char vdev[256], sock[128], extra[64], tag[32], first[512];
    testpmd_params tp = { .vdev = vdev, .forward_mode = backend_mode[d], .lcores = "0,1" };
    testpmd_proc pmd;
    testpmd_port_stats ps;
    unsigned b, i, complaints;

    snprintf(tag, sizeof(tag), "bench-%s%u", dir_name[d], size);
    snprintf(sock, sizeof(sock), "/tmp/vfo-%s-%d.sock", tag, (int)getpid());
    snprintf(vdev, sizeof(vdev), "net_vhost0,iface=%s,queues=1", sock);
    snprintf(extra, sizeof(extra), "--txpkts=%u", size);
    tp.tag = tag;
    tp.extra = d == DIR_RX ? extra : NULL;
    tp.no_huge = !o->huge;
    unlink(sock);
    unpin();
    if (!testpmd_start(&pmd, &tp) || !testpmd_wait_for_file(&pmd, sock, 60000)) {
        testpmd_dump_log(&pmd);
        die("the testpmd back end did not start");
    }
    pin_to(o->driver_cpu);
    for (b = 0; b < 2; b++) {
        row_result rr = { .n = o->runs };

        if (o->only_batch > 0 && (unsigned)o->only_batch != batches[b])
            continue;
        for (i = 0; i < o->runs; i++) {
            rr.ours[i] = run_ours(sock, pmd.pid, d, size, batches[b], o->ms);
            rr.dpdk[i] = run_dpdk(o, sock, d, size, batches[b]);
            rr.ratio[i] = rr.dpdk[i].mpps > 0 ? rr.ours[i].mpps / rr.dpdk[i].mpps : 0;
        }
        print_row(d, size, batches[b], &rr);
    }
    unpin();
    testpmd_stop(&pmd, 30000);
    testpmd_read_log(&pmd, &ps, &complaints, first, sizeof(first));
    if (complaints)
        fprintf(stderr, "vhost_bench: back end complained %u times, first: %s", complaints, first);
    *complaints_total += complaints;
    unlink(sock);
}

static void parse(options *o, int argc, char **argv)
{
    int i;

    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--runs") && i + 1 < argc)
            o->runs = (unsigned)bench_parse_count("vhost_bench", argv[++i]);
        else if (!strcmp(argv[i], "--ms") && i + 1 < argc)
            o->ms = (unsigned)bench_parse_count("vhost_bench", argv[++i]);
        else if (!strcmp(argv[i], "--peer") && i + 1 < argc)
            o->peer = argv[++i];
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc) {
            const char *v = argv[++i];
            o->only_dir = !strcmp(v, "tx") ? DIR_TX : !strcmp(v, "rx") ? DIR_RX : DIR_BOTH;
        } else if (!strcmp(argv[i], "--size") && i + 1 < argc)
            o->only_size = (int)bench_parse_count("vhost_bench", argv[++i]);
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc)
            o->only_batch = (int)bench_parse_count("vhost_bench", argv[++i]);
        else if (!strcmp(argv[i], "--driver-cpu") && i + 1 < argc)
            o->driver_cpu = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--huge"))
            o->huge = true;
        else {
            fprintf(
                stderr,
                "usage: vhost_bench [--runs N] [--ms N] [--peer PATH] "
                "[--dir tx|rx|both] [--size 64|1500] [--batch 1|32] [--huge] [--driver-cpu N]\n");
            exit(2);
        }
    }
    if (o->runs > MAX_RUNS)
        die("at most 15 runs");
}

int main(int argc, char **argv)
{
    static const unsigned sizes[] = { 64, 1500 };
    options o = { .runs = 5, .ms = 500, .only_dir = -1 };
    char why[160], peer_path[512];
    unsigned complaints = 0, s;
    int d;

    const char *slash = strrchr(argv[0], '/');

    /* dpdk_peer is built next to this program. */
    snprintf(peer_path, sizeof(peer_path), "%.*sdpdk_peer", slash ? (int)(slash - argv[0] + 1) : 0,
             argv[0]);
    o.peer = peer_path;
    parse(&o, argc, argv);
    if (!testpmd_find(why, sizeof(why))) {
        printf("vhost_bench: skipped: %s\n", why);
        return 0;
    }
    if (access(o.peer, X_OK) != 0) {
        printf("vhost_bench: skipped: %s not built (needs libdpdk-dev)\n", o.peer);
        return 0;
    }
    printf("vhost_bench: device = DPDK vhost (dpdk-testpmd net_vhost, forwarding on CPU 1, %s); "
           "drivers on CPU %d; %u runs of %u ms per driver and row; load average %.2f\n",
           o.huge ? "hugepages" : "--no-huge", o.driver_cpu, o.runs, o.ms, loadavg());
    printf(
        "                    throughput (median [range])                                        |"
        " driver CPU ns/frame, CPU share of driver and back end (medians)\n");
    printf("dir    size batch   lib/vnet Mpps             DPDK virtio_user Mpps     ours/DPDK"
           "           |    ours    DPDK  ours DPDK  back end(ours)  kicks/frame(ours)\n");
    for (d = 0; d < DIR_COUNT; d++)
        for (s = 0; s < 2; s++)
            if ((o.only_dir < 0 || o.only_dir == d) &&
                (o.only_size <= 0 || (unsigned)o.only_size == sizes[s]))
                run_direction(&o, (dir)d, sizes[s], &complaints);
    printf("vhost_bench: load average %.2f at the end; back-end complaints: %u\n", loadavg(),
           complaints);
    return complaints ? 1 : 0;
}
