/*
 * virtio_net_dev_internal.h - the virtio-net model's state and wire
 * constants. Written from the virtio specification independently of
 * lib/vnet, so the two sides check each other.
 */
#ifndef EMU_VIRTIO_NET_DEV_INTERNAL_H
#define EMU_VIRTIO_NET_DEV_INTERNAL_H

#include <string.h>

#include "virtio_net_dev.h"

#define EMU_VNET_HDR_LEN     12u
#define EMU_VNET_CONFIG_SIZE 20u
#define EMU_VNET_CFG_MAC     0u
#define EMU_VNET_CFG_STATUS  6u
#define EMU_VNET_CFG_PAIRS   8u
#define EMU_VNET_CFG_MTU     10u
#define EMU_VNET_CFG_SPEED   12u
#define EMU_VNET_CFG_DUPLEX  16u

#define EMU_VNET_S_LINK_UP  1u
#define EMU_VNET_S_ANNOUNCE 2u

#define EMU_VNET_HDR_NEEDS_CSUM 1u
#define EMU_VNET_HDR_DATA_VALID 2u

#define EMU_VNET_MAC_TABLE 64u /* QEMU's MAC_TABLE_ENTRIES */
#define EMU_VNET_VLANS     4096u
#define EMU_VNET_GSO_MAX   (14u + 4u + 40u + 65535u)
#define EMU_VNET_STAGING   (EMU_VNET_GSO_MAX + EMU_VNET_HDR_LEN)

#define EMU_VNET_TRANSPORT_FEATURES                                                \
    (EMU_VNET_BIT(EMU_VDEV_F_VERSION_1) | EMU_VNET_BIT(EMU_VDEV_F_INDIRECT_DESC) | \
     EMU_VNET_BIT(EMU_VDEV_F_EVENT_IDX))

typedef struct emu_vnet_hdr {
    uint8_t flags;
    uint8_t gso_type;
    uint16_t hdr_len;
    uint16_t gso_size;
    uint16_t csum_start;
    uint16_t csum_offset;
    uint16_t num_buffers;
} emu_vnet_hdr;

_Static_assert(sizeof(emu_vnet_hdr) == EMU_VNET_HDR_LEN, "virtio_net_hdr is 12 bytes");

/* Buffers popped but not yet returned, kept in FIFO order. */
typedef struct emu_vnet_held {
    emu_vdev_req *reqs;
    uint32_t *written;
    uint32_t cap, head, count;
} emu_vnet_held;

typedef struct emu_vnet_fault_state {
    uint32_t value;
    uint32_t count;
} emu_vnet_fault_state;

struct emu_vnet {
    emu_vdev *vdev;
    emu_vdev_personality pers;
    emu_vdev_queue_info queues[3];
    emu_vnet_params params;
    uint64_t offered; /* device-specific bits */

    const emu_vnet_backend *backend;
    void *backend_ctx;
    const emu_vnet_events *events;
    void *events_ctx;

    /* negotiated, cached at FEATURES_OK */
    uint64_t features;
    bool mergeable;
    bool guest_csum;

    /* receive filter (QEMU semantics) */
    uint8_t mac[6];
    bool promisc, allmulti;
    bool uni_overflow, multi_overflow;
    uint32_t n_uc, n_mc;
    uint8_t uc[EMU_VNET_MAC_TABLE][6];
    uint8_t mc[EMU_VNET_MAC_TABLE][6];
    uint32_t vlans[EMU_VNET_VLANS / 32];

    uint16_t status;
    emu_vnet_held rx_stash; /* receive buffers popped ahead of a frame */
    emu_vnet_held held[3];  /* buffers held back by faults, per queue */
    uint8_t *staging;       /* a transmitted frame gathered, or a received one patched */
    emu_vnet_fault_state faults[EMU_VNET_FAULT_COUNT];
    uint32_t faults_armed; /* bit per fault with a non-zero count: the data path asks often */
    emu_vnet_stats stats;
};

static inline bool emu_vnet_has(const emu_vnet *d, unsigned bit)
{
    return (d->features >> bit) & 1u;
}

static inline uint16_t emu_vnet_rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint16_t emu_vnet_be16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static inline void emu_vnet_put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* virtio_net_dev.c */
bool emu_vnet_fault_consume(emu_vnet *d, emu_vnet_fault f, uint32_t *value);

/* Consumes one shot of fault `f` if it is armed; *value gets its value. */
static inline bool emu_vnet_fault_take(emu_vnet *d, emu_vnet_fault f, uint32_t *value)
{
    return (d->faults_armed >> f) & 1u ? emu_vnet_fault_consume(d, f, value) : false;
}
bool emu_vnet_hold(emu_vnet_held *h, const emu_vdev_req *req, uint32_t written);
void emu_vnet_store_status(emu_vnet *d, bool notify);

/* virtio_net_dev_rx.c / _tx.c / _ctrl.c: the queue handlers */
void emu_vnet_rx_process(emu_vdev *dev, void *ctx, uint16_t queue);
void emu_vnet_tx_process(emu_vdev *dev, void *ctx, uint16_t queue);
void emu_vnet_tx_process_one(emu_vnet *d, const emu_vdev_req *req);
void emu_vnet_ctrl_process(emu_vdev *dev, void *ctx, uint16_t queue);
void emu_vnet_ctrl_execute(emu_vnet *d, const emu_vdev_req *req);
void emu_vnet_filter_reset(emu_vnet *d);

/* virtio_net_dev_offload.c */
uint32_t emu_vnet_sum(uint32_t sum, const uint8_t *p, size_t len);
uint16_t emu_vnet_fold(uint32_t sum);

#endif /* EMU_VIRTIO_NET_DEV_INTERNAL_H */
