/*
 * pt_data.c - packets across the protocol edge.
 *
 * Send: an NBL from the upper stack goes down the VF binding as it is, its
 * SourceHandle kept in an NBL context area we allocate (never in the NBL's
 * reserved fields, which belong to others) and restored before the
 * completion goes up. A send the VF fails because it is going away is handed
 * to virtio before its reference is released, so the pair's drain cannot
 * complete in between.
 * Receive: the VF's NBLs go up the vfo miniport untouched (zero copy) while
 * the engine's gate is open; their SourceHandle is swapped the same way and
 * restored when the upper stack returns them (mp_rx.c).
 */
#include "vfo.h"

#ifdef VFO_WPP
#include "pt_data.tmh"
#endif

/* Our NBL context: the SourceHandle the NBL had when it reached us. The size
 * is a multiple of MEMORY_ALLOCATION_ALIGNMENT, as the function requires. */
typedef struct vfo_nbl_ctx {
    NDIS_HANDLE source;
    PVOID reserved;
} vfo_nbl_ctx;
#define VFO_NBL_CTX_SIZE ((USHORT)sizeof(vfo_nbl_ctx))

bool vfo_primary_wrap(PNET_BUFFER_LIST nbl, NDIS_HANDLE source)
{
    if (NdisAllocateNetBufferListContext(nbl, VFO_NBL_CTX_SIZE, 0, VFO_TAG_NBLCTX) !=
        NDIS_STATUS_SUCCESS)
        return false;
    vfo_nbl_ctx *c = (vfo_nbl_ctx *)NET_BUFFER_LIST_CONTEXT_DATA_START(nbl);
    c->source = nbl->SourceHandle;
    c->reserved = NULL;
    nbl->SourceHandle = source;
    return true;
}

void vfo_primary_unwrap(PNET_BUFFER_LIST nbl)
{
    vfo_nbl_ctx *c = (vfo_nbl_ctx *)NET_BUFFER_LIST_CONTEXT_DATA_START(nbl);
    nbl->SourceHandle = c->source;
    NdisFreeNetBufferListContext(nbl, VFO_NBL_CTX_SIZE);
}

static fo_tx_status map_tx_status(NDIS_STATUS st)
{
    switch (st) {
    case NDIS_STATUS_SUCCESS:
        return FO_TXS_OK;
    case NDIS_STATUS_INVALID_PACKET:
        return FO_TXS_INVALID_PACKET;
    case NDIS_STATUS_PAUSED:
        return FO_TXS_PAUSED;
    case NDIS_STATUS_RESET_IN_PROGRESS:
        return FO_TXS_RESET;
    case NDIS_STATUS_ADAPTER_REMOVED:
        return FO_TXS_REMOVED;
    case NDIS_STATUS_MEDIA_DISCONNECTED:
        return FO_TXS_MEDIA_DISCONNECTED;
    case NDIS_STATUS_SEND_ABORTED:
    case NDIS_STATUS_REQUEST_ABORTED:
    case NDIS_STATUS_CLOSING:
    case NDIS_STATUS_LOW_POWER_STATE:
        return FO_TXS_ABORTED;
    case NDIS_STATUS_RESOURCES:
        return FO_TXS_RESOURCES;
    default:
        return FO_TXS_FAILED;
    }
}

void PtSendNetBufferListsComplete(NDIS_HANDLE ctx, PNET_BUFFER_LIST nbls, ULONG flags)
{
    vfo_binding *b = ctx;
    vfo_adapter *ad = b->ad;
    bool dispatch = (flags & NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL) != 0;
    PNET_BUFFER_LIST done = NULL, resend = NULL;
    PNET_BUFFER_LIST *done_tail = &done, *resend_tail = &resend;
    ULONG n = 0;
    bool removed = false;
    if (!ad) {
        VFO_ERR("send completion on a binding without a pair");
        return;
    }
    for (PNET_BUFFER_LIST nbl = nbls, next; nbl; nbl = next) {
        next = NET_BUFFER_LIST_NEXT_NBL(nbl);
        NET_BUFFER_LIST_NEXT_NBL(nbl) = NULL;
        n++;
        if (vfo_own_nbl_done(ad, nbl))
            continue;
        vfo_primary_unwrap(nbl);
        NDIS_STATUS st = NET_BUFFER_LIST_STATUS(nbl);
        if (st == NDIS_STATUS_SUCCESS) {
            vfo_nbl_append(&done_tail, nbl);
            continue;
        }
        fo_tx_status fs = map_tx_status(st);
        removed |= fs == FO_TXS_REMOVED;
        if (fo_tx_resend(&ad->pair, fs)) {
            NET_BUFFER_LIST_STATUS(nbl) = NDIS_STATUS_SUCCESS;
            vfo_count(&ad->ctr.resent, 1);
            vfo_nbl_append(&resend_tail, nbl);
        } else {
            vfo_nbl_append(&done_tail, nbl);
        }
    }
    if (removed)
        vfo_binding_removed(b, vfo_irql_from_flag(dispatch));
    if (resend)
        vfo_tx_standby(ad, resend, dispatch);
    if (done)
        vfo_tx_complete_up(ad, done, dispatch);
    if (fo_primary_release(&ad->pair, n))
        vfo_drained(ad, vfo_irql_from_flag(dispatch));
}

static void receive_on(vfo_binding *b, vfo_adapter *ad, PNET_BUFFER_LIST nbls, ULONG n, ULONG flags)
{
    if (ad && fo_rx_accept(&ad->pair, n)) {
        vfo_rx_from_primary(ad, b, nbls, n, flags);
        return;
    }
    if (ad && fo_rx_accept_brief(&ad->pair, n)) {
        vfo_rx_brief_from_primary(ad, b, nbls, n, flags); /* the binding pauses */
        return;
    }
    if (ad)
        vfo_count(&ad->ctr.rx_dropped, (LONG64)n);
    if (!(flags & NDIS_RECEIVE_FLAGS_RESOURCES))
        NdisReturnNetBufferLists(
            b->handle, nbls,
            (flags & NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL) ? NDIS_RETURN_FLAGS_DISPATCH_LEVEL : 0);
}

/* Counted in rx_calls while it may use b->ad: see orphan_detach. */
void PtReceiveNetBufferLists(NDIS_HANDLE ctx, PNET_BUFFER_LIST nbls, NDIS_PORT_NUMBER port, ULONG n,
                             ULONG flags)
{
    vfo_binding *b = ctx;
    (void)port;
    InterlockedIncrement(&b->rx_calls);
    vfo_adapter *ad = vfo_get(&b->orphan) ? NULL : b->ad;
    receive_on(b, ad, nbls, n, flags);
    InterlockedDecrement(&b->rx_calls);
}
