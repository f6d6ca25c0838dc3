/*
 * vnet_internal.h - the adapter's state, split by path (see the locking
 * contract in vnet.h), and the helpers the source files share. Not API.
 */
#ifndef VNET_INTERNAL_H
#define VNET_INTERNAL_H

#include <string.h>

#include "vfo_osdep.h"
#include "vnet.h"

#define VNET_Q_RX   0
#define VNET_Q_TX   1
#define VNET_Q_CTRL 2

#define VNET_NONE UINT32_MAX

/* Keeps the paths' hot state on separate cache lines (plain padding: the
 * OS's mem_alloc promises no more than pointer alignment). */
#define VNET_CACHELINE 64

/* ---- receive ---------------------------------------------------------------- */

enum vnet_rx_buf_state {
    VNET_RXB_IDLE,   /* with lib/vnet, not posted */
    VNET_RXB_POSTED, /* with the device */
    VNET_RXB_OS,     /* part of a frame the OS holds */
};

typedef struct vnet_rx_buf {
    uint32_t next; /* next buffer of the same frame, or VNET_NONE */
    uint8_t state;
    bool head; /* first buffer of a frame the OS holds: its handle */
} vnet_rx_buf;

typedef struct vnet_rx_slot {
    uint8_t *va;
    uint64_t pa;
} vnet_rx_slot;

/* A mergeable frame whose later buffers the device has not returned yet. */
typedef struct vnet_rx_partial {
    bool active;
    vnet_hdr hdr;
    uint16_t have; /* buffers collected */
    uint32_t first, last;
    vnet_rx_frame frame; /* segments so far; copied only on this rare path */
} vnet_rx_partial;

typedef struct vnet_rxq {
    vio_vq *vq;
    vnet_rx_buf *bufs;
    vnet_rx_slot *slots;
    vio_dma *blocks;
    uint32_t nblocks;
    uint32_t nbufs;
    uint32_t nslots;
    uint32_t slots_per_buf;
    uint32_t slot_size;
    uint32_t posted;
    uint32_t max_frame; /* longest frame without GSO */
    bool mergeable;
    bool guest_csum;
    bool gso4, gso6;
    bool strip_vlan;
    bool complete_csum;
    vnet_status last_error;
    vnet_rx_partial partial;
    vnet_rx_stats stats;
} vnet_rxq;

/* ---- transmit --------------------------------------------------------------- */

/* Each frame in flight owns a slot: its header (and copied bytes) area. */
#define VNET_TX_SLOT_BYTES 192u /* 12 header + 4 tag + VNET_TX_COPY_MAX */

typedef struct vnet_tx_slot {
    void *cookie;
    uint8_t *va;
    uint64_t pa;
} vnet_tx_slot;

typedef struct vnet_txq {
    vio_vq *vq;
    vnet_tx_slot *slots;
    uint32_t *free_stack;
    uint32_t nslots;
    uint32_t nfree;
    vio_dma mem;
    uint32_t mtu_frame; /* longest frame without TSO (tag excluded) */
    uint16_t copy_break;
    uint16_t indirect_min;
    bool csum, tso4, tso6;
    bool stopped; /* a frame was refused for room: call tx_resume later */
    vnet_tx_stats stats;
} vnet_txq;

/* ---- control ------------------------------------------------------------------ */

#define VNET_CTRL_SLOT_BYTES 1024u
#define VNET_CTRL_ACK_OFF    (VNET_CTRL_SLOT_BYTES - 1u)

enum vnet_ctrl_slot_state {
    VNET_CTRL_FREE,
    VNET_CTRL_PENDING,   /* with the device, the OS waits */
    VNET_CTRL_ABANDONED, /* timed out, still with the device */
};

typedef struct vnet_ctrl_slot {
    uint8_t state;
    vnet_ctrl_op op;
    vnet_ctrl_done_fn done;
    void *cookie;
    uint32_t age_ms;
    uint8_t *va;
    uint64_t pa;
} vnet_ctrl_slot;

typedef struct vnet_ctrlq {
    vio_vq *vq;
    vio_dma mem;
    vnet_ctrl_slot slots[VNET_CTRL_SLOTS];
    uint32_t pending;
    uint32_t abandoned;
    vnet_ctrl_stats stats;
} vnet_ctrlq;

/* ---- configuration ------------------------------------------------------------ */

typedef struct vnet_cfg {
    vnet_link_info link;
    uint8_t last_raw[VNET_CFG_SIZE_USED]; /* a bad value is counted once, when it appears */
    vnet_status last_error;
    vnet_cfg_stats stats;
} vnet_cfg;

/* What the queues and their memory were built for: a start that negotiates
 * the same reuses them. */
typedef struct vnet_layout {
    bool mergeable;
    bool ctrl;
    uint32_t slot_size;
    uint32_t slots_per_buf;
    uint32_t rx_max_frame;
} vnet_layout;

struct vnet {
    const vio_os_ops *ops;
    void *os;
    vnet_params params;
    vnet_callbacks cb;
    void *cb_ctx;
    vio_dev *dev;
    uint64_t offered;
    uint64_t features;
    bool started;
    bool built;
    vnet_layout layout;
    vio_status last_vio;

    uint8_t pad0[VNET_CACHELINE];
    vnet_rxq rx;
    uint8_t pad1[VNET_CACHELINE];
    vnet_txq tx;
    uint8_t pad2[VNET_CACHELINE];
    vnet_ctrlq ctrl;
    vnet_cfg cfg;
};

static inline bool vnet_feat(const vnet *n, unsigned bit)
{
    return (n->features >> bit) & 1u;
}

static inline uint16_t vnet_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint16_t vnet_be16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static inline void vnet_put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* vnet.c */
vnet_status vnet_vio_error(vnet *n, vio_status st);

/* vnet_config.c */
vnet_status vnet_config_initial(vnet *n);
void vnet_cfg_error(vnet *n, vnet_status why);
bool vnet_mac_usable(const uint8_t mac[6]);
uint16_t vnet_read_device_mtu(vnet *n, bool *valid);

/* vnet_rx.c / vnet_rx_setup.c */
vnet_status vnet_rx_build(vnet *n, const vnet_layout *l);
void vnet_rx_free(vnet *n);
void vnet_rx_configure(vnet *n);
vnet_status vnet_rx_post_all(vnet *n);
void vnet_rx_detach(vnet *n);
vnet_status vnet_rx_post(vnet *n, uint32_t buf);
bool vnet_rx_os_holds_frames(const vnet *n);

/* vnet_tx.c */
vnet_status vnet_tx_build(vnet *n);
void vnet_tx_free(vnet *n);
void vnet_tx_configure(vnet *n);
void vnet_tx_detach(vnet *n);

/* vnet_ctrl.c */
vnet_status vnet_ctrl_build(vnet *n);
void vnet_ctrl_free(vnet *n);
void vnet_ctrl_detach(vnet *n);
void vnet_cfg_announce_acked(vnet *n);

/* vnet_csum.c: RFC 1071 Internet checksum over frame segments. */
uint32_t vnet_csum_add(uint32_t sum, const uint8_t *p, size_t len, bool odd_start);
uint16_t vnet_csum_fold(uint32_t sum);

#endif /* VNET_INTERNAL_H */
