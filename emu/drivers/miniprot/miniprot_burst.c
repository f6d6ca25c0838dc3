/*
 * miniprot_burst.c - IOCTL_MINIPROT_BURST: a measured stream of sends, as
 * lists of NBLs, for the benchmarks (bench/vfpath_bench). The NBLs come
 * from a pool of the burst's own, allocated and filled before the loop and
 * freed after it, so the loop is the send path and the completion path
 * only: the sender takes `list` NBLs from the free list, chains them and
 * sends them; the completion handler (on whatever CPU the miniport
 * completes on) puts them back.
 */
#include <ndis.h>

#include "miniprot.h"
#include "miniprot_int.h"
#include "nu_object.h"

typedef struct pt_burst {
    NDIS_SPIN_LOCK lock;
    PNET_BUFFER_LIST free_list;
    volatile LONG n_free;
    ULONG64 completed, ok;
} pt_burst;

static pt_burst *volatile g_burst; /* the burst running, if any */

ULONG64 pt_now_ns(void)
{
    LARGE_INTEGER f, c = KeQueryPerformanceCounter(&f);
    if (f.QuadPart <= 0)
        return 0;
    return (ULONG64)c.QuadPart * (1000000000ull / (ULONG64)f.QuadPart);
}

BOOLEAN pt_burst_complete(PNET_BUFFER_LIST nbl)
{
    pt_burst *bu = g_burst;
    if (!bu || nbl->ProtocolReserved[0] != bu)
        return FALSE;
    NdisAcquireSpinLock(&bu->lock);
    NET_BUFFER_LIST_NEXT_NBL(nbl) = bu->free_list;
    bu->free_list = nbl;
    bu->completed++;
    bu->ok += NET_BUFFER_LIST_STATUS(nbl) == NDIS_STATUS_SUCCESS;
    NdisReleaseSpinLock(&bu->lock);
    InterlockedIncrement(&bu->n_free);
    return TRUE;
}

/* Waits (below DISPATCH_LEVEL) until n NBLs are free: the miniport
 * completes them on another CPU. */
static void wait_free(pt_burst *bu, LONG n)
{
    while (InterlockedCompareExchange(&bu->n_free, 0, 0) < n)
        NdisMSleep(1);
}

NTSTATUS pt_burst_io(const UCHAR *in, ULONG in_len, UCHAR *out, ULONG out_len, ULONG *info)
{
    miniprot_burst rq;
    if (in_len < sizeof(rq) || out_len < sizeof(miniprot_burst_result))
        return STATUS_INVALID_PARAMETER;
    NdisMoveMemory(&rq, in, sizeof(rq));
    if (rq.len < 14 || rq.len > 2048 || rq.list == 0 || rq.inflight < rq.list ||
        rq.inflight > MINIPROT_BURST_MAX || g_burst)
        return STATUS_INVALID_PARAMETER;
    void *ref;
    NDIS_HANDLE bh = pt_get_open_binding(&ref);
    if (!bh)
        return STATUS_DEVICE_NOT_READY;
    NTSTATUS status = STATUS_INSUFFICIENT_RESOURCES;
    pt_burst *bu = NdisAllocateMemoryWithTagPriority(pt_protocol_handle(), sizeof(*bu), PT_TAG,
                                                     NormalPoolPriority);
    NET_BUFFER_LIST_POOL_PARAMETERS pp;
    NdisZeroMemory(&pp, sizeof(pp));
    NU_INIT_HEADER(&pp.Header, NDIS_OBJECT_TYPE_DEFAULT, NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1,
                   NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1);
    pp.ProtocolId = NDIS_PROTOCOL_ID_DEFAULT;
    pp.fAllocateNetBuffer = TRUE;
    pp.DataSize = 2048;
    pp.PoolTag = PT_TAG;
    NDIS_HANDLE pool = bu ? NdisAllocateNetBufferListPool(pt_protocol_handle(), &pp) : NULL;
    if (!pool)
        goto out;
    NdisZeroMemory(bu, sizeof(*bu));
    NdisAllocateSpinLock(&bu->lock);
    ULONG have = 0;
    for (; have < rq.inflight; have++) {
        PNET_BUFFER_LIST nbl = NdisAllocateNetBufferList(pool, 0, 0);
        if (!nbl)
            break;
        PNET_BUFFER nb = NET_BUFFER_LIST_FIRST_NB(nbl);
        PVOID va;
        ULONG mlen;
        NdisQueryMdl(NET_BUFFER_FIRST_MDL(nb), &va, &mlen, NormalPagePriority);
        NdisZeroMemory(va, rq.len);
        NdisMoveMemory(va, rq.head, rq.len < sizeof(rq.head) ? rq.len : sizeof(rq.head));
        NET_BUFFER_DATA_LENGTH(nb) = rq.len;
        nbl->SourceHandle = bh;
        nbl->ProtocolReserved[0] = bu;
        NET_BUFFER_LIST_NEXT_NBL(nbl) = bu->free_list;
        bu->free_list = nbl;
    }
    bu->n_free = (LONG)have;
    miniprot_burst_result r;
    NdisZeroMemory(&r, sizeof(r));
    if (have == rq.inflight) {
        g_burst = bu;
        KIRQL old;
        ULONG64 t0 = pt_now_ns();
        while (r.sent < rq.frames) {
            ULONG k = rq.frames - r.sent < rq.list ? (ULONG)(rq.frames - r.sent) : rq.list;
            wait_free(bu, (LONG)k);
            KeRaiseIrql(DISPATCH_LEVEL, &old);
            NdisDprAcquireSpinLock(&bu->lock);
            PNET_BUFFER_LIST head = bu->free_list, last = head;
            for (ULONG i = 1; i < k; i++)
                last = NET_BUFFER_LIST_NEXT_NBL(last);
            bu->free_list = NET_BUFFER_LIST_NEXT_NBL(last);
            NdisDprReleaseSpinLock(&bu->lock);
            InterlockedExchangeAdd(&bu->n_free, -(LONG)k);
            NET_BUFFER_LIST_NEXT_NBL(last) = NULL;
            for (PNET_BUFFER_LIST nbl = head; nbl; nbl = NET_BUFFER_LIST_NEXT_NBL(nbl))
                nbl->SourceHandle = bh;
            NdisSendNetBufferLists(bh, head, NDIS_DEFAULT_PORT_NUMBER,
                                   NDIS_SEND_FLAGS_DISPATCH_LEVEL);
            KeLowerIrql(old);
            r.sent += k;
        }
        wait_free(bu, (LONG)have);
        r.ns = pt_now_ns() - t0;
        g_burst = NULL;
        r.completed = bu->completed;
        r.ok = bu->ok;
        NdisMoveMemory(out, &r, sizeof(r));
        *info = sizeof(r);
        status = STATUS_SUCCESS;
    }
    while (bu->free_list) {
        PNET_BUFFER_LIST next = NET_BUFFER_LIST_NEXT_NBL(bu->free_list);
        NdisFreeNetBufferList(bu->free_list);
        bu->free_list = next;
    }
    NdisFreeSpinLock(&bu->lock);
    NdisFreeNetBufferListPool(pool);
out:
    if (bu)
        NdisFreeMemoryWithTagPriority(pt_protocol_handle(), bu, PT_TAG);
    pt_put_binding(ref);
    return status;
}
