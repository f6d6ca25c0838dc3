/*
 * vio_internal.h - state shared by the transport and the virtqueue files.
 * Not part of the public API.
 */
#ifndef VIO_INTERNAL_H
#define VIO_INTERNAL_H

#include "vio_pci.h"

/* A structure located by a vendor capability and mapped through the OS. */
typedef struct vio_region {
    void *map; /* handle from ops->bar_map; NULL when absent */
    uint8_t bar;
    uint32_t offset;
    uint32_t length;
} vio_region;

struct vio_dev {
    const vio_os_ops *ops;
    void *os;
    vio_dev_params params;
    uint16_t device_type;
    uint16_t num_queues;
    vio_region common;
    vio_region notify;
    vio_region isr;
    vio_region device; /* optional */
    uint32_t notify_off_multiplier;
    uint8_t pci_cfg_cap;
    uint64_t features;
    vio_dev_stats stats;
};

static inline uint8_t vio_common_read8(vio_dev *dev, uint32_t off)
{
    return dev->ops->read8(dev->os, dev->common.map, off);
}
static inline uint16_t vio_common_read16(vio_dev *dev, uint32_t off)
{
    return dev->ops->read16(dev->os, dev->common.map, off);
}
static inline uint32_t vio_common_read32(vio_dev *dev, uint32_t off)
{
    return dev->ops->read32(dev->os, dev->common.map, off);
}
static inline void vio_common_write8(vio_dev *dev, uint32_t off, uint8_t v)
{
    dev->ops->write8(dev->os, dev->common.map, off, v);
}
static inline void vio_common_write16(vio_dev *dev, uint32_t off, uint16_t v)
{
    dev->ops->write16(dev->os, dev->common.map, off, v);
}
static inline void vio_common_write32(vio_dev *dev, uint32_t off, uint32_t v)
{
    dev->ops->write32(dev->os, dev->common.map, off, v);
}
/* 64-bit common fields are two 32-bit halves, low first (spec 4.1.3). */
static inline void vio_common_write64(vio_dev *dev, uint32_t off, uint64_t v)
{
    vio_common_write32(dev, off, (uint32_t)v);
    vio_common_write32(dev, off + 4, (uint32_t)(v >> 32));
}

/* Programs the MSI-X vector register at `off` (config or selected queue)
 * and checks the device kept it. */
vio_status vio_dev_program_vector(vio_dev *dev, uint32_t off, uint16_t vector);

/* Locates and maps the virtio structures (vio_pci_caps.c). */
vio_status vio_caps_discover(vio_dev *dev);
void vio_caps_unmap(vio_dev *dev);

#endif /* VIO_INTERNAL_H */
