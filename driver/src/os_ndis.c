/*
 * os_ndis.c - lib/virtio's OS interface (vio_os_ops) implemented with NDIS:
 * PCI configuration through NdisMGetBusData, BAR regions with
 * NdisMMapIoSpace and the register macros, DMA memory with
 * NdisMAllocateSharedMemory, pool memory, the granted MSI-X message count,
 * and NdisMSleep.
 */
#include "vfo.h"

#ifdef VFO_WPP
#include "os_ndis.tmh"
#endif

#define PCI_BAR0_OFFSET 0x10
#define PCI_BAR_IO      0x1
#define PCI_BAR_64BIT   0x4

/* A DMA allocation as NDIS handed it out, before alignment. */
typedef struct vfo_dma_rec {
    PVOID va;
    NDIS_PHYSICAL_ADDRESS pa;
    ULONG len;
} vfo_dma_rec;

static uint32_t cfg_read(void *os, uint32_t offset, unsigned width)
{
    vfo_os *o = os;
    ULONG v = 0;
    if (width != 1 && width != 2 && width != 4)
        return 0xFFFFFFFFu;
    if (NdisMGetBusData(o->miniport, PCI_WHICHSPACE_CONFIG, offset, &v, width) != width)
        return 0xFFFFFFFFu; /* as a removed device reads */
    return width == 4 ? v : v & ((1u << (8 * width)) - 1);
}

static void *bar_map(void *os, uint8_t bar, uint32_t offset, uint32_t length)
{
    vfo_os *o = os;
    if (bar >= 6 || o->bar[bar].len == 0 || length == 0 || offset > o->bar[bar].len ||
        length > o->bar[bar].len - offset)
        return NULL;
    PHYSICAL_ADDRESS pa = o->bar[bar].pa;
    pa.QuadPart += offset;
    PVOID va = NULL;
    if (NdisMMapIoSpace(&va, o->miniport, pa, length) != NDIS_STATUS_SUCCESS)
        return NULL;
    return va;
}

static void bar_unmap(void *os, void *region, uint32_t length)
{
    vfo_os *o = os;
    NdisMUnmapIoSpace(o->miniport, region, length);
}

static uint8_t rd8(void *os, void *region, uint32_t off)
{
    UCHAR v;
    (void)os;
    NdisReadRegisterUchar((PUCHAR)region + off, &v);
    return v;
}

static uint16_t rd16(void *os, void *region, uint32_t off)
{
    USHORT v;
    (void)os;
    NdisReadRegisterUshort((PUCHAR)region + off, &v);
    return v;
}

static uint32_t rd32(void *os, void *region, uint32_t off)
{
    ULONG v;
    (void)os;
    NdisReadRegisterUlong((PUCHAR)region + off, &v);
    return v;
}

static void wr8(void *os, void *region, uint32_t off, uint8_t v)
{
    (void)os;
    NdisWriteRegisterUchar((PUCHAR)region + off, v);
}

static void wr16(void *os, void *region, uint32_t off, uint16_t v)
{
    (void)os;
    NdisWriteRegisterUshort((PUSHORT)((PUCHAR)region + off), v);
}

static void wr32(void *os, void *region, uint32_t off, uint32_t v)
{
    (void)os;
    NdisWriteRegisterUlong((PULONG)((PUCHAR)region + off), v);
}

/* NdisMAllocateSharedMemory promises cache-line alignment; anything stricter
 * is obtained by over-allocating and rounding up. */
static bool dma_alloc(void *os, size_t size, size_t align, vio_dma *out)
{
    vfo_os *o = os;
    size_t extra = align > 64 ? align : 0;
    if (size == 0 || size + extra > 0x7FFFFFFFu || (align & (align - 1)) != 0)
        return false;
    vfo_dma_rec *rec = vfo_alloc(o->miniport, sizeof(*rec), VFO_TAG_VIRTIO);
    if (!rec)
        return false;
    rec->len = (ULONG)(size + extra);
    rec->va = vfo_shared_alloc(o->miniport, rec->len, &rec->pa);
    if (!rec->va) {
        vfo_free(o->miniport, rec, VFO_TAG_VIRTIO);
        return false;
    }
    NdisZeroMemory(rec->va, rec->len);
    uint64_t pa = (uint64_t)rec->pa.QuadPart;
    uint64_t skip = align > 1 ? ((pa + align - 1) & ~(uint64_t)(align - 1)) - pa : 0;
    out->va = (PUCHAR)rec->va + skip;
    out->pa = pa + skip;
    out->size = size;
    out->os_handle = rec;
    o->allocations++;
    return true;
}

static void dma_free(void *os, vio_dma *dma)
{
    vfo_os *o = os;
    vfo_dma_rec *rec = dma->os_handle;
    if (!rec)
        return;
    NdisMFreeSharedMemory(o->miniport, rec->len, TRUE, rec->va, rec->pa);
    vfo_free(o->miniport, rec, VFO_TAG_VIRTIO);
    dma->os_handle = NULL;
    dma->va = NULL;
    o->allocations--;
}

static void *mem_alloc(void *os, size_t size)
{
    vfo_os *o = os;
    void *p = vfo_alloc(o->miniport, size, VFO_TAG_VIRTIO);
    if (p)
        o->allocations++;
    return p;
}

static void mem_free(void *os, void *p, size_t size)
{
    vfo_os *o = os;
    (void)size;
    if (!p)
        return;
    vfo_free(o->miniport, p, VFO_TAG_VIRTIO);
    o->allocations--;
}

static uint16_t msix_count(void *os)
{
    vfo_os *o = os;
    return (uint16_t)(o->msix_granted > 0xFFFF ? 0xFFFF : o->msix_granted);
}

/* Only the reset wait sleeps, and it runs at PASSIVE_LEVEL (initialize,
 * halt, the reset work item); a caller above it is only stalled briefly. */
static void sleep_us(void *os, uint32_t us)
{
    (void)os;
    if (KeGetCurrentIrql() == PASSIVE_LEVEL)
        NdisMSleep(us);
    else
        KeStallExecutionProcessor(us < 50 ? us : 50);
}

const vio_os_ops vfo_vio_ops = {
    .pci_cfg_read = cfg_read,
    .bar_map = bar_map,
    .bar_unmap = bar_unmap,
    .read8 = rd8,
    .read16 = rd16,
    .read32 = rd32,
    .write8 = wr8,
    .write16 = wr16,
    .write32 = wr32,
    .dma_alloc = dma_alloc,
    .dma_free = dma_free,
    .mem_alloc = mem_alloc,
    .mem_free = mem_free,
    .msix_vector_count = msix_count,
    .sleep_us = sleep_us,
};

/* Which memory resource is which BAR: matched by the address programmed in
 * the BAR registers. A bus that does not program them (an emulated one)
 * lists its memory resources in BAR order, and they are taken so. */
static void assign_bars(vfo_adapter *ad, const PHYSICAL_ADDRESS *mem, const ULONG *len, ULONG nmem)
{
    vfo_os *o = &ad->os;
    ULONG matched = 0;
    for (unsigned bar = 0; bar < 6; bar++) {
        uint32_t lo = cfg_read(o, PCI_BAR0_OFFSET + 4 * bar, 4);
        if (lo == 0xFFFFFFFFu || (lo & PCI_BAR_IO))
            continue;
        uint64_t base = lo & ~0xFull;
        bool wide = (lo & 0x6) == PCI_BAR_64BIT;
        if (wide && bar < 5)
            base |= (uint64_t)cfg_read(o, PCI_BAR0_OFFSET + 4 * (bar + 1), 4) << 32;
        for (ULONG i = 0; base != 0 && i < nmem; i++) {
            if ((uint64_t)mem[i].QuadPart == base) {
                o->bar[bar].pa = mem[i];
                o->bar[bar].len = len[i];
                matched++;
            }
        }
        if (wide)
            bar++;
    }
    if (matched == 0) {
        for (ULONG i = 0; i < nmem && i < 6; i++) {
            o->bar[i].pa = mem[i];
            o->bar[i].len = len[i];
        }
    }
}

NDIS_STATUS vfo_os_init(vfo_adapter *ad, PNDIS_RESOURCE_LIST res)
{
    PHYSICAL_ADDRESS mem[6];
    ULONG len[6], nmem = 0;
    ad->os.miniport = ad->handle;
    if (!res)
        return NDIS_STATUS_RESOURCES;
    for (ULONG i = 0; i < res->Count; i++) {
        const CM_PARTIAL_RESOURCE_DESCRIPTOR *d = &res->PartialDescriptors[i];
        if (d->Type == CmResourceTypeMemory && nmem < 6) {
            mem[nmem] = d->u.Memory.Start;
            len[nmem] = d->u.Memory.Length;
            nmem++;
        }
    }
    if (nmem == 0) {
        VFO_ERR("no memory resources: not a virtio 1.x (modern) device");
        return NDIS_STATUS_RESOURCE_CONFLICT;
    }
    assign_bars(ad, mem, len, nmem);
    return NDIS_STATUS_SUCCESS;
}

void vfo_os_free(vfo_adapter *ad)
{
    if (ad->os.allocations)
        VFO_ERR("%lu virtio allocations still live at halt", (unsigned long)ad->os.allocations);
}
