/*
 * mem.c - tagged pool memory with per-driver, per-adapter and per-tag
 * accounting, and the leak checks at halt and unload.
 */
#include "emu_internal.h"

#include <stdlib.h>

#define ALLOC_MAGIC 0x4d454d41u /* "MEMA" */

typedef struct emu_alloc {
    uint32_t magic;
    uint32_t tag;
    struct emu_alloc *next, *prev;
    emu_driver *drv;
    emu_adapter *ad;
    bool explicit_ad; /* allocated with the adapter's own handle */
    size_t size;
    DECLSPEC_ALIGN(16) UCHAR payload[]; /* 16-byte aligned, like pool memory */
} emu_alloc;

static emu_alloc *alloc_list;

static emu_alloc *hdr_of(void *p)
{
    return (emu_alloc *)p - 1;
}

/* A pool allocation charged to drv (and ad), on the list the leak check at
 * unload walks. Pool memory is not zeroed on Windows; it is filled so that
 * drivers relying on zeroed memory fail here too. */
static void *alloc_tracked(emu_runtime *rt, emu_driver *drv, emu_adapter *ad, bool explicit_ad,
                           ULONG tag, UINT len)
{
    emu_alloc *h = calloc(1, sizeof(*h) + len);
    if (!h)
        return NULL;
    h->magic = ALLOC_MAGIC;
    h->tag = tag;
    h->drv = drv;
    h->ad = ad;
    h->explicit_ad = explicit_ad;
    h->size = len;
    emu_lock(rt);
    h->next = alloc_list;
    if (alloc_list)
        alloc_list->prev = h;
    alloc_list = h;
    emu_charge(rt, drv, ad, tag, (int64_t)len, 1);
    emu_unlock(rt);
    memset(h + 1, 0xCD, len);
    return h + 1;
}

PVOID NdisAllocateMemoryWithTagPriority(NDIS_HANDLE NdisHandle, UINT Length, ULONG Tag,
                                        EX_POOL_PRIORITY Priority)
{
    emu_runtime *rt = emu_rt;
    (void)Priority;
    if (!emu_enter("NdisAllocateMemoryWithTagPriority", "len=%u tag=%08x", Length, Tag))
        return NULL;
    if (!emu_handle_kind(rt, NdisHandle, EMU_HK_MEMORY, "NdisAllocateMemoryWithTagPriority"))
        return NULL;
    /* DDI rule NdisAllocateMemoryWithTagPriority: every allocation names its
     * pool tag (what the debugger and Driver Verifier tell blocks apart by). */
    if (Tag == 0) {
        emu_violate(rt, "NdisAllocateMemoryWithTagPriority", "NdisAllocateMemoryWithTagPriority",
                    "%u bytes allocated without a pool tag (Tag 0)", Length);
        return NULL;
    }
    emu_adapter *ad;
    emu_driver *drv = emu_handle_driver(NdisHandle, &ad);
    if (!drv) {
        emu_violate(rt, "HandleAfterClose", "NdisAllocateMemoryWithTagPriority",
                    "NdisHandle %p is not a driver, adapter or binding handle", NdisHandle);
        return NULL;
    }
    if (Length == 0)
        return NULL;
    emu_obj *ho = emu_obj_peek(NdisHandle);
    return alloc_tracked(rt, drv, ad, ho && ho->kind == K_ADAPTER, Tag, Length);
}

/* The NDIS 5 form without a handle: charged to the driver whose code is
 * calling (the callback or DriverEntry running on this thread). */
NDIS_STATUS NdisAllocateMemoryWithTag(PVOID *VirtualAddress, UINT Length, ULONG Tag)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisAllocateMemoryWithTag", "len=%u tag=%08x", Length, Tag))
        return NDIS_STATUS_FAILURE;
    emu_thread *t = emu_self();
    emu_driver *drv = t->cur_drv;
    if (!VirtualAddress)
        return NDIS_STATUS_INVALID_PARAMETER;
    *VirtualAddress = NULL;
    if (!drv) {
        emu_violate(rt, "HandleAfterClose", "NdisAllocateMemoryWithTag",
                    "called outside any driver code");
        return NDIS_STATUS_FAILURE;
    }
    if (Length == 0)
        return NDIS_STATUS_FAILURE;
    *VirtualAddress = alloc_tracked(rt, drv, NULL, false, Tag, Length);
    return *VirtualAddress ? NDIS_STATUS_SUCCESS : NDIS_STATUS_RESOURCES;
}

static void free_alloc(emu_runtime *rt, void *va, const char *call)
{
    if (!va) {
        emu_violate(rt, "HandleAfterClose", call, "freeing a NULL pointer");
        return;
    }
    emu_alloc *h = hdr_of(va);
    emu_lock(rt);
    if (h->magic != ALLOC_MAGIC) {
        emu_unlock(rt);
        emu_violate(rt, "HandleAfterClose", call,
                    "%p was not allocated by NdisAllocateMemoryWithTagPriority or was "
                    "already freed",
                    va);
        return;
    }
    h->magic = 0;
    if (h->prev)
        h->prev->next = h->next;
    else
        alloc_list = h->next;
    if (h->next)
        h->next->prev = h->prev;
    emu_charge(rt, h->drv, h->ad, h->tag, -(int64_t)h->size, -1);
    emu_unlock(rt);
    free(h);
}

void NdisFreeMemoryWithTagPriority(NDIS_HANDLE NdisHandle, PVOID VirtualAddress, ULONG Tag)
{
    (void)NdisHandle;
    if (!emu_enter("NdisFreeMemoryWithTagPriority", "va=%p tag=%08x", VirtualAddress, Tag))
        return;
    free_alloc(emu_rt, VirtualAddress, "NdisFreeMemoryWithTagPriority");
}

void NdisFreeMemory(PVOID VirtualAddress, UINT Length, UINT MemoryFlags)
{
    (void)Length;
    (void)MemoryFlags;
    if (!emu_enter("NdisFreeMemory", "va=%p", VirtualAddress))
        return;
    free_alloc(emu_rt, VirtualAddress, "NdisFreeMemory");
}

typedef struct emu_tracked {
    struct emu_tracked *next, *prev;
    uint64_t pad[2];
} emu_tracked;
_Static_assert(sizeof(emu_tracked) == 32, "tracked header keeps 16-byte alignment");

static emu_tracked tracked = { &tracked, &tracked, { 0, 0 } };
static pthread_mutex_t tracked_mu = PTHREAD_MUTEX_INITIALIZER;

void *emu_talloc(size_t size)
{
    emu_tracked *t = aligned_alloc(16, (sizeof(*t) + size + 15) & ~(size_t)15);
    if (!t)
        return NULL;
    memset(t, 0, sizeof(*t) + size);
    pthread_mutex_lock(&tracked_mu);
    t->next = tracked.next;
    t->prev = &tracked;
    tracked.next->prev = t;
    tracked.next = t;
    pthread_mutex_unlock(&tracked_mu);
    return t + 1;
}

void emu_tfree(void *p)
{
    if (!p)
        return;
    emu_tracked *t = (emu_tracked *)p - 1;
    pthread_mutex_lock(&tracked_mu);
    t->prev->next = t->next;
    t->next->prev = t->prev;
    pthread_mutex_unlock(&tracked_mu);
    free(t);
}

void emu_mem_free_all(emu_runtime *rt)
{
    (void)rt;
    while (tracked.next != &tracked)
        emu_tfree(tracked.next + 1);
    for (emu_alloc *h = alloc_list, *n; h; h = n) {
        n = h->next;
        h->magic = 0;
        free(h);
    }
    alloc_list = NULL;
}

static const char *kind_name(emu_kind k)
{
    switch (k) {
    case K_NBL_POOL:
        return "NBL pool";
    case K_NB_POOL:
        return "NB pool";
    case K_TIMER:
        return "timer object";
    case K_WORKITEM:
        return "work item";
    case K_INTERRUPT:
        return "interrupt";
    case K_DMA:
        return "scatter/gather DMA";
    case K_CONFIG:
        return "configuration handle";
    case K_CTLDEV:
        return "control device";
    case K_RWLOCK:
        return "RW lock";
    case K_GENERIC:
        return "generic object";
    default:
        return "object";
    }
}

/* Reports what a driver (or one of its adapters) still owns. Memory and
 * objects allocated with the adapter's handle must be gone when MiniportHalt
 * returns; everything of a driver when it unloads. rt->mu not held. */
bool emu_leak_check(emu_runtime *rt, emu_driver *drv, emu_adapter *ad, const char *rule,
                    const char *when)
{
    emu_lock(rt);
    uint64_t n = 0, bytes = 0;
    uint32_t first_tag = 0;
    for (emu_alloc *h = alloc_list; h; h = h->next) {
        if (h->drv == drv && (!ad || (h->ad == ad && h->explicit_ad))) {
            if (n++ == 0)
                first_tag = h->tag;
            bytes += h->size;
        }
    }
    const char *obj = NULL;
    for (emu_obj *o = rt->objects; o && !obj; o = o->all_next) {
        if (emu_obj_dead(o) || o->drv != drv || (ad && o->ad != ad))
            continue;
        if (o->kind == K_NBL_POOL || o->kind == K_NB_POOL || o->kind == K_TIMER ||
            o->kind == K_WORKITEM || o->kind == K_INTERRUPT || o->kind == K_DMA ||
            o->kind == K_CONFIG || o->kind == K_RWLOCK ||
            (!ad && (o->kind == K_CTLDEV || o->kind == K_GENERIC)))
            obj = kind_name(o->kind);
    }
    bool shm = false, io = false;
    for (emu_dma_region *r = rt->dma; r; r = r->next) {
        if (r->shared && r->ad && r->ad->drv == drv && (!ad || r->ad == ad))
            shm = true;
    }
    for (emu_mmio_map *m = rt->mmio; m; m = m->next) {
        if (m->ad->drv == drv && (!ad || m->ad == ad))
            io = true;
    }
    emu_unlock(rt);
    char c[64];
    snprintf(c, sizeof(c), "%s", when);
    if (n) {
        char tag[5] = { (char)(first_tag & 0xff), (char)((first_tag >> 8) & 0xff),
                        (char)((first_tag >> 16) & 0xff), (char)(first_tag >> 24), 0 };
        for (int i = 0; i < 4; i++) {
            if (tag[i] < 0x20 || tag[i] > 0x7e)
                tag[i] = '?';
        }
        emu_violate(rt, rule, c, "%s: %llu allocation(s), %llu bytes not freed (first tag '%s')",
                    drv->desc.service, (unsigned long long)n, (unsigned long long)bytes, tag);
        return false;
    }
    if (obj) {
        emu_violate(rt, rule, c, "%s: a %s was not freed", drv->desc.service, obj);
        return false;
    }
    if (shm || io) {
        emu_violate(rt, rule, c, "%s: %s not released", drv->desc.service,
                    shm ? "shared memory" : "mapped I/O space");
        return false;
    }
    return true;
}
