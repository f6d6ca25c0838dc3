/*
 * vnetmin_os.c - lib/virtio's OS ops (vio_os.h) implemented with NDIS calls
 * for the minimal virtio-net miniport: configuration space through
 * NdisMGetBusData, registers through the NdisMMapIoSpace'd BAR 0,
 * DMA memory through NdisMAllocateSharedMemory.
 */
#include "vnetmin.h"

static uint32_t os_cfg_read(void *os, uint32_t offset, unsigned width)
{
    vm_adapter *a = os;
    UCHAR buf[4] = { 0 };
    if (NdisMGetBusData(a->handle, PCI_WHICHSPACE_CONFIG, offset, buf, width) != width)
        return 0xFFFFFFFFu;
    return (uint32_t)buf[0] | (uint32_t)buf[1] << 8 | (uint32_t)buf[2] << 16 |
           (uint32_t)buf[3] << 24;
}

/* The device model puts every virtio structure in BAR 0, the first memory
 * resource; other BARs are not mapped. */
static void *os_bar_map(void *os, uint8_t bar, uint32_t offset, uint32_t length)
{
    vm_adapter *a = os;
    if (bar != 0 || !a->regs || (ULONG64)offset + length > a->regs_len)
        return NULL;
    return (void *)(a->regs + offset);
}

static void os_bar_unmap(void *os, void *region, uint32_t length)
{
    UNREFERENCED_PARAMETER(os);
    UNREFERENCED_PARAMETER(region);
    UNREFERENCED_PARAMETER(length);
}

static uint8_t os_read8(void *os, void *region, uint32_t off)
{
    UNREFERENCED_PARAMETER(os);
    return READ_REGISTER_UCHAR((volatile UCHAR *)region + off);
}

static uint16_t os_read16(void *os, void *region, uint32_t off)
{
    UNREFERENCED_PARAMETER(os);
    return READ_REGISTER_USHORT((volatile USHORT *)((volatile UCHAR *)region + off));
}

static uint32_t os_read32(void *os, void *region, uint32_t off)
{
    UNREFERENCED_PARAMETER(os);
    return READ_REGISTER_ULONG((volatile ULONG *)((volatile UCHAR *)region + off));
}

static void os_write8(void *os, void *region, uint32_t off, uint8_t v)
{
    UNREFERENCED_PARAMETER(os);
    WRITE_REGISTER_UCHAR((volatile UCHAR *)region + off, v);
}

static void os_write16(void *os, void *region, uint32_t off, uint16_t v)
{
    UNREFERENCED_PARAMETER(os);
    WRITE_REGISTER_USHORT((volatile USHORT *)((volatile UCHAR *)region + off), v);
}

static void os_write32(void *os, void *region, uint32_t off, uint32_t v)
{
    UNREFERENCED_PARAMETER(os);
    WRITE_REGISTER_ULONG((volatile ULONG *)((volatile UCHAR *)region + off), v);
}

static bool os_dma_alloc(void *os, size_t size, size_t align, vio_dma *out)
{
    vm_adapter *a = os;
    PVOID va = NULL;
    NDIS_PHYSICAL_ADDRESS pa;
    if (size > 0xFFFFFFFFu || align > PAGE_SIZE)
        return false;
    NdisMAllocateSharedMemory(a->handle, (ULONG)size, FALSE, &va, &pa);
    if (!va)
        return false;
    NdisZeroMemory(va, size);
    out->va = va;
    out->pa = (uint64_t)pa.QuadPart;
    out->size = size;
    out->os_handle = NULL;
    return true;
}

static void os_dma_free(void *os, vio_dma *dma)
{
    vm_adapter *a = os;
    NDIS_PHYSICAL_ADDRESS pa;
    pa.QuadPart = (LONGLONG)dma->pa;
    NdisMFreeSharedMemory(a->handle, (ULONG)dma->size, FALSE, dma->va, pa);
}

static void *os_mem_alloc(void *os, size_t size)
{
    vm_adapter *a = os;
    void *p = NdisAllocateMemoryWithTagPriority(a->handle, (UINT)size, VM_TAG, NormalPoolPriority);
    if (p)
        NdisZeroMemory(p, size);
    return p;
}

static void os_mem_free(void *os, void *p, size_t size)
{
    vm_adapter *a = os;
    UNREFERENCED_PARAMETER(size);
    NdisFreeMemoryWithTagPriority(a->handle, p, VM_TAG);
}

static uint16_t os_msix_count(void *os)
{
    return ((vm_adapter *)os)->msix_count;
}

static void os_sleep_us(void *os, uint32_t us)
{
    UNREFERENCED_PARAMETER(os);
    NdisMSleep(us);
}

const vio_os_ops vm_os_ops = {
    .pci_cfg_read = os_cfg_read,
    .bar_map = os_bar_map,
    .bar_unmap = os_bar_unmap,
    .read8 = os_read8,
    .read16 = os_read16,
    .read32 = os_read32,
    .write8 = os_write8,
    .write16 = os_write16,
    .write32 = os_write32,
    .dma_alloc = os_dma_alloc,
    .dma_free = os_dma_free,
    .mem_alloc = os_mem_alloc,
    .mem_free = os_mem_free,
    .msix_vector_count = os_msix_count,
    .sleep_us = os_sleep_us,
};
