/*
 * vio_types.h - status codes and the small value types shared by the
 * transport (vio_pci.h) and the virtqueues (vio_vq.h).
 */
#ifndef VIO_TYPES_H
#define VIO_TYPES_H

#include <stddef.h>
#include <stdint.h>

/* Every lib/virtio function that can fail returns one of these. The
 * VIO_E_USED_* codes are the device-misbehaviour verdicts of the used-ring
 * checks; each also increments its own counter in vio_vq_stats and marks the
 * queue broken (later calls return VIO_E_BROKEN until the device is reset). */
typedef enum vio_status {
    VIO_OK = 0,
    VIO_E_EMPTY,                 /* no used buffer pending / nothing to detach */
    VIO_E_INVAL,                 /* bad argument from the caller */
    VIO_E_NOMEM,                 /* the OS could not provide memory */
    VIO_E_NOSPC,                 /* not enough free descriptors; retry after completions */
    VIO_E_BUSY,                  /* buffers still in flight */
    VIO_E_BROKEN,                /* the queue or device was marked broken earlier */
    VIO_E_NOT_VIRTIO,            /* PCI ids are not those of a virtio 1.x device */
    VIO_E_CAP_MISSING,           /* a required virtio capability is absent */
    VIO_E_CAP_INVALID,           /* a virtio capability is malformed */
    VIO_E_MAP_FAILED,            /* the OS could not map a BAR region */
    VIO_E_RESET_TIMEOUT,         /* device_status did not read 0 after a reset */
    VIO_E_NO_VERSION_1,          /* device does not offer VIRTIO_F_VERSION_1 */
    VIO_E_FEATURES_REFUSED,      /* FEATURES_OK did not stick */
    VIO_E_DEVICE_NEEDS_RESET,    /* the device reported DEVICE_NEEDS_RESET */
    VIO_E_CONFIG_UNSTABLE,       /* config_generation kept changing during a read */
    VIO_E_RANGE,                 /* offset/length outside the device's config space */
    VIO_E_QUEUE_UNAVAILABLE,     /* no such queue, or its size reads 0 */
    VIO_E_MSIX_VECTOR,           /* the device refused an MSI-X vector */
    VIO_E_NOTIFY_RANGE,          /* queue_notify_off points outside the notify region */
    VIO_E_USED_ID_RANGE,         /* used id >= queue size */
    VIO_E_USED_ID_NOT_IN_FLIGHT, /* used id is not the head of a buffer in flight */
    VIO_E_USED_LEN,              /* used length > device-writable bytes posted */
    VIO_E_USED_IDX_JUMP,         /* used index advanced past the buffers in flight */
    VIO_STATUS_COUNT
} vio_status;

/* A stable, human-readable name ("VIO_E_USED_LEN") for logs and tests. */
const char *vio_status_name(vio_status status);

/* One buffer segment as the device sees it: a DMA (bus) address and length. */
typedef struct vio_sg {
    uint64_t addr;
    uint32_t len;
} vio_sg;

/* A DMA-able allocation made by the OS: the CPU view, the device view, and
 * whatever the OS needs to free it again. */
typedef struct vio_dma {
    void *va;
    uint64_t pa;
    size_t size;
    void *os_handle;
} vio_dma;

#endif /* VIO_TYPES_H */
