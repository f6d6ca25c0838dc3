/*
 * vio_os.h - everything lib/virtio needs from the operating system, as one
 * ops struct. The Windows driver implements it with NDIS calls
 * (NdisMMapIoSpace, NdisReadRegisterXxx, NdisMAllocateSharedMemory, ...);
 * tests and ndisemu implement it over the emulated device.
 *
 * Memory barriers and atomics are the exception: they sit on the data path,
 * so they come inline from vfo_osdep.h instead of through a call.
 *
 * Register widths: the virtio spec requires natural-width accesses (8-bit
 * fields with 8-bit accesses, 16 with 16, 32 with 32) and has 64-bit fields
 * accessed as two 32-bit halves, low half first. The transport therefore
 * never issues a 64-bit register access, and the ops have no 64-bit entries.
 *
 * Unless stated otherwise every entry is mandatory and is called at
 * PASSIVE_LEVEL-equivalent (initialisation and reset paths). Only the
 * register accessors are used on the data path (queue notification).
 */
#ifndef VIO_OS_H
#define VIO_OS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vio_types.h"

typedef struct vio_os_ops {
    /* PCI configuration space of the device's function; width is 1, 2 or 4
     * and offsets are naturally aligned. */
    uint32_t (*pci_cfg_read)(void *os, uint32_t offset, unsigned width);

    /* Map [offset, offset + length) of memory BAR `bar` for register
     * access. Returns an opaque handle for the accessors below, or NULL if
     * the range is not inside the BAR or cannot be mapped. */
    void *(*bar_map)(void *os, uint8_t bar, uint32_t offset, uint32_t length);
    void (*bar_unmap)(void *os, void *region, uint32_t length);

    /* Register access inside a mapped region; `off` is relative to it and
     * always inside the length given to bar_map. */
    uint8_t (*read8)(void *os, void *region, uint32_t off);
    uint16_t (*read16)(void *os, void *region, uint32_t off);
    uint32_t (*read32)(void *os, void *region, uint32_t off);
    void (*write8)(void *os, void *region, uint32_t off, uint8_t value);
    void (*write16)(void *os, void *region, uint32_t off, uint16_t value);
    void (*write32)(void *os, void *region, uint32_t off, uint32_t value);

    /* Zero-filled, physically contiguous memory the device can reach, with
     * `align` a power of two. Returns false when none is available. */
    bool (*dma_alloc)(void *os, size_t size, size_t align, vio_dma *out);
    void (*dma_free)(void *os, vio_dma *dma);

    /* Ordinary zero-filled memory for the library's own bookkeeping; used
     * only when devices and queues are created, never on the data path. */
    void *(*mem_alloc)(void *os, size_t size);
    void (*mem_free)(void *os, void *p, size_t size);

    /* Number of MSI-X messages the OS granted this device (0 = line-based
     * interrupt). Queue and config vectors must be below this. */
    uint16_t (*msix_vector_count)(void *os);

    /* Block for about `us` microseconds. Used only while waiting for a reset
     * to complete. */
    void (*sleep_us)(void *os, uint32_t us);
} vio_os_ops;

#endif /* VIO_OS_H */
