/*
 * harness.c - the full lifecycle scenario every self-test runs: bind,
 * traffic, OIDs, D3/D0, unbind/rebind through netcfg, surprise removal,
 * re-add, graceful removal. Returns the first failing step's line (0 = ok)
 * so callers can report which step broke for which seed.
 */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

static const uint8_t k_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

uint32_t h_sg_async_pct;
uint64_t h_shared_memory_limit;

int h_start(harness *h, emu_sched_kind kind, uint64_t seed, const char *mp_so, const char *pt_so,
            bool quiet)
{
    memset(h, 0, sizeof(*h));
    h->kind = kind;
    emu_config cfg = {
        .sched = kind,
        .seed = seed,
        .quiet = quiet,
        .sg_async_pct = h_sg_async_pct,
        .shared_memory_limit = h_shared_memory_limit,
    };
    int err = emu_create(&cfg, &h->rt);
    if (err)
        return err;
    if (getenv("H_TRACE"))
        emu_trace(h->rt, EMU_TRACE_TEXT, stderr);
    h->nic = loopnic_create(k_mac);
    if ((err = emu_load_driver(h->rt, mp_so, NULL, &h->mp)))
        return err;
    if ((err = emu_load_driver(h->rt, pt_so, NULL, &h->pt)))
        return err;
    return emu_run_until_idle(h->rt);
}

int h_add_nic(harness *h)
{
    loopnic_device_desc(h->nic, "loopnic0", &h->desc);
    h->desc.service = emu_driver_service(h->mp);
    int err = emu_add_device(h->rt, &h->desc, &h->ad);
    if (err)
        return err;
    err = emu_run_until_idle(h->rt);
    if (err)
        return err;
    if (!h->ctl)
        err = emu_ctl_open(h->rt, MINIPROT_DEVICE, &h->ctl);
    return err;
}

/* Sends n frames back to back without letting the run settle in between. */
static int send_frames(harness *h, unsigned n, unsigned len)
{
    uint8_t frame[1514];
    for (unsigned i = 0; i < n; i++) {
        memset(frame, 0, sizeof(frame));
        memcpy(frame, k_mac, 6);
        memcpy(frame + 6, k_mac, 6);
        frame[12] = 0x88;
        frame[13] = 0xB5; /* local experimental ethertype */
        frame[14] = (uint8_t)i;
        int32_t nt;
        size_t ret;
        int err = emu_ctl_ioctl(h->ctl, IOCTL_MINIPROT_SEND, frame, len, NULL, 0, &ret, &nt);
        if (err)
            return err;
        if (nt != 0)
            return EMU_ERR_DRIVER;
    }
    return EMU_OK;
}

int h_send(harness *h, unsigned n, unsigned len)
{
    int err = send_frames(h, n, len);
    return err ? err : emu_run_until_idle(h->rt);
}

int h_stats(harness *h, miniprot_stats *st)
{
    int32_t nt;
    size_t ret;
    int err = emu_ctl_ioctl(h->ctl, IOCTL_MINIPROT_STATS, NULL, 0, st, sizeof(*st), &ret, &nt);
    return err ? err : (nt == 0 && ret == sizeof(*st)) ? EMU_OK : EMU_ERR_DRIVER;
}

#define STEP(cond)           \
    do {                     \
        if (!(cond))         \
            return __LINE__; \
    } while (0)

/* Frames sent in loopback come back: sent == send_ok == received. */
static int traffic(harness *h, unsigned n, miniprot_stats *before)
{
    miniprot_stats s;
    STEP(h_send(h, n, 60 + n) == EMU_OK);
    STEP(h_stats(h, &s) == EMU_OK);
    STEP(s.send_ok == before->send_ok + n);
    STEP(s.received == before->received + n);
    STEP(s.last_len == 60 + n);
    STEP(s.last_frame[14] == (uint8_t)(n - 1));
    *before = s;
    return 0;
}

int h_shutdown_scenario(harness *h)
{
    STEP(h_add_nic(h) == EMU_OK);
    STEP(send_frames(h, 2, 60) == EMU_OK); /* handed to the NIC, not yet looped */
    int err = emu_system_shutdown(h->rt, false);
    if (err == EMU_OK)
        err = emu_run_for(h->rt, 1000000);
    STEP(err == EMU_OK || emu_failed(h->rt));
    return 0;
}

int h_scenario(harness *h)
{
    miniprot_stats s;
    int r;
    STEP(h_add_nic(h) == EMU_OK);
    STEP(h_stats(h, &s) == EMU_OK && s.bound == 1 && s.restarts == 1);
    STEP(s.global_events == 1); /* NetEventBindsComplete after registration */
    if ((r = traffic(h, 8, &s)))
        return r;

    /* Let a second and a half of virtual time pass while running: the
     * miniport's hang check (every second) gets its turns. (Real time is
     * not waited for: the real-time run would only get slower.) */
    if (h->kind == EMU_SCHED_DETERMINISTIC)
        STEP(emu_run_for(h->rt, 1500ull * 1000 * 1000) == EMU_OK);

    /* OIDs: a query answered synchronously, a set the miniport pends. */
    uint8_t mac[6];
    int32_t nt;
    size_t ret;
    STEP(emu_ctl_ioctl(h->ctl, IOCTL_MINIPROT_QUERY_MAC, NULL, 0, mac, 6, &ret, &nt) == EMU_OK);
    STEP(nt == 0 && ret == 6 && memcmp(mac, k_mac, 6) == 0);
    uint32_t media = ~0u;
    STEP(emu_ctl_ioctl(h->ctl, IOCTL_MINIPROT_QUERY_MEDIA, NULL, 0, &media, 4, &ret, &nt) ==
         EMU_OK);
    STEP(nt == 0 && ret == 4 && media == NdisMediaStateConnected);
    uint32_t filter = NDIS_PACKET_TYPE_DIRECTED | NDIS_PACKET_TYPE_BROADCAST;
    STEP(emu_ctl_ioctl(h->ctl, IOCTL_MINIPROT_SET_FILTER, &filter, 4, NULL, 0, &ret, &nt) ==
         EMU_OK);
    STEP(nt == 0);

    /* D3 and back, with a send still in flight when the pause starts: the
     * protocol's pause must wait for it. */
    uint8_t f0[60] = { 0 };
    STEP(emu_ctl_ioctl(h->ctl, IOCTL_MINIPROT_SEND, f0, 60, NULL, 0, &ret, &nt) == EMU_OK);
    STEP(emu_set_power(h->rt, h->ad, 3) == EMU_OK);
    STEP(strcmp(emu_adapter_state(h->ad), "paused") == 0);
    STEP(emu_set_power(h->rt, h->ad, 0) == EMU_OK);
    STEP(strcmp(emu_adapter_state(h->ad), "running") == 0);
    STEP(h_stats(h, &s) == EMU_OK && s.power_events == 2 && s.pauses == 1 && s.restarts == 2);
    STEP(s.sent == s.send_ok + s.send_failed);
    if ((r = traffic(h, 5, &s)))
        return r;

    /* Unbind and rebind through the netcfg model. */
    STEP(emu_netcfg_set_path(h->rt, "MINIPROT", emu_adapter_id(h->ad), false) == EMU_OK);
    STEP(h_stats(h, &s) == EMU_OK && s.bound == 0 && s.unbinds == 1);
    STEP(emu_ctl_ioctl(h->ctl, IOCTL_MINIPROT_SEND, "x", 1, NULL, 0, &ret, &nt) == EMU_OK);
    STEP(nt != 0); /* nothing bound: the protocol refuses */
    STEP(emu_netcfg_set_path(h->rt, "MINIPROT", emu_adapter_id(h->ad), true) == EMU_OK);
    STEP(h_stats(h, &s) == EMU_OK && s.bound == 1);
    if ((r = traffic(h, 3, &s)))
        return r;

    /* A protocol may veto a graceful removal. */
    uint32_t veto = 1;
    STEP(emu_ctl_ioctl(h->ctl, IOCTL_MINIPROT_VETO, &veto, 4, NULL, 0, &ret, &nt) == EMU_OK);
    STEP(emu_remove_device(h->rt, h->ad) == EMU_ERR_VETOED);
    veto = 0;
    STEP(emu_ctl_ioctl(h->ctl, IOCTL_MINIPROT_VETO, &veto, 4, NULL, 0, &ret, &nt) == EMU_OK);

    /* Surprise removal with sends in flight, then the device comes back. */
    uint8_t frame[64] = { 0 };
    STEP(emu_ctl_ioctl(h->ctl, IOCTL_MINIPROT_SEND, frame, 64, NULL, 0, &ret, &nt) == EMU_OK);
    STEP(emu_surprise_remove(h->rt, h->ad) == EMU_OK);
    STEP(emu_run_until_idle(h->rt) == EMU_OK);
    STEP(h_stats(h, &s) == EMU_OK && s.bound == 0 && s.sent == s.send_ok + s.send_failed);
    STEP(h_add_nic(h) == EMU_OK);
    if ((r = traffic(h, 4, &s)))
        return r;

    STEP(emu_remove_device(h->rt, h->ad) == EMU_OK);
    STEP(h_stats(h, &s) == EMU_OK && s.bound == 0);

    /* The device never saw a descriptor outside a live mapping or a
     * doorbell that moved a ring the wrong way. */
    loopnic_stats ns;
    loopnic_get_stats(h->nic, &ns);
    STEP(ns.dma_errors == 0 && ns.bad_doorbells == 0 && ns.rx_dropped == 0);
    emu_counters c;
    emu_get_counters(h->rt, &c);
    STEP(c.bad_dma == 0);
    return 0;
}

void h_finish(harness *h)
{
    if (h->ctl)
        emu_ctl_close(h->ctl);
    emu_destroy(h->rt);
    loopnic_destroy(h->nic);
}

/* Bursts larger than the rings, with a power-down and a surprise removal
 * landing while frames are in flight. Frames may be refused (full ring,
 * paused, removed) or dropped (no receive buffer), but none is lost or
 * counted twice: every send completes once, every transmitted frame is
 * either received or dropped by the device, nothing is indicated that the
 * device did not receive. */
int h_burst_scenario(harness *h)
{
    const unsigned frames = 100; /* three times a ring */
    miniprot_stats s;
    loopnic_stats ns;
    STEP(h_add_nic(h) == EMU_OK);
    STEP(send_frames(h, frames, 100) == EMU_OK);
    STEP(emu_set_power(h->rt, h->ad, 3) == EMU_OK);
    STEP(emu_set_power(h->rt, h->ad, 0) == EMU_OK);
    STEP(send_frames(h, frames, 200) == EMU_OK);
    STEP(emu_surprise_remove(h->rt, h->ad) == EMU_OK);
    STEP(emu_run_until_idle(h->rt) == EMU_OK);
    STEP(h_add_nic(h) == EMU_OK);
    STEP(h_send(h, frames, 300) == EMU_OK);
    STEP(emu_remove_device(h->rt, h->ad) == EMU_OK);
    STEP(h_stats(h, &s) == EMU_OK && s.bound == 0);
    loopnic_get_stats(h->nic, &ns);
    STEP(s.sent == 3ull * frames && s.sent == s.send_ok + s.send_failed);
    STEP(s.send_ok <= ns.tx_frames && s.send_ok > 0);
    STEP(ns.rx_frames + ns.rx_dropped == ns.tx_frames);
    STEP(s.received <= ns.rx_frames && s.received > 0);
    STEP(ns.dma_errors == 0 && ns.bad_doorbells == 0);
    emu_counters c;
    emu_get_counters(h->rt, &c);
    STEP(c.bad_dma == 0 && c.sends == c.send_completes);
    return 0;
}

static int set_lso(harness *h, ULONG version)
{
    int32_t nt;
    size_t ret;
    int err = emu_ctl_ioctl(h->ctl, IOCTL_MINIPROT_SET_LSO, &version, sizeof(version), NULL, 0,
                            &ret, &nt);
    return err ? err : nt ? EMU_ERR_DRIVER : EMU_OK;
}

static void removal_done(void *ctx, int status)
{
    __atomic_store_n((int *)ctx, status == EMU_OK ? 1 : 2, __ATOMIC_SEQ_CST);
}

uint64_t h_sends_refused;

/* Real time: LSOv2 sends from this thread while the adapter is surprise-
 * removed on a worker. Those that reach NDIS after the removal and before
 * the binding's pause NDIS fails itself (NDIS_STATUS_PAUSED); the miniport
 * never saw them, so they carry no LSO completion information of its. Adds
 * how many there were to h_sends_refused. */
int h_lso_surprise_scenario(harness *h)
{
    uint8_t frame[600];
    memset(frame, 0, sizeof(frame));
    memcpy(frame, k_mac, 6);
    memcpy(frame + 6, k_mac, 6);
    frame[12] = 0x08; /* IPv4 */
    frame[14] = 0x45;
    frame[23] = 6; /* TCP */
    frame[MINIPROT_LSO_TCP_OFFSET + 12] = 0x50;
    STEP(h_add_nic(h) == EMU_OK);
    STEP(set_lso(h, 2) == EMU_OK);
    int done = 0;
    STEP(emu_request_remove(h->rt, h->ad, true, removal_done, &done) == EMU_OK);
    while (!__atomic_load_n(&done, __ATOMIC_SEQ_CST)) {
        int32_t nt;
        size_t ret;
        STEP(emu_ctl_ioctl(h->ctl, IOCTL_MINIPROT_SEND, frame, sizeof(frame), NULL, 0, &ret, &nt) ==
             EMU_OK);
        STEP(!emu_failed(h->rt));
    }
    STEP(done == 1);
    STEP(emu_run_until_idle(h->rt) == EMU_OK);
    miniprot_stats s;
    STEP(h_stats(h, &s) == EMU_OK && s.sent == s.send_ok + s.send_failed);
    emu_counters c;
    emu_get_counters(h->rt, &c);
    STEP(c.sends == c.send_completes);
    h_sends_refused += c.sends_refused;
    return 0;
}

/* IPv4/TCP frames of 600 bytes (a 20-byte TCP header at 34) as large sends:
 * the miniport completes each with the information its LSO type asks for. */
int h_lso_scenario(harness *h)
{
    uint8_t frame[600];
    memset(frame, 0, sizeof(frame));
    memcpy(frame, k_mac, 6);
    memcpy(frame + 6, k_mac, 6);
    frame[12] = 0x08; /* IPv4 */
    frame[14] = 0x45;
    frame[23] = 6; /* TCP */
    frame[MINIPROT_LSO_TCP_OFFSET + 12] = 0x50;
    STEP(h_add_nic(h) == EMU_OK);
    for (ULONG v = 2; v >= 1; v--) {
        STEP(set_lso(h, v) == EMU_OK);
        for (unsigned i = 0; i < 3; i++) {
            int32_t nt;
            size_t ret;
            STEP(emu_ctl_ioctl(h->ctl, IOCTL_MINIPROT_SEND, frame, sizeof(frame), NULL, 0, &ret,
                               &nt) == EMU_OK &&
                 nt == 0);
        }
        STEP(emu_run_until_idle(h->rt) == EMU_OK);
    }
    STEP(set_lso(h, 0) == EMU_OK);
    miniprot_stats s;
    STEP(h_stats(h, &s) == EMU_OK && s.send_ok == 6);
    STEP(emu_remove_device(h->rt, h->ad) == EMU_OK);
    return 0;
}

/* A send every second for 40 s of virtual time, each one given a second to
 * complete: a miniport that keeps one of them while completing the others
 * never goes 22 s without a completion, but holds that one past 30 s. */
int h_steady_scenario(harness *h)
{
    STEP(h_add_nic(h) == EMU_OK);
    for (unsigned i = 0; i < 40; i++) {
        STEP(send_frames(h, 1, 60) == EMU_OK);
        STEP(emu_run_for(h->rt, 1000ull * 1000 * 1000) == EMU_OK);
    }
    miniprot_stats s;
    STEP(h_stats(h, &s) == EMU_OK && s.sent == 40 && s.send_ok == 40);
    STEP(emu_remove_device(h->rt, h->ad) == EMU_OK);
    return 0;
}

/* The NIC stops moving frames under a trickle of sends from the
 * protocol's timer (10 ms apart, 4 s): the hang check sees it, NDIS resets
 * the miniport (2.5 s, pended), the protocol refuses sends from
 * RESET_START to RESET_END, and every frame it did send completes or fails
 * back to it: the ones stuck in the ring fail as the reset begins. */
int h_reset_scenario(harness *h)
{
    STEP(h_add_nic(h) == EMU_OK);
    STEP(h_send(h, 4, 60) == EMU_OK);
    loopnic_fault(h->nic);
    miniprot_trickle t = { .frames = 400, .period_ms = 10 };
    memcpy(t.head, k_mac, 6);
    memcpy(t.head + 6, k_mac, 6);
    t.head[12] = 0x88;
    t.head[13] = 0xB5;
    size_t ret;
    int32_t nt;
    STEP(emu_ctl_ioctl(h->ctl, IOCTL_MINIPROT_TRICKLE, &t, sizeof(t), NULL, 0, &ret, &nt) ==
             EMU_OK &&
         nt == 0);
    STEP(emu_run_for(h->rt, 5ull * 1000 * 1000 * 1000) == EMU_OK);
    STEP(emu_run_until_idle(h->rt) == EMU_OK);
    emu_counters c;
    emu_get_counters(h->rt, &c);
    miniprot_stats s;
    STEP(h_stats(h, &s) == EMU_OK);
    STEP(c.resets == 1 && s.resets == 1);
    /* 2.5 s of reset, a send every 10 ms */
    STEP(s.send_refused >= 249 && s.send_refused <= 251);
    STEP(s.sent + s.send_refused == 404 && s.send_ok + s.send_failed == s.sent);
    STEP(emu_remove_device(h->rt, h->ad) == EMU_OK);
    return 0;
}

int h_run_clean(emu_sched_kind kind, uint64_t seed, int (*scenario)(harness *h))
{
    harness h;
    int err = h_start(&h, kind, seed, MINIMP_SO, MINIPROT_SO, false);
    if (!h.rt) {
        fprintf(stderr, "emu_create: %s\n", emu_strerror(err));
        return -1;
    }
    int line = err ? 0 : scenario(&h);
    if (!err && !line) {
        emu_ctl_close(h.ctl);
        h.ctl = NULL;
        err = emu_shutdown(h.rt);
    }
    const emu_violation *v = emu_violation_get(h.rt, 0);
    bool clean = !err && !line && !v;
    if (!clean)
        fprintf(stderr, "seed %llu: %s (step at harness.c:%d); violation: %s %s %s\n",
                (unsigned long long)seed, emu_strerror(err), line, v ? v->rule : "-",
                v ? v->call : "", v ? v->detail : "");
    h_finish(&h);
    return clean ? 0 : line ? line : -1;
}
