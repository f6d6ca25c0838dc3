/*
 * hugedma.h - DMA memory a real PCI device can reach: without an IOMMU (the
 * uio route) 2 MiB hugepages, locked in memory, whose physical addresses
 * come from /proc/self/pagemap; behind one (VFIO), ordinary memory mapped
 * at IOVAs (emu_hugedma_create_mapped). Handed to ndisemu as a device's emu_dma_ops
 * (NdisMAllocateSharedMemory and the scatter/gather bounce blocks).
 *
 * Each block lies inside one hugepage, so it is physically contiguous.
 * Needs root (pagemap hides frame numbers otherwise) and free hugepages
 * (/proc/sys/vm/nr_hugepages); emu_hugedma_create says which is missing.
 */
#ifndef EMU_HUGEDMA_H
#define EMU_HUGEDMA_H

#include <stddef.h>
#include <stdint.h>

#include "ndisemu/emu_device.h"

typedef struct emu_hugedma emu_hugedma;

/* pages: how many 2 MiB pages to take. NULL on failure, with the reason in
 * err (e.g. "no free 2 MiB hugepages: echo 16 > /proc/sys/vm/nr_hugepages"). */
emu_hugedma *emu_hugedma_create(unsigned pages, char *err, size_t errlen);

/* Behind an IOMMU (the VFIO route) no hugepages are needed: `pages` 2 MiB
 * blocks of ordinary memory, resident, mapped for the device by map at
 * iova (one call for all of them); the blocks' device addresses are IOVAs.
 * NULL on failure, with the reason in err. */
typedef int (*emu_dma_map_fn)(void *ctx, void *va, size_t len, uint64_t iova, char *err,
                              size_t errlen);
emu_hugedma *emu_hugedma_create_mapped(unsigned pages, uint64_t iova, emu_dma_map_fn map,
                                       void *map_ctx, char *err, size_t errlen);
void emu_hugedma_destroy(emu_hugedma *h);
/* The ops for emu_device_desc.dma; valid while h lives. */
const emu_dma_ops *emu_hugedma_ops(emu_hugedma *h);
/* The host address of [dev_addr, dev_addr+len) inside one hugepage, or NULL
 * (for fault injection by a test harness). */
void *emu_hugedma_va(emu_hugedma *h, uint64_t dev_addr, size_t len);
/* Blocks handed out and not yet freed, and allocations that found no room. */
void emu_hugedma_usage(emu_hugedma *h, uint64_t *live_blocks, uint64_t *failed);

#endif /* EMU_HUGEDMA_H */
