/*
 * mp_rx.c - receive: frames from virtio's used ring indicated up in NBLs of
 * our own pool (MDLs over the receive buffers, zero copy), the VF's NBLs
 * indicated up as they are, and MiniportReturnNetBufferLists sending each
 * kind back where it came from.
 */
#include "vfo.h"

#ifdef VFO_WPP
#include "mp_rx.tmh"
#endif

#define VFO_RX_BUDGET     64u
#define VFO_RX_LOW_DIVSOR 8u /* fewer buffers than 1/8 posted: lend nothing */

bool vfo_rx_init(vfo_adapter *ad)
{
    ad->rx_pool = vfo_nbl_pool(ad->handle, VFO_TAG_RX, 0);
    return ad->rx_pool != NULL;
}

void vfo_rx_free(vfo_adapter *ad)
{
    if (ad->rx_pool)
        NdisFreeNetBufferListPool(ad->rx_pool);
    ad->rx_pool = NULL;
}

static bool rx_usable(vfo_adapter *ad)
{
    return !ad->resetting && ad->vn && vnet_is_started(ad->vn) && !ad->surprise_removed &&
           vfo_get(&ad->state) == VFO_MP_RUNNING;
}

static void free_mdls(PMDL m)
{
    while (m) {
        PMDL next = NDIS_MDL_LINKAGE(m);
        NdisFreeMdl(m);
        m = next;
    }
}

/* rx_lock held. An NBL over the frame's buffers; NULL when out of memory. */
static PNET_BUFFER_LIST frame_to_nbl(vfo_adapter *ad, const vnet_rx_frame *f)
{
    PMDL first = NULL, *tail = &first;
    for (uint16_t i = 0; i < f->nseg; i++) {
        PMDL m = NdisAllocateMdl(ad->handle, f->seg[i].va, f->seg[i].len);
        if (!m) {
            free_mdls(first);
            return NULL;
        }
        *tail = m;
        tail = &NDIS_MDL_LINKAGE(m);
    }
    PNET_BUFFER_LIST nbl =
        NdisAllocateNetBufferAndNetBufferList(ad->rx_pool, 0, 0, first, 0, f->len);
    if (!nbl) {
        free_mdls(first);
        return NULL;
    }
    nbl->SourceHandle = ad->handle;
    NET_BUFFER_LIST_MINIPORT_RESERVED(nbl)[0] = (PVOID)(ULONG_PTR)f->handle;
    NET_BUFFER_LIST_INFO(nbl, TcpIpChecksumNetBufferListInfo) =
        vfo_rx_csum_info(ad, f->seg[0].va, f->seg[0].len, f->flags);
    vfo_count_frame(ad->sb_ctr, vfo_frame_cast(f->seg[0].va), f->len, true);
    return nbl;
}

/* rx_lock held. Gives our NBLs' buffers back to lib/vnet and frees them. */
static LONG return_own_locked(vfo_adapter *ad, PNET_BUFFER_LIST nbls)
{
    LONG n = 0;
    for (PNET_BUFFER_LIST nbl = nbls, next; nbl; nbl = next) {
        next = NET_BUFFER_LIST_NEXT_NBL(nbl);
        uint32_t handle = (uint32_t)(ULONG_PTR)NET_BUFFER_LIST_MINIPORT_RESERVED(nbl)[0];
        PMDL mdls = NET_BUFFER_FIRST_MDL(NET_BUFFER_LIST_FIRST_NB(nbl));
        NdisFreeNetBufferList(nbl);
        free_mdls(mdls);
        if (vnet_rx_return(ad->vn, handle) != VNET_OK)
            VFO_ERR("receive buffer %u returned twice", handle);
        n++;
    }
    if (ad->vn && vnet_is_started(ad->vn))
        vnet_rx_kick(ad->vn);
    return n;
}

/* Our NBLs came back. While the device is being stopped or started (the
 * gate is closed) lib/vnet belongs to that alone, so they wait, linked,
 * until the gate opens (vfo_rx_return_deferred_locked). Returns how many
 * NDIS gave back. */
static LONG return_own(vfo_adapter *ad, PNET_BUFFER_LIST nbls)
{
    LONG n = 0;
    NdisAcquireSpinLock(&ad->rx_lock);
    if (!ad->resetting) {
        n = return_own_locked(ad, nbls);
    } else {
        for (PNET_BUFFER_LIST nbl = nbls, next; nbl; nbl = next) {
            next = NET_BUFFER_LIST_NEXT_NBL(nbl);
            NET_BUFFER_LIST_NEXT_NBL(nbl) = ad->rx_deferred;
            ad->rx_deferred = nbl;
            n++;
        }
    }
    NdisReleaseSpinLock(&ad->rx_lock);
    return n;
}

void vfo_rx_return_deferred_locked(vfo_adapter *ad)
{
    PNET_BUFFER_LIST d = ad->rx_deferred;
    ad->rx_deferred = NULL;
    if (d)
        return_own_locked(ad, d);
}

/* From the receive DPC (vfo_rx_poll): DISPATCH_LEVEL by design. */
static void indicate(vfo_adapter *ad, PNET_BUFFER_LIST head, ULONG n, bool low)
{
    const ULONG flags = NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL;
    vfo_count(&ad->ctr.rx_standby, (LONG64)n);
    if (ad->packet_filter == 0) { /* nobody asked for anything yet */
        return_own(ad, head);
        return;
    }
    if (low) {
        /* Running out of receive buffers: lend nothing, NDIS copies. */
        NdisMIndicateReceiveNetBufferLists(ad->handle, head, NDIS_DEFAULT_PORT_NUMBER, n,
                                           flags | NDIS_RECEIVE_FLAGS_RESOURCES);
        return_own(ad, head);
        return;
    }
    vfo_virtio_get(ad, (LONG)n);
    NdisMIndicateReceiveNetBufferLists(ad->handle, head, NDIS_DEFAULT_PORT_NUMBER, n, flags);
}

/* RX DPC: one batch from the used ring, at most max_nbls frames (what NDIS
 * allows this DPC, NDIS_RECEIVE_THROTTLE_PARAMETERS) and VFO_RX_BUDGET (the
 * DPC's time when NDIS leaves the number to us). True when frames remain:
 * the receive interrupt then stays off and the caller has the DPC run again
 * (MoreNblsPending, or NdisMQueueDpcEx); nothing is left behind unseen. */
bool vfo_rx_poll(vfo_adapter *ad, ULONG max_nbls)
{
    PNET_BUFFER_LIST head = NULL, *tail = &head;
    ULONG n = 0, cap = max_nbls < VFO_RX_BUDGET ? max_nbls : VFO_RX_BUDGET;
    bool broken = false, more = false, low = false;
    /* The poll holds the pause off until its indication is made: counted
     * first, the state checked after (MpPause sets the state, then reads
     * the count). Checking first let a pause complete between the check
     * and the indication: a receive indicated while paused
     * (PausedNoIndicate, found by test_vfo_stress). */
    vfo_virtio_get(ad, 1);
    NdisAcquireSpinLock(&ad->rx_lock);
    if (!rx_usable(ad)) {
        /* Paused: frames wait in the ring until MiniportRestart polls. */
        if (!ad->resetting && ad->vn && vnet_is_started(ad->vn))
            vnet_rx_disable_intr(ad->vn);
        NdisReleaseSpinLock(&ad->rx_lock);
        vfo_virtio_put(ad, 1);
        return false;
    }
    vnet_rx_disable_intr(ad->vn);
    while (n < cap) {
        vnet_rx_frame f;
        vnet_status vs = vnet_rx_next(ad->vn, &f);
        if (vs == VNET_E_BROKEN)
            broken = true;
        if (vs != VNET_OK)
            break;
        PNET_BUFFER_LIST nbl = frame_to_nbl(ad, &f);
        if (!nbl) {
            vnet_rx_return(ad->vn, f.handle);
            vfo_count(&ad->ctr.rx_dropped, 1);
            continue;
        }
        vfo_nbl_append(&tail, nbl);
        n++;
    }
    low = vnet_rx_posted(ad->vn) < vnet_rx_buffer_count(ad->vn) / VFO_RX_LOW_DIVSOR;
    if (!broken)
        more = n == cap || !vnet_rx_enable_intr(ad->vn);
    NdisReleaseSpinLock(&ad->rx_lock);
    if (n)
        indicate(ad, head, n, low);
    vfo_virtio_put(ad, 1);
    if (broken) {
        vfo_note_ring_error(ad, "receive");
        vfo_request_reset(ad);
        return false;
    }
    return more;
}

void MpReturnNetBufferLists(NDIS_HANDLE ctx, PNET_BUFFER_LIST nbls, ULONG flags)
{
    vfo_adapter *ad = ctx;
    PNET_BUFFER_LIST own = NULL, vf = NULL, *own_tail = &own, *vf_tail = &vf;
    ULONG nvf = 0;
    for (PNET_BUFFER_LIST nbl = nbls, next; nbl; nbl = next) {
        next = NET_BUFFER_LIST_NEXT_NBL(nbl);
        NET_BUFFER_LIST_NEXT_NBL(nbl) = NULL;
        if (nbl->NdisPoolHandle == ad->rx_pool) {
            vfo_nbl_append(&own_tail, nbl);
        } else {
            vfo_primary_unwrap(nbl);
            vfo_nbl_append(&vf_tail, nbl);
            nvf++;
        }
    }
    if (own)
        vfo_virtio_put(ad, return_own(ad, own));
    if (vf) {
        /* Lent NBLs hold the binding open: ad->bind is the one they came from. */
        NdisReturnNetBufferLists(ad->bind->handle, vf, flags & NDIS_RETURN_FLAGS_DISPATCH_LEVEL);
        if (fo_primary_release(&ad->pair, nvf))
            vfo_drained(ad, vfo_irql_from_flag(flags & NDIS_RETURN_FLAGS_DISPATCH_LEVEL));
    }
}

/* The VF's NBLs, references taken (fo_rx_accept): up the vfo miniport, their
 * SourceHandle swapped for ours until they come back. With
 * NDIS_RECEIVE_FLAGS_RESOURCES they are ours only during this call. */
void vfo_rx_from_primary(vfo_adapter *ad, vfo_binding *b, PNET_BUFFER_LIST nbls, ULONG n,
                         ULONG flags)
{
    PNET_BUFFER_LIST up = NULL, *tail = &up;
    PNET_BUFFER_LIST lent[VFO_RX_BUDGET];
    ULONG nup = 0, released = 0;
    bool resources = (flags & NDIS_RECEIVE_FLAGS_RESOURCES) != 0;
    ULONG ret_flags =
        (flags & NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL) ? NDIS_RETURN_FLAGS_DISPATCH_LEVEL : 0;
    for (PNET_BUFFER_LIST nbl = nbls, next; nbl; nbl = next) {
        next = NET_BUFFER_LIST_NEXT_NBL(nbl);
        NET_BUFFER_LIST_NEXT_NBL(nbl) = NULL;
        /* Only as many as can be restored after a RESOURCES indication. */
        if ((!resources || nup < VFO_RX_BUDGET) && vfo_primary_wrap(nbl, ad->handle)) {
            if (resources)
                lent[nup] = nbl;
            vfo_nbl_append(&tail, nbl);
            nup++;
            continue;
        }
        vfo_count(&ad->ctr.rx_dropped, 1);
        if (!resources)
            NdisReturnNetBufferLists(b->handle, nbl, ret_flags);
        released++;
    }
    if (nup) {
        vfo_count(&ad->ctr.rx_primary, (LONG64)nup);
        NdisMIndicateReceiveNetBufferLists(ad->handle, up, NDIS_DEFAULT_PORT_NUMBER, nup, flags);
    }
    if (resources) {
        for (ULONG i = 0; i < nup; i++)
            vfo_primary_unwrap(lent[i]);
        released += nup;
    }
    (void)n;
    if (released && fo_primary_release(&ad->pair, released))
        vfo_drained(ad, vfo_irql_from_flag(flags & NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL));
}

/* A receive on a pausing binding (fo_rx_accept_brief took n references): NDIS
 * still indicates to a binding until its pause completes, and the protocol
 * handles such receives as usual but gives them back at once ("Pausing a
 * Binding"). So they go up the vfo miniport with NDIS_RECEIVE_FLAGS_RESOURCES
 * (whoever keeps one copies it) and back to the VF before this returns; the
 * frame is not dropped, since the host keeps sending to the VF's MAC for the
 * whole pause of the VF's stack. The chain is given back as it came. */
void vfo_rx_brief_from_primary(vfo_adapter *ad, vfo_binding *b, PNET_BUFFER_LIST nbls, ULONG n,
                               ULONG flags)
{
    PNET_BUFFER_LIST batch[VFO_RX_BUDGET];
    BOOLEAN wrapped[VFO_RX_BUDGET];
    ULONG ret_flags =
        (flags & NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL) ? NDIS_RETURN_FLAGS_DISPATCH_LEVEL : 0;
    for (PNET_BUFFER_LIST nbl = nbls; nbl;) {
        PNET_BUFFER_LIST up = NULL, *tail = &up;
        ULONG k = 0, nup = 0;
        for (; nbl && k < VFO_RX_BUDGET; k++) {
            batch[k] = nbl;
            nbl = NET_BUFFER_LIST_NEXT_NBL(nbl);
            NET_BUFFER_LIST_NEXT_NBL(batch[k]) = NULL;
            wrapped[k] = vfo_primary_wrap(batch[k], ad->handle);
            if (wrapped[k]) {
                vfo_nbl_append(&tail, batch[k]);
                nup++;
            } else {
                vfo_count(&ad->ctr.rx_dropped, 1);
            }
        }
        if (nup) {
            vfo_count(&ad->ctr.rx_primary, (LONG64)nup);
            NdisMIndicateReceiveNetBufferLists(ad->handle, up, NDIS_DEFAULT_PORT_NUMBER, nup,
                                               flags | NDIS_RECEIVE_FLAGS_RESOURCES);
        }
        for (ULONG i = 0; i < k; i++) {
            if (wrapped[i])
                vfo_primary_unwrap(batch[i]);
            NET_BUFFER_LIST_NEXT_NBL(batch[i]) = i + 1 < k ? batch[i + 1] : nbl;
        }
    }
    if (!(flags & NDIS_RECEIVE_FLAGS_RESOURCES))
        NdisReturnNetBufferLists(b->handle, nbls, ret_flags);
    if (fo_primary_release(&ad->pair, n))
        vfo_drained(ad, vfo_irql_from_flag(flags & NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL));
}
