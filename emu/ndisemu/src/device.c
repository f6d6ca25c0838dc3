/*
 * device.c - where a miniport meets its (emulated) hardware: BAR mapping and
 * register access, PCI configuration space, DMA memory with guest-physical
 * addresses, scatter/gather lists and interrupts; plus the emu_host services
 * device models use.
 */
#include "emu_internal.h"

#include <stdlib.h>
#include <sys/mman.h>

/* ---- MMIO ---- */

NDIS_STATUS NdisMMapIoSpace(PVOID *VirtualAddress, NDIS_HANDLE MiniportAdapterHandle,
                            NDIS_PHYSICAL_ADDRESS PhysicalAddress, UINT Length)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisMMapIoSpace", "pa=%#llx len=%u",
                   (unsigned long long)PhysicalAddress.QuadPart, Length))
        return NDIS_STATUS_FAILURE;
    emu_adapter *ad =
        (emu_adapter *)emu_obj_check(rt, MiniportAdapterHandle, K_ADAPTER, "NdisMMapIoSpace");
    if (!ad || !VirtualAddress)
        return NDIS_STATUS_INVALID_PARAMETER;
    /* DDI rule NdisMMapIoSpace: only in the context of MiniportInitializeEx
     * (where the driver gets the resources it maps). */
    const char *cb = emu_self()->cb;
    if (!cb || strcmp(cb, "MiniportInitializeEx") != 0) {
        emu_violate(rt, "NdisMMapIoSpace", "NdisMMapIoSpace",
                    "%s: called from %s, not from MiniportInitializeEx", ad->instance,
                    cb ? cb : "no driver callback");
        return NDIS_STATUS_FAILURE;
    }
    uint64_t pa = (uint64_t)PhysicalAddress.QuadPart;
    for (unsigned bar = 0; bar < EMU_PCI_BARS; bar++) {
        uint64_t base = ad->bar_pa[bar], size = ad->desc.bar_size[bar];
        if (!size || pa < base || pa + Length > base + size)
            continue;
        /* An inaccessible range: drivers must use READ/WRITE_REGISTER_*; a
         * direct dereference faults loudly instead of reading garbage. */
        void *va = mmap(NULL, Length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        emu_mmio_map *m = calloc(1, sizeof(*m));
        if (va == MAP_FAILED || !m) {
            if (va != MAP_FAILED)
                munmap(va, Length);
            free(m);
            return NDIS_STATUS_RESOURCES;
        }
        m->ad = ad;
        m->bar = bar;
        m->va = (uintptr_t)va;
        m->len = Length;
        m->bar_offset = pa - base;
        emu_lock(rt);
        m->next = rt->mmio;
        rt->mmio = m;
        emu_unlock(rt);
        *VirtualAddress = va;
        return NDIS_STATUS_SUCCESS;
    }
    __atomic_add_fetch(&rt->bad_input, 1, __ATOMIC_RELAXED);
    return NDIS_STATUS_RESOURCE_CONFLICT;
}

void NdisMUnmapIoSpace(NDIS_HANDLE MiniportAdapterHandle, PVOID VirtualAddress, UINT Length)
{
    emu_runtime *rt = emu_rt;
    (void)MiniportAdapterHandle;
    if (!emu_enter("NdisMUnmapIoSpace", "va=%p", VirtualAddress))
        return;
    emu_lock(rt);
    for (emu_mmio_map **pp = &rt->mmio; *pp; pp = &(*pp)->next) {
        emu_mmio_map *m = *pp;
        if (m->va == (uintptr_t)VirtualAddress) {
            *pp = m->next;
            emu_unlock(rt);
            munmap(VirtualAddress, m->len ? m->len : Length);
            free(m);
            return;
        }
    }
    emu_unlock(rt);
    emu_violate(rt, "HandleAfterClose", "NdisMUnmapIoSpace", "%p is not mapped I/O space",
                VirtualAddress);
}

/* Copies the mapping that holds [addr, addr+size) (the driver may unmap it
 * concurrently; the copy stays valid). False when the range is not mapped. */
static bool find_map(emu_runtime *rt, uintptr_t addr, unsigned size, emu_mmio_map *out)
{
    bool found = false;
    emu_lock(rt);
    for (emu_mmio_map *m = rt->mmio; m; m = m->next) {
        if (addr >= m->va && addr + size <= m->va + m->len) {
            *out = *m;
            found = true;
            break;
        }
    }
    emu_unlock(rt);
    return found;
}

static uint64_t reg_read(volatile void *r, unsigned size, const char *call)
{
    emu_runtime *rt = emu_rt;
    emu_mmio_map m;
    if (!find_map(rt, (uintptr_t)r, size, &m)) {
        emu_violate(rt, "HandleAfterClose", call, "register %p is not in mapped I/O space",
                    (void *)(uintptr_t)r);
        return ~0ull;
    }
    emu_adapter *ad = m.ad;
    uint64_t v = ~0ull; /* what a removed PCI device reads as */
    pthread_mutex_lock(&ad->dev_lock);
    if (ad->dev_attached && ad->desc.ops->mmio_read)
        v = ad->desc.ops->mmio_read(ad->desc.dev, m.bar, m.bar_offset + ((uintptr_t)r - m.va),
                                    size);
    pthread_mutex_unlock(&ad->dev_lock);
    return size == 8 ? v : v & ((1ull << (size * 8)) - 1);
}

static void reg_write(volatile void *r, unsigned size, uint64_t v, const char *call)
{
    emu_runtime *rt = emu_rt;
    emu_mmio_map m;
    if (!find_map(rt, (uintptr_t)r, size, &m)) {
        emu_violate(rt, "HandleAfterClose", call, "register %p is not in mapped I/O space",
                    (void *)(uintptr_t)r);
        return;
    }
    emu_adapter *ad = m.ad;
    pthread_mutex_lock(&ad->dev_lock);
    if (ad->dev_attached && ad->desc.ops->mmio_write)
        ad->desc.ops->mmio_write(ad->desc.dev, m.bar, m.bar_offset + ((uintptr_t)r - m.va), size,
                                 v);
    pthread_mutex_unlock(&ad->dev_lock);
}

UCHAR READ_REGISTER_UCHAR(volatile UCHAR *Register)
{
    return (UCHAR)reg_read(Register, 1, "READ_REGISTER_UCHAR");
}
USHORT READ_REGISTER_USHORT(volatile USHORT *Register)
{
    return (USHORT)reg_read(Register, 2, "READ_REGISTER_USHORT");
}
ULONG READ_REGISTER_ULONG(volatile ULONG *Register)
{
    return (ULONG)reg_read(Register, 4, "READ_REGISTER_ULONG");
}
ULONG64 READ_REGISTER_ULONG64(volatile ULONG64 *Register)
{
    return reg_read(Register, 8, "READ_REGISTER_ULONG64");
}
void WRITE_REGISTER_UCHAR(volatile UCHAR *Register, UCHAR Value)
{
    reg_write(Register, 1, Value, "WRITE_REGISTER_UCHAR");
}
void WRITE_REGISTER_USHORT(volatile USHORT *Register, USHORT Value)
{
    reg_write(Register, 2, Value, "WRITE_REGISTER_USHORT");
}
void WRITE_REGISTER_ULONG(volatile ULONG *Register, ULONG Value)
{
    reg_write(Register, 4, Value, "WRITE_REGISTER_ULONG");
}
void WRITE_REGISTER_ULONG64(volatile ULONG64 *Register, ULONG64 Value)
{
    reg_write(Register, 8, Value, "WRITE_REGISTER_ULONG64");
}

/* ---- PCI configuration space ---- */

static ULONG bus_data(NDIS_HANDLE h, ULONG space, ULONG off, PVOID buf, ULONG len, bool write)
{
    emu_runtime *rt = emu_rt;
    const char *call = write ? "NdisMSetBusData" : "NdisMGetBusData";
    if (!emu_enter(call, "off=%u len=%u", off, len))
        return 0;
    emu_adapter *ad = (emu_adapter *)emu_obj_check(rt, h, K_ADAPTER, call);
    if (!ad || space != PCI_WHICHSPACE_CONFIG || off >= 4096 || len > 4096 - off)
        return 0;
    UCHAR *p = buf;
    ULONG done = 0;
    pthread_mutex_lock(&ad->dev_lock);
    while (done < len) {
        unsigned sz = ((off + done) % 4 == 0 && len - done >= 4)   ? 4
                      : ((off + done) % 2 == 0 && len - done >= 2) ? 2
                                                                   : 1;
        uint32_t v = 0xFFFFFFFFu;
        if (write) {
            memcpy(&v, p + done, sz);
            if (ad->dev_attached && ad->desc.ops->cfg_write)
                ad->desc.ops->cfg_write(ad->desc.dev, off + done, sz, v);
        } else {
            if (ad->dev_attached && ad->desc.ops->cfg_read)
                v = ad->desc.ops->cfg_read(ad->desc.dev, off + done, sz);
            memcpy(p + done, &v, sz);
        }
        done += sz;
    }
    pthread_mutex_unlock(&ad->dev_lock);
    return done;
}

ULONG NdisMGetBusData(NDIS_HANDLE NdisMiniportHandle, ULONG WhichSpace, ULONG Offset, PVOID Buffer,
                      ULONG Length)
{
    return bus_data(NdisMiniportHandle, WhichSpace, Offset, Buffer, Length, false);
}

ULONG NdisMSetBusData(NDIS_HANDLE NdisMiniportHandle, ULONG WhichSpace, ULONG Offset, PVOID Buffer,
                      ULONG Length)
{
    return bus_data(NdisMiniportHandle, WhichSpace, Offset, Buffer, Length, true);
}

/* ---- DMA memory ---- */

static emu_dma_region *dma_add(emu_runtime *rt, emu_adapter *ad, void *host, size_t len,
                               bool shared)
{
    emu_dma_region *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->ad = ad;
    r->host = host;
    r->len = len;
    r->shared = shared;
    /* Physical addresses are never reused, so a stale one cannot alias. */
    r->pa = rt->next_pa + ((uintptr_t)host & (PAGE_SIZE - 1));
    rt->next_pa += (len + 2 * PAGE_SIZE) & ~(uint64_t)(PAGE_SIZE - 1);
    r->next = rt->dma;
    rt->dma = r;
    return r;
}

/* Gives a block back to where it came from: the device's emu_dma_ops
 * (real hardware) or the heap. */
static void dma_release(emu_adapter *ad, void *host, size_t len, bool bounce)
{
    if (bounce)
        ad->desc.dma->free(ad->desc.dma->ctx, host, len);
    else
        free(host);
}

/* WriteErrorLog: a failure inside MiniportInitializeEx must be logged
 * before it returns (checked there, in miniport.c). */
static void shared_alloc_failed(emu_runtime *rt, emu_adapter *ad)
{
    const char *cb = emu_self()->cb;
    if (!cb || strcmp(cb, "MiniportInitializeEx") != 0)
        return;
    emu_lock(rt);
    ad->init_shared_failed = true;
    emu_unlock(rt);
}

void NdisMAllocateSharedMemory(NDIS_HANDLE MiniportAdapterHandle, ULONG Length, BOOLEAN Cached,
                               PVOID *VirtualAddress, PNDIS_PHYSICAL_ADDRESS PhysicalAddress)
{
    emu_runtime *rt = emu_rt;
    (void)Cached;
    *VirtualAddress = NULL;
    PhysicalAddress->QuadPart = 0;
    if (!emu_enter("NdisMAllocateSharedMemory", "len=%u", Length))
        return;
    emu_adapter *ad = (emu_adapter *)emu_obj_check(rt, MiniportAdapterHandle, K_ADAPTER,
                                                   "NdisMAllocateSharedMemory");
    if (!ad || Length == 0)
        return;
    emu_lock(rt);
    uint64_t limit = rt->cfg.shared_memory_limit;
    bool over = limit && ad->shared_bytes + Length > limit;
    emu_unlock(rt);
    const emu_dma_ops *dma = ad->desc.dma;
    uint64_t dev_addr = 0;
    void *va = over ? NULL
               : dma
                   ? dma->alloc(dma->ctx, Length, &dev_addr)
                   : aligned_alloc(PAGE_SIZE, (Length + PAGE_SIZE - 1) & ~(size_t)(PAGE_SIZE - 1));
    if (!va) {
        shared_alloc_failed(rt, ad);
        return;
    }
    memset(va, 0, Length);
    emu_lock(rt);
    emu_dma_region *r = dma_add(rt, ad, va, Length, true);
    if (r && dma) {
        r->pa = dev_addr;
        r->bounce = true;
    }
    if (r) {
        emu_charge(rt, ad->drv, ad, 'mhsN', (int64_t)Length, 1);
        ad->shared_bytes += Length;
    }
    emu_unlock(rt);
    if (!r) {
        dma_release(ad, va, Length, dma != NULL);
        shared_alloc_failed(rt, ad);
        return;
    }
    *VirtualAddress = va;
    PhysicalAddress->QuadPart = (LONGLONG)r->pa;
}

void NdisMFreeSharedMemory(NDIS_HANDLE MiniportAdapterHandle, ULONG Length, BOOLEAN Cached,
                           PVOID VirtualAddress, NDIS_PHYSICAL_ADDRESS PhysicalAddress)
{
    emu_runtime *rt = emu_rt;
    (void)Cached;
    (void)MiniportAdapterHandle;
    if (!emu_enter("NdisMFreeSharedMemory", "va=%p", VirtualAddress))
        return;
    /* DDI rule NdisMFreeSharedMemory: not from MiniportShutdownEx (which may
     * run at HIGH_LEVEL in a bug check; it only stops the device). */
    const char *cb = emu_self()->cb;
    if (cb && strcmp(cb, "MiniportShutdownEx") == 0) {
        emu_violate(rt, "NdisMFreeSharedMemory", "NdisMFreeSharedMemory",
                    "va %p freed in MiniportShutdownEx", VirtualAddress);
        return;
    }
    emu_lock(rt);
    for (emu_dma_region **pp = &rt->dma; *pp; pp = &(*pp)->next) {
        emu_dma_region *r = *pp;
        if (r->shared && r->host == VirtualAddress && r->pa == (uint64_t)PhysicalAddress.QuadPart &&
            r->len == Length) {
            *pp = r->next;
            emu_charge(rt, r->ad->drv, r->ad, 'mhsN', -(int64_t)r->len, -1);
            r->ad->shared_bytes -= r->len;
            emu_unlock(rt);
            dma_release(r->ad, r->host, r->len, r->bounce);
            free(r);
            return;
        }
    }
    emu_unlock(rt);
    emu_violate(rt, "HandleAfterClose", "NdisMFreeSharedMemory",
                "va %p / pa %#llx / length %u is not a live shared memory block", VirtualAddress,
                (unsigned long long)PhysicalAddress.QuadPart, Length);
}

/* ---- scatter/gather ---- */

NDIS_STATUS NdisMRegisterScatterGatherDma(NDIS_HANDLE MiniportAdapterHandle,
                                          PNDIS_SG_DMA_DESCRIPTION DmaDescription,
                                          PNDIS_HANDLE NdisMiniportDmaHandle)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisMRegisterScatterGatherDma", "-"))
        return NDIS_STATUS_FAILURE;
    emu_adapter *ad = (emu_adapter *)emu_obj_check(rt, MiniportAdapterHandle, K_ADAPTER,
                                                   "NdisMRegisterScatterGatherDma");
    if (!ad || !DmaDescription || !DmaDescription->ProcessSGListHandler || !NdisMiniportDmaHandle)
        return NDIS_STATUS_INVALID_PARAMETER;
    emu_lock(rt);
    emu_dma *d = emu_obj_new(rt, sizeof(*d), K_DMA, ad->drv, ad, 0);
    if (d) {
        d->d = *DmaDescription;
        ad->dma = d;
        /* Enough room for a list of up to 64 elements. */
        DmaDescription->ScatterGatherListSize =
            (ULONG)(sizeof(SCATTER_GATHER_LIST) + 64 * sizeof(SCATTER_GATHER_ELEMENT));
    }
    emu_unlock(rt);
    if (!d)
        return NDIS_STATUS_RESOURCES;
    *NdisMiniportDmaHandle = d;
    return NDIS_STATUS_SUCCESS;
}

void NdisMDeregisterScatterGatherDma(NDIS_HANDLE NdisMiniportDmaHandle)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisMDeregisterScatterGatherDma", "-"))
        return;
    emu_dma *d = (emu_dma *)emu_obj_check(rt, NdisMiniportDmaHandle, K_DMA,
                                          "NdisMDeregisterScatterGatherDma");
    if (!d)
        return;
    emu_lock(rt);
    emu_obj_kill(rt, &d->obj);
    emu_unlock(rt);
}

/* Real hardware cannot reach the NET_BUFFER's memory: the whole buffer is
 * copied into one block of the device's DMA memory, described by a list of
 * one element (as Windows does with map registers for a device that cannot
 * address a buffer). sgl has room for at least one element. */
static NDIS_STATUS sg_bounce(emu_runtime *rt, emu_dma *d, PNET_BUFFER nb, PSCATTER_GATHER_LIST sgl,
                             PVOID ctx)
{
    emu_adapter *ad = d->obj.ad;
    ULONG len = nb->DataLength;
    uint64_t dev_addr = 0;
    UCHAR *bounce = len ? ad->desc.dma->alloc(ad->desc.dma->ctx, len, &dev_addr) : NULL;
    if (!bounce) {
        if (sgl->Reserved == 1)
            emu_tfree(sgl);
        return NDIS_STATUS_RESOURCES;
    }
    ULONG done = 0, off = nb->CurrentMdlOffset;
    for (PMDL m = nb->CurrentMdl; m && done < len; m = m->Next, off = 0) {
        ULONG n = m->ByteCount - off < len - done ? m->ByteCount - off : len - done;
        memcpy(bounce + done, (UCHAR *)m->MappedSystemVa + off, n);
        done += n;
    }
    emu_lock(rt);
    emu_dma_region *r = dma_add(rt, ad, bounce, len, false);
    if (r) {
        r->pa = dev_addr;
        r->bounce = true;
    }
    emu_unlock(rt);
    if (!r) {
        dma_release(ad, bounce, len, true);
        if (sgl->Reserved == 1)
            emu_tfree(sgl);
        return NDIS_STATUS_RESOURCES;
    }
    sgl->NumberOfElements = 1;
    sgl->Elements[0].Address.QuadPart = (LONGLONG)dev_addr;
    sgl->Elements[0].Length = len;
    nb->ScatterGatherList = sgl;
    emu_cb_scope s;
    emu_cb_begin(&s, "MiniportProcessSGList", ad->drv, ad, DISPATCH_LEVEL);
    d->d.ProcessSGListHandler(NULL, NULL, sgl, ctx);
    emu_cb_end(&s);
    return NDIS_STATUS_SUCCESS;
}

/* emu_config.sg_async_pct: MiniportProcessSGList after
 * NdisMAllocateNetBufferSGList returned, one deferred call per task (so
 * other work may run between two of them), in allocation order. */
static void sg_later_task(emu_runtime *rt, emu_task *t)
{
    emu_dma *d = t->a;
    emu_lock(rt);
    emu_sg_later *l = d->later_head;
    if (l) {
        d->later_head = l->next;
        if (!d->later_head)
            d->later_tail = &d->later_head;
    }
    d->later_posted = d->later_head != NULL;
    if (d->later_posted)
        emu_task_post(rt, T_COMPLETION, 0, sg_later_task, d, NULL, 0);
    emu_unlock(rt);
    if (!l)
        return;
    /* A driver that deregistered its DMA with a list outstanding gets no
     * call any more. */
    if (!emu_obj_dead(&d->obj)) {
        emu_cb_scope s;
        emu_cb_begin(&s, "MiniportProcessSGList", d->obj.ad->drv, d->obj.ad, DISPATCH_LEVEL);
        d->d.ProcessSGListHandler(NULL, NULL, l->sgl, l->ctx);
        emu_cb_end(&s);
    }
    emu_tfree(l);
}

/* rt->mu held. Defers this call when asked to, or when earlier ones wait
 * (their order is kept). */
static bool sg_defer(emu_runtime *rt, emu_dma *d, PSCATTER_GATHER_LIST sgl, PVOID ctx)
{
    if (!d->later_head && !(rt->cfg.sg_async_pct && emu_rand(rt) % 100 < rt->cfg.sg_async_pct))
        return false;
    emu_sg_later *l = emu_talloc(sizeof(*l));
    if (!l)
        return false;
    l->next = NULL;
    l->sgl = sgl;
    l->ctx = ctx;
    if (!d->later_tail)
        d->later_tail = &d->later_head;
    *d->later_tail = l;
    d->later_tail = &l->next;
    if (!d->later_posted) {
        d->later_posted = true;
        emu_task_post(rt, T_COMPLETION, 0, sg_later_task, d, NULL, 0);
    }
    return true;
}

NDIS_STATUS NdisMAllocateNetBufferSGList(NDIS_HANDLE NdisMiniportDmaHandle, PNET_BUFFER NetBuffer,
                                         PVOID Context, ULONG Flags, PVOID ScatterGatherListBuffer,
                                         ULONG ScatterGatherListBufferSize)
{
    emu_runtime *rt = emu_rt;
    (void)Flags;
    if (!emu_enter("NdisMAllocateNetBufferSGList", "nb=%p", (void *)NetBuffer))
        return NDIS_STATUS_FAILURE;
    emu_dma *d =
        (emu_dma *)emu_obj_check(rt, NdisMiniportDmaHandle, K_DMA, "NdisMAllocateNetBufferSGList");
    if (!d || !NetBuffer)
        return NDIS_STATUS_INVALID_PARAMETER;
    unsigned n = 0;
    ULONG left = NetBuffer->DataLength, off = NetBuffer->CurrentMdlOffset;
    for (PMDL m = NetBuffer->CurrentMdl; m && left; m = m->Next, off = 0) {
        n++;
        left -= m->ByteCount - off < left ? m->ByteCount - off : left;
    }
    size_t need = sizeof(SCATTER_GATHER_LIST) + n * sizeof(SCATTER_GATHER_ELEMENT);
    PSCATTER_GATHER_LIST sgl = ScatterGatherListBuffer;
    bool own = !sgl || ScatterGatherListBufferSize < need;
    if (own)
        sgl = emu_talloc(need);
    if (!sgl)
        return NDIS_STATUS_RESOURCES;
    sgl->NumberOfElements = n;
    sgl->Reserved = own ? 1 : 0;
    left = NetBuffer->DataLength;
    off = NetBuffer->CurrentMdlOffset;
    unsigned i = 0;
    if (d->obj.ad->desc.dma)
        return sg_bounce(rt, d, NetBuffer, sgl, Context);
    emu_lock(rt);
    for (PMDL m = NetBuffer->CurrentMdl; m && left; m = m->Next, off = 0) {
        ULONG len = m->ByteCount - off < left ? m->ByteCount - off : left;
        emu_dma_region *r = dma_add(rt, d->obj.ad, (UCHAR *)m->MappedSystemVa + off, len, false);
        sgl->Elements[i].Address.QuadPart = r ? (LONGLONG)r->pa : 0;
        sgl->Elements[i].Length = len;
        i++;
        left -= len;
    }
    NetBuffer->ScatterGatherList = sgl;
    if (sg_defer(rt, d, sgl, Context)) { /* later, from another context */
        emu_unlock(rt);
        return NDIS_STATUS_SUCCESS;
    }
    emu_unlock(rt);
    emu_cb_scope s;
    emu_cb_begin(&s, "MiniportProcessSGList", d->obj.ad->drv, d->obj.ad, DISPATCH_LEVEL);
    d->d.ProcessSGListHandler(NULL, NULL, sgl, Context);
    emu_cb_end(&s);
    return NDIS_STATUS_SUCCESS;
}

void NdisMFreeNetBufferSGList(NDIS_HANDLE NdisMiniportDmaHandle, PSCATTER_GATHER_LIST pSGL,
                              PNET_BUFFER NetBuffer)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisMFreeNetBufferSGList", "sgl=%p", (void *)pSGL))
        return;
    if (!emu_obj_check(rt, NdisMiniportDmaHandle, K_DMA, "NdisMFreeNetBufferSGList") || !pSGL)
        return;
    emu_lock(rt);
    for (ULONG i = 0; i < pSGL->NumberOfElements; i++) {
        for (emu_dma_region **pp = &rt->dma; *pp; pp = &(*pp)->next) {
            emu_dma_region *r = *pp;
            if (!r->shared && r->pa == (uint64_t)pSGL->Elements[i].Address.QuadPart) {
                *pp = r->next;
                if (r->bounce)
                    dma_release(r->ad, r->host, r->len, true);
                free(r);
                break;
            }
        }
    }
    emu_unlock(rt);
    if (NetBuffer)
        NetBuffer->ScatterGatherList = NULL;
    if (pSGL->Reserved == 1)
        emu_tfree(pSGL);
}

void emu_dma_drop_adapter(emu_runtime *rt, emu_adapter *ad)
{
    for (emu_dma_region **pp = &rt->dma; *pp;) {
        emu_dma_region *r = *pp;
        if (r->ad == ad && !r->shared) {
            *pp = r->next;
            if (r->bounce)
                dma_release(r->ad, r->host, r->len, true);
            free(r);
        } else {
            pp = &r->next;
        }
    }
}

/* ---- interrupts ---- */

/* What Windows' PCI bus driver does to a device whose message-based
 * interrupt is connected: every MSI-X table entry gets its message's address
 * and data and is unmasked, then MSI-X Enable is set (PCI Local Bus 3.0,
 * 6.8.2); disconnecting masks the entries and clears Enable. A device
 * without an MSI-X capability is left alone. Called without the runtime
 * lock: the device model may signal held messages from inside cfg_write. */
#define PCI_STATUS          0x06
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_CAP_PTR         0x34
#define PCI_CAP_ID_MSIX     0x11
#define MSIX_ENABLE         0x8000
#define MSIX_FUNCTION_MASK  0x4000

static uint32_t msix_cap(emu_adapter *ad)
{
    const emu_device_ops *ops = ad->desc.ops;
    if (!ops->cfg_read || !(ops->cfg_read(ad->desc.dev, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST))
        return 0;
    uint32_t cap = ops->cfg_read(ad->desc.dev, PCI_CAP_PTR, 1) & 0xFC;
    for (unsigned hops = 0; cap >= 0x40 && hops < 48; hops++) {
        if (ops->cfg_read(ad->desc.dev, cap, 1) == PCI_CAP_ID_MSIX)
            return cap;
        cap = ops->cfg_read(ad->desc.dev, cap + 1, 1) & 0xFC;
    }
    return 0;
}

static void msix_program(emu_adapter *ad, const IO_INTERRUPT_MESSAGE_INFO *info, bool connect)
{
    const emu_device_ops *ops = ad->desc.ops;
    pthread_mutex_lock(&ad->dev_lock);
    uint32_t cap = ad->dev_attached && ops->cfg_write && ops->mmio_write ? msix_cap(ad) : 0;
    if (cap) {
        void *dev = ad->desc.dev;
        uint32_t control = ops->cfg_read(dev, cap + 2, 2);
        uint32_t table = ops->cfg_read(dev, cap + 4, 4);
        unsigned entries = (control & 0x7FF) + 1, bar = table & 7;
        uint64_t base = table & ~7u;
        if (connect)
            for (unsigned i = 0; i < entries && i < info->MessageCount; i++) {
                const IO_INTERRUPT_MESSAGE_INFO_ENTRY *m = &info->MessageInfo[i];
                ops->mmio_write(dev, bar, base + 16 * i, 4, m->MessageAddress.LowPart);
                ops->mmio_write(dev, bar, base + 16 * i + 4, 4,
                                (uint64_t)m->MessageAddress.QuadPart >> 32);
                ops->mmio_write(dev, bar, base + 16 * i + 8, 4, m->MessageData);
                ops->mmio_write(dev, bar, base + 16 * i + 12, 4, 0);
            }
        else
            for (unsigned i = 0; i < entries; i++)
                ops->mmio_write(dev, bar, base + 16 * i + 12, 4, 1);
        control &= ~(uint32_t)(MSIX_ENABLE | MSIX_FUNCTION_MASK);
        ops->cfg_write(dev, cap + 2, 2, connect ? control | MSIX_ENABLE : control);
    }
    pthread_mutex_unlock(&ad->dev_lock);
}

NDIS_STATUS NdisMRegisterInterruptEx(NDIS_HANDLE MiniportAdapterHandle,
                                     NDIS_HANDLE MiniportInterruptContext,
                                     PNDIS_MINIPORT_INTERRUPT_CHARACTERISTICS Chars,
                                     PNDIS_HANDLE NdisInterruptHandle)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisMRegisterInterruptEx", "-"))
        return NDIS_STATUS_FAILURE;
    emu_adapter *ad = (emu_adapter *)emu_obj_check(rt, MiniportAdapterHandle, K_ADAPTER,
                                                   "NdisMRegisterInterruptEx");
    if (!ad || !Chars || !NdisInterruptHandle ||
        Chars->Header.Type != NDIS_OBJECT_TYPE_MINIPORT_INTERRUPT)
        return NDIS_STATUS_INVALID_PARAMETER;
    if (ad->root) /* no interrupt resource */
        return NDIS_STATUS_RESOURCES;
    bool msg = Chars->MsiSupported && ad->desc.msix_vectors > 0;
    if ((msg && (!Chars->MessageInterruptHandler || !Chars->MessageInterruptDpcHandler)) ||
        (!msg && (!Chars->InterruptHandler || !Chars->InterruptDpcHandler)))
        return NDIS_STATUS_INVALID_PARAMETER;
    emu_lock(rt);
    if (ad->intr && !emu_obj_dead(&ad->intr->obj)) {
        emu_unlock(rt);
        return NDIS_STATUS_RESOURCE_CONFLICT;
    }
    emu_interrupt *in = emu_obj_new(rt, sizeof(*in), K_INTERRUPT, ad->drv, ad, 0);
    if (in) {
        in->n_msgs = msg ? ad->desc.msix_vectors : 1;
        in->dpc = calloc(in->n_msgs, sizeof(*in->dpc));
    }
    if (!in || !in->dpc) {
        if (in)
            emu_obj_kill(rt, &in->obj);
        emu_unlock(rt);
        return NDIS_STATUS_RESOURCES;
    }
    in->ch = *Chars;
    in->ctx = MiniportInterruptContext;
    in->message_based = msg;
    pthread_mutex_init(&in->sync, NULL);
    if (msg) {
        unsigned n = ad->desc.msix_vectors;
        in->info = calloc(1, sizeof(IO_INTERRUPT_MESSAGE_INFO) +
                                 n * sizeof(IO_INTERRUPT_MESSAGE_INFO_ENTRY));
        if (in->info) {
            in->info->UnifiedIrql = EMU_DIRQL;
            in->info->MessageCount = n;
            for (unsigned i = 0; i < n; i++) {
                in->info->MessageInfo[i].MessageAddress.QuadPart = 0xFEE00000;
                in->info->MessageInfo[i].MessageData = 0x60 + i;
                in->info->MessageInfo[i].Vector = 0x60 + i;
                in->info->MessageInfo[i].Irql = EMU_DIRQL;
                in->info->MessageInfo[i].Mode = Latched;
                in->info->MessageInfo[i].TargetProcessorSet = 1;
            }
        }
        Chars->InterruptType = NDIS_CONNECT_MESSAGE_BASED;
        Chars->MessageInfoTable = in->info;
    } else {
        Chars->InterruptType = NDIS_CONNECT_LINE_BASED;
    }
    ad->intr = in;
    emu_unlock(rt);
    if (msg && in->info)
        msix_program(ad, in->info, true);
    *NdisInterruptHandle = in;
    return NDIS_STATUS_SUCCESS;
}

static bool no_dpc_running(emu_runtime *rt, void *arg)
{
    emu_interrupt *in = arg;
    (void)rt;
    for (unsigned i = 0; i < in->n_msgs; i++) {
        if (in->dpc[i].running)
            return false;
    }
    return true;
}

void NdisMDeregisterInterruptEx(NDIS_HANDLE NdisInterruptHandle)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisMDeregisterInterruptEx", "-"))
        return;
    emu_interrupt *in = (emu_interrupt *)emu_obj_check(rt, NdisInterruptHandle, K_INTERRUPT,
                                                       "NdisMDeregisterInterruptEx");
    if (!in)
        return;
    if (in->message_based)
        msix_program(in->obj.ad, in->info, false);
    /* A running ISR finishes first (it holds sync); then no ISR or DPC
     * starts any more, queued DPCs are dropped, and a DPC still running on
     * another CPU is waited for: once this returns, NDIS calls neither. */
    pthread_mutex_lock(&in->sync);
    emu_lock(rt);
    emu_obj_kill(rt, &in->obj);
    for (unsigned i = 0; i < in->n_msgs; i++) {
        if (in->dpc[i].task && emu_task_cancel(rt, in->dpc[i].task))
            in->dpc[i].task = NULL;
        in->dpc[i].queued = false;
    }
    emu_unlock(rt);
    pthread_mutex_unlock(&in->sync);
    emu_wait(rt, no_dpc_running, in, EMU_WAIT_NS);
}

static bool queue_dpc(emu_runtime *rt, emu_interrupt *in, ULONG msg, PVOID ctx);

static ULONG rx_max_nbls(emu_runtime *rt)
{
    return rt->cfg.rx_max_nbls ? rt->cfg.rx_max_nbls : EMU_RX_MAX_NBLS_DEFAULT;
}

/* After a DPC: its own time and the time of the DPCs it ran back to back
 * with, against the DPC watchdog; and what it said in MoreNblsPending. */
static void dpc_check(emu_runtime *rt, const emu_dpc_run *run,
                      const NDIS_RECEIVE_THROTTLE_PARAMETERS *tp)
{
    const char *call = "MiniportInterruptDPC";
    emu_lock(rt);
    uint64_t now = emu_time(rt);
    if (rt->dpc_chain_ns && rt->dpc_chain_at == now)
        rt->dpc_chain_ns += run->cost_ns;
    else
        rt->dpc_chain_ns = run->cost_ns;
    rt->dpc_chain_at = now;
    uint64_t chain = rt->dpc_chain_ns;
    emu_unlock(rt);
    if (run->cost_ns > EMU_DPC_BUDGET_NS)
        emu_violate(rt, "DpcWatchdog", call,
                    "one DPC ran %llu us of virtual time (budget %llu us; %u NBLs indicated, "
                    "MaxNblsToIndicate %u)",
                    (unsigned long long)(run->cost_ns / 1000),
                    (unsigned long long)(EMU_DPC_BUDGET_NS / 1000), run->indicated, run->max_nbls);
    else if (chain > EMU_DPC_CHAIN_BUDGET_NS)
        emu_violate(rt, "DpcWatchdog", call,
                    "DPCs ran back to back for %llu ms at DISPATCH_LEVEL (cumulative budget %llu "
                    "ms)",
                    (unsigned long long)(chain / 1000000),
                    (unsigned long long)(EMU_DPC_CHAIN_BUDGET_NS / 1000000));
    else if (tp->MoreNblsPending && run->max_nbls == NDIS_INDICATE_ALL_NBLS)
        emu_violate(rt, "ReceiveThrottle", call,
                    "MoreNblsPending set although MaxNblsToIndicate was NDIS_INDICATE_ALL_NBLS");
}

static void dpc_task(emu_runtime *rt, emu_task *t)
{
    emu_interrupt *in = t->a;
    ULONG msg = (ULONG)t->u;
    emu_dpc_slot *slot = &in->dpc[msg];
    emu_lock(rt);
    slot->task = NULL;
    bool live = !emu_obj_dead(&in->obj) && slot->queued;
    PVOID ctx = slot->ctx;
    slot->queued = false;
    slot->running = live;
    if (live)
        rt->cnt.dpcs++;
    emu_unlock(rt);
    if (!live)
        return;
    emu_dpc_latency(rt, rt->cfg.rt_dpc_latency_ns);
    emu_adapter *ad = in->obj.ad;
    /* Receive side throttling (NDIS 6.20): every DPC gets the parameters. */
    NDIS_RECEIVE_THROTTLE_PARAMETERS tp = { .MaxNblsToIndicate = rx_max_nbls(rt) };
    emu_dpc_run run = { .ad = ad, .max_nbls = tp.MaxNblsToIndicate, .cost_ns = EMU_DPC_COST_NS };
    emu_cb_scope s;
    emu_cb_begin(&s, "MiniportInterruptDPC", ad->drv, ad, DISPATCH_LEVEL);
    emu_self()->dpc = &run;
    if (in->message_based)
        in->ch.MessageInterruptDpcHandler(in->ctx, msg, ctx, &tp, NULL);
    else
        in->ch.InterruptDpcHandler(in->ctx, ctx, &tp, NULL);
    emu_cb_end(&s);
    if (!emu_stopped(rt) && !rt->cfg.no_call_checks)
        dpc_check(rt, &run, &tp);
    emu_lock(rt);
    slot->running = false;
    /* More NBLs pending: NDIS queues the DPC again (its interrupt stays
     * disabled meanwhile, as the driver was told). */
    if (tp.MoreNblsPending && tp.MaxNblsToIndicate != NDIS_INDICATE_ALL_NBLS)
        queue_dpc(rt, in, msg, ctx);
    /* Requested again while it ran: it runs again now, on "its" CPU. */
    if (slot->queued && !slot->task && !emu_obj_dead(&in->obj))
        slot->task = emu_task_post(rt, T_DPC, 0, dpc_task, in, NULL, msg);
    emu_broadcast(rt);
    emu_unlock(rt);
}

/* rt->mu held. Queues message msg's DPC unless it is already queued (a
 * KDPC is queued once); one requested while it runs starts after it. */
static bool queue_dpc(emu_runtime *rt, emu_interrupt *in, ULONG msg, PVOID ctx)
{
    emu_dpc_slot *slot = &in->dpc[msg];
    if (emu_obj_dead(&in->obj) || slot->queued)
        return false;
    slot->queued = true;
    slot->ctx = ctx;
    if (!slot->running)
        slot->task = emu_task_post(rt, T_DPC, 0, dpc_task, in, NULL, msg);
    return true;
}

static void isr_task(emu_runtime *rt, emu_task *t)
{
    emu_interrupt *in = t->a;
    ULONG msg = (ULONG)t->u;
    pthread_mutex_lock(&in->sync);
    emu_lock(rt);
    bool live = !emu_obj_dead(&in->obj);
    if (live)
        rt->cnt.interrupts++;
    emu_unlock(rt);
    if (!live) {
        pthread_mutex_unlock(&in->sync);
        return;
    }
    emu_adapter *ad = in->obj.ad;
    BOOLEAN queue = FALSE, claimed;
    ULONG targets = 0;
    emu_cb_scope s;
    emu_cb_begin(&s, "MiniportInterrupt", ad->drv, ad, EMU_DIRQL);
    if (in->message_based)
        claimed = in->ch.MessageInterruptHandler(in->ctx, msg, &queue, &targets);
    else
        claimed = in->ch.InterruptHandler(in->ctx, &queue, &targets);
    emu_cb_end(&s);
    if (claimed && (queue || targets)) {
        emu_lock(rt);
        queue_dpc(rt, in, msg, NULL);
        emu_unlock(rt);
    }
    pthread_mutex_unlock(&in->sync);
}

KAFFINITY NdisMQueueDpcEx(NDIS_HANDLE NdisInterruptHandle, ULONG MessageId,
                          PGROUP_AFFINITY TargetProcessors, PVOID MiniportDpcContext)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisMQueueDpcEx", "msg=%u", MessageId))
        return 0;
    emu_interrupt *in =
        (emu_interrupt *)emu_obj_check(rt, NdisInterruptHandle, K_INTERRUPT, "NdisMQueueDpcEx");
    if (!in)
        return 0;
    /* "[in] PGROUP_AFFINITY TargetProcessors": not optional; NDIS reads the
     * group and the mask through it. */
    if (!TargetProcessors) {
        emu_violate(rt, "QueueDpcTargets", "NdisMQueueDpcEx",
                    "%s: TargetProcessors is NULL; it names the processors to queue the DPC on "
                    "(a GROUP_AFFINITY, e.g. the current processor's)",
                    emu_adapter_label(emu_self()->cur_ad));
        return 0;
    }
    if (MessageId >= in->n_msgs) {
        __atomic_add_fetch(&rt->bad_input, 1, __ATOMIC_RELAXED);
        return 0;
    }
    /* Processors of group 0 only (one here); the DPC runs once, as "CPU 0"
     * (docs/ndisemu.md): the lowest processor asked for is reported. */
    KAFFINITY asked = TargetProcessors->Group == 0 ? TargetProcessors->Mask : 0;
    if (!asked)
        return 0;
    emu_lock(rt);
    bool queued = queue_dpc(rt, in, MessageId, MiniportDpcContext);
    emu_unlock(rt);
    return queued ? asked & (~asked + 1) : 0;
}

BOOLEAN NdisMSynchronizeWithInterruptEx(NDIS_HANDLE NdisInterruptHandle, ULONG MessageId,
                                        MINIPORT_SYNCHRONIZE_INTERRUPT_HANDLER Routine,
                                        PVOID SynchronizeContext)
{
    emu_runtime *rt = emu_rt;
    (void)MessageId;
    if (!emu_enter("NdisMSynchronizeWithInterruptEx", "msg=%u", MessageId))
        return FALSE;
    emu_interrupt *in = (emu_interrupt *)emu_obj_check(rt, NdisInterruptHandle, K_INTERRUPT,
                                                       "NdisMSynchronizeWithInterruptEx");
    if (!in)
        return FALSE;
    emu_thread *t = emu_self();
    KIRQL old = t->irql;
    pthread_mutex_lock(&in->sync);
    t->irql = EMU_DIRQL;
    BOOLEAN r = Routine(SynchronizeContext);
    t->irql = old;
    pthread_mutex_unlock(&in->sync);
    return r;
}

/* ---- the device model's side ---- */

uint64_t emu_host_now_ns(emu_host *host)
{
    return emu_time(host->ad->rt);
}

void *emu_host_dma_ptr(emu_host *host, uint64_t pa, size_t len)
{
    emu_runtime *rt = host->ad->rt;
    void *p = NULL;
    emu_lock(rt);
    if (host->ad->shut_down) {
        /* MiniportShutdownEx must leave the device quiet: "stop DMA". */
        emu_unlock(rt);
        emu_violate(rt, "ShutdownStopsDma", "device DMA",
                    "%s: the device accessed %zu bytes of guest memory at %#llx after "
                    "MiniportShutdownEx returned",
                    host->ad->instance, len, (unsigned long long)pa);
        return NULL;
    }
    for (emu_dma_region *r = rt->dma; r; r = r->next) {
        if (r->ad == host->ad && pa >= r->pa && len <= r->len && pa - r->pa <= r->len - len) {
            p = (UCHAR *)r->host + (pa - r->pa);
            break;
        }
    }
    if (!p)
        rt->cnt.bad_dma++;
    emu_unlock(rt);
    return p;
}

int emu_host_dma_read(emu_host *host, uint64_t pa, void *buf, size_t len)
{
    void *p = emu_host_dma_ptr(host, pa, len);
    if (!p)
        return -1;
    memcpy(buf, p, len);
    return 0;
}

int emu_host_dma_write(emu_host *host, uint64_t pa, const void *buf, size_t len)
{
    void *p = emu_host_dma_ptr(host, pa, len);
    if (!p)
        return -1;
    memcpy(p, buf, len);
    return 0;
}

int emu_host_msix_signal(emu_host *host, unsigned vector)
{
    emu_adapter *ad = host->ad;
    emu_runtime *rt = ad->rt;
    emu_lock(rt);
    emu_interrupt *in = ad->intr;
    /* dev_attached: the calling device model holds dev_lock (emu_device.h). */
    bool ok = in && !emu_obj_dead(&in->obj) && ad->dev_attached && !ad->shut_down &&
              (in->message_based ? vector < ad->desc.msix_vectors : vector == 0);
    if (ok)
        emu_task_post(rt, T_ISR, 0, isr_task, in, NULL, vector);
    else
        rt->cnt.lost_interrupts++;
    emu_unlock(rt);
    return ok ? 0 : -1;
}

static void device_work_task(emu_runtime *rt, emu_task *t)
{
    emu_adapter *ad = t->a;
    emu_device_work_fn fn;
    (void)rt;
    *(void **)&fn = t->b;
    pthread_mutex_lock(&ad->dev_lock);
    if (ad->dev_attached)
        fn((void *)(uintptr_t)t->u);
    pthread_mutex_unlock(&ad->dev_lock);
}

uint64_t emu_host_schedule(emu_host *host, uint64_t delay_ns, emu_device_work_fn fn, void *arg)
{
    emu_runtime *rt = host->ad->rt;
    void *fp;
    *(emu_device_work_fn *)&fp = fn;
    emu_lock(rt);
    emu_task *t = emu_task_post(rt, T_DEVICE, delay_ns, device_work_task, host->ad, fp,
                                (uint64_t)(uintptr_t)arg);
    uint64_t id = t ? t->id : 0;
    emu_unlock(rt);
    return id;
}

uint64_t emu_host_bar_address(emu_host *host, unsigned bar)
{
    emu_adapter *ad = host->ad;
    return bar < EMU_PCI_BARS && ad->desc.bar_size[bar] ? ad->bar_pa[bar] : 0;
}

bool emu_host_cancel(emu_host *host, uint64_t id)
{
    emu_runtime *rt = host->ad->rt;
    bool ok = false;
    emu_lock(rt);
    for (emu_task *t = rt->tasks; t; t = t->next) {
        if (t->id == id && t->kind == T_DEVICE) {
            ok = emu_task_cancel(rt, t);
            break;
        }
    }
    emu_unlock(rt);
    return ok;
}

/* ---- shared memory for VM queues (NdisAllocateSharedMemory): NDIS's own
 * provider, as when no shared memory provider is registered: memory the
 * device may DMA to, described by the handle and a one-element
 * scatter/gather list when the caller gives room for it ---- */

NDIS_STATUS NdisAllocateSharedMemory(NDIS_HANDLE NdisHandle,
                                     PNDIS_SHARED_MEMORY_PARAMETERS SharedMemoryParameters,
                                     PNDIS_HANDLE pAllocationHandle)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisAllocateSharedMemory", "%p", (void *)SharedMemoryParameters))
        return NDIS_STATUS_FAILURE;
    emu_adapter *ad =
        (emu_adapter *)emu_obj_check(rt, NdisHandle, K_ADAPTER, "NdisAllocateSharedMemory");
    PNDIS_SHARED_MEMORY_PARAMETERS p = SharedMemoryParameters;
    if (!ad || !p || !pAllocationHandle || p->Length == 0)
        return NDIS_STATUS_INVALID_PARAMETER;
    PVOID va;
    NDIS_PHYSICAL_ADDRESS pa;
    NdisMAllocateSharedMemory(NdisHandle, p->Length, TRUE, &va, &pa);
    if (!va)
        return NDIS_STATUS_RESOURCES;
    emu_lock(rt);
    emu_dma_region *r = NULL;
    for (r = rt->dma; r && r->host != va; r = r->next)
        ;
    emu_unlock(rt);
    p->VirtualAddress = va;
    p->SharedMemoryHandle = r;
    if (p->SGListBuffer &&
        p->SGListBufferLength >= sizeof(SCATTER_GATHER_LIST) + sizeof(SCATTER_GATHER_ELEMENT)) {
        p->SGListBuffer->NumberOfElements = 1;
        p->SGListBuffer->Elements[0].Address = pa;
        p->SGListBuffer->Elements[0].Length = p->Length;
    }
    *pAllocationHandle = r;
    return NDIS_STATUS_SUCCESS;
}

void NdisFreeSharedMemory(NDIS_HANDLE NdisHandle, NDIS_HANDLE AllocationHandle)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisFreeSharedMemory", "%p", AllocationHandle))
        return;
    emu_lock(rt);
    emu_dma_region *r = rt->dma;
    while (r && r != AllocationHandle)
        r = r->next;
    PVOID va = r ? r->host : NULL;
    ULONG len = r ? (ULONG)r->len : 0;
    NDIS_PHYSICAL_ADDRESS pa;
    pa.QuadPart = r ? (LONGLONG)r->pa : 0;
    emu_unlock(rt);
    if (!r) {
        emu_violate(rt, "HandleAfterClose", "NdisFreeSharedMemory",
                    "%p is not a live NdisAllocateSharedMemory allocation", AllocationHandle);
        return;
    }
    NdisMFreeSharedMemory(NdisHandle, len, TRUE, va, pa);
}

/* A root-enumerated adapter has no bus device or resources; a PCI one's
 * device objects are the runtime's (none a driver may attach to here). */
void NdisMGetDeviceProperty(NDIS_HANDLE MiniportAdapterHandle, PDEVICE_OBJECT *PhysicalDeviceObject,
                            PDEVICE_OBJECT *FunctionalDeviceObject,
                            PDEVICE_OBJECT *NextDeviceObject, PCM_RESOURCE_LIST *AllocatedResources,
                            PCM_RESOURCE_LIST *AllocatedResourcesTranslated)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisMGetDeviceProperty", "%p", MiniportAdapterHandle))
        return;
    emu_adapter *ad = (emu_adapter *)emu_obj_check(rt, MiniportAdapterHandle, K_ADAPTER,
                                                   "NdisMGetDeviceProperty");
    if (!ad)
        return;
    if (PhysicalDeviceObject)
        *PhysicalDeviceObject = &ad->pdo;
    if (FunctionalDeviceObject)
        *FunctionalDeviceObject = &ad->fdo;
    if (NextDeviceObject)
        *NextDeviceObject = &ad->pdo;
    if (AllocatedResources)
        *AllocatedResources = NULL;
    if (AllocatedResourcesTranslated)
        *AllocatedResourcesTranslated = NULL;
}
