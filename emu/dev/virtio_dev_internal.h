/*
 * virtio_dev_internal.h - the device model's state and its register map.
 * Written from the virtio 1.x specification independently of lib/virtio,
 * so the two sides check each other.
 */
#ifndef EMU_VIRTIO_DEV_INTERNAL_H
#define EMU_VIRTIO_DEV_INTERNAL_H

#include "virtio_dev.h"

#define EMU_VDEV_MAX_QUEUES  64u
#define EMU_VDEV_MAX_VECTORS 64u
#define EMU_VDEV_MAX_CONFIG  0x1000u
#define EMU_VDEV_QSIZE_MAX   32768u
#define EMU_VDEV_NO_VECTOR   0xFFFFu

/* device_status bits */
#define EMU_VDEV_S_ACKNOWLEDGE 0x01
#define EMU_VDEV_S_DRIVER      0x02
#define EMU_VDEV_S_DRIVER_OK   0x04
#define EMU_VDEV_S_FEATURES_OK 0x08
#define EMU_VDEV_S_NEEDS_RESET 0x40
#define EMU_VDEV_S_FAILED      0x80

/* descriptor and ring flags */
#define EMU_VDEV_DESC_NEXT     0x1
#define EMU_VDEV_DESC_WRITE    0x2
#define EMU_VDEV_DESC_INDIRECT 0x4
#define EMU_VDEV_AVAIL_NO_INTR 0x1

/* BAR 0 layout: each structure in its own page-aligned window. */
#define EMU_VDEV_COMMON_OFF   0x0000u
#define EMU_VDEV_COMMON_LEN   0x0038u
#define EMU_VDEV_ISR_OFF      0x0100u
#define EMU_VDEV_ISR_LEN      0x0004u
#define EMU_VDEV_DEVICE_OFF   0x1000u
#define EMU_VDEV_NOTIFY_OFF   0x2000u
#define EMU_VDEV_NOTIFY_MUL   4u
#define EMU_VDEV_MSIX_TBL_OFF 0x3000u
#define EMU_VDEV_MSIX_PBA_OFF 0x3800u

/* Configuration space: header, then the capability chain. */
#define EMU_VDEV_CAP_COMMON  0x40u
#define EMU_VDEV_CAP_NOTIFY  0x50u
#define EMU_VDEV_CAP_ISR     0x64u
#define EMU_VDEV_CAP_DEVICE  0x74u
#define EMU_VDEV_CAP_PCI_CFG 0x84u
#define EMU_VDEV_CAP_MSIX    0x98u
#define EMU_VDEV_CFG_SPACE   256u

/* common configuration register offsets */
enum {
    EMU_VDEV_C_DFSELECT = 0x00,
    EMU_VDEV_C_DF = 0x04,
    EMU_VDEV_C_GFSELECT = 0x08,
    EMU_VDEV_C_GF = 0x0C,
    EMU_VDEV_C_MSIX = 0x10,
    EMU_VDEV_C_NUMQ = 0x12,
    EMU_VDEV_C_STATUS = 0x14,
    EMU_VDEV_C_GENERATION = 0x15,
    EMU_VDEV_C_Q_SELECT = 0x16,
    EMU_VDEV_C_Q_SIZE = 0x18,
    EMU_VDEV_C_Q_MSIX = 0x1A,
    EMU_VDEV_C_Q_ENABLE = 0x1C,
    EMU_VDEV_C_Q_NOFF = 0x1E,
    EMU_VDEV_C_Q_DESC = 0x20,
    EMU_VDEV_C_Q_AVAIL = 0x28,
    EMU_VDEV_C_Q_USED = 0x30,
};

typedef struct emu_vdev_vring_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
} emu_vdev_vring_desc;

typedef struct emu_vdev_queue {
    uint16_t size;
    uint16_t max_size;
    uint16_t msix_vector;
    bool enabled;
    bool stopped; /* the driver broke this ring */
    uint64_t desc_gpa;
    uint64_t avail_gpa;
    uint64_t used_gpa;
    /* host views, valid while enabled */
    const volatile emu_vdev_vring_desc *desc;
    volatile uint16_t *avail; /* flags, idx, ring[size], used_event */
    volatile uint16_t *used;  /* flags, idx, then the entries */
    volatile uint16_t *avail_event;
    uint16_t last_avail;
    uint16_t used_idx;
    uint16_t signalled_used;
} emu_vdev_queue;

typedef struct emu_vdev_fault_state {
    uint16_t queue;
    uint32_t value;
    uint32_t count;
} emu_vdev_fault_state;

struct emu_vdev {
    emu_vdev_personality pers;
    void *pers_ctx;
    const emu_vdev_host_ops *host;
    void *host_ctx;

    uint8_t cfg[EMU_VDEV_CFG_SPACE];
    uint8_t cfg_wmask[EMU_VDEV_CFG_SPACE];
    uint16_t msix_vectors;
    uint32_t msix_table[EMU_VDEV_MAX_VECTORS][4];
    uint64_t msix_pending; /* the pending bit array, one bit per vector */

    uint64_t offered;
    bool event_idx; /* negotiated ring features, cached for the data path */
    bool indirect;
    uint32_t dfselect;
    uint32_t gfselect;
    uint64_t driver_features;
    uint16_t config_msix;
    uint8_t status;
    uint8_t generation;
    uint8_t isr;
    bool reset_pending; /* driver wrote 0, a stuck reset has not finished */
    uint16_t queue_select;
    uint32_t epoch;

    uint8_t config[EMU_VDEV_MAX_CONFIG];
    emu_vdev_queue queues[EMU_VDEV_MAX_QUEUES];
    emu_vdev_fault_state faults[EMU_VDEV_FAULT_COUNT];
    uint32_t faults_armed; /* bit per fault with a non-zero count */
    emu_vdev_stats stats;
};

/* virtio_dev.c */
void emu_vdev_do_reset(emu_vdev *dev);
void emu_vdev_driver_error(emu_vdev *dev, emu_vdev_queue *q, emu_vdev_error err);
bool emu_vdev_fault_consume(emu_vdev *dev, emu_vdev_fault fault, uint16_t queue);

/* Consumes one shot of an armed fault; true if it fires. Cheap when none is
 * armed, because the data path asks on every buffer. */
static inline bool emu_vdev_fault_fires(emu_vdev *dev, emu_vdev_fault fault, uint16_t queue)
{
    return (dev->faults_armed >> fault) & 1 ? emu_vdev_fault_consume(dev, fault, queue) : false;
}
void emu_vdev_queue_irq(emu_vdev *dev, uint16_t queue);
void emu_vdev_msix_deliver_pending(emu_vdev *dev);

/* virtio_dev_cfg.c: configuration space */
void emu_vdev_cfg_init(emu_vdev *dev);
bool emu_vdev_msix_enabled(const emu_vdev *dev);

/* virtio_dev_ring.c */
bool emu_vdev_queue_attach(emu_vdev *dev, emu_vdev_queue *q);

/* What a read of `size` bytes returns when nothing answers it. */
static inline uint64_t emu_vdev_all_ones(unsigned size)
{
    return size >= 8 ? UINT64_MAX : (1ull << (8 * size)) - 1;
}

static inline uint16_t emu_vdev_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline void emu_vdev_put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void emu_vdev_put_le32(uint8_t *p, uint32_t v)
{
    emu_vdev_put_le16(p, (uint16_t)v);
    emu_vdev_put_le16(p + 2, (uint16_t)(v >> 16));
}

#endif /* EMU_VIRTIO_DEV_INTERNAL_H */
