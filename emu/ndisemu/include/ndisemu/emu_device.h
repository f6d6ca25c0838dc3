/*
 * emu_device.h - the emulated-device interface of ndisemu.
 *
 * A device model (a virtio NIC, a VF, a test NIC) implements emu_device_ops:
 * PCI configuration space and BAR MMIO accesses. The runtime traps a
 * miniport's NdisMGetBusData/NdisMSetBusData and its READ/WRITE_REGISTER_*
 * accesses on NdisMMapIoSpace'd BARs into these callbacks.
 *
 * In return the device gets an emu_host with the services real hardware
 * relies on: guest-physical DMA (the runtime hands physical addresses to the
 * miniport for NdisMAllocateSharedMemory and scatter/gather lists; the device
 * translates them back with bounds checking), MSI-X message signalling (which
 * runs the miniport's MessageInterrupt ISR and DPC), and "schedule work for
 * me" (the runtime's scheduler decides when device work runs, so the same
 * seed reproduces the same interleaving of device and driver). Like the PCI
 * bus driver, the runtime programs, unmasks and enables a device's MSI-X
 * capability while the miniport's message interrupt is connected.
 *
 * Concurrency: the runtime never calls into one device concurrently. Every
 * ops callback and every scheduled work function of a device runs under that
 * device's lock, so a model needs no locking of its own for state it only
 * touches from those entry points. The emu_host functions may be called from
 * any of them (and from nowhere else).
 */
#ifndef NDISEMU_EMU_DEVICE_H
#define NDISEMU_EMU_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct emu_host emu_host;

#define EMU_PCI_BARS 6

/* Where DMA memory comes from for a device that is real hardware (a host PCI
 * function driven from user space): NdisMAllocateSharedMemory takes its
 * blocks from alloc, with the address the device must use (a physical
 * address under uio, an IOVA under VFIO); scatter/gather lists bounce each
 * buffer through such a block (copied in when the list is built: ndisemu's
 * lists are for sends, NDIS_SG_LIST_WRITE_TO_DEVICE). Without it (NULL in
 * the device description), ndisemu hands out addresses of its own that only
 * emu_host_dma_* translate. alloc returns NULL when nothing is left; every
 * block is physically contiguous and at least 64-byte aligned. Called from
 * any thread. */
typedef struct emu_dma_ops {
    void *(*alloc)(void *ctx, size_t len, uint64_t *dev_addr);
    void (*free)(void *ctx, void *va, size_t len);
    void *ctx;
} emu_dma_ops;

typedef struct emu_device_ops {
    /* PCI configuration space, size 1, 2 or 4 bytes at any offset < 4096. */
    uint32_t (*cfg_read)(void *dev, uint32_t offset, unsigned size);
    void (*cfg_write)(void *dev, uint32_t offset, unsigned size, uint32_t value);
    /* BAR MMIO, size 1, 2, 4 or 8 bytes; offset is inside the BAR. */
    uint64_t (*mmio_read)(void *dev, unsigned bar, uint64_t offset, unsigned size);
    void (*mmio_write)(void *dev, unsigned bar, uint64_t offset, unsigned size, uint64_t value);
    /* Plugged in: the device keeps host until detach. Optional. */
    void (*attach)(void *dev, emu_host *host);
    /* Unplugged (gracefully after halt, or by surprise before it): stop all
     * DMA, interrupts and scheduled work. host is invalid afterwards. Optional. */
    void (*detach)(void *dev);
} emu_device_ops;

typedef struct emu_device_desc {
    const char *instance;            /* unique device instance (the adapter's name), required */
    const char *pnp_id;              /* hardware id, matched against the drivers' pnpid lists */
    const char *service;             /* or: the driver service to use, bypassing pnp matching */
    uint64_t bar_size[EMU_PCI_BARS]; /* 0 = BAR absent; rounded up to 4 KiB */
    unsigned msix_vectors;           /* 0 = line-based interrupt only */
    const char *const *registry;     /* "Keyword=Value" entries, NULL-terminated, optional */
    const emu_device_ops *ops;
    void *dev;
    const emu_dma_ops *dma; /* real hardware only; NULL = ndisemu's own addresses */
} emu_device_desc;

/* Virtual (deterministic scheduler) or monotonic wall-clock (real-time) ns. */
uint64_t emu_host_now_ns(emu_host *host);

/* Translates a guest-physical range the runtime handed out (shared memory,
 * a live scatter/gather element) to a host pointer. NULL when any byte of
 * [pa, pa+len) is outside one live mapping; counted as a bad DMA access. */
void *emu_host_dma_ptr(emu_host *host, uint64_t pa, size_t len);
int emu_host_dma_read(emu_host *host, uint64_t pa, void *buf, size_t len);
int emu_host_dma_write(emu_host *host, uint64_t pa, const void *buf, size_t len);

/* Raises MSI-X message `vector` (or the line interrupt when the adapter has
 * no messages). 0, or -1 when the interrupt is not connected (counted). */
int emu_host_msix_signal(emu_host *host, unsigned vector);

/* Runs fn(arg) under the device lock after delay_ns, when the scheduler
 * picks it. Returns an id for emu_host_cancel (never 0). */
typedef void (*emu_device_work_fn)(void *arg);
uint64_t emu_host_schedule(emu_host *host, uint64_t delay_ns, emu_device_work_fn fn, void *arg);
bool emu_host_cancel(emu_host *host, uint64_t id);

/* The bus address ndisemu assigned to a BAR (what the miniport finds in its
 * resource list): a device that stands for real hardware shows it in its
 * BAR registers, as a hypervisor's virtual BARs do. 0 when the BAR is absent. */
uint64_t emu_host_bar_address(emu_host *host, unsigned bar);

/* Real-time scheduler only: emu_host_schedule, emu_host_cancel and
 * emu_schedule (emu.h) may also be called from a thread of the device's own
 * (one that waits for a real device's interrupt or a socket), until the
 * device's detach returns; the work then runs on the scheduler's workers. */

#ifdef __cplusplus
}
#endif

#endif /* NDISEMU_EMU_DEVICE_H */
