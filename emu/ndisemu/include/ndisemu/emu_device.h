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

#ifdef __cplusplus
}
#endif

#endif /* NDISEMU_EMU_DEVICE_H */
