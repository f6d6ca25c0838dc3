/*
 * vio_pci.h - the virtio 1.x PCI modern transport, driver side.
 *
 * Life cycle, following the spec's "Device Initialization":
 *
 *   vio_dev_create()             identify, walk the capabilities, map them
 *   vio_dev_begin_init()         reset (bounded wait), ACKNOWLEDGE, DRIVER
 *   vio_dev_negotiate()          64-bit features, FEATURES_OK and its check
 *   vio_dev_set_config_vector()  optional
 *   vio_vq_create() per queue    (vio_vq.h)
 *   vio_dev_driver_ok()
 *   ...
 *   vio_dev_reset(); vio_vq_detach_unused() per queue; vio_vq_destroy();
 *   vio_dev_destroy()
 *
 * To recover from DEVICE_NEEDS_RESET or a broken queue: vio_dev_reset(),
 * detach every queue's buffers, vio_dev_begin_init(), vio_dev_negotiate(),
 * vio_vq_restart() per queue, vio_dev_driver_ok().
 *
 * Not thread-safe: the OS serialises calls on one device. The data-path
 * calls of different queues (vio_vq.h) may run concurrently.
 */
#ifndef VIO_PCI_H
#define VIO_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "vio_os.h"
#include "vio_spec.h"
#include "vio_types.h"

typedef struct vio_dev vio_dev;

/* Tunables; zero fields take the defaults shown. */
typedef struct vio_dev_params {
    uint32_t reset_timeout_us;  /* 1000000: give up waiting for reset after this */
    uint32_t reset_poll_us;     /* 1000: sleep between polls of device_status */
    uint32_t config_read_tries; /* 16: attempts at a generation-stable config read */
} vio_dev_params;

typedef struct vio_dev_stats {
    uint64_t resets;
    uint64_t reset_polls; /* device_status reads while waiting for 0 */
    uint64_t reset_timeouts;
    uint64_t features_refused;
    uint64_t config_reads;
    uint64_t config_retries;  /* reads repeated because the generation moved */
    uint64_t config_unstable; /* reads that gave up (VIO_E_CONFIG_UNSTABLE) */
    uint64_t msix_refused;
    uint64_t caps_ignored; /* malformed or duplicate vendor capabilities */
} vio_dev_stats;

/* Identifies a virtio 1.x PCI function through `ops`, finds and maps its
 * common, notify, ISR and (if present) device-specific structures and
 * records where the PCI configuration access capability is. Does not touch
 * the device's state. `params` may be NULL. */
vio_status vio_dev_create(const vio_os_ops *ops, void *os, const vio_dev_params *params,
                          vio_dev **out);
/* Unmaps and frees. Reset the device and destroy its queues first. */
void vio_dev_destroy(vio_dev *dev);

/* Virtio device type (1 = network, ...). */
uint16_t vio_dev_device_type(const vio_dev *dev);
uint16_t vio_dev_num_queues(const vio_dev *dev);
/* Bytes of device-specific configuration (0 if the device has none). */
uint32_t vio_dev_config_size(const vio_dev *dev);
/* Offset in PCI configuration space of the VIRTIO_PCI_CAP_PCI_CFG
 * capability, or 0 if the device has none. */
uint8_t vio_dev_pci_cfg_cap_offset(const vio_dev *dev);

/* Writes 0 to device_status and polls (sleep_us between reads) until it
 * reads 0, for at most the reset timeout: VIO_E_RESET_TIMEOUT otherwise.
 * Forgets the negotiated features. */
vio_status vio_dev_reset(vio_dev *dev);

/* Writes 0 to device_status and returns at once (no polling, no sleep: any
 * IRQL, e.g. a shutdown handler at HIGH_LEVEL). The device stops using its
 * queues; the driver must not use the device again without vio_dev_reset. */
void vio_dev_reset_nowait(vio_dev *dev);

/* Reset, then ACKNOWLEDGE and DRIVER. */
vio_status vio_dev_begin_init(vio_dev *dev);

/* All 64 feature bits the device offers. */
uint64_t vio_dev_device_features(vio_dev *dev);

/* Accepts `wanted & offered`, restricted in the transport range (bits 24-41)
 * to what this library implements (INDIRECT_DESC, EVENT_IDX, VERSION_1,
 * ACCESS_PLATFORM); device-specific bits pass through as wanted. Sets
 * FEATURES_OK and re-reads the status. On VIO_E_NO_VERSION_1 and
 * VIO_E_FEATURES_REFUSED the device is marked FAILED. `accepted` may be NULL. */
vio_status vio_dev_negotiate(vio_dev *dev, uint64_t wanted, uint64_t *accepted);

/* The negotiated features (0 before vio_dev_negotiate succeeds). */
uint64_t vio_dev_features(const vio_dev *dev);
bool vio_dev_has_feature(const vio_dev *dev, unsigned bit);

/* Sets DRIVER_OK. Fails with VIO_E_DEVICE_NEEDS_RESET if the device already
 * asks for a reset. */
vio_status vio_dev_driver_ok(vio_dev *dev);

/* Sets FAILED: the driver gave up on the device. */
void vio_dev_fail(vio_dev *dev);

uint8_t vio_dev_get_status(vio_dev *dev);
bool vio_dev_needs_reset(vio_dev *dev);

/* Routes configuration-change notifications to MSI-X vector `vector`
 * (VIO_MSI_NO_VECTOR for none). VIO_E_MSIX_VECTOR if the device refuses it
 * or it is not below the OS's vector count. */
vio_status vio_dev_set_config_vector(vio_dev *dev, uint16_t vector);

/* Reads and thereby clears the ISR status (line-based interrupts only). */
uint8_t vio_dev_read_isr(vio_dev *dev);

/* Copies [offset, offset + len) of the device-specific configuration into
 * buf, consistently: the whole range is re-read while config_generation
 * changes, up to the configured number of tries. Aligned 4- and 2-byte
 * pieces are read with 32- and 16-bit accesses, the rest byte by byte. */
vio_status vio_dev_config_read(vio_dev *dev, uint32_t offset, void *buf, uint32_t len);

const vio_dev_stats *vio_dev_get_stats(const vio_dev *dev);

#endif /* VIO_PCI_H */
