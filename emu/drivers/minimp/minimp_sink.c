/*
 * minimp_sink.c - sink_mp: minimp with the device left out of the data
 * path, for measuring what the drivers above a VF miniport cost (bench/
 * vfpath_bench). It initializes, pauses, answers OIDs and halts as minimp
 * does (on its loopnic), but:
 *  - a send is completed at once, in the send call (tx mode 0), or queued
 *    for the DPC, which NDIS runs on another CPU (tx mode 1: the completion
 *    path of a real NIC, without its hardware);
 *  - receives come from a pool of the sink's own on request: a control
 *    frame (minimp_sink.h) asks for a burst, which the DPC indicates in
 *    lists of the requested length, at most MaxNblsToIndicate per DPC,
 *    going on when NBLs come back.
 * No frame is copied and no device is touched per packet.
 */
#include "nu_dpc.h"
#include "minimp.h"

#ifdef MINIMP_SINK

#include "minimp_sink.h"

static const UCHAR k_peer[6] = MP_SINK_PEER_MAC;

NDIS_STATUS mp_sink_init(mp_adapter *a)
{
    mp_sink *s = &a->sink;
    s->tx_tail = &s->tx_head;
    s->buf = NdisAllocateMemoryWithTagPriority(a->handle, MP_SINK_NBLS * MP_BUF_SIZE, MP_TAG,
                                               NormalPoolPriority);
    if (!s->buf)
        return NDIS_STATUS_RESOURCES;
    NdisZeroMemory(s->buf, MP_SINK_NBLS * MP_BUF_SIZE);
    for (ULONG i = 0; i < MP_SINK_NBLS; i++) {
        PUCHAR f = s->buf + (SIZE_T)i * MP_BUF_SIZE;
        NdisMoveMemory(f, a->mac, 6);
        NdisMoveMemory(f + 6, k_peer, 6);
        f[12] = 0x88;
        f[13] = 0xB5;
        s->mdl[i] = NdisAllocateMdl(a->handle, f, MP_BUF_SIZE);
        if (!s->mdl[i])
            return NDIS_STATUS_RESOURCES;
        s->nbl[i] =
            NdisAllocateNetBufferAndNetBufferList(a->nbl_pool, 0, 0, s->mdl[i], 0, MP_BUF_SIZE);
        if (!s->nbl[i])
            return NDIS_STATUS_RESOURCES;
        NET_BUFFER_LIST_MINIPORT_RESERVED(s->nbl[i])[1] = s;
        NET_BUFFER_LIST_NEXT_NBL(s->nbl[i]) = s->free_list;
        s->free_list = s->nbl[i];
        s->n_free++;
    }
    return NDIS_STATUS_SUCCESS;
}

void mp_sink_free(mp_adapter *a)
{
    mp_sink *s = &a->sink;
    for (ULONG i = 0; i < MP_SINK_NBLS; i++) {
        if (s->nbl[i])
            NdisFreeNetBufferList(s->nbl[i]);
        if (s->mdl[i])
            NdisFreeMdl(s->mdl[i]);
    }
    if (s->buf)
        NdisFreeMemoryWithTagPriority(a->handle, s->buf, MP_TAG);
}

static ULONG le32(const UCHAR *p)
{
    return (ULONG)p[0] | (ULONG)p[1] << 8 | (ULONG)p[2] << 16 | (ULONG)p[3] << 24;
}

/* A control frame: exactly MP_SINK_CTL_LEN bytes, so that data frames are
 * never looked into. At DISPATCH_LEVEL; TRUE when it asked for receives. */
static BOOLEAN control(mp_adapter *a, PNET_BUFFER_LIST nbl)
{
    PNET_BUFFER nb = NET_BUFFER_LIST_FIRST_NB(nbl);
    UCHAR tmp[MP_SINK_CTL_LEN];
    PUCHAR f = NdisGetDataBuffer(nb, MP_SINK_CTL_LEN, tmp, 1, 0);
    if (!f || f[12] != 0x88 || f[13] != 0xB5 || f[14] != 'S' || f[15] != 'I' || f[16] != 'N' ||
        f[17] != 'K')
        return FALSE;
    mp_sink *s = &a->sink;
    ULONG a0 = le32(f + 19), a1 = le32(f + 23), a2 = le32(f + 27);
    BOOLEAN rx = FALSE;
    NdisDprAcquireSpinLock(&a->lock);
    s->ctl_frames++;
    if (f[18] == MP_SINK_OP_TX_MODE) {
        s->tx_mode = a0 ? 1 : 0;
    } else if (f[18] == MP_SINK_OP_RX && a1 >= 14 && a1 <= MP_BUF_SIZE && a2 >= 1 &&
               a2 <= MP_SINK_NBLS / 2) {
        s->rx_left += a0;
        s->rx_len = a1;
        s->rx_list = a2;
        rx = a0 != 0;
    }
    NdisDprReleaseSpinLock(&a->lock);
    return rx;
}

void mp_sink_send(mp_adapter *a, PNET_BUFFER_LIST nbls)
{
    mp_sink *s = &a->sink;
    ULONG n = 0;
    BOOLEAN rx = FALSE;
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    for (PNET_BUFFER_LIST nbl = nbls; nbl; nbl = NET_BUFFER_LIST_NEXT_NBL(nbl)) {
        PNET_BUFFER nb = NET_BUFFER_LIST_FIRST_NB(nbl);
        if (nb && NET_BUFFER_DATA_LENGTH(nb) == MP_SINK_CTL_LEN && control(a, nbl))
            rx = TRUE;
        n++;
    }
    NdisDprAcquireSpinLock(&a->lock);
    a->sends_out += n;
    NDIS_STATUS st = a->removed                    ? NDIS_STATUS_ADAPTER_REMOVED
                     : !a->running || a->low_power ? NDIS_STATUS_PAUSED
                                                   : NDIS_STATUS_SUCCESS;
    BOOLEAN queue = st == NDIS_STATUS_SUCCESS && s->tx_mode == 1;
    BOOLEAN kick = rx || (queue && s->tx_n == 0);
    if (queue) {
        for (PNET_BUFFER_LIST nbl = nbls; nbl; nbl = NET_BUFFER_LIST_NEXT_NBL(nbl))
            NET_BUFFER_LIST_STATUS(nbl) = st;
        *s->tx_tail = nbls;
        while (*s->tx_tail)
            s->tx_tail = &NET_BUFFER_LIST_NEXT_NBL(*s->tx_tail);
        s->tx_n += n;
    } else {
        s->tx_done += n;
    }
    NdisDprReleaseSpinLock(&a->lock);
    if (!queue) {
        for (PNET_BUFFER_LIST nbl = nbls; nbl; nbl = NET_BUFFER_LIST_NEXT_NBL(nbl))
            NET_BUFFER_LIST_STATUS(nbl) = st;
        mp_complete_sends(a, nbls, n);
    }
    if (kick)
        nu_queue_dpc_here(a->intr, 0);
    KeLowerIrql(old);
}

/* Indicates what the burst asks for, at most max NBLs; TRUE when more is
 * left and NBLs are free to go on with. */
static BOOLEAN rx_burst(mp_adapter *a, ULONG max)
{
    mp_sink *s = &a->sink;
    ULONG done = 0;
    for (;;) {
        NdisDprAcquireSpinLock(&a->lock);
        ULONG k = s->rx_list < s->rx_left ? s->rx_list : s->rx_left;
        if (!a->running || a->removed || k == 0 || done + k > max || s->n_free < k) {
            BOOLEAN more = a->running && !a->removed && k != 0 && s->n_free >= k;
            s->rx_starved = k != 0 && s->n_free < k;
            NdisDprReleaseSpinLock(&a->lock);
            return more;
        }
        PNET_BUFFER_LIST head = s->free_list, last = head;
        for (ULONG i = 0; i < k; i++) {
            NET_BUFFER_DATA_LENGTH(NET_BUFFER_LIST_FIRST_NB(last)) = s->rx_len;
            if (i + 1 < k)
                last = NET_BUFFER_LIST_NEXT_NBL(last);
        }
        s->free_list = NET_BUFFER_LIST_NEXT_NBL(last);
        NET_BUFFER_LIST_NEXT_NBL(last) = NULL;
        s->n_free -= k;
        s->rx_left -= k;
        s->rx_indicated += k;
        a->recvs_out += k;
        NdisDprReleaseSpinLock(&a->lock);
        NdisMIndicateReceiveNetBufferLists(a->handle, head, NDIS_DEFAULT_PORT_NUMBER, k,
                                           NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL);
        done += k;
    }
}

void mp_sink_dpc(mp_adapter *a, ULONG msg, PNDIS_RECEIVE_THROTTLE_PARAMETERS tp)
{
    mp_sink *s = &a->sink;
    NdisDprAcquireSpinLock(&a->lock);
    PNET_BUFFER_LIST tx = s->tx_head;
    ULONG n = s->tx_n;
    s->tx_head = NULL;
    s->tx_tail = &s->tx_head;
    s->tx_n = 0;
    s->tx_done += n;
    NdisDprReleaseSpinLock(&a->lock);
    if (tx)
        mp_complete_sends(a, tx, n);
    ULONG max =
        tp->MaxNblsToIndicate == NDIS_INDICATE_ALL_NBLS ? MP_SINK_NBLS : tp->MaxNblsToIndicate;
    if (rx_burst(a, max)) {
        if (tp->MaxNblsToIndicate != NDIS_INDICATE_ALL_NBLS)
            tp->MoreNblsPending = 1;
        else
            nu_queue_dpc_here(a->intr, msg);
    }
}

PNET_BUFFER_LIST mp_sink_return(mp_adapter *a, PNET_BUFFER_LIST nbls)
{
    mp_sink *s = &a->sink;
    PNET_BUFFER_LIST rest = NULL, *rest_tail = &rest, next;
    ULONG n = 0;
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    NdisDprAcquireSpinLock(&a->lock);
    for (PNET_BUFFER_LIST nbl = nbls; nbl; nbl = next) {
        next = NET_BUFFER_LIST_NEXT_NBL(nbl);
        if (NET_BUFFER_LIST_MINIPORT_RESERVED(nbl)[1] != s) {
            *rest_tail = nbl;
            rest_tail = &NET_BUFFER_LIST_NEXT_NBL(nbl);
            continue;
        }
        NET_BUFFER_LIST_NEXT_NBL(nbl) = s->free_list;
        s->free_list = nbl;
        n++;
    }
    *rest_tail = NULL;
    s->n_free += n;
    s->rx_returned += n;
    a->recvs_out -= n;
    ULONG k = s->rx_list < s->rx_left ? s->rx_list : s->rx_left;
    BOOLEAN go_on = s->rx_starved && k && s->n_free >= k;
    if (go_on)
        s->rx_starved = FALSE;
    BOOLEAN paused = mp_pause_done_locked(a);
    NdisDprReleaseSpinLock(&a->lock);
    if (paused)
        NdisMPauseComplete(a->handle);
    if (go_on)
        nu_queue_dpc_here(a->intr, 0);
    KeLowerIrql(old);
    return rest;
}

#endif /* MINIMP_SINK */
