/*
 * harness_filter.c - the self-test drivers with a lightweight filter (passflt
 * or one of its broken variants) stacked between the miniport and the
 * protocol. Each scenario returns the failing step's line (0 = ok).
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "passflt.h"

#define STEP(cond)           \
    do {                     \
        if (!(cond))         \
            return __LINE__; \
    } while (0)

int h_start_filtered(harness *h, emu_sched_kind kind, uint64_t seed, const char *flt_so,
                     const char *flt_desc, bool quiet)
{
    int err = h_start(h, kind, seed, MINIMP_SO, MINIPROT_SO, quiet);
    if (err)
        return err;
    if ((err = emu_load_driver(h->rt, flt_so, flt_desc, &h->flt)))
        return err;
    return emu_run_until_idle(h->rt);
}

const char *h_passflt_desc(const char *service, const char *runtype, unsigned hold_ms,
                           unsigned pend_oid_ms, bool fail_attach, bool bypass_receive)
{
    static char path[256];
    snprintf(path, sizeof(path), "/tmp/ndisemu-%s-%d.desc", service, (int)getpid());
    FILE *f = fopen(path, "w");
    if (!f)
        return NULL;
    fprintf(f,
            "service = %s\n[filter]\nclass = custom\ntype = modifying\nruntype = %s\n"
            "media = ethernet\n[registry]\nHoldNblMs = %u\nPendOidMs = %u\nFailAttach = %d\n"
            "BypassReceive = %d\n",
            service, runtype, hold_ms, pend_oid_ms, fail_attach, bypass_receive);
    fclose(f);
    return path;
}

int h_filter_stats(harness *h, passflt_stats *out)
{
    emu_ctl *c;
    int err = emu_ctl_open(h->rt, PASSFLT_DEVICE, &c);
    if (err)
        return err;
    int32_t nt;
    size_t ret;
    err = emu_ctl_ioctl(c, IOCTL_PASSFLT_STATS, NULL, 0, out, sizeof(*out), &ret, &nt);
    emu_ctl_close(c);
    return err ? err : (nt == 0 && ret == sizeof(*out)) ? EMU_OK : EMU_ERR_DRIVER;
}

static int send_n(harness *h, unsigned n)
{
    uint8_t frame[60];
    for (unsigned i = 0; i < n; i++) {
        memset(frame, 0, sizeof(frame));
        frame[0] = 0x02;
        frame[6] = 0x02;
        frame[12] = 0x88;
        frame[13] = 0xB5;
        frame[14] = (uint8_t)i;
        int32_t nt;
        size_t ret;
        int err =
            emu_ctl_ioctl(h->ctl, IOCTL_MINIPROT_SEND, frame, sizeof(frame), NULL, 0, &ret, &nt);
        if (err || nt != 0)
            return err ? err : EMU_ERR_DRIVER;
    }
    return EMU_OK;
}

/* n frames out and back (loopback), every one delivered once. */
static int traffic(harness *h, unsigned n)
{
    miniprot_stats a, b;
    STEP(h_stats(h, &a) == EMU_OK);
    STEP(send_n(h, n) == EMU_OK);
    STEP(emu_run_until_idle(h->rt) == EMU_OK);
    STEP(h_stats(h, &b) == EMU_OK);
    STEP(b.send_ok == a.send_ok + n && b.received == a.received + n);
    return 0;
}

static int stack_depth(harness *h)
{
    const char *names[4];
    return emu_filter_stack(h->rt, h->ad, names, 4);
}

int h_filter_scenario(harness *h)
{
    miniprot_stats s, s2;
    passflt_stats f, f2;
    int r;
    const char *flt = emu_driver_service(h->flt);
    STEP(h_add_nic(h) == EMU_OK);
    STEP(h_stats(h, &s) == EMU_OK && s.bound == 1 && s.restarts == 1);
    STEP(stack_depth(h) == 1);
    if ((r = traffic(h, 8)))
        return r;

    /* An OID through the filter (a clone goes down, the original completes). */
    int32_t nt;
    size_t ret;
    uint32_t pf = NDIS_PACKET_TYPE_DIRECTED | NDIS_PACKET_TYPE_BROADCAST;
    STEP(emu_ctl_ioctl(h->ctl, IOCTL_MINIPROT_SET_FILTER, &pf, 4, NULL, 0, &ret, &nt) == EMU_OK);
    STEP(nt == 0);
    uint8_t mac[6];
    STEP(emu_ctl_ioctl(h->ctl, IOCTL_MINIPROT_QUERY_MAC, NULL, 0, mac, 6, &ret, &nt) == EMU_OK);
    STEP(nt == 0 && ret == 6 && mac[0] == 0x02);

    /* The stack restarts while receives may sit in the filter: its pause
     * gives them back first. */
    STEP(send_n(h, 3) == EMU_OK);
    if (h->kind == EMU_SCHED_DETERMINISTIC)
        STEP(emu_run_for(h->rt, 1000000) == EMU_OK);
    STEP(h_stats(h, &s) == EMU_OK);
    STEP(emu_restart_stack(h->rt, h->ad) == EMU_OK);
    STEP(emu_run_until_idle(h->rt) == EMU_OK);
    STEP(h_stats(h, &s2) == EMU_OK && s2.pauses == s.pauses + 1 && s2.restarts == s.restarts + 1);
    if ((r = traffic(h, 4)))
        return r;

    /* Detach at run time: the protocol is paused and restarted around it,
     * and traffic goes on without the filter. */
    STEP(h_filter_stats(h, &f) == EMU_OK && f.modules == 1);
    STEP(h_stats(h, &s) == EMU_OK);
    STEP(emu_filter_set_path(h->rt, flt, "loopnic0", false) == EMU_OK);
    STEP(stack_depth(h) == 0);
    STEP(h_stats(h, &s2) == EMU_OK && s2.bound == 1 && s2.pauses == s.pauses + 1 &&
         s2.restarts == s.restarts + 1 && s2.unbinds == s.unbinds);
    STEP(h_filter_stats(h, &f2) == EMU_OK && f2.modules == 0 && f2.detaches == f.detaches + 1);
    if ((r = traffic(h, 5)))
        return r;
    STEP(h_filter_stats(h, &f) == EMU_OK && f.tx_passed == f2.tx_passed);

    /* ...and attach again. */
    STEP(emu_filter_set_path(h->rt, flt, "loopnic0", true) == EMU_OK);
    STEP(stack_depth(h) == 1);
    if ((r = traffic(h, 5)))
        return r;
    STEP(h_filter_stats(h, &f2) == EMU_OK && f2.modules == 1 && f2.tx_passed >= f.tx_passed + 5);

    /* D3 and back: the filter pauses between the protocol and the
     * miniport and passes NetEventSetPower up. */
    STEP(emu_set_power(h->rt, h->ad, 3) == EMU_OK);
    STEP(emu_set_power(h->rt, h->ad, 0) == EMU_OK);
    STEP(h_filter_stats(h, &f) == EMU_OK && f.net_pnp == f2.net_pnp + 2);
    STEP(h_stats(h, &s) == EMU_OK && s.power_events >= 2);
    if ((r = traffic(h, 3)))
        return r;

    STEP(emu_remove_device(h->rt, h->ad) == EMU_OK);
    STEP(h_filter_stats(h, &f) == EMU_OK && f.modules == 0);
    emu_counters c;
    emu_get_counters(h->rt, &c);
    STEP(c.bad_dma == 0 && c.sends == c.send_completes);
    return 0;
}

int h_run_clean_filtered(emu_sched_kind kind, uint64_t seed, const char *flt_so,
                         const char *flt_desc, int (*scenario)(harness *h))
{
    harness h;
    int err = h_start_filtered(&h, kind, seed, flt_so, flt_desc, false);
    if (!h.rt) {
        fprintf(stderr, "emu_create: %s\n", emu_strerror(err));
        return -1;
    }
    int line = err ? 0 : scenario(&h);
    if (!err && !line) {
        if (h.ctl)
            emu_ctl_close(h.ctl);
        h.ctl = NULL;
        err = emu_shutdown(h.rt);
    }
    const emu_violation *v = emu_violation_get(h.rt, 0);
    bool clean = !err && !line && !v;
    if (!clean)
        fprintf(stderr, "seed %llu: %s (step at line %d); violation: %s %s %s\n",
                (unsigned long long)seed, emu_strerror(err), line, v ? v->rule : "-",
                v ? v->call : "", v ? v->detail : "");
    h_finish(&h);
    return clean ? 0 : line ? line : -1;
}
