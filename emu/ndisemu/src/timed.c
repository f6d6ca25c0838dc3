/* Driver Verifier's NDIS/WIFI verification rules on how long a miniport
 * may hold what NDIS gave it (docs/ndisemu.md):
 *   NdisTimedDataHang     a miniport that holds sends completes at least one
 *                         every 22 s (a device that stopped serving its
 *                         transmit queue must not hold them for ever);
 *   NdisTimedDataSend     each send is completed within 30 s of reaching the
 *                         miniport, however many others complete meanwhile;
 *   NdisTimedOidComplete  an OID request is completed within 12 s of
 *                         reaching the miniport;
 * and ndisemu's OperationNotCompleted for a pended MiniportResetEx, which
 * NDIS does not wait for (reset.c): completed within 30 s.
 * Measured in guest time (emu_guest_time): while the guest is frozen its
 * processors do not run, and neither does Windows' own clock for these
 * rules. Checked whenever the deterministic scheduler moves virtual time. */
#include "emu_internal.h"

#define EMU_SEND_HANG_NS (22ull * 1000000000ull)
#define EMU_SEND_LATE_NS (30ull * 1000000000ull)
#define EMU_OID_HANG_NS  (12ull * 1000000000ull)

/* rt->mu held. The oldest send the miniport of ad holds, and when it got
 * it; NULL when it holds none. Walks every live NBL: called only when
 * ad->send_oldest_ns, a lower bound, is more than 30 s old. */
static emu_nbl_ext *oldest_send(emu_runtime *rt, emu_adapter *ad, uint64_t *sent_ns)
{
    emu_nbl_ext *oldest = NULL;
    for (emu_nbl_ext *x = rt->nbl_live; x; x = x->live_next) {
        const nbl_frame *f = x->depth > 0 ? &x->fr[x->depth - 1] : NULL;
        if (!f || f->kind != F_SEND || f->ad != ad || f->to)
            continue;
        if (!oldest || f->sent_ns < *sent_ns) {
            oldest = x;
            *sent_ns = f->sent_ns;
        }
    }
    return oldest;
}

/* The shortest limit: nothing a clock started at `started` watches can be
 * late before started + 12 s. */
void emu_timed_arm(emu_runtime *rt, uint64_t started)
{
    uint64_t deadline = started + EMU_OID_HANG_NS;
    if (deadline < rt->timed_due)
        __atomic_store_n(&rt->timed_due, deadline, __ATOMIC_RELAXED);
}

/* What a scan found: the first rule broken, with what its report names. */
typedef enum timed_rule { TIMED_DATA_HANG = 1, TIMED_DATA_SEND, TIMED_OID, TIMED_RESET } timed_rule;
typedef struct timed_finding {
    timed_rule rule;
    emu_adapter *ad;
    uint64_t ms;     /* how long it has been held */
    uint64_t n;      /* NdisTimedDataHang: sends held */
    uint64_t serial; /* NdisTimedDataSend: the NBL */
    const void *nbl; /* NdisTimedDataSend */
    unsigned oid;    /* NdisTimedOidComplete */
} timed_finding;

/* rt->mu held. Checks one adapter at guest time now; lowers *next to the
 * earliest time one of its rules could fire. True if one did. */
static bool check_adapter(emu_runtime *rt, emu_adapter *ad, uint64_t now, uint64_t *next,
                          timed_finding *f)
{
    if (emu_obj_dead(&ad->obj))
        return false;
    if (ad->sends_out) {
        uint64_t hang_at = ad->send_progress_ns + EMU_SEND_HANG_NS;
        if (now > hang_at) {
            *f = (timed_finding){ .rule = TIMED_DATA_HANG,
                                  .ad = ad,
                                  .ms = (now - ad->send_progress_ns) / 1000000,
                                  .n = ad->sends_out };
            return true;
        }
        if (now > ad->send_oldest_ns + EMU_SEND_LATE_NS) {
            uint64_t sent = now;
            const emu_nbl_ext *x = oldest_send(rt, ad, &sent);
            ad->send_oldest_ns = sent;
            if (x && now > sent + EMU_SEND_LATE_NS) {
                *f = (timed_finding){ .rule = TIMED_DATA_SEND,
                                      .ad = ad,
                                      .ms = (now - sent) / 1000000,
                                      .serial = x->serial,
                                      .nbl = &x->nbl };
                return true;
            }
        }
        uint64_t late_at = ad->send_oldest_ns + EMU_SEND_LATE_NS;
        *next = hang_at < *next ? hang_at : *next;
        *next = late_at < *next ? late_at : *next;
    }
    if (ad->oid_busy) {
        uint64_t oid_at = ad->oid_started_ns + EMU_OID_HANG_NS;
        if (now > oid_at) {
            *f = (timed_finding){ .rule = TIMED_OID,
                                  .ad = ad,
                                  .ms = (now - ad->oid_started_ns) / 1000000,
                                  .oid = (unsigned)ad->oid_head->req->DATA.QUERY_INFORMATION.Oid };
            return true;
        }
        *next = oid_at < *next ? oid_at : *next;
    }
    if (ad->resetting && !ad->reset_in_handler) {
        uint64_t reset_at = ad->reset_started_ns + EMU_WAIT_NS;
        if (now > reset_at) {
            *f = (timed_finding){ .rule = TIMED_RESET,
                                  .ad = ad,
                                  .ms = (now - ad->reset_started_ns) / 1000000 };
            return true;
        }
        *next = reset_at < *next ? reset_at : *next;
    }
    return false;
}

void emu_timed_checks(emu_runtime *rt)
{
    /* Guest time never runs ahead of virtual time: nothing can be due yet.
     * The common case, and it takes no lock (the adapters of a long run,
     * a fuzzer's persistent runtime, stay linked: a scan at every step of
     * the scheduler made fuzz_ctl 30 times slower). */
    if (emu_time(rt) <= __atomic_load_n(&rt->timed_due, __ATOMIC_RELAXED))
        return;
    bool held = emu_lock_held();
    if (!held)
        emu_lock(rt);
    uint64_t now = emu_guest_time(rt), next = UINT64_MAX;
    timed_finding f = { 0 };
    bool found = false;
    for (emu_adapter *ad = rt->adapters; ad && !found; ad = ad->next)
        found = check_adapter(rt, ad, now, &next, &f);
    __atomic_store_n(&rt->timed_due, next, __ATOMIC_RELAXED);
    if (!held)
        emu_unlock(rt);
    if (!found)
        return;
    switch (f.rule) {
    case TIMED_DATA_HANG:
        emu_violate(rt, "NdisTimedDataHang", "MiniportSendNetBufferLists",
                    "%s: holds %llu send(s) and completed none for %llu ms (at most 22 s)",
                    f.ad->instance, (unsigned long long)f.n, (unsigned long long)f.ms);
        break;
    case TIMED_DATA_SEND:
        emu_violate(rt, "NdisTimedDataSend", "MiniportSendNetBufferLists",
                    "%s: NBL %p (#%llu) reached the miniport %llu ms ago and is not completed "
                    "(at most 30 s)",
                    f.ad->instance, f.nbl, (unsigned long long)f.serial, (unsigned long long)f.ms);
        break;
    case TIMED_OID:
        emu_violate(rt, "NdisTimedOidComplete", "MiniportOidRequest",
                    "%s: OID %#x not completed %llu ms after the miniport got it (at most 12 s)",
                    f.ad->instance, f.oid, (unsigned long long)f.ms);
        break;
    case TIMED_RESET:
        emu_violate(rt, "OperationNotCompleted", "MiniportResetEx",
                    "%s: reset pended %llu ms ago and not completed with NdisMResetComplete "
                    "(at most 30 s)",
                    f.ad->instance, (unsigned long long)f.ms);
        break;
    }
}
