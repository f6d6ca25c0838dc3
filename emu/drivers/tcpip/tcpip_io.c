/*
 * tcpip_io.c - the TCP/IP stand-in's traffic: ARP (answering, resolving the
 * peer, gratuitous announcements), the sequence-stamped UDP stream out (a
 * periodic timer) and in (logged with arrival time and adapter), send
 * completions.
 */
#include "tcpip_int.h"

#include "netframe.h"

#define ARP_RETRY_NS 100000000ull

ULONG64 tc_now_ns(void)
{
    LARGE_INTEGER f, c = KeQueryPerformanceCounter(&f);
    if (f.QuadPart <= 0)
        return 0;
    return (ULONG64)c.QuadPart * (1000000000ull / (ULONG64)f.QuadPart);
}

/* Lock held. Sends a frame on b: the NBL carries the data, the completion
 * frees it. Returns FALSE when no NBL could be had. */
static BOOLEAN send_frame_locked(tc_binding *b, const UCHAR *frame, ULONG len, BOOLEAN seq)
{
    ULONG pieces = seq ? tc_shape_pieces(len) : 1;
    PNET_BUFFER_LIST nbl;
    if (pieces > 1) {
        nbl = tc_chain_nbl(b, frame, len, pieces);
        if (!nbl)
            return FALSE;
        g_tc.stats.chains_sent++;
    } else {
        /* The pool has a DataSize: the NBL comes with an NB, MDL and data of
         * that size; the frame uses the first len bytes. */
        nbl = NdisAllocateNetBufferList(b->pool, 0, 0);
        if (!nbl)
            return FALSE;
        if (len > NET_BUFFER_DATA_LENGTH(NET_BUFFER_LIST_FIRST_NB(nbl))) {
            NdisFreeNetBufferList(nbl);
            return FALSE;
        }
        NET_BUFFER_DATA_LENGTH(NET_BUFFER_LIST_FIRST_NB(nbl)) = len;
        PVOID va;
        ULONG mlen;
        NdisQueryMdl(NET_BUFFER_FIRST_MDL(NET_BUFFER_LIST_FIRST_NB(nbl)), &va, &mlen,
                     NormalPagePriority);
        NdisMoveMemory(va, frame, len);
        nbl->ProtocolReserved[1] = NULL;
        nbl->ProtocolReserved[2] = NULL;
    }
    nbl->SourceHandle = b->handle;
    NET_BUFFER_LIST_MINIPORT_RESERVED(nbl)[0] = NULL;
    nbl->ProtocolReserved[0] = (PVOID)(ULONG_PTR)seq;
    b->sends_out++;
    tcpip_adapter_stats *as = &g_tc.stats.adapter[b->adapter];
    as->tx++;
    as->tx_seq += seq;
    NdisDprReleaseSpinLock(&g_tc.lock);
    NdisSendNetBufferLists(b->handle, nbl, NDIS_DEFAULT_PORT_NUMBER,
                           NDIS_SEND_FLAGS_DISPATCH_LEVEL);
    NdisDprAcquireSpinLock(&g_tc.lock);
    return TRUE;
}

/* Lock held, at DISPATCH_LEVEL. */
static void send_arp_locked(tc_binding *b, USHORT op, const UCHAR dst[6], const UCHAR tha[6],
                            ULONG tpa)
{
    UCHAR frame[NF_ETH_MIN];
    nf_arp a;
    NdisZeroMemory(&a, sizeof(a));
    a.op = op;
    NdisMoveMemory(a.sha, g_tc.stats.adapter[b->adapter].mac, 6);
    a.spa = g_tc.cfg.ip;
    NdisMoveMemory(a.tha, tha, 6);
    a.tpa = tpa;
    ULONG len = (ULONG)nf_build_arp(frame, sizeof(frame), dst, &a, FALSE);
    if (len)
        send_frame_locked(b, frame, len, FALSE);
}

void tc_send_garp(tc_binding *b)
{
    static const UCHAR zero[6];
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    NdisDprAcquireSpinLock(&g_tc.lock);
    if (g_tc.configured && b->running && b->pool) {
        g_tc.stats.garps++;
        send_arp_locked(b, NF_ARP_REQUEST, nf_broadcast, zero, g_tc.cfg.ip);
    }
    NdisDprReleaseSpinLock(&g_tc.lock);
    KeLowerIrql(old);
}

/* ---- receive ---- */

static void rx_arp(tc_binding *b, const nf_arp *a)
{
    tcpip_adapter_stats *as = &g_tc.stats.adapter[b->adapter];
    as->rx_arp++;
    if (!g_tc.configured)
        return;
    if (a->spa == g_tc.cfg.peer_ip && a->op <= NF_ARP_REPLY) {
        NdisMoveMemory(g_tc.peer_mac, a->sha, 6);
        g_tc.peer_known = TRUE;
    }
    if (a->op == NF_ARP_REQUEST && a->tpa == g_tc.cfg.ip && a->spa != a->tpa && b->running) {
        g_tc.stats.arp_replies++;
        send_arp_locked(b, NF_ARP_REPLY, a->sha, a->sha, a->spa);
    }
}

static void log_arrival(tc_binding *b, ULONG64 seq)
{
    g_tc.stats.seq_received++;
    g_tc.stats.adapter[b->adapter].rx_seq++;
    if (!g_tc.rx_log || g_tc.n_rx >= g_tc.log_cap) {
        g_tc.stats.log_overflow++;
        return;
    }
    tcpip_arrival *e = &g_tc.rx_log[g_tc.n_rx++];
    e->seq = seq;
    e->t_ns = tc_now_ns();
    e->adapter = b->adapter;
    e->reserved = 0;
}

static void rx_udp(tc_binding *b, const nf_udp *u)
{
    nf_seq s;
    if (g_tc.configured && u->dst_ip == g_tc.cfg.ip && u->dst_port == g_tc.cfg.port &&
        nf_parse_seq(u->payload, u->payload_len, &s)) {
        log_arrival(b, s.seq);
        return;
    }
    g_tc.stats.adapter[b->adapter].rx_other++;
}

/* Lock held. One received frame (the first TC_FRAME_MAX bytes of it). */
static void rx_frame(tc_binding *b, const UCHAR *f, ULONG len)
{
    nf_eth e;
    nf_arp a;
    nf_udp u;
    g_tc.stats.adapter[b->adapter].rx_frames++;
    if (!nf_parse_eth(f, len, &e))
        e.type = 0;
    if (e.type == NF_ETHERTYPE_ARP && nf_parse_arp(f, len, &a))
        rx_arp(b, &a);
    else if (e.type == NF_ETHERTYPE_IP && nf_parse_udp(f, len, &u))
        rx_udp(b, &u);
    else
        g_tc.stats.adapter[b->adapter].rx_other++;
}

void tc_receive(tc_binding *b, PNET_BUFFER_LIST nbls, ULONG flags)
{
    static UCHAR copy[TC_FRAME_MAX]; /* used under g_tc.lock only */
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    NdisDprAcquireSpinLock(&g_tc.lock);
    for (PNET_BUFFER_LIST nbl = nbls; nbl; nbl = NET_BUFFER_LIST_NEXT_NBL(nbl)) {
        for (PNET_BUFFER nb = NET_BUFFER_LIST_FIRST_NB(nbl); nb; nb = NET_BUFFER_NEXT_NB(nb)) {
            ULONG len = NET_BUFFER_DATA_LENGTH(nb);
            if (len > TC_FRAME_MAX)
                len = TC_FRAME_MAX;
            PUCHAR p = len ? NdisGetDataBuffer(nb, len, copy, 1, 0) : NULL;
            if (p)
                rx_frame(b, p, len);
        }
    }
    NdisDprReleaseSpinLock(&g_tc.lock);
    KeLowerIrql(old);
    if (!(flags & NDIS_RECEIVE_FLAGS_RESOURCES))
        NdisReturnNetBufferLists(
            b->handle, nbls,
            (flags & NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL) ? NDIS_RETURN_FLAGS_DISPATCH_LEVEL : 0);
}

void tc_send_complete(tc_binding *b, PNET_BUFFER_LIST nbls)
{
    NdisAcquireSpinLock(&g_tc.lock);
    tcpip_adapter_stats *as = &g_tc.stats.adapter[b->adapter];
    PNET_BUFFER_LIST next;
    for (PNET_BUFFER_LIST nbl = nbls; nbl; nbl = next) {
        next = NET_BUFFER_LIST_NEXT_NBL(nbl);
        tc_check_lso_completion(nbl);
        if (NET_BUFFER_LIST_STATUS(nbl) == NDIS_STATUS_SUCCESS)
            as->tx_ok++;
        else
            as->tx_failed++;
        if (!tc_chain_free(b, nbl))
            NdisFreeNetBufferList(nbl);
        b->sends_out--;
    }
    NdisReleaseSpinLock(&g_tc.lock);
}

/* ---- the outgoing stream ---- */

/* Lock held. One datagram of the stream on the current route. */
static void send_datagram_locked(void)
{
    tc_binding *b = tc_route();
    ULONG64 now = tc_now_ns();
    if (!b) {
        g_tc.stats.seq_not_sent++;
        g_tc.stats.tx_adapter = ~0u;
        return;
    }
    if (!g_tc.peer_known) {
        g_tc.stats.seq_not_sent++;
        if (now >= g_tc.next_arp_ns) {
            static const UCHAR zero[6];
            g_tc.next_arp_ns = now + ARP_RETRY_NS;
            g_tc.stats.arp_requests++;
            send_arp_locked(b, NF_ARP_REQUEST, nf_broadcast, zero, g_tc.cfg.peer_ip);
        }
        return;
    }
    UCHAR frame[TC_FRAME_MAX];
    nf_udp u;
    NdisZeroMemory(&u, sizeof(u));
    NdisMoveMemory(u.src_mac, g_tc.stats.adapter[b->adapter].mac, 6);
    NdisMoveMemory(u.dst_mac, g_tc.peer_mac, 6);
    u.src_ip = g_tc.cfg.ip;
    u.dst_ip = g_tc.cfg.peer_ip;
    u.src_port = g_tc.cfg.port;
    u.dst_port = g_tc.cfg.peer_port;
    nf_seq s = { .stream = g_tc.cfg.stream, .seq = g_tc.stats.seq_sent, .sent_ns = now };
    ULONG len = (ULONG)nf_build_seq_udp(frame, sizeof(frame), &u, &s, g_tc.cfg.payload);
    if (!len)
        return;
    if (g_tc.tx_log && g_tc.stats.seq_sent < g_tc.log_cap)
        g_tc.tx_log[g_tc.stats.seq_sent] = now;
    else
        g_tc.stats.log_overflow++;
    g_tc.stats.seq_sent++;
    g_tc.stats.tx_adapter = b->adapter;
    send_frame_locked(b, frame, len, TRUE);
}

void tc_tick(PVOID sys1, PVOID ctx, PVOID sys2, PVOID sys3)
{
    UNREFERENCED_PARAMETER(sys1);
    UNREFERENCED_PARAMETER(ctx);
    UNREFERENCED_PARAMETER(sys2);
    UNREFERENCED_PARAMETER(sys3);
    NdisDprAcquireSpinLock(&g_tc.lock);
    for (ULONG i = 0; g_tc.sending && i < g_tc.per_tick; i++)
        send_datagram_locked();
    tc_binding *b = g_tc.sending && g_tc.cfg.lso_bytes ? tc_route() : NULL;
    if (b)
        tc_send_lso_locked(b);
    b = g_tc.sending && g_tc.cfg.lso_bytes ? tc_route() : NULL;
    if (b)
        tc_send_csum_locked(b);
    NdisDprReleaseSpinLock(&g_tc.lock);
}

/* 0 stops. Up to 1000/s one datagram per tick of 1000/pps ms; above, one
 * tick per ms carrying pps/1000 datagrams. */
void tc_set_rate(ULONG pps)
{
    ULONG period_ms = pps == 0 ? 0 : pps <= 1000 ? 1000 / pps : 1;
    NdisAcquireSpinLock(&g_tc.lock);
    g_tc.sending = pps != 0;
    g_tc.stats.sending = pps != 0;
    g_tc.per_tick = pps <= 1000 ? 1 : pps / 1000;
    NdisReleaseSpinLock(&g_tc.lock);
    NdisCancelTimerObject(g_tc.timer);
    if (period_ms) {
        LARGE_INTEGER due;
        due.QuadPart = -(LONGLONG)period_ms * 10000;
        NdisSetTimerObject(g_tc.timer, due, period_ms, NULL);
    }
}
