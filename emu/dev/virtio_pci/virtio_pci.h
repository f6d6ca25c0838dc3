/*
 * virtio_pci.h - puts an emu/dev virtio device model (emu_vdev, any
 * personality) on ndisemu's PCI: the model's four host ops map one to one
 * onto ndisemu's host services, and ndisemu's device ops onto the model's
 * register access.
 *
 *   translate    -> emu_host_dma_ptr   (guest-physical DMA, bounds-checked)
 *   raise_msix   -> emu_host_msix_signal
 *   set_intx     -> emu_host_msix_signal(0) on assertion (line interrupt)
 *   queue_notify -> emu_host_schedule: the queue runs as device work, under
 *                   the device lock, a moment after the doorbell
 *
 * Use: create the glue, create the model with emu_vpci_host_ops() and the
 * glue as host_ctx, bind the model to the glue, then plug the device with
 * emu_vpci_device_desc() (hardware id PCI\VEN_1AF4&DEV_<device id in the
 * model's configuration space>, BAR 0).
 * Anything else that touches the model (a backend delivering a frame, a
 * hypervisor toggling the link) must run under the device lock too:
 * emu_vpci_schedule() runs it as device work.
 *
 * While unplugged, DMA translation fails and interrupts go nowhere; the
 * model keeps its state (a device plugged again is not reset).
 */
#ifndef EMU_VIRTIO_PCI_H
#define EMU_VIRTIO_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "ndisemu/emu_device.h"
#include "virtio_dev.h"

typedef struct emu_vpci emu_vpci;

emu_vpci *emu_vpci_create(void);
void emu_vpci_destroy(emu_vpci *v);
/* The ops to create the model with (host_ctx = the glue). */
const emu_vdev_host_ops *emu_vpci_host_ops(void);
/* device_type: virtio device type (1 = network); msix_vectors as given to the model. */
void emu_vpci_bind(emu_vpci *v, emu_vdev *dev, uint16_t device_type, uint16_t msix_vectors);
emu_vdev *emu_vpci_vdev(emu_vpci *v);
/* Fills desc for emu_add_device / the PCI bus; instance must outlive it. */
void emu_vpci_device_desc(emu_vpci *v, const char *instance, emu_device_desc *desc);
/* Runs fn(arg) as device work after delay_ns; 0 when not plugged. */
uint64_t emu_vpci_schedule(emu_vpci *v, uint64_t delay_ns, emu_device_work_fn fn, void *arg);
bool emu_vpci_attached(emu_vpci *v);

typedef struct emu_vpci_stats {
    uint64_t queue_runs, notifies_coalesced, dma_refused, interrupts, lost_interrupts;
    uint64_t by_vector[8]; /* interrupts delivered per MSI-X vector (the first eight) */
} emu_vpci_stats;
void emu_vpci_get_stats(emu_vpci *v, emu_vpci_stats *out);

#endif /* EMU_VIRTIO_PCI_H */
