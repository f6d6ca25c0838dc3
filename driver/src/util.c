/*
 * util.c - small helpers: pool and shared memory, work items at
 * PASSIVE_LEVEL, and the interface GUIDs the control device reports.
 */
#include "vfo.h"

#ifdef VFO_WPP
#include "util.tmh"
#endif

PVOID vfo_alloc(NDIS_HANDLE h, SIZE_T size, ULONG tag)
{
    if (size == 0 || size > 0xFFFFFFFFu)
        return NULL;
    PVOID p = NdisAllocateMemoryWithTagPriority(h, (UINT)size, tag, NormalPoolPriority);
    if (p)
        NdisZeroMemory(p, size);
    return p;
}

/* Shared memory (cached): a failure is written to the system event log, so
 * the administrator of an adapter that did not start sees why (and the DDI
 * rule WriteErrorLog asks it of MiniportInitializeEx). */
PVOID vfo_shared_alloc(NDIS_HANDLE miniport, ULONG len, PNDIS_PHYSICAL_ADDRESS pa)
{
    PVOID va = NULL;
    NdisMAllocateSharedMemory(miniport, len, TRUE, &va, pa);
    if (!va) {
        VFO_ERR("out of shared memory (%lu bytes)", (unsigned long)len);
        NdisWriteErrorLogEntry(miniport, NDIS_ERROR_CODE_OUT_OF_RESOURCES, 2,
                               (ULONG)VFO_ERRLOG_SHARED_MEMORY, len);
    }
    return va;
}

void vfo_free(NDIS_HANDLE h, PVOID p, ULONG tag)
{
    if (p)
        NdisFreeMemoryWithTagPriority(h, p, tag);
}

/* An NBL pool whose NBLs come with one NET_BUFFER (and, with data_size,
 * a data buffer of that size). */
NDIS_HANDLE vfo_nbl_pool(NDIS_HANDLE h, ULONG tag, ULONG data_size)
{
    NET_BUFFER_LIST_POOL_PARAMETERS pp;
    NdisZeroMemory(&pp, sizeof(pp));
    VFO_INIT_HEADER(&pp.Header, NDIS_OBJECT_TYPE_DEFAULT,
                    NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1,
                    NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1);
    pp.ProtocolId = NDIS_PROTOCOL_ID_DEFAULT;
    pp.fAllocateNetBuffer = TRUE;
    pp.PoolTag = tag;
    pp.DataSize = data_size;
    return NdisAllocateNetBufferListPool(h, &pp);
}

/* A one-shot timer object calling fn(ctx). */
bool vfo_timer_alloc(NDIS_HANDLE h, PNDIS_TIMER_FUNCTION fn, PVOID ctx, NDIS_HANDLE *out)
{
    NDIS_TIMER_CHARACTERISTICS tc;
    NdisZeroMemory(&tc, sizeof(tc));
    VFO_INIT_HEADER(&tc.Header, NDIS_OBJECT_TYPE_TIMER_CHARACTERISTICS,
                    NDIS_TIMER_CHARACTERISTICS_REVISION_1,
                    NDIS_SIZEOF_TIMER_CHARACTERISTICS_REVISION_1);
    tc.AllocationTag = VFO_TAG_MISC;
    tc.TimerFunction = fn;
    tc.FunctionContext = ctx;
    return NdisAllocateTimerObject(h, &tc, out) == NDIS_STATUS_SUCCESS;
}

/* Runs fn now when the caller is at PASSIVE_LEVEL, else on the work item.
 * Returns false when it was queued. */
bool vfo_run_passive(NDIS_HANDLE work, NDIS_IO_WORKITEM_ROUTINE fn, PVOID ctx)
{
    if (KeGetCurrentIrql() == PASSIVE_LEVEL) {
        fn(ctx, work);
        return true;
    }
    NdisQueueIoWorkItem(work, fn, ctx);
    return false;
}

/* "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}" somewhere in s (chars long). */
bool vfo_guid_parse(const WCHAR *s, USHORT chars, struct vfo_ctl_guid *out)
{
    return vfo_ctl_guid_parse((const uint16_t *)s, chars, out) != 0;
}

/* The NetCfgInstanceId GUID in an NDIS adapter name, by the rule vfo_ctl.h
 * states for every side that names adapters. */
void vfo_guid_from_name(const NDIS_STRING *name, struct vfo_ctl_guid *out)
{
    if (!name || !name->Buffer) {
        NdisZeroMemory(out, sizeof(*out));
        return;
    }
    vfo_ctl_guid_of_adapter_name((const uint16_t *)name->Buffer,
                                 (uint32_t)(name->Length / sizeof(WCHAR)), out);
}
