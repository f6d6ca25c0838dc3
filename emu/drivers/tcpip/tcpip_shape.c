/*
 * tcpip_shape.c - frames sent the way Windows TCP/IP builds them rather than
 * flat: a datagram whose data is scattered over a long chain of small MDLs
 * (headers, options and payload in separate buffers; a retransmission
 * assembled from what is still queued), more than a NIC's scatter/gather
 * list takes at once. Which datagrams, and how many pieces, a seed decides
 * (tcpip_config.shape_seed). The data lives in pool memory of the binding
 * and is freed with its MDLs at send completion.
 */
#include "tcpip_int.h"

#include "netframe.h"

#define TC_CHAIN_ONE_IN 4  /* about one datagram in four goes as a chain */
#define TC_CHAIN_MIN    32 /* more than the 31 data segments virtio-net drivers use */
#define TC_CHAIN_SPREAD 17 /* 32..48 pieces */

/* Lock held. xorshift64: the stream of choices a seed fixes. */
static ULONG64 next_choice(void)
{
    ULONG64 x = g_tc.shape_rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    g_tc.shape_rng = x;
    return x;
}

void tc_shape_seed(ULONG seed)
{
    g_tc.shape_rng = seed ? 0x9E3779B97F4A7C15ull ^ seed : 0;
}

ULONG tc_shape_pieces(ULONG len)
{
    if (!g_tc.shape_rng || next_choice() % TC_CHAIN_ONE_IN != 0)
        return 1;
    ULONG n = TC_CHAIN_MIN + (ULONG)(next_choice() % TC_CHAIN_SPREAD);
    return n < len ? n : len;
}

static void free_chain(NDIS_HANDLE owner, PMDL m, PVOID data)
{
    while (m) {
        PMDL next = NDIS_MDL_LINKAGE(m);
        NdisFreeMdl(m);
        m = next;
    }
    if (data)
        NdisFreeMemoryWithTagPriority(owner, data, TC_TAG);
}

PNET_BUFFER_LIST tc_chain_nbl(tc_binding *b, const UCHAR *frame, ULONG len, ULONG pieces)
{
    PUCHAR data = NdisAllocateMemoryWithTagPriority(b->handle, len, TC_TAG, NormalPoolPriority);
    PMDL first = NULL, *tail = &first;
    if (!data || !pieces)
        goto fail;
    NdisMoveMemory(data, frame, len);
    for (ULONG i = 0, off = 0; i < pieces; i++) {
        ULONG piece = i + 1 == pieces ? len - off : len / pieces;
        PMDL m = NdisAllocateMdl(b->handle, data + off, piece);
        if (!m)
            goto fail;
        *tail = m;
        tail = &NDIS_MDL_LINKAGE(m);
        off += piece;
    }
    PNET_BUFFER_LIST nbl =
        NdisAllocateNetBufferAndNetBufferList(b->chain_pool, 0, 0, first, 0, len);
    if (!nbl)
        goto fail;
    nbl->ProtocolReserved[1] = data;
    nbl->ProtocolReserved[2] = NULL;
    return nbl;
fail:
    free_chain(b->handle, first, data);
    return NULL;
}

BOOLEAN tc_chain_free(tc_binding *b, PNET_BUFFER_LIST nbl)
{
    PVOID data = nbl->ProtocolReserved[1];
    if (!data)
        return FALSE;
    PMDL m = NET_BUFFER_FIRST_MDL(NET_BUFFER_LIST_FIRST_NB(nbl));
    NdisFreeNetBufferList(nbl);
    free_chain(b->handle, m, data);
    return TRUE;
}

/* ---- large sends (LSOv2) ---- */

#define TC_LSO_MAX    60000u
#define TC_LSO_MSS    1460u
#define TC_TCP_PORT   5003u
#define TC_LSO_MARKER ((PVOID)(ULONG_PTR)0x4C534F32u) /* ProtocolReserved[2]: "LSO2" */

#define TC_CSUM_BYTES 500u

static void tcp_addresses(const tcpip_adapter_stats *as, nf_tcp *t)
{
    NdisZeroMemory(t, sizeof(*t));
    NdisMoveMemory(t->src_mac, as->mac, 6);
    NdisMoveMemory(t->dst_mac, g_tc.peer_mac, 6);
    t->src_ip = g_tc.cfg.ip;
    t->dst_ip = g_tc.cfg.peer_ip;
    t->src_port = TC_TCP_PORT;
    t->dst_port = TC_TCP_PORT;
    t->seq = g_tc.tcp_seq;
}

/* Lock held (dropped around the send). */
static void send_tcp_locked(tc_binding *b, PNET_BUFFER_LIST nbl, ULONG bytes)
{
    nbl->SourceHandle = b->handle;
    nbl->ProtocolReserved[0] = (PVOID)(ULONG_PTR)FALSE;
    g_tc.tcp_seq += bytes;
    g_tc.stats.tcp_bytes_sent += bytes;
    b->sends_out++;
    g_tc.stats.adapter[b->adapter].tx++;
    NdisDprReleaseSpinLock(&g_tc.lock);
    NdisSendNetBufferLists(b->handle, nbl, NDIS_DEFAULT_PORT_NUMBER,
                           NDIS_SEND_FLAGS_DISPATCH_LEVEL);
    NdisDprAcquireSpinLock(&g_tc.lock);
}

/* A segment with a TCP checksum offload request, when the adapter offers it. */
void tc_send_csum_locked(tc_binding *b)
{
    UCHAR frame[NF_ETH_HLEN + 40 + TC_CSUM_BYTES];
    tcpip_adapter_stats *as = &g_tc.stats.adapter[b->adapter];
    nf_tcp t;
    if (!as->csum_tx_tcp4 || !g_tc.peer_known)
        return;
    tcp_addresses(as, &t);
    ULONG len = (ULONG)nf_build_tcp_csum(frame, sizeof(frame), &t, TC_CSUM_BYTES);
    PNET_BUFFER_LIST nbl = len ? tc_chain_nbl(b, frame, len, 2) : NULL;
    if (!nbl)
        return;
    NDIS_TCP_IP_CHECKSUM_NET_BUFFER_LIST_INFO csum;
    csum.Value = NULL;
    csum.Transmit.IsIPv4 = 1;
    csum.Transmit.TcpChecksum = 1;
    csum.Transmit.TcpHeaderOffset = NF_ETH_HLEN + 20;
    NET_BUFFER_LIST_INFO(nbl, TcpIpChecksumNetBufferListInfo) = csum.Value;
    g_tc.stats.csum_sent++;
    send_tcp_locked(b, nbl, TC_CSUM_BYTES);
}

void tc_send_lso_locked(tc_binding *b)
{
    static UCHAR frame[NF_ETH_HLEN + 40 + TC_LSO_MAX]; /* under g_tc.lock only */
    tcpip_adapter_stats *as = &g_tc.stats.adapter[b->adapter];
    ULONG bytes = g_tc.cfg.lso_bytes < TC_LSO_MAX ? g_tc.cfg.lso_bytes : TC_LSO_MAX;
    if (!as->lso_v2_ip4 || !g_tc.peer_known) {
        g_tc.stats.lso_not_offered++;
        return;
    }
    nf_tcp t;
    tcp_addresses(as, &t);
    ULONG len = (ULONG)nf_build_tcp_lso(frame, sizeof(frame), &t, bytes);
    /* headers in one buffer, payload in another, as TCP/IP builds them */
    PNET_BUFFER_LIST nbl = len ? tc_chain_nbl(b, frame, len, 2) : NULL;
    if (!nbl)
        return;
    NDIS_TCP_LARGE_SEND_OFFLOAD_NET_BUFFER_LIST_INFO lso;
    lso.Value = NULL;
    lso.LsoV2Transmit.Type = NDIS_TCP_LARGE_SEND_OFFLOAD_V2_TYPE;
    lso.LsoV2Transmit.IPVersion = NDIS_TCP_LARGE_SEND_OFFLOAD_IPv4;
    lso.LsoV2Transmit.MSS = TC_LSO_MSS;
    lso.LsoV2Transmit.TcpHeaderOffset = NF_ETH_HLEN + 20;
    NET_BUFFER_LIST_INFO(nbl, TcpLargeSendNetBufferListInfo) = lso.Value;
    nbl->ProtocolReserved[2] = TC_LSO_MARKER;
    g_tc.stats.lso_sent++;
    g_tc.stats.lso_bytes_sent += bytes;
    send_tcp_locked(b, nbl, bytes);
}

/* Lock held. A large send's completion must carry LsoV2TransmitComplete
 * with Reserved zero and Type unchanged (NDIS_TCP_LARGE_SEND_OFFLOAD_
 * NET_BUFFER_LIST_INFO). */
void tc_check_lso_completion(PNET_BUFFER_LIST nbl)
{
    if (nbl->ProtocolReserved[2] != TC_LSO_MARKER)
        return;
    NDIS_TCP_LARGE_SEND_OFFLOAD_NET_BUFFER_LIST_INFO lso;
    lso.Value = NET_BUFFER_LIST_INFO(nbl, TcpLargeSendNetBufferListInfo);
    if (lso.LsoV2TransmitComplete.Reserved != 0 ||
        lso.LsoV2TransmitComplete.Type != NDIS_TCP_LARGE_SEND_OFFLOAD_V2_TYPE)
        g_tc.stats.lso_bad_completions++;
}
