/*
 * The per-packet decisions. Lock-free: one load for a packet that stays on
 * virtio, one compare-and-swap for a packet that takes the primary. Nothing
 * here queues actions; the rare "drained" edge is handed to the glue.
 */
#include "fo_internal.h"

/* The rare path: a packet asking for offloads while the primary is active. */
static fo_tx_decision select_tx_offload(fo_pair *p, const fo_tx_meta *m)
{
    fo_offload o;
    o.flags = (uint32_t)vfo_atomic32_load(&p->tx_ofl_flags);
    o.lso4_max_size = (uint32_t)vfo_atomic32_load(&p->lso4_max);
    o.lso4_min_segs = (uint32_t)vfo_atomic32_load(&p->lso4_min_segs);
    o.lso6_max_size = (uint32_t)vfo_atomic32_load(&p->lso6_max);
    o.lso6_min_segs = (uint32_t)vfo_atomic32_load(&p->lso6_min_segs);
    if (!fo_offload_can_send(&o, m)) {
        vfo_atomic64_add(&p->tx_offload_fallbacks, 1);
        return FO_TX_STANDBY_OFFLOAD;
    }
    return fo_rundown_acquire(&p->rd, FO_RD_TX, 1) ? FO_TX_PRIMARY : FO_TX_STANDBY;
}

fo_tx_decision fo_select_tx(fo_pair *p, const fo_tx_meta *meta)
{
    if (!(fo_rundown_gate(&p->rd) & FO_RD_TX))
        return FO_TX_STANDBY;
    if (VFO_UNLIKELY(meta && meta->offloads))
        return select_tx_offload(p, meta);
    /* The gate may close between the look above and here: the CAS decides. */
    return fo_rundown_acquire(&p->rd, FO_RD_TX, 1) ? FO_TX_PRIMARY : FO_TX_STANDBY;
}

bool fo_tx_resend(fo_pair *p, fo_tx_status st)
{
    bool resend;
    switch (st) {
    case FO_TXS_OK:
    case FO_TXS_INVALID_PACKET:
        return false; /* delivered, or no path would take it */
    case FO_TXS_FAILED:
        /* A plain failure while the primary is still ours is the packet's
         * fate; once TX has moved away it is the primary leaving. */
        resend = !(fo_rundown_gate(&p->rd) & FO_RD_TX);
        break;
    default:
        resend = true; /* paused, reset, removed, disconnected, aborted, no resources */
        break;
    }
    if (resend)
        vfo_atomic64_add(&p->tx_resends, 1);
    return resend;
}

bool fo_rx_accept(fo_pair *p, uint32_t n)
{
    return n != 0 && fo_rundown_acquire(&p->rd, FO_RD_OPEN, n);
}

bool fo_rx_accept_brief(fo_pair *p, uint32_t n)
{
    return n != 0 && fo_rundown_acquire(&p->rd, FO_RD_BRIEF, n);
}

bool fo_primary_release(fo_pair *p, uint32_t n)
{
    switch (fo_rundown_release(&p->rd, n)) {
    case FO_RD_DRAINED:
        return true;
    case FO_RD_UNDERFLOW:
        vfo_atomic64_add(&p->release_underflows, 1);
        return false;
    default:
        return false;
    }
}
