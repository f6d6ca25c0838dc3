/*
 * util.c - small helpers: pool memory, work items at PASSIVE_LEVEL, and the
 * interface GUIDs the control device reports.
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
    NDIS_INIT_OBJECT_HEADER(&pp.Header, NDIS_OBJECT_TYPE_DEFAULT,
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
    NDIS_INIT_OBJECT_HEADER(&tc.Header, NDIS_OBJECT_TYPE_TIMER_CHARACTERISTICS,
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

static int hex_digit(WCHAR c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool hex_field(const WCHAR *s, unsigned digits, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < digits; i++) {
        int d = hex_digit(s[i]);
        if (d < 0)
            return false;
        v = (v << 4) | (uint64_t)d;
    }
    *out = v;
    return true;
}

/* "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}" somewhere in s (chars long). */
bool vfo_guid_parse(const WCHAR *s, USHORT chars, struct vfo_ctl_guid *out)
{
    for (USHORT i = 0; i + 38 <= chars; i++) {
        const WCHAR *g = s + i;
        uint64_t a, b, c, d, e;
        if (g[0] != '{' || g[9] != '-' || g[14] != '-' || g[19] != '-' || g[24] != '-' ||
            g[37] != '}')
            continue;
        if (!hex_field(g + 1, 8, &a) || !hex_field(g + 10, 4, &b) || !hex_field(g + 15, 4, &c) ||
            !hex_field(g + 20, 4, &d) || !hex_field(g + 25, 12, &e))
            continue;
        out->data1 = (uint32_t)a;
        out->data2 = (uint16_t)b;
        out->data3 = (uint16_t)c;
        out->data4[0] = (uint8_t)(d >> 8);
        out->data4[1] = (uint8_t)d;
        for (int k = 0; k < 6; k++)
            out->data4[2 + k] = (uint8_t)(e >> (40 - 8 * k));
        return true;
    }
    return false;
}

static uint64_t fnv1a(const WCHAR *s, USHORT chars, uint64_t h)
{
    for (USHORT i = 0; i < chars; i++) {
        h ^= s[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* The NetCfgInstanceId GUID in an NDIS adapter name ("\DEVICE\{GUID}").
 * Windows always names adapters so; an emulated adapter may not, and then a
 * stable GUID is derived from the name (two FNV-1a hashes, marked as an
 * RFC 9562 version 8 GUID), so a claimed VF is never reported unnamed. */
void vfo_guid_from_name(const NDIS_STRING *name, struct vfo_ctl_guid *out)
{
    NdisZeroMemory(out, sizeof(*out));
    if (!name || !name->Buffer || name->Length < sizeof(WCHAR))
        return;
    USHORT chars = (USHORT)(name->Length / sizeof(WCHAR));
    if (vfo_guid_parse(name->Buffer, chars, out))
        return;
    uint64_t h1 = fnv1a(name->Buffer, chars, 0xcbf29ce484222325ull);
    uint64_t h2 = fnv1a(name->Buffer, chars, 0x84222325cbf29ce4ull);
    out->data1 = (uint32_t)(h1 >> 32);
    out->data2 = (uint16_t)(h1 >> 16);
    out->data3 = (uint16_t)((h1 & 0x0fff) | 0x8000);
    for (int k = 0; k < 8; k++)
        out->data4[k] = (uint8_t)(h2 >> (56 - 8 * k));
    out->data4[0] = (uint8_t)((out->data4[0] & 0x3f) | 0x80);
}
