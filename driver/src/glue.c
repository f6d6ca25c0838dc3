/*
 * glue.c - lib/failover's events in, its actions out.
 *
 * Every engine control call runs under g_vfo.lock; right after it the caller
 * calls vfo_event_end(), which moves the actions the engine queued into the
 * adapter's action ring and runs them outside the lock, in order. Order
 * matters (offloads are narrowed before TX moves, a pause completes after the
 * gate closed, ...) and NDIS calls made by one action can call back into the
 * driver and produce more events on the same CPU, so exactly one thread at a
 * time drains an adapter's ring: whoever finds it idle. A re-entrant event
 * only appends; the drainer further up the stack executes it next. Actions
 * whose NDIS calls are PASSIVE_LEVEL-only (open/close/unbind and PnP-event
 * completions, re-enumeration) move the draining to a work item when the event arrived at
 * DISPATCH_LEVEL; the ring keeps everything behind them waiting.
 */
#include "vfo.h"

#ifdef VFO_WPP
#include "glue.tmh"
#endif

static bool needs_passive(fo_action_kind k)
{
    switch (k) {
    case FO_ACT_OPEN_PRIMARY:
    case FO_ACT_COMPLETE_BIND:
    case FO_ACT_REQUEST_UNBIND:
    case FO_ACT_CLOSE_PRIMARY:
    case FO_ACT_COMPLETE_UNBIND:
    case FO_ACT_COMPLETE_PRIMARY_PAUSE: /* NdisCompleteNetPnPEvent */
    case FO_ACT_COMPLETE_PRIMARY_POWER:
    case FO_ACT_REENUMERATE_BINDINGS:
        return true;
    default:
        return false;
    }
}

/* The count and the event change together under the lock (work.h). */
void vfo_work_begin(vfo_adapter *ad)
{
    vfo_work_track_begin(&ad->work, &g_vfo.lock);
}

void vfo_work_end(vfo_adapter *ad)
{
    vfo_work_track_end(&ad->work, &g_vfo.lock);
}

void vfo_generation_bump_locked(void)
{
    g_vfo.generation++;
    vfo_ctl_wake_locked();
}

/* g_vfo.lock held. */
static void queue_one(vfo_adapter *ad, const fo_action *a)
{
    if (ad->aq.len == VFO_ACTION_RING) {
        /* Cannot happen with a drained ring: each event queues at most
         * FO_ACTION_QUEUE actions. Counted so a test sees it. */
        ad->aq.overflows++;
        VFO_ERR("action ring full: %s dropped", fo_action_name(a->kind));
        return;
    }
    ad->aq.q[(ad->aq.head + ad->aq.len) % VFO_ACTION_RING] = *a;
    ad->aq.len++;
}

/* g_vfo.lock held. */
void vfo_queue_primary_restart_locked(vfo_adapter *ad)
{
    fo_action a;
    NdisZeroMemory(&a, sizeof(a));
    a.kind = VFO_ACT_PRIMARY_RESTART;
    queue_one(ad, &a);
}

/* g_vfo.lock held. */
static void queue_actions(vfo_adapter *ad)
{
    fo_action tmp[FO_ACTION_QUEUE];
    size_t n;
    while ((n = fo_take_actions(&ad->pair, tmp, FO_ACTION_QUEUE)) > 0) {
        for (size_t i = 0; i < n; i++)
            queue_one(ad, &tmp[i]);
    }
}

/* What the control device shows changed: state, TX path or link. */
static void note_visible_change(vfo_adapter *ad)
{
    static const uint32_t shown_bits = VFO_CTL_ADAPTER_LINK_UP | VFO_CTL_ADAPTER_TX_ON_PRIMARY;
    fo_pair_info info;
    fo_pair_get_info(&ad->pair, &info);
    uint32_t flags = (info.link.up ? VFO_CTL_ADAPTER_LINK_UP : 0) |
                     (info.tx_path == FO_PATH_PRIMARY ? VFO_CTL_ADAPTER_TX_ON_PRIMARY : 0);
    if (info.state != ad->shown_state || flags != (ad->shown_flags & shown_bits)) {
        /* Once per VF binding: a pause/restart of the VF's stack (a filter
         * attached under us) or D3/D0 leaves ACTIVE and comes back without a
         * new attach, and detaches counts unbinds, so the two must match. */
        if (info.state == FO_ACTIVE && info.attaches != ad->attach_counted) {
            ad->attach_counted = info.attaches;
            vfo_count(&ad->ctr.attaches, 1);
        }
        ad->shown_state = info.state;
        ad->shown_flags = flags;
        vfo_generation_bump_locked();
    }
}

static void run_actions(vfo_adapter *ad, bool from_work, vfo_irql at);

void vfo_event_end_at(vfo_adapter *ad, fo_reason r, const char *what, vfo_irql at)
{
    queue_actions(ad);
    note_visible_change(ad);
    vfo_unlock();
    if (r != FO_R_OK)
        VFO_WARN("%s: engine refused the event: %s", what, fo_reason_name(r));
    run_actions(ad, false, at);
    vfo_ctl_flush();
}

void vfo_event_end(vfo_adapter *ad, fo_reason r, const char *what)
{
    vfo_event_end_at(ad, r, what, VFO_IRQL_ASK);
}

static void action_work(PVOID ctx, NDIS_HANDLE work)
{
    vfo_adapter *ad = ctx;
    (void)work;
    vfo_lock();
    ad->aq.work_queued = false;
    vfo_unlock();
    run_actions(ad, true, VFO_IRQL_ASK); /* PASSIVE_LEVEL */
    vfo_work_end(ad);
}

/* VFO_ACT_PRIMARY_RESTART: the binding still runs (no pause overtook the
 * restart) and is still the pair's. */
static void primary_restart(vfo_adapter *ad)
{
    vfo_lock();
    vfo_binding *b = ad->bind;
    if (!b || !b->running || vfo_get(&b->orphan)) {
        vfo_unlock();
        return;
    }
    fo_reason r = fo_primary_restart(&ad->pair);
    vfo_event_end(ad, r, "VF restart");
}

/* g_vfo.lock held, the pair registered: halt clears that under the lock
 * before it cancels the timer and flushes its DPC, so nothing sets it
 * after. */
static void set_announce_timer(vfo_adapter *ad, ULONG delay_ms)
{
    LARGE_INTEGER due;
    due.QuadPart = -(LONGLONG)delay_ms * 10000; /* relative, 100 ns units */
    if (due.QuadPart == 0)
        due.QuadPart = -1;
    NdisSetTimerObject(ad->announce_timer, due, 0, NULL);
}

static void arm_timer(vfo_adapter *ad, const fo_action *a)
{
    LARGE_INTEGER up;
    NdisGetSystemUpTimeEx(&up);
    vfo_lock();
    if (ad->registered) {
        ad->timer_token = a->u.timer.token;
        ad->timer_due_ms = (ULONGLONG)up.QuadPart + a->u.timer.delay_ms;
        set_announce_timer(ad, a->u.timer.delay_ms);
    }
    vfo_unlock();
}

static void path_switched(vfo_adapter *ad, fo_path path)
{
    if (path == FO_PATH_PRIMARY) {
        vfo_count(&ad->ctr.to_primary, 1);
        VFO_INFO("TX -> VF");
    } else {
        vfo_count(&ad->ctr.to_standby, 1);
        VFO_INFO("TX -> virtio");
    }
}

static void report(vfo_adapter *ad, const fo_action *a)
{
    if (a->u.report.reason == FO_R_REPLAY_REJECTED)
        vfo_count(&ad->ctr.replay_failures, 1);
    if (a->u.report.setting != FO_SET_NONE)
        VFO_WARN("failover: %s (%s)", fo_reason_name(a->u.report.reason),
                 fo_setting_name(a->u.report.setting));
    else
        VFO_WARN("failover: %s", fo_reason_name(a->u.report.reason));
}

static void execute(vfo_adapter *ad, const fo_action *a, bool at_dispatch)
{
    vfo_binding *b = ad->bind;
    switch (a->kind) {
    case FO_ACT_OPEN_PRIMARY:
        vfo_binding_open_done(b);
        break;
    case FO_ACT_COMPLETE_BIND:
        vfo_binding_complete_bind(b, a->u.reason);
        break;
    case FO_ACT_REPLAY:
        vfo_binding_replay(ad, b, a);
        break;
    case FO_ACT_TX_PATH:
        path_switched(ad, a->u.path);
        break;
    case FO_ACT_INDICATE_LINK:
        vfo_indicate_link(ad, a->u.link);
        break;
    case FO_ACT_INDICATE_OFFLOAD:
        vfo_indicate_offload(ad, &a->u.offload);
        break;
    case FO_ACT_SEND_ANNOUNCE:
        vfo_announce_send(ad, a->u.announce.path, at_dispatch);
        break;
    case FO_ACT_ARM_TIMER:
        arm_timer(ad, a);
        break;
    case FO_ACT_START_DRAIN:
        VFO_DEBUG("draining %lu NBL(s) lent across the edges", (unsigned long)a->u.refs);
        break;
    case FO_ACT_COMPLETE_PRIMARY_PAUSE:
        vfo_binding_complete_pause(b);
        break;
    case FO_ACT_COMPLETE_PRIMARY_POWER:
        vfo_binding_complete_power(b);
        break;
    case FO_ACT_COMPLETE_UPPER_PAUSE:
        vfo_upper_pause_done(ad);
        break;
    case FO_ACT_QUERY_PRIMARY_STATS:
        vfo_binding_query_stats(b);
        break;
    case FO_ACT_REQUEST_UNBIND:
        vfo_binding_orphan(ad, b);
        break;
    case FO_ACT_CLOSE_PRIMARY:
        vfo_binding_close(b);
        break;
    case FO_ACT_COMPLETE_UNBIND:
        vfo_lock();
        ad->bind = NULL;
        vfo_unlock();
        vfo_count(&ad->ctr.detaches, 1);
        vfo_binding_complete_unbind(b);
        break;
    case FO_ACT_STANDBY_RELEASED:
        NdisSetEvent(&ad->released);
        break;
    case FO_ACT_REPORT:
        report(ad, a);
        break;
    case FO_ACT_REENUMERATE_BINDINGS:
        VFO_INFO("asking NDIS to offer refused VFs again");
        NdisReEnumerateProtocolBindings(g_vfo.protocol);
        break;
    default:
        if (a->kind == VFO_ACT_PRIMARY_RESTART)
            primary_restart(ad);
        break;
    }
}

/* from_work: the adapter's action work item runs it (deferred actions may
 * go). at: what the caller knows of its IRQL; a flagged callback that
 * does not say DISPATCH_LEVEL is not known to be at PASSIVE_LEVEL either,
 * so its passive actions go to the work item. */
static void run_actions(vfo_adapter *ad, bool from_work, vfo_irql at)
{
    bool passive = false, at_dispatch = at == VFO_IRQL_DISPATCH;
    if (at == VFO_IRQL_ASK) {
        KIRQL irql = KeGetCurrentIrql(); /* before the lock raises it */
        passive = irql == PASSIVE_LEVEL;
        at_dispatch = irql == DISPATCH_LEVEL;
    }
    vfo_lock();
    if (ad->aq.running) {
        vfo_unlock();
        return;
    }
    ad->aq.running = true;
    while (ad->aq.len) {
        fo_action a = ad->aq.q[ad->aq.head];
        if ((needs_passive(a.kind) && !passive) ||
            (a.kind == VFO_ACT_PRIMARY_RESTART && !from_work)) {
            bool queue = !ad->aq.work_queued;
            ad->aq.work_queued = true;
            ad->aq.running = false;
            vfo_unlock();
            if (queue) {
                vfo_work_begin(ad);
                NdisQueueIoWorkItem(ad->action_work, action_work, ad);
            }
            return;
        }
        ad->aq.head = (ad->aq.head + 1) % VFO_ACTION_RING;
        ad->aq.len--;
        vfo_unlock();
        execute(ad, &a, at_dispatch);
        vfo_lock();
    }
    ad->aq.running = false;
    vfo_unlock();
}

void vfo_run_actions(vfo_adapter *ad)
{
    run_actions(ad, false, VFO_IRQL_ASK);
}

void vfo_drained(vfo_adapter *ad, vfo_irql at)
{
    vfo_lock();
    fo_reason r = fo_on_drained(&ad->pair);
    vfo_event_end_at(ad, r, "drained", at);
}

static NDIS_TIMER_FUNCTION announce_timer_fired;
static void announce_timer_fired(PVOID s1, PVOID ctx, PVOID s2, PVOID s3)
{
    vfo_adapter *ad = ctx;
    (void)s1;
    (void)s2;
    (void)s3;
    LARGE_INTEGER up;
    NdisGetSystemUpTimeEx(&up);
    vfo_lock();
    if (!ad->registered) {
        vfo_unlock();
    } else if ((ULONGLONG)up.QuadPart < ad->timer_due_ms) {
        /* Before the armed time: an earlier expiry whose DPC was already
         * queued when the timer was set again (NdisSetTimerObject returned
         * FALSE; a timer has one context, so it would read the new train's
         * token and send its next frame early). Set again for the rest: that
         * replaces the armed expiry, one callback at its time. */
        set_announce_timer(ad, (ULONG)(ad->timer_due_ms - (ULONGLONG)up.QuadPart));
        vfo_unlock();
    } else {
        fo_reason r = fo_on_timer(&ad->pair, ad->timer_token);
        vfo_event_end(ad, r == FO_R_STALE_COMPLETION ? FO_R_OK : r, "announce timer");
    }
}

bool vfo_glue_init(vfo_adapter *ad)
{
    NdisInitializeEvent(&ad->released);
    vfo_work_track_init(&ad->work);
    ad->action_work = NdisAllocateIoWorkItem(ad->handle);
    if (!ad->action_work)
        return false;
    return vfo_timer_alloc(ad->handle, announce_timer_fired, ad, &ad->announce_timer);
}

/* After the pair left the registry: nothing sets the timer again (every set
 * is under g_vfo.lock with the pair registered; a callback still to run
 * finds the pair gone). NdisCancelTimerObject does not wait for a callback
 * already fired: freed then, the callback ran on a freed timer and adapter
 * (test_vfo_stress with a VF paired: TimerFreeWhileActive), so halt flushes
 * the queued DPCs. Counting sets against callbacks instead hung the halt:
 * an expiry firing while the timer's DPC is still queued joins it (two
 * sets, one callback). */
void vfo_glue_free(vfo_adapter *ad)
{
    if (ad->announce_timer) {
        NdisCancelTimerObject(ad->announce_timer);
        KeFlushQueuedDpcs();
        NdisFreeTimerObject(ad->announce_timer);
        ad->announce_timer = NULL;
    }
    /* A failed initialize may come here before vfo_glue_init ran (its
     * events uninitialized): without the work item no work was queued. */
    if (ad->action_work) {
        vfo_work_track_wait(&ad->work);
        NdisFreeIoWorkItem(ad->action_work);
    }
    ad->action_work = NULL;
}
