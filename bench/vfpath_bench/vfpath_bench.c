/*
 * vfpath_bench - what vfo adds on the VF path, per NBL.
 *
 * The same stream of NBLs goes
 *   (a) from the TCP/IP stand-in straight to the VF miniport, and
 *   (b) from the TCP/IP stand-in to vfo's miniport, through vfo's protocol
 *       edge, to the same VF miniport,
 * in ndisemu's real-time scheduler. The stand-in is miniprot (the test
 * protocol vfo's driver tests put in TCP/IP's place) with a burst of
 * preallocated NBLs sent as lists (IOCTL_MINIPROT_BURST) and receives
 * returned from the receive call. The VF miniport is sink_mp: minimp with
 * its device out of the data path (minimp_sink.c), so that neither figure
 * is mostly a device model: sends complete in the send call (one CPU) or
 * from the sink's DPC (two CPUs: a worker thread of the scheduler);
 * receives are indicated by the sink's DPC in lists, at most 32 NBLs per
 * DPC (MaxNblsToIndicate), and come back through the returns.
 *
 * tx: send + completion; rx: indication + return. "1 cpu" pins the whole
 * process (sender, scheduler workers) to one CPU; "2 cpu" (tx only) leaves
 * it on two, with completions from the DPC. Every measurement runs in a
 * fresh child process (one ndisemu runtime per process), (a) and (b)
 * alternating, so both see the same load. Whether the verifier's per-call
 * checks were on is printed (--checks on|off; off by default for the
 * measurement: emu_config.no_call_checks).
 *
 * Each run checks that every NBL came back (completions with success,
 * returns) and that the path was the one intended: ndisemu's counters show
 * two sends (two indications, two returns) per NBL in (b), one in (a).
 *
 *   vfpath_bench [--runs N] [--frames N] [--checks on|off] [--case LIST]
 *                [--path a|b] [--smoke] [--cpu N]
 * --case: comma-separated dir/size/list/cpus, e.g. tx/64/32/1,rx/1500/1/1.
 * --path a|b with a single --case and --runs 1 runs in-process (for
 * callgrind; see callgrind.sh) and prints "moved N NBLs".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ndis.h>

#include "bench_util.h"
#include "loopnic.h"
#include "minimp_sink.h"
#include "miniprot.h"
#include "ndisemu/emu.h"
#include "vnet_pci.h"

#define IOCTL_OK(nt) ((nt) >= 0)

typedef struct bcase {
    char dir[3]; /* "tx" or "rx" */
    unsigned size, list, cpus;
} bcase;

typedef struct result {
    int ok;
    double ns_per_nbl;
    unsigned long long moved;
    unsigned long long collected; /* NBLs through the measured function, warm-up included */
    double calls_per_nbl;         /* NDIS calls (ndisemu's count) per NBL */
    char why[160];
} result;

static const uint8_t k_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static unsigned g_cpu;

static void fail(result *r, const char *fmt, const char *what, int err)
{
    r->ok = 0;
    snprintf(r->why, sizeof(r->why), fmt, what, err);
}

static int pt_ioctl(emu_ctl *pt, uint32_t code, const void *in, size_t in_len, void *out,
                    size_t out_len)
{
    size_t ret = 0;
    int32_t nt = -1;
    int err = emu_ctl_ioctl(pt, code, in, in_len, out, out_len, &ret, &nt);
    if (err)
        return err;
    return IOCTL_OK(nt) ? EMU_OK : EMU_ERR_DRIVER;
}

/* A control frame for the sink, sent through whatever path the stand-in
 * is bound over. */
static int sink_ctl(emu_ctl *pt, unsigned op, uint32_t a0, uint32_t a1, uint32_t a2)
{
    uint8_t f[MP_SINK_CTL_LEN];
    memset(f, 0, sizeof(f));
    memcpy(f, k_mac, 6);
    memcpy(f + 6, k_mac, 6);
    f[12] = 0x88;
    f[13] = 0xB5;
    memcpy(f + 14, "SINK", 4);
    f[18] = (uint8_t)op;
    uint32_t v[3] = { a0, a1, a2 };
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < 4; k++)
            f[19 + 4 * i + k] = (uint8_t)(v[i] >> (8 * k));
    return pt_ioctl(pt, IOCTL_MINIPROT_SEND, f, sizeof(f), NULL, 0);
}

typedef struct world {
    emu_runtime *rt;
    emu_driver *vfo, *sink, *pt;
    vnet_pci *vn;
    loopnic *vf;
    emu_device_desc vn_desc, vf_desc;
    emu_adapter *vn_ad, *vf_ad;
    emu_ctl *pt_ctl;
    unsigned probed; /* NBLs the probes sent */
} world;

static const char *const k_vn_reg[] = { "NetCfgInstanceId={0E5B2C41-9D3A-4F7B-8C12-6A4E1B9D3C70}",
                                        NULL };

static int tx_burst(world *w, const bcase *c, unsigned frames, miniprot_burst_result *br);

#define PROBE_NBLS 16
static int probe(world *w)
{
    bcase c = { "tx", 64, 1, 1 };
    miniprot_burst_result br;
    return tx_burst(w, &c, PROBE_NBLS, &br);
}

static int world_up(world *w, bool via_vfo, bool checks, result *r)
{
    emu_config cfg = {
        .sched = EMU_SCHED_REALTIME, .workers = 2, .rx_max_nbls = 32, .no_call_checks = !checks
    };
    int err = emu_create(&cfg, &w->rt);
    if (err)
        return fail(r, "%s: %d", "emu_create", err), err;
    if (via_vfo && (err = emu_load_driver(w->rt, VFO_SO, NULL, &w->vfo)))
        return fail(r, "%s: %d", "load vfo", err), err;
    if ((err = emu_load_driver(w->rt, SINK_SO, NULL, &w->sink)) ||
        (err = emu_load_driver(w->rt, MINIPROT_SO, NULL, &w->pt)))
        return fail(r, "%s: %d", "load sink_mp/miniprot", err), err;
    if ((err = emu_run_until_idle(w->rt)))
        return fail(r, "%s: %d", "idle", err), err;
    if (via_vfo) {
        vnet_pci_opts o = { .standby = true };
        memcpy(o.mac, k_mac, 6);
        w->vn = vnet_pci_create(&o);
        vnet_pci_desc(w->vn, "virtio0", k_vn_reg, &w->vn_desc);
        if ((err = emu_add_device(w->rt, &w->vn_desc, &w->vn_ad)) ||
            (err = emu_run_until_idle(w->rt)))
            return fail(r, "%s: %d", "virtio device", err), err;
    }
    w->vf = loopnic_create(k_mac);
    loopnic_device_desc(w->vf, "{5A1F0C3E-7B2D-4E8A-9C61-0D4B3A2E1F00}", &w->vf_desc);
    w->vf_desc.service = emu_driver_service(w->sink);
    if ((err = emu_add_device(w->rt, &w->vf_desc, &w->vf_ad)))
        return fail(r, "%s: %d", "VF device", err), err;
    /* In (b) the stand-in stays off the VF, as vfosvc keeps TCP/IP off it. */
    if (via_vfo && (err = emu_netcfg_set_path(w->rt, "MINIPROT", emu_adapter_id(w->vf_ad), false)))
        return fail(r, "%s: %d", "netcfg", err), err;
    if ((err = emu_run_until_idle(w->rt)))
        return fail(r, "%s: %d", "idle", err), err;
    if ((err = emu_ctl_open(w->rt, MINIPROT_DEVICE, &w->pt_ctl)))
        return fail(r, "%s: %d", "open MiniProt", err), err;
    uint32_t v = 0x0B; /* directed, multicast, broadcast */
    if ((err = pt_ioctl(w->pt_ctl, IOCTL_MINIPROT_SET_FILTER, &v, sizeof(v), NULL, 0)))
        return fail(r, "%s: %d", "packet filter", err), err;
    v = 1;
    if ((err = pt_ioctl(w->pt_ctl, IOCTL_MINIPROT_RX_INLINE, &v, sizeof(v), NULL, 0)))
        return fail(r, "%s: %d", "rx inline", err), err;
    if ((err = emu_run_until_idle(w->rt)))
        return fail(r, "%s: %d", "idle", err), err;
    /* vfo moves TX onto the VF once its OID replay is done: probe until
     * every NBL takes two sends (up to 20 s: valgrind is slow). */
    for (int i = 0; via_vfo && i < 400; i++) {
        emu_counters c0, c1;
        emu_get_counters(w->rt, &c0);
        w->probed += PROBE_NBLS;
        if ((err = probe(w)))
            return fail(r, "%s: %d", "probe", err), err;
        emu_get_counters(w->rt, &c1);
        if (c1.sends - c0.sends == 2 * PROBE_NBLS)
            return EMU_OK;
        if ((err = emu_run_for(w->rt, 50 * 1000 * 1000ull)))
            return fail(r, "%s: %d", "run", err), err;
    }
    if (via_vfo)
        return fail(r, "%s: %d", "vfo never moved TX onto the VF", 0), EMU_ERR_TIMEOUT;
    return EMU_OK;
}

static int world_down(world *w, result *r)
{
    if (w->pt_ctl)
        emu_ctl_close(w->pt_ctl);
    int err = w->rt ? emu_shutdown(w->rt) : EMU_OK;
    if (w->rt && emu_failed(w->rt)) {
        const emu_violation *v = emu_violation_get(w->rt, 0);
        if (r->ok || !r->why[0])
            snprintf(r->why, sizeof(r->why), "verifier: %s in %s", v->rule, v->call);
        r->ok = 0;
    } else if (err && r->ok) {
        fail(r, "%s: %d", "shutdown", err);
    }
    if (w->rt)
        emu_destroy(w->rt);
    if (w->vn)
        vnet_pci_destroy(w->vn);
    if (w->vf)
        loopnic_destroy(w->vf);
    return err;
}

static int tx_burst(world *w, const bcase *c, unsigned frames, miniprot_burst_result *br)
{
    miniprot_burst b;
    memset(&b, 0, sizeof(b));
    b.frames = frames;
    b.len = c->size;
    b.list = c->list;
    b.inflight = c->cpus == 2 ? 512 : (c->list < 64 ? 64 : c->list);
    memcpy(b.head, k_mac, 6); /* to the peer: any unicast MAC */
    b.head[0] = 0x02;
    memcpy(b.head + 6, k_mac, 6);
    b.head[12] = 0x88;
    b.head[13] = 0xB6;
    return pt_ioctl(w->pt_ctl, IOCTL_MINIPROT_BURST, &b, sizeof(b), br, sizeof(*br));
}

static int pt_stats(world *w, miniprot_stats *st)
{
    return pt_ioctl(w->pt_ctl, IOCTL_MINIPROT_STATS, NULL, 0, st, sizeof(*st));
}

/* Asks the sink for `frames` receives and waits for the stand-in to have
 * them; *ns: from the request to the last indication reaching it. */
static int rx_burst(world *w, const bcase *c, unsigned frames, uint64_t *ns)
{
    miniprot_stats st0, st;
    int err = pt_stats(w, &st0);
    if (err)
        return err;
    uint64_t t0 = emu_now_ns(w->rt);
    if ((err = sink_ctl(w->pt_ctl, MP_SINK_OP_RX, frames, c->size, c->list)))
        return err;
    for (int i = 0; i < 60000; i++) {
        struct timespec ts = { 0, 500 * 1000 };
        nanosleep(&ts, NULL);
        if ((err = pt_stats(w, &st)))
            return err;
        if (st.received >= st0.received + frames) {
            *ns = st.last_rx_ns - t0;
            return st.received == st0.received + frames ? EMU_OK : EMU_ERR_DRIVER;
        }
    }
    return EMU_ERR_TIMEOUT;
}

static void run_case(const bcase *c, bool via_vfo, bool checks, unsigned frames, result *r)
{
    world w;
    memset(&w, 0, sizeof(w));
    memset(r, 0, sizeof(*r));
    r->ok = 1;
    if (c->cpus == 1) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(g_cpu, &set);
        sched_setaffinity(0, sizeof(set), &set);
    }
    int err = world_up(&w, via_vfo, checks, r);
    emu_counters c0, c1;
    if (!err)
        err = sink_ctl(w.pt_ctl, MP_SINK_OP_TX_MODE, c->cpus == 2 ? 1 : 0, 0, 0);
    if (!err)
        err = emu_run_until_idle(w.rt);
    if (err && r->ok)
        fail(r, "%s: %d", "setup", err);
    unsigned warm = frames / 10 < 1000 ? 1000 : frames / 10;
    if (r->ok && !strcmp(c->dir, "tx")) {
        miniprot_burst_result br;
        err = tx_burst(&w, c, warm, &br);
        emu_get_counters(w.rt, &c0);
        if (!err)
            err = tx_burst(&w, c, frames, &br);
        emu_get_counters(w.rt, &c1);
        if (err)
            fail(r, "%s: %d", "burst", err);
        else if (br.sent != frames || br.completed != frames || br.ok != frames)
            snprintf(r->why, sizeof(r->why), "sent %llu, completed %llu, ok %llu of %u", br.sent,
                     br.completed, br.ok, frames),
                r->ok = 0;
        else if (c1.sends - c0.sends != (via_vfo ? 2ull : 1ull) * frames ||
                 c1.send_completes - c0.send_completes != c1.sends - c0.sends)
            snprintf(r->why, sizeof(r->why),
                     "ndisemu saw %llu sends, %llu completions for %u NBLs (not the VF path?)",
                     (unsigned long long)(c1.sends - c0.sends),
                     (unsigned long long)(c1.send_completes - c0.send_completes), frames),
                r->ok = 0;
        r->ns_per_nbl = (double)br.ns / frames;
        r->moved = br.completed;
        r->collected = warm + frames + w.probed;
        r->calls_per_nbl = (double)(c1.ndis_calls - c0.ndis_calls) / frames;
    } else if (r->ok) {
        uint64_t ns = 0;
        err = rx_burst(&w, c, warm, &ns);
        if (!err)
            err = emu_run_until_idle(w.rt);
        emu_get_counters(w.rt, &c0);
        if (!err)
            err = rx_burst(&w, c, frames, &ns);
        if (!err)
            err = emu_run_until_idle(w.rt);
        emu_get_counters(w.rt, &c1);
        uint64_t per = via_vfo ? 2 : 1;
        if (err)
            fail(r, "%s: %d", "receive burst", err);
        else if (c1.receives - c0.receives != per * frames ||
                 c1.returns - c0.returns != per * frames)
            snprintf(r->why, sizeof(r->why),
                     "ndisemu saw %llu indicated, %llu returned for %u NBLs (not the VF path?)",
                     (unsigned long long)(c1.receives - c0.receives),
                     (unsigned long long)(c1.returns - c0.returns), frames),
                r->ok = 0;
        r->ns_per_nbl = (double)ns / frames;
        r->moved = (c1.returns - c0.returns) / per;
        r->collected = warm + frames;
        r->calls_per_nbl = (double)(c1.ndis_calls - c0.ndis_calls) / frames;
    }
    world_down(&w, r);
}

/* Runs one measurement in a child process; its result comes back through
 * a pipe. */
static void run_forked(const bcase *c, bool via_vfo, bool checks, unsigned frames, result *r)
{
    int fd[2];
    memset(r, 0, sizeof(*r));
    if (pipe(fd) != 0) {
        snprintf(r->why, sizeof(r->why), "pipe: %s", strerror(errno));
        return;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        result cr;
        run_case(c, via_vfo, checks, frames, &cr);
        ssize_t n = write(fd[1], &cr, sizeof(cr));
        _exit(n == (ssize_t)sizeof(cr) ? 0 : 1);
    }
    close(fd[1]);
    ssize_t n = pid > 0 ? read(fd[0], r, sizeof(*r)) : -1;
    close(fd[0]);
    int status = 0;
    if (pid > 0)
        waitpid(pid, &status, 0);
    if (n != (ssize_t)sizeof(*r)) {
        memset(r, 0, sizeof(*r));
        snprintf(r->why, sizeof(r->why), "child died (status %#x)", (unsigned)status);
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, unsigned n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int parse_cases(const char *s, bcase *out, unsigned max)
{
    unsigned n = 0;
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", s);
    for (char *tok = strtok(buf, ","); tok && n < max; tok = strtok(NULL, ",")) {
        bcase c;
        memset(&c, 0, sizeof(c));
        if (sscanf(tok, "%2[a-z]/%u/%u/%u", c.dir, &c.size, &c.list, &c.cpus) != 4 ||
            (strcmp(c.dir, "tx") && strcmp(c.dir, "rx")) || c.size < 60 || c.size > 1514 ||
            c.list < 1 || c.list > 64 || c.cpus < 1 || c.cpus > 2 ||
            (c.cpus == 2 && !strcmp(c.dir, "rx")))
            return -1;
        out[n++] = c;
    }
    return (int)n;
}

static void usage(void)
{
    fprintf(stderr, "usage: vfpath_bench [--runs N] [--frames N] [--checks on|off] "
                    "[--case tx|rx/SIZE/LIST/CPUS,...] [--path a|b] [--smoke] [--cpu N]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    unsigned runs = 5, frames = 200000;
    bool checks = false, smoke = false, off_pass = false;
    int path = 0; /* 0: both, forked; 'a' or 'b': in-process */
    const char *cases = "tx/64/1/1,tx/64/32/1,tx/1500/1/1,tx/1500/32/1,tx/64/1/2,tx/64/32/2,"
                        "rx/64/1/1,rx/64/32/1,rx/1500/1/1,rx/1500/32/1";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--runs") && i + 1 < argc)
            runs = (unsigned)bench_parse_count(argv[0], argv[++i]);
        else if (!strcmp(argv[i], "--frames") && i + 1 < argc)
            frames = (unsigned)bench_parse_count(argv[0], argv[++i]);
        else if (!strcmp(argv[i], "--case") && i + 1 < argc)
            cases = argv[++i];
        else if (!strcmp(argv[i], "--checks") && i + 1 < argc)
            checks = !strcmp(argv[++i], "on");
        else if (!strcmp(argv[i], "--path") && i + 1 < argc)
            path = argv[++i][0];
        else if (!strcmp(argv[i], "--cpu") && i + 1 < argc)
            g_cpu = (unsigned)atoi(argv[++i]);
        else if (!strcmp(argv[i], "--smoke"))
            smoke = true;
        else if (!strcmp(argv[i], "--smoke-off")) /* the second half of --smoke */
            smoke = true, checks = false, runs = 1, frames = 2000, off_pass = true;
        else
            usage();
    }
    if (smoke && !off_pass) {
        /* make check: every case kind once, small, with the verifier's
         * checks on, then two with them off (the switch keeps the routing);
         * no timing looked at. */
        runs = 1;
        frames = 2000;
        checks = true;
        cases = "tx/64/1/1,tx/1500/32/2,rx/64/32/1,rx/1500/1/1";
    }
    bcase cs[32];
    int nc = parse_cases(cases, cs, 32);
    if (nc <= 0)
        usage();
    if (path == 'a' || path == 'b') {
        if (nc != 1)
            usage();
        result r;
        run_case(&cs[0], path == 'b', checks, frames, &r);
        if (!r.ok) {
            fprintf(stderr, "vfpath_bench: %s\n", r.why);
            return 1;
        }
        printf("%s/%u/%u/%u (%c), checks %s: %.1f ns/NBL, %.2f NDIS calls/NBL\nmoved %llu NBLs; "
               "with the warm-up "
               "%llu through the measured function\n",
               cs[0].dir, cs[0].size, cs[0].list, cs[0].cpus, path, checks ? "on" : "off",
               r.ns_per_nbl, r.calls_per_nbl, r.moved, r.collected);
        return 0;
    }
    printf("vfpath_bench: (a) stand-in -> VF miniport, (b) stand-in -> vfo -> VF miniport\n"
           "VF miniport: sink_mp; scheduler: real-time; verifier per-call checks: %s\n"
           "%u runs of %u NBLs per cell, (a) and (b) alternating; median [min-max]\n\n",
           checks ? "ON" : "OFF", runs, frames);
    printf("%-4s %5s %4s %4s | %-22s | %-22s | %-22s | %s\n", "dir", "size", "list", "cpus",
           "(a) ns/NBL", "(b) ns/NBL", "(b)-(a) ns/NBL", "NDIS calls/NBL (a) (b)");
    int failed = 0;
    for (int k = 0; k < nc; k++) {
        double va[64], vb[64], vd[64];
        unsigned n = 0;
        double calls_a = 0, calls_b = 0;
        for (unsigned i = 0; i < runs && i < 64; i++) {
            result ra, rb;
            run_forked(&cs[k], false, checks, frames, &ra);
            run_forked(&cs[k], true, checks, frames, &rb);
            if (!ra.ok || !rb.ok) {
                fprintf(stderr, "vfpath_bench: %s/%u/%u/%u: %s%s%s\n", cs[k].dir, cs[k].size,
                        cs[k].list, cs[k].cpus, ra.ok ? "" : ra.why, ra.ok || rb.ok ? "" : "; ",
                        rb.ok ? "" : rb.why);
                failed = 1;
                continue;
            }
            va[n] = ra.ns_per_nbl;
            vb[n] = rb.ns_per_nbl;
            vd[n] = rb.ns_per_nbl - ra.ns_per_nbl;
            calls_a = ra.calls_per_nbl;
            calls_b = rb.calls_per_nbl;
            n++;
        }
        if (n == 0)
            continue;
        char sa[32], sb[32], sd[32];
        double ma = median(va, n), mb = median(vb, n), md = median(vd, n);
        snprintf(sa, sizeof(sa), "%.0f [%.0f-%.0f]", ma, va[0], va[n - 1]);
        snprintf(sb, sizeof(sb), "%.0f [%.0f-%.0f]", mb, vb[0], vb[n - 1]);
        snprintf(sd, sizeof(sd), "%.0f [%.0f-%.0f]", md, vd[0], vd[n - 1]);
        printf("%-4s %5u %4u %4u | %-22s | %-22s | %-22s | %5.2f %5.2f\n", cs[k].dir, cs[k].size,
               cs[k].list, cs[k].cpus, sa, sb, sd, calls_a, calls_b);
        fflush(stdout);
    }
    if (smoke && !failed && checks)
        return main(4,
                    (char *[]){ argv[0], "--case", "tx/64/32/2,rx/64/1/1", "--smoke-off", NULL });
    if (smoke && !failed)
        printf("smoke: every NBL completed or returned, counts match\n");
    return failed;
}
