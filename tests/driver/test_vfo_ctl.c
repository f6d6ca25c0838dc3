/*
 * test_vfo_ctl.c - vfo.sys's control device (driver/include/vfo_ctl.h) as a
 * client sees it: every buffer rule refused with its status and counted, the
 * change notification (immediate, pended, cancelled at close, bounded), the
 * announcement the host asks for after a migration, the device's malformed
 * input counted per kind, and an IRP-cancel storm.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vfo_world.h"

#define ST_INVALID_BUFFER_SIZE    ((int32_t)0xC0000206)
#define ST_REVISION_MISMATCH      ((int32_t)0xC0000059)
#define ST_INVALID_PARAMETER      ((int32_t)0xC000000D)
#define ST_INVALID_DEVICE_REQUEST ((int32_t)0xC0000010)
#define ST_CANCELLED              ((int32_t)0xC0000120)
#define ST_DEVICE_BUSY            ((int32_t)0x80000011)

static vfo_world g_w;

static int32_t ioctl_status(emu_ctl *h, uint32_t code, const void *in, size_t in_len,
                            size_t out_len, size_t *ret)
{
    static uint8_t out[sizeof(struct vfo_ctl_pairs) + 64];
    int32_t nt = 0;
    assert_true(out_len <= sizeof(out));
    memset(out, 0xA5, sizeof(out));
    assert_int_equal(emu_ctl_ioctl(h, code, in, in_len, out, out_len, ret, &nt), EMU_OK);
    return nt;
}

static uint64_t bad_requests(void)
{
    struct vfo_ctl_pairs p;
    assert_int_equal(vw_pairs(&g_w, &p), EMU_OK);
    return p.bad_requests;
}

static void buffer_rules(void **state)
{
    (void)state;
    vfo_world *w = &g_w;
    size_t ret = 99;
    struct vfo_ctl_version v;
    int32_t nt;
    assert_int_equal(vw_start(w, 1), EMU_OK);
    assert_int_equal(vw_add_virtio(w, 0, NULL, NULL), EMU_OK);

    assert_int_equal(
        emu_ctl_ioctl(vw_ctl(w), IOCTL_VFO_QUERY_VERSION, NULL, 0, &v, sizeof(v), &ret, &nt),
        EMU_OK);
    assert_int_equal(nt, 0);
    assert_int_equal(vfo_ctl_check_version_reply(&v, (uint32_t)ret), VFO_CTL_CHECK_OK);

    uint64_t bad = bad_requests();
    struct vfo_ctl_request rq = { VFO_CTL_ABI_VERSION, sizeof(rq), 0 };
    /* sizes must be exact; nothing is written */
    assert_int_equal(ioctl_status(vw_ctl(w), IOCTL_VFO_QUERY_VERSION, NULL, 0, sizeof(v) + 8, &ret),
                     ST_INVALID_BUFFER_SIZE);
    assert_int_equal(ret, 0);
    assert_int_equal(ioctl_status(vw_ctl(w), IOCTL_VFO_QUERY_VERSION, &rq, 4, sizeof(v), &ret),
                     ST_INVALID_BUFFER_SIZE);
    assert_int_equal(ioctl_status(vw_ctl(w), IOCTL_VFO_QUERY_PAIRS, &rq, sizeof(rq) - 1,
                                  sizeof(struct vfo_ctl_pairs), &ret),
                     ST_INVALID_BUFFER_SIZE);
    assert_int_equal(ioctl_status(vw_ctl(w), IOCTL_VFO_QUERY_PAIRS, &rq, sizeof(rq), 100, &ret),
                     ST_INVALID_BUFFER_SIZE);
    /* version, reserved, code */
    struct vfo_ctl_request old = { VFO_CTL_ABI_VERSION + 1, sizeof(rq), 0 };
    assert_int_equal(ioctl_status(vw_ctl(w), IOCTL_VFO_QUERY_PAIRS, &old, sizeof(old),
                                  sizeof(struct vfo_ctl_pairs), &ret),
                     ST_REVISION_MISMATCH);
    struct vfo_ctl_request res = { VFO_CTL_ABI_VERSION, sizeof(rq), 1 };
    assert_int_equal(ioctl_status(vw_ctl(w), IOCTL_VFO_QUERY_PAIRS, &res, sizeof(res),
                                  sizeof(struct vfo_ctl_pairs), &ret),
                     ST_INVALID_PARAMETER);
    assert_int_equal(ioctl_status(vw_ctl(w), VFO_CTL_CODE(0x8FFu), NULL, 0, 0, &ret),
                     ST_INVALID_DEVICE_REQUEST);
    assert_int_equal(bad_requests(), bad + 7);
    assert_int_equal(vw_finish(w), EMU_OK);
    vw_destroy(w);
}

static struct vfo_ctl_device_errors device_errors(vfo_world *w)
{
    struct vfo_ctl_request rq = { VFO_CTL_ABI_VERSION, sizeof(rq), 0 };
    static struct vfo_ctl_devices d;
    size_t ret = 0;
    int32_t nt = -1;
    assert_int_equal(emu_ctl_ioctl(vw_ctl(w), IOCTL_VFO_QUERY_DEVICES, &rq, sizeof(rq), &d,
                                   sizeof(d), &ret, &nt),
                     EMU_OK);
    assert_int_equal(nt, 0);
    assert_int_equal(vfo_ctl_check_devices_reply(&d, (uint32_t)ret), VFO_CTL_CHECK_OK);
    assert_int_equal(d.adapter_count, 1);
    return d.adapters[0].errors;
}

/* Malformed input from the virtio device is counted per kind on the control
 * device (IOCTL_VFO_QUERY_DEVICES), with the recovery it cost: a used entry
 * naming a descriptor out of range, a used index that jumps, configuration
 * that cannot be read (its generation never settles). */
static void device_errors_counted(void **state)
{
    (void)state;
    vfo_world *w = &g_w;
    miniprot_stats st;
    size_t ret = 0;
    assert_int_equal(vw_start(w, 5), EMU_OK);
    assert_int_equal(vw_add_virtio(w, 0, NULL, NULL), EMU_OK);
    emu_vdev *vdev = emu_vnet_vdev(w->vn[0]->dev);
    struct vfo_ctl_device_errors e = device_errors(w);
    assert_int_equal(e.used_id_range + e.used_idx_jump + e.config_read_failures + e.device_resets,
                     0);
    struct vfo_ctl_request rq = { VFO_CTL_ABI_VERSION, sizeof(rq), 0 };
    assert_int_equal(ioctl_status(vw_ctl(w), IOCTL_VFO_QUERY_DEVICES, &rq, sizeof(rq),
                                  sizeof(struct vfo_ctl_devices) - 8, &ret),
                     ST_INVALID_BUFFER_SIZE);

    /* Frames loop back into the receive ring, whose next used entry names
     * descriptor 9999. */
    emu_vdev_inject_fault(vdev, EMU_VDEV_FAULT_USED_ID, EMU_VNET_QUEUE_RX, 9999, 1);
    assert_int_equal(vw_pt_send(w, 2, 100, true), EMU_OK);
    e = device_errors(w);
    assert_int_equal(e.used_id_range, 1);
    assert_int_equal(e.device_resets, 1);

    emu_vdev_inject_fault(vdev, EMU_VDEV_FAULT_USED_IDX_JUMP, EMU_VNET_QUEUE_RX, 500, 1);
    assert_int_equal(vw_pt_send(w, 2, 100, true), EMU_OK);
    e = device_errors(w);
    assert_int_equal(e.used_idx_jump, 1);
    assert_int_equal(e.device_resets, 2);

    /* A configuration change whose reads never see a stable generation. */
    uint64_t failures = e.config_read_failures;
    emu_vdev_inject_fault(vdev, EMU_VDEV_FAULT_CONFIG_CHURN, 0, 0, EMU_VDEV_FOREVER);
    emu_vnet_set_link(w->vn[0]->dev, false);
    assert_int_equal(emu_run_until_idle(w->rt), EMU_OK);
    emu_vdev_inject_fault(vdev, EMU_VDEV_FAULT_CONFIG_CHURN, 0, 0, 0);
    e = device_errors(w);
    assert_true(e.config_read_failures > failures);
    assert_int_equal(e.device_resets, 2);

    /* Still working: frames go out and come back. */
    emu_vnet_set_link(w->vn[0]->dev, true);
    assert_int_equal(emu_run_until_idle(w->rt), EMU_OK);
    assert_int_equal(vw_pt_stats(w, &st), EMU_OK);
    uint64_t ok = st.send_ok;
    assert_int_equal(vw_pt_send(w, 3, 100, true), EMU_OK);
    assert_int_equal(vw_pt_stats(w, &st), EMU_OK);
    assert_int_equal(st.send_ok, ok + 3);
    assert_int_equal(vw_finish(w), EMU_OK);
    vw_destroy(w);
}

typedef struct waiter {
    int calls;
    int32_t status;
    struct vfo_ctl_wait reply;
    size_t returned;
} waiter;

/* VFO_CTL_SDDL: SYSTEM and Administrators only; an ordinary user's
 * CreateFile fails before any IRP reaches vfo. */
static void only_admins_open(void **state)
{
    (void)state;
    vfo_world *w = &g_w;
    emu_ctl *h = NULL;
    assert_int_equal(vw_start(w, 4), EMU_OK);
    assert_int_equal(vw_add_virtio(w, 0, NULL, NULL), EMU_OK);
    assert_int_equal(emu_ctl_open_as(w->rt, "vfo", EMU_CALLER_USER, &h), EMU_ERR_ACCESS);
    assert_null(h);
    assert_int_equal(emu_ctl_open_as(w->rt, "vfo", EMU_CALLER_SYSTEM, &h), EMU_OK);
    emu_ctl_close(h);
    assert_int_equal(emu_ctl_open_as(w->rt, "vfo", EMU_CALLER_ADMIN, &h), EMU_OK);
    emu_ctl_close(h);
    /* The test protocol's device gives no DefaultSDDLString: open to all. */
    assert_int_equal(emu_ctl_open_as(w->rt, MINIPROT_DEVICE, EMU_CALLER_USER, &h), EMU_OK);
    emu_ctl_close(h);
    assert_int_equal(vw_finish(w), EMU_OK);
}

static void wait_done(void *ctx, int32_t ntstatus, const void *out, size_t returned)
{
    waiter *wt = ctx;
    wt->calls++;
    wt->status = ntstatus;
    wt->returned = returned;
    if (out && returned <= sizeof(wt->reply))
        memcpy(&wt->reply, out, returned);
}

static void start_wait(emu_ctl *h, uint64_t gen, waiter *wt)
{
    struct vfo_ctl_wait in = { VFO_CTL_ABI_VERSION, sizeof(in), gen };
    memset(wt, 0, sizeof(*wt));
    assert_int_equal(
        emu_ctl_ioctl_async(h, IOCTL_VFO_WAIT_CHANGE, &in, sizeof(in), sizeof(in), wait_done, wt),
        EMU_OK);
}

static void wait_change(void **state)
{
    (void)state;
    vfo_world *w = &g_w;
    struct vfo_ctl_pairs p;
    waiter first, stale, extra, more[VFO_CTL_MAX_WAITERS];
    uint8_t mac[6];
    vw_mac(0, mac);
    assert_int_equal(vw_start(w, 2), EMU_OK);
    assert_int_equal(vw_add_virtio(w, 0, NULL, NULL), EMU_OK);
    assert_int_equal(vw_pairs(w, &p), EMU_OK);
    uint64_t gen = p.generation;

    /* A caller that knows an old generation is answered at once. */
    start_wait(vw_ctl(w), gen - 1, &stale);
    assert_int_equal(stale.calls, 1);
    assert_int_equal(stale.status, 0);
    assert_int_equal(vfo_ctl_check_wait_reply(&stale.reply, (uint32_t)stale.returned),
                     VFO_CTL_CHECK_OK);
    assert_int_equal(stale.reply.generation, gen);

    /* One that knows the current one waits for the VF to pair. */
    start_wait(vw_ctl(w), gen, &first);
    assert_int_equal(emu_run_until_idle(w->rt), EMU_OK);
    assert_int_equal(first.calls, 0);
    assert_int_equal(vw_add_vf(w, 0, mac), EMU_OK);
    assert_int_equal(first.calls, 1);
    assert_int_equal(first.status, 0);
    assert_true(first.reply.generation > gen);

    /* Closing a handle ends its own waits only (IRP_MJ_CLEANUP comes per
     * file object): the service's wait survives another program's close. */
    emu_ctl *other;
    waiter mine, theirs;
    assert_int_equal(vw_pairs(w, &p), EMU_OK);
    assert_int_equal(emu_ctl_open(w->rt, "vfo", &other), EMU_OK);
    start_wait(vw_ctl(w), p.generation, &mine);
    start_wait(other, p.generation, &theirs);
    emu_ctl_close(other);
    assert_int_equal(theirs.calls, 1);
    assert_int_equal(theirs.status, ST_CANCELLED);
    assert_int_equal(emu_run_until_idle(w->rt), EMU_OK);
    assert_int_equal(mine.calls, 0);

    /* At most VFO_CTL_MAX_WAITERS pend (the one above included); all end
     * cancelled at close. */
    for (unsigned i = 0; i + 1 < VFO_CTL_MAX_WAITERS; i++)
        start_wait(vw_ctl(w), p.generation, &more[i]);
    start_wait(vw_ctl(w), p.generation, &extra);
    assert_int_equal(extra.calls, 1);
    assert_int_equal(extra.status, ST_DEVICE_BUSY);
    emu_ctl_close(w->ctl);
    w->ctl = NULL;
    assert_int_equal(mine.calls, 1);
    assert_int_equal(mine.status, ST_CANCELLED);
    for (unsigned i = 0; i + 1 < VFO_CTL_MAX_WAITERS; i++) {
        assert_int_equal(more[i].calls, 1);
        assert_int_equal(more[i].status, ST_CANCELLED);
    }
    assert_int_equal(vw_finish(w), EMU_OK);
    vw_destroy(w);
}

/* After a migration the host sets ANNOUNCE: vfo announces the MAC on
 * virtio (a RARP while it knows no address) and acknowledges. */
static void announce_after_migration(void **state)
{
    (void)state;
    vfo_world *w = &g_w;
    struct vfo_ctl_pairs p;
    uint8_t mac[6];
    vw_mac(0, mac);
    assert_int_equal(vw_start(w, 3), EMU_OK);
    assert_int_equal(vw_add_virtio(w, 0, NULL, NULL), EMU_OK);
    uint64_t before = w->vn[0]->tx_frames;
    assert_true(emu_vnet_announce(w->vn[0]->dev));
    assert_int_equal(emu_run_until_idle(w->rt), EMU_OK);
    assert_int_equal(vw_pairs(w, &p), EMU_OK);
    assert_int_equal(p.adapters[0].counters.announces, 3); /* the default train */
    assert_int_equal(w->vn[0]->tx_frames - before, 3);
    assert_int_equal(w->vn[0]->last_tx[12], 0x80); /* RARP, ethertype 0x8035 */
    assert_int_equal(w->vn[0]->last_tx[13], 0x35);
    assert_memory_equal(w->vn[0]->last_tx + 6, mac, 6);
    assert_false(emu_vnet_announce_pending(w->vn[0]->dev)); /* acknowledged */
    assert_int_equal(vw_finish(w), EMU_OK);
    vw_destroy(w);
}

typedef struct frames_wait {
    vfo_world *w;
    uint64_t frames, until_ns;
} frames_wait;

static bool frames_reached(void *ctx)
{
    frames_wait *f = ctx;
    return f->w->vn[0]->tx_frames >= f->frames;
}

static bool time_reached(void *ctx)
{
    frames_wait *f = ctx;
    return emu_now_ns(f->w->rt) >= f->until_ns;
}

/* A second ANNOUNCE lands the instant the first train's timer is due (its
 * next frame, 50 ms after the first): `early` ns before, the few
 * microseconds the device's ANNOUNCE takes to reach vfo's announcement
 * code. When vfo's new train sets the timer before the due expiry ran, the
 * seed may decide that expiry's DPC was already queued (ndisemu, as a
 * multiprocessor Windows): NdisSetTimerObject misses it and its callback
 * runs after the new train started. It belongs to the old train; with one
 * context per timer it read the new train's token and sent its next frame
 * at once, so the train ended 100 ms early. The new train must keep its
 * offsets (0, 50, 150 ms): its last frame goes out 150 ms after it began.
 * Before the fix seed 4 with `early` 1000 ns ended the train at 50 ms. */
static void announce_twice(uint64_t seed, uint64_t early)
{
    vfo_world *w = &g_w;
    assert_int_equal(vw_start(w, seed), EMU_OK);
    assert_int_equal(vw_add_virtio(w, 0, NULL, NULL), EMU_OK);
    frames_wait f = { .w = w, .frames = w->vn[0]->tx_frames + 1 };
    assert_true(emu_vnet_announce(w->vn[0]->dev));
    assert_int_equal(emu_run_for_until(w->rt, 1000000000ull, frames_reached, &f), EMU_OK);
    assert_int_equal(w->vn[0]->tx_frames, f.frames); /* the first train's first frame */
    uint64_t due = emu_now_ns(w->rt) + 50000000ull;  /* its timer is due */
    f.until_ns = due - early;
    assert_int_equal(emu_run_for_until(w->rt, 1000000000ull, time_reached, &f), EMU_OK);
    assert_true(emu_vnet_announce(w->vn[0]->dev));
    f.until_ns = due + 149000000ull;
    assert_int_equal(emu_run_for_until(w->rt, 1000000000ull, time_reached, &f), EMU_OK);
    uint64_t before_last = w->vn[0]->tx_frames;
    assert_int_equal(emu_run_until_idle(w->rt), EMU_OK);
    assert_true(w->vn[0]->tx_frames > before_last); /* the new train's last frame */
    assert_int_equal(vw_finish(w), EMU_OK);
    vw_destroy(w);
}

static void stale_announce_timer_callback_keeps_the_train(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 8; seed++) {
        for (uint64_t early = 0; early <= 4000; early += 500)
            announce_twice(seed, early);
    }
}

/* ---- IRP-cancel storm -------------------------------------------------------
 * Three programs keep a WAIT_CHANGE pending each while the VF comes and goes
 * (every pairing and detach moves the generation and wakes the waits); the
 * seeded scheduler places CancelIoEx calls among those wake-ups, and the
 * waits are re-armed as programs do. At the end one program exits with a
 * wait pending (the I/O manager cancels it and waits for it), the others
 * close their handles. Every wait must complete exactly once, as success
 * or cancelled, and nothing may be left pending: a lost one hangs the
 * program's exit (rule CancelledIrpNotCompleted) or its close. */

#define STORM_PROGRAMS 3

typedef struct storm_prog {
    emu_ctl *h;
    struct storm *st;
    uint64_t gen;
    unsigned sent, completed, cancelled;
    bool rearm;
} storm_prog;

typedef struct storm {
    vfo_world *w;
    uint64_t rng;
    storm_prog prog[STORM_PROGRAMS];
    unsigned ticks_left; /* a bounded chain: runs until idle must end */
} storm;

static uint64_t storm_rand(storm *s)
{
    s->rng = s->rng * 6364136223846793005ull + 1442695040888963407ull;
    return s->rng >> 33;
}

static void storm_done(void *ctx, int32_t ntstatus, const void *out, size_t returned)
{
    storm_prog *pg = ctx;
    pg->completed++;
    if (ntstatus == ST_CANCELLED) {
        pg->cancelled++;
    } else {
        assert_int_equal(ntstatus, 0);
        assert_int_equal(returned, sizeof(struct vfo_ctl_wait));
        pg->gen = ((const struct vfo_ctl_wait *)out)->generation;
    }
    pg->rearm = true; /* from platform work: not inside the driver's completion */
}

static void storm_arm(storm_prog *pg)
{
    struct vfo_ctl_wait in = { VFO_CTL_ABI_VERSION, sizeof(in), pg->gen };
    pg->sent++;
    assert_int_equal(emu_ctl_ioctl_async(pg->h, IOCTL_VFO_WAIT_CHANGE, &in, sizeof(in), sizeof(in),
                                         storm_done, pg),
                     EMU_OK);
}

static void storm_tick(void *arg)
{
    storm *s = arg;
    if (s->ticks_left == 0)
        return;
    s->ticks_left--;
    for (unsigned i = 0; i < STORM_PROGRAMS; i++) {
        storm_prog *pg = &s->prog[i];
        if (pg->rearm) {
            pg->rearm = false;
            storm_arm(pg);
        }
        if (storm_rand(s) % 3 == 0)
            emu_ctl_cancel(pg->h); /* CancelIoEx */
    }
    emu_schedule(s->w->rt, 1000 + storm_rand(s) % 400000, storm_tick, s);
}

static void cancel_storm(void **state)
{
    (void)state;
    unsigned seeds = getenv("VFO_STORM_SEEDS") ? (unsigned)atoi(getenv("VFO_STORM_SEEDS")) : 40;
    uint8_t mac[6];
    vw_mac(0, mac);
    for (unsigned seed = 1; seed <= seeds; seed++) {
        vfo_world *w = &g_w;
        static storm s;
        struct vfo_ctl_pairs p;
        memset(&s, 0, sizeof(s));
        s.w = w;
        s.rng = seed;
        assert_int_equal(vw_start(w, 100 + seed), EMU_OK);
        assert_int_equal(vw_add_virtio(w, 0, NULL, NULL), EMU_OK);
        assert_int_equal(vw_pairs(w, &p), EMU_OK);
        for (unsigned i = 0; i < STORM_PROGRAMS; i++) {
            s.prog[i].st = &s;
            s.prog[i].gen = p.generation;
            assert_int_equal(emu_ctl_open(w->rt, "vfo", &s.prog[i].h), EMU_OK);
            storm_arm(&s.prog[i]);
        }
        for (unsigned round = 0; round < 6; round++) {
            s.ticks_left = 40;
            emu_schedule(w->rt, storm_rand(&s) % 100000, storm_tick, &s);
            assert_int_equal(vw_add_vf(w, 0, mac), EMU_OK);
            assert_int_equal(emu_run_for(w->rt, storm_rand(&s) % 3000000), EMU_OK);
            assert_int_equal(vw_remove_vf(w, 0, round & 1), EMU_OK);
        }
        s.ticks_left = 0;
        /* Program 0 exits with its wait pending; the others close. */
        assert_int_equal(emu_run_until_idle(w->rt), EMU_OK);
        assert_int_equal(vw_pairs(w, &p), EMU_OK);
        for (unsigned i = 0; i < STORM_PROGRAMS; i++) {
            if (emu_ctl_pending(s.prog[i].h) == 0) {
                s.prog[i].gen = p.generation;
                s.prog[i].rearm = false;
                storm_arm(&s.prog[i]);
            }
        }
        assert_int_equal(emu_ctl_pending(s.prog[0].h), 1);
        emu_ctl_exit(s.prog[0].h);
        assert_false(emu_failed(w->rt));
        for (unsigned i = 1; i < STORM_PROGRAMS; i++)
            emu_ctl_close(s.prog[i].h);
        assert_false(emu_failed(w->rt));
        unsigned cancels = 0;
        for (unsigned i = 0; i < STORM_PROGRAMS; i++) {
            assert_int_equal(s.prog[i].completed, s.prog[i].sent); /* each once, none lost */
            cancels += s.prog[i].cancelled;
        }
        assert_true(cancels >= STORM_PROGRAMS); /* the exit and the closes at least */
        assert_int_equal(vw_finish(w), EMU_OK);
        vw_destroy(w);
    }
}

static int teardown(void **state)
{
    (void)state;
    vw_destroy(&g_w);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(buffer_rules, teardown),
        cmocka_unit_test_teardown(wait_change, teardown),
        cmocka_unit_test_teardown(only_admins_open, teardown),
        cmocka_unit_test_teardown(announce_after_migration, teardown),
        cmocka_unit_test_teardown(stale_announce_timer_callback_keeps_the_train, teardown),
        cmocka_unit_test_teardown(device_errors_counted, teardown),
        cmocka_unit_test_teardown(cancel_storm, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
