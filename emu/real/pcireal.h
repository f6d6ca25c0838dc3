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
 * interrupt.
 *
 * The VFIO route (vfio-pci behind an IOMMU, e.g. QEMU's intel-iommu):
 *  - the container (type1 IOMMU), the function's group and its device fd;
 *    configuration space through the device's config region (the kernel
 *    virtualizes parts of it; the BAR registers are ours as above);
 *  - memory BARs mmap'ed from their regions (or read and written through
 *    the device fd where the kernel refuses a mapping);
 *  - DMA memory mapped into the IOMMU with VFIO_IOMMU_MAP_DMA: the driver
 *    sees IOVAs (emu_pcireal_map_dma, for hugedma's mapped pools);
 *  - MSI-X: the adapter gets one message per table entry. The capability's
 *    enable bit and the table are virtual (the driver's writes land in a
 *    shadow; the kernel owns the real table); enabling it asks the kernel
 *    for one eventfd per vector (VFIO_DEVICE_SET_IRQS), and a thread raises
 *    the vector the eventfd belongs to on ndisemu's scheduler unless the
 *    driver masked it.
 * Both need the real-time scheduler.
 */
#ifndef EMU_PCIREAL_H
#define EMU_PCIREAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ndisemu/emu_device.h"

typedef struct emu_pcireal emu_pcireal;

typedef enum emu_pcireal_route {
    EMU_PCIREAL_UIO,  /* uio_pci_generic: physical addresses, INTx */
    EMU_PCIREAL_VFIO, /* vfio-pci: IOVAs through the IOMMU, MSI-X */
} emu_pcireal_route;

typedef struct emu_pcireal_stats {
    uint64_t interrupts; /* INTx events read from /dev/uioN, or MSI-X eventfd events */
    uint64_t rearms;     /* uio: line unmasked again */
    uint64_t masked;     /* VFIO: a vector fired while the driver had it masked (dropped) */
    uint64_t churned;    /* reads answered by emu_pcireal_churn */
    uint64_t bad_access; /* register access outside a mapped BAR (refused) */
    uint64_t cfg_errors; /* configuration reads or writes that failed (read as all ones) */
} emu_pcireal_stats;

/* Unbinds the function's current driver and binds it to uio_pci_generic
 * (driver_override + drivers_probe). 0, or -1 with what is missing in err. */
int emu_pcireal_bind_uio(const char *bdf, char *err, size_t errlen);
/* Unbinds the function's current driver and binds it to vfio-pci; checks
 * what VFIO needs (the function in an IOMMU group, the vfio-pci module,
 * /dev/vfio/vfio). 0, or -1 with what is missing in err. */
int emu_pcireal_bind_vfio(const char *bdf, char *err, size_t errlen);
/* The function sits behind an IOMMU (it has an IOMMU group). */
bool emu_pcireal_behind_iommu(const char *bdf);
/* The first function with that vendor:device in sysfs ("0000:01:00.0"), or -1. */
int emu_pcireal_find(uint16_t vendor, uint16_t device, char *bdf, size_t len);

/* Opens a function bound to uio_pci_generic or vfio-pci (route). NULL with
 * the reason in err. */
emu_pcireal *emu_pcireal_open(const char *bdf, emu_pcireal_route route, char *err, size_t errlen);
/* Where the miniport's DMA memory comes from (the caller's hugedma); before
 * emu_pcireal_device_desc. */
void emu_pcireal_set_dma(emu_pcireal *p, const emu_dma_ops *dma);
/* VFIO: maps [va, va+len) for the device's DMA at iova (read and write).
 * 0, or -1 with the reason in err. The mapping ends with emu_pcireal_close,
 * so the memory must outlive it. Fits hugedma's emu_dma_map_fn. */
int emu_pcireal_map_dma(void *pcireal, void *va, size_t len, uint64_t iova, char *err,
                        size_t errlen);
void emu_pcireal_close(emu_pcireal *p);
/* Fills desc for emu_add_device; instance must outlive it. */
void emu_pcireal_device_desc(emu_pcireal *p, const char *instance, emu_device_desc *desc);
void emu_pcireal_get_stats(emu_pcireal *p, emu_pcireal_stats *out);

/* For fault injection by a test harness: the function's real configuration
 * space (BAR registers unvirtualized) and a mapped memory BAR (NULL if
 * absent). Racing the driver's own accesses is the caller's business. */
uint32_t emu_pcireal_cfg_read_raw(emu_pcireal *p, uint32_t off, unsigned size);
/* Fault injection: while armed, every driver read of the byte at (bar, off)
 * answers a different value (the real one plus a count), as a register that
 * never settles would (e.g. virtio's config_generation). Any thread. */
void emu_pcireal_churn(emu_pcireal *p, unsigned bar, uint64_t off, bool armed);
volatile void *emu_pcireal_bar(emu_pcireal *p, unsigned bar, uint64_t *size);

#endif /* EMU_PCIREAL_H */
