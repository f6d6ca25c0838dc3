/*
 * pcireal.h - a real PCI function of the machine ndisemu runs on, as an
 * ndisemu device (emu_device_ops): the driver loaded on it drives the
 * hardware itself, from user space.
 *
 * The uio route (uio_pci_generic, no IOMMU needed):
 *  - configuration space through sysfs `config` (the BAR registers are
 *    virtualized: they show the addresses ndisemu gave the miniport, as a
 *    hypervisor's virtual BARs do; memory decoding and bus mastering stay on);
 *  - memory BARs mmap'ed from sysfs `resourceN`, accessed with the width the
 *    driver uses;
 *  - DMA memory from 2 MiB hugepages with physical addresses (hugedma.h);
 *  - the INTx line from /dev/uioN: a thread waits for it and raises the
 *    adapter's line interrupt on ndisemu's scheduler; the kernel masks the
 *    line when it fires (PCI_COMMAND bit 10) and it is unmasked again after
 *    the driver's next register read (its ISR reading the status register
 *    is what deasserts a level-triggered line; a line still asserted fires
 *    again, so nothing is lost).
 * Without MSI-X (uio_pci_generic enables none) the adapter gets a line-based
 * interrupt. Needs the real-time scheduler.
 */
#ifndef EMU_PCIREAL_H
#define EMU_PCIREAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ndisemu/emu_device.h"

typedef struct emu_pcireal emu_pcireal;

typedef struct emu_pcireal_stats {
    uint64_t interrupts; /* INTx events read from /dev/uioN */
    uint64_t rearms;     /* line unmasked again */
    uint64_t bad_access; /* register access outside a mapped BAR (refused) */
    uint64_t cfg_errors; /* configuration reads or writes that failed (read as all ones) */
} emu_pcireal_stats;

/* Unbinds the function's current driver and binds it to uio_pci_generic
 * (driver_override + drivers_probe). 0, or -1 with what is missing in err. */
int emu_pcireal_bind_uio(const char *bdf, char *err, size_t errlen);
/* The first function with that vendor:device in sysfs ("0000:01:00.0"), or -1. */
int emu_pcireal_find(uint16_t vendor, uint16_t device, char *bdf, size_t len);

/* Opens a function bound to uio_pci_generic; dma: where the miniport's DMA
 * memory comes from (the caller's hugedma). NULL with the reason in err. */
emu_pcireal *emu_pcireal_open(const char *bdf, const emu_dma_ops *dma, char *err, size_t errlen);
void emu_pcireal_close(emu_pcireal *p);
/* Fills desc for emu_add_device; instance must outlive it. */
void emu_pcireal_device_desc(emu_pcireal *p, const char *instance, emu_device_desc *desc);
void emu_pcireal_get_stats(emu_pcireal *p, emu_pcireal_stats *out);

/* For fault injection by a test harness: the function's real configuration
 * space (BAR registers unvirtualized) and a mapped memory BAR (NULL if
 * absent). Racing the driver's own accesses is the caller's business. */
uint32_t emu_pcireal_cfg_read_raw(emu_pcireal *p, uint32_t off, unsigned size);
volatile void *emu_pcireal_bar(emu_pcireal *p, unsigned bar, uint64_t *size);

#endif /* EMU_PCIREAL_H */
