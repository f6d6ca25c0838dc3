/* Driver Verifier's NDIS/WIFI verification rules on how long a miniport
 * may hold what NDIS gave it (docs/ndisemu.md): NdisTimedDataHang,
 * NdisTimedDataSend and NdisTimedOidComplete. Measured in guest time
 * (emu_guest_time): while the guest is frozen its processors do not run,
 * and neither does Windows' own clock for these rules. */
#include "emu_internal.h"

/* NdisTimedDataHang (Driver Verifier's NDIS/WIFI verification): a miniport
 * that holds sends completes at least one every 22 s; a device that stopped
 * serving its transmit queue must not hold them for ever. NdisTimedDataSend
 * (the same option): each send is completed within 30 s of reaching the
 * miniport, however many others complete meanwhile. Checked whenever the
 * deterministic scheduler moves virtual time (with or without rt->mu). */
#define EMU_SEND_HANG_NS (22ull * 1000000000ull)
#define EMU_SEND_LATE_NS (30ull * 1000000000ull)

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

static void send_hang_check(emu_runtime *rt)
{
    bool held = emu_lock_held();
    if (!held)
        emu_lock(rt);
    uint64_t now = emu_guest_time(rt);
    emu_adapter *hung = NULL, *late = NULL;
    const emu_nbl_ext *late_nbl = NULL;
    for (emu_adapter *ad = rt->adapters; ad && !hung && !late; ad = ad->next) {
        if (!ad->sends_out || emu_obj_dead(&ad->obj))
            continue;
        if (now - ad->send_progress_ns > EMU_SEND_HANG_NS) {
            hung = ad;
        } else if (now - ad->send_oldest_ns > EMU_SEND_LATE_NS) {
            uint64_t sent = now;
            late_nbl = oldest_send(rt, ad, &sent);
            ad->send_oldest_ns = sent;
            if (late_nbl && now - sent > EMU_SEND_LATE_NS)
                late = ad;
        }
    }
    emu_adapter *ad = hung ? hung : late;
    uint64_t n = hung ? hung->sends_out : 0, serial = late_nbl ? late_nbl->serial : 0,
             idle_ms =
                 ad ? (now - (hung ? ad->send_progress_ns : ad->send_oldest_ns)) / 1000000 : 0;
    if (!held)
        emu_unlock(rt);
    if (hung)
        emu_violate(rt, "NdisTimedDataHang", "MiniportSendNetBufferLists",
                    "%s: holds %llu send(s) and completed none for %llu ms (at most 22 s)",
                    hung->instance, (unsigned long long)n, (unsigned long long)idle_ms);
    else if (late)
        emu_violate(rt, "NdisTimedDataSend", "MiniportSendNetBufferLists",
                    "%s: NBL %p (#%llu) reached the miniport %llu ms ago and is not completed "
                    "(at most 30 s)",
                    late->instance, (const void *)&late_nbl->nbl, (unsigned long long)serial,
                    (unsigned long long)idle_ms);
}

/* NdisTimedOidComplete (Driver Verifier's NDIS/WIFI verification): the
 * miniport completes an OID request within 12 s of getting it. */
#define EMU_OID_HANG_NS (12ull * 1000000000ull)

static void oid_hang_check(emu_runtime *rt)
{
    bool held = emu_lock_held();
    if (!held)
        emu_lock(rt);
    uint64_t now = emu_guest_time(rt);
    emu_adapter *hung = NULL;
    for (emu_adapter *ad = rt->adapters; ad && !hung; ad = ad->next) {
        if (ad->oid_busy && !emu_obj_dead(&ad->obj) && now - ad->oid_started_ns > EMU_OID_HANG_NS)
            hung = ad;
    }
    unsigned oid = hung ? (unsigned)hung->oid_head->req->DATA.QUERY_INFORMATION.Oid : 0;
    uint64_t ms = hung ? (now - hung->oid_started_ns) / 1000000 : 0;
    if (!held)
        emu_unlock(rt);
    if (hung)
        emu_violate(rt, "NdisTimedOidComplete", "MiniportOidRequest",
                    "%s: OID %#x not completed %llu ms after the miniport got it (at most 12 s)",
                    hung->instance, oid, (unsigned long long)ms);
}

void emu_timed_checks(emu_runtime *rt)
{
    send_hang_check(rt);
    oid_hang_check(rt);
}
