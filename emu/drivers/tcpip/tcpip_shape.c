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

#define TC_CHAIN_ONE_IN  4  /* about one datagram in four goes as a chain */
#define TC_CHAIN_MIN     32 /* more than the 31 data segments virtio-net drivers use */
#define TC_CHAIN_SPREAD  17 /* 32..48 pieces */

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
