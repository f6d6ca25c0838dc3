/*
 * vnet.h - lib/vnet, a portable virtio-net driver core over lib/virtio.
 *
 * One `vnet` is one virtio-net adapter with one receive queue, one transmit
 * queue and (when negotiated) the control queue. The OS layer (vfo.sys's
 * miniport, ndisemu, tests) reaches the device through the same vio_os_ops
 * it gives lib/virtio and turns NDIS events into these calls:
 *
 *   vnet_create()       identify the device (MiniportInitializeEx)
 *   vnet_start()        negotiate, read config, build queues, post receive
 *                       buffers, DRIVER_OK (initialize, and after a reset)
 *   data path           vnet_rx_*, vnet_tx_*, vnet_ctrl_*, vnet_config_refresh
 *   vnet_stop()         reset the device and take every buffer back
 *                       (halt, surprise removal, recovery from a broken queue)
 *   vnet_destroy()      free everything
 *
 * Memory is allocated by the first vnet_start() (mem_alloc, dma_alloc) and
 * kept across stop/start as long as the negotiated layout does not change;
 * nothing on the data path allocates.
 *
 * LOCKING CONTRACT. lib/vnet takes no locks. The adapter's state is split
 * into independent paths, and the caller serialises the calls of each path
 * (one spin lock or one DPC per path); calls of different paths may run
 * concurrently on different CPUs:
 *   RX path:   vnet_rx_next, vnet_rx_return, vnet_rx_kick, vnet_rx_*_intr.
 *              MiniportReturnNetBufferLists may run on any CPU: it takes the
 *              RX lock around vnet_rx_return (or queues returns to the DPC).
 *   TX path:   vnet_tx, vnet_tx_kick, vnet_tx_reap, vnet_tx_*_intr. The
 *              tx_done and tx_resume callbacks run inside vnet_tx_reap with
 *              the TX lock held; they must not call TX functions.
 *   CTRL path: vnet_ctrl_*, vnet_config_refresh, vnet_link_info. Command
 *              callbacks run inside vnet_ctrl_poll / vnet_ctrl_tick /
 *              vnet_stop with the CTRL lock held; they may submit new
 *              commands (the slot is freed before the callback runs).
 *   Exclusive: vnet_create, vnet_start, vnet_stop, vnet_destroy run with
 *              no other vnet call in progress (the miniport is paused or
 *              halting, DPCs and the CTRL timer are flushed).
 *   Anywhere:  the const getters (features, counts, buffer info) read
 *              values that change only in exclusive calls.
 *   Statistics: plain 64-bit counters, each written by its own path, so
 *              read under that path's lock (vnet_get_rx_stats, _tx_, _ctrl_);
 *              a plain read racing the writer on another CPU is a data race
 *              (ThreadSanitizer in test_vfo_ctl_traffic).
 * Each path's hot state lives on its own cache lines.
 */
#ifndef VNET_H
#define VNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vio.h"
#include "vnet_announce.h"
#include "vnet_spec.h"
#include "vnet_types.h"

typedef struct vnet vnet;

/* ---- configuration ------------------------------------------------------- */

/* Features lib/vnet implements (device-specific bits plus the ring features
 * lib/virtio implements). STANDBY is not in this set: it follows
 * vnet_params.failover. */
#define VNET_FEATURES_SUPPORTED                                                                  \
    (VIO_FEATURE(VNET_F_CSUM) | VIO_FEATURE(VNET_F_GUEST_CSUM) | VIO_FEATURE(VNET_F_MTU) |       \
     VIO_FEATURE(VNET_F_MAC) | VIO_FEATURE(VNET_F_GUEST_TSO4) | VIO_FEATURE(VNET_F_GUEST_TSO6) | \
     VIO_FEATURE(VNET_F_HOST_TSO4) | VIO_FEATURE(VNET_F_HOST_TSO6) |                             \
     VIO_FEATURE(VNET_F_MRG_RXBUF) | VIO_FEATURE(VNET_F_STATUS) | VIO_FEATURE(VNET_F_CTRL_VQ) |  \
     VIO_FEATURE(VNET_F_CTRL_RX) | VIO_FEATURE(VNET_F_CTRL_VLAN) |                               \
     VIO_FEATURE(VNET_F_GUEST_ANNOUNCE) | VIO_FEATURE(VNET_F_CTRL_MAC_ADDR) |                    \
     VIO_FEATURE(VNET_F_SPEED_DUPLEX) | VIO_FEATURE(VIO_F_INDIRECT_DESC) |                       \
     VIO_FEATURE(VIO_F_EVENT_IDX))

/* Which MSI-X vector each queue and configuration changes use. */
typedef struct vnet_vectors {
    uint16_t rx, tx, ctrl, config; /* VIO_MSI_NO_VECTOR for none (line interrupt) */
} vnet_vectors;

/* Tunables. A zeroed struct gives the defaults shown. */
typedef struct vnet_params {
    /* Feature bits the configuration turns off (registry keywords). Turning
     * off a feature also turns off the features that depend on it. */
    uint64_t features_off;
    /* Acknowledge STANDBY whenever the device offers it (QEMU hides the VF
     * until then). Independent of features_off. */
    bool failover;
    uint16_t rx_ring;         /* 256: entries, capped by the device's maximum */
    uint16_t tx_ring;         /* 256 */
    uint16_t ctrl_ring;       /* 64 */
    uint32_t rx_buf_size;     /* 2048: bytes per receive buffer with MRG_RXBUF (>= 256) */
    uint32_t rx_mem_budget;   /* 1 MiB: cap on receive-buffer memory without MRG_RXBUF */
    uint16_t max_mtu;         /* 1500: the MTU used when the device has no MTU feature */
    uint16_t tx_copy_break;   /* 128: frames up to this length are copied (<= VNET_TX_COPY_MAX) */
    uint16_t tx_indirect_min; /* 3: frames of at least this many descriptors go indirect */
    uint32_t ctrl_timeout_ms; /* 1000 */
    bool rx_strip_vlan;       /* remove 802.1Q tags, reporting them in the frame */
    bool rx_complete_csum;    /* finish NEEDS_CSUM checksums in software (not for GSO frames) */
    bool vectors_set;         /* false: rx 0, tx 1, ctrl 2, config 3 if granted, else shared */
    vnet_vectors vectors;
} vnet_params;

#define VNET_TX_COPY_MAX 176u

/* Called by lib/vnet into the OS layer. */
typedef struct vnet_callbacks {
    /* A transmitted frame is complete (or cancelled by vnet_stop): its
     * memory may be reused. status is VNET_OK or VNET_E_CANCELLED. */
    void (*tx_done)(void *ctx, void *cookie, vnet_status status);
    /* Optional: vnet_tx refused a frame with VNET_E_RING_FULL and room came
     * back (at least a quarter of the ring). */
    void (*tx_resume)(void *ctx);
} vnet_callbacks;

/* ---- life cycle -------------------------------------------------------------- */

/* Identifies the virtio-net PCI function through `ops` (vio_dev_create) and
 * prepares an adapter; does not touch the device's state. `params` may be
 * NULL. `cb` and `cb_ctx` are kept. */
vnet_status vnet_create(const vio_os_ops *ops, void *os, const vnet_params *params,
                        const vnet_callbacks *cb, void *cb_ctx, vnet **out);
void vnet_destroy(vnet *n);

/* Resets and initialises the device: negotiates features, validates and
 * reads the configuration, creates (or restarts) the queues, posts every
 * receive buffer and sets DRIVER_OK. On failure the device is left reset or
 * FAILED and vnet_start may be retried. If the device now negotiates a
 * different buffer layout (it changed its features), receive memory is
 * rebuilt: VNET_E_BUSY while the OS still holds received frames. */
vnet_status vnet_start(vnet *n);

/* Resets the device and takes every buffer back: transmitted frames
 * complete with VNET_E_CANCELLED, control commands too, receive buffers
 * the device held return to the pool (frames the OS holds stay valid and
 * are returned as usual). Safe after surprise removal. */
void vnet_stop(vnet *n);

bool vnet_is_started(const vnet *n);

/* The lib/virtio status behind the last VNET_E_VIRTIO. */
vio_status vnet_last_vio_status(const vnet *n);

/* The underlying lib/virtio device (for interrupt status and diagnostics). */
vio_dev *vnet_vio_dev(vnet *n);

/* ---- features ------------------------------------------------------------------ */

/* What vnet_start accepts from `offered` under `params`: supported and not
 * turned off, STANDBY when failover is on, and no feature whose dependency
 * (virtio spec, "Feature bit requirements") is missing. */
uint64_t vnet_features_for(uint64_t offered, const vnet_params *params);

uint64_t vnet_device_features(const vnet *n); /* offered at the last start */
uint64_t vnet_features(const vnet *n);        /* negotiated (0 before start) */
bool vnet_has_feature(const vnet *n, unsigned bit);

/* ---- link and configuration ----------------------------------------------------- */

typedef struct vnet_link_info {
    bool link_up;
    bool announce;       /* the device asked for an announcement not yet acknowledged */
    uint8_t duplex;      /* VNET_DUPLEX_FULL, _HALF or _UNKNOWN */
    uint32_t speed_mbps; /* VNET_SPEED_UNKNOWN when unknown */
    uint16_t mtu;
    bool mac_valid; /* false: no permanent MAC; the OS chooses one */
    uint8_t mac[6];
} vnet_link_info;

/* What vnet_config_refresh found changed. */
#define VNET_CHG_LINK        0x01u /* link_up changed */
#define VNET_CHG_SPEED       0x02u /* speed or duplex changed */
#define VNET_CHG_ANNOUNCE    0x04u /* the device newly asks for an announcement */
#define VNET_CHG_NEEDS_RESET 0x08u /* DEVICE_NEEDS_RESET: stop and start the adapter */

/* Re-reads the configuration (on a configuration-change interrupt) and
 * validates it; bad values are counted and ignored (the previous value
 * stays). *changes receives VNET_CHG_* bits. */
vnet_status vnet_config_refresh(vnet *n, uint32_t *changes);
void vnet_link_info_get(const vnet *n, vnet_link_info *out);
/* The last VNET_E_CFG_* verdict (VNET_OK if none since vnet_create). */
vnet_status vnet_config_last_error(const vnet *n);

/* ---- receive ---------------------------------------------------------------------- */

#define VNET_RX_MAX_SEGS 36u /* a 64 KiB frame in 2 KiB buffers needs 33 */

#define VNET_RXF_CSUM_VALID    0x01u /* the device (or lib/vnet) validated the checksums */
#define VNET_RXF_CSUM_PARTIAL  0x02u /* L4 checksum holds only the pseudo-header sum */
#define VNET_RXF_GSO           0x04u /* a coalesced frame: gso_type/gso_size/hdr_len */
#define VNET_RXF_VLAN          0x08u /* vlan_tci holds the frame's 802.1Q tag */
#define VNET_RXF_VLAN_STRIPPED 0x10u /* ... and the tag was removed from the frame */

typedef struct vnet_rx_seg {
    uint8_t *va;
    uint32_t len;
    uint32_t slot; /* receive slot the bytes are in (vnet_rx_slot_info) */
} vnet_rx_seg;

/* A received frame, OS-neutral. Valid until vnet_rx_return(handle). */
typedef struct vnet_rx_frame {
    uint32_t handle;
    uint32_t len;   /* bytes of frame, from the destination MAC */
    uint32_t flags; /* VNET_RXF_* */
    uint16_t nseg;
    uint8_t gso_type; /* VNET_GSO_TCPV4 / TCPV6 (ECN bit clear) with VNET_RXF_GSO */
    uint16_t gso_size;
    uint16_t hdr_len;    /* device's hint; not trusted by lib/vnet */
    uint16_t csum_start; /* with VNET_RXF_CSUM_PARTIAL */
    uint16_t csum_offset;
    uint16_t vlan_tci;
    vnet_rx_seg seg[VNET_RX_MAX_SEGS];
} vnet_rx_frame;

/* Takes the next received frame. VNET_OK: *frame is filled and its buffers
 * belong to the OS until vnet_rx_return. VNET_E_EMPTY: nothing (complete)
 * pending. VNET_E_BROKEN: the device broke the queue; stop and start.
 * Malformed frames are dropped inside (counter, vnet_rx_last_error) and
 * their buffers go straight back to the device. */
vnet_status vnet_rx_next(vnet *n, vnet_rx_frame *frame);

/* Gives a frame's buffers back to the device (no notification: batch, then
 * vnet_rx_kick). VNET_E_INVAL for a handle the OS does not own. */
vnet_status vnet_rx_return(vnet *n, uint32_t handle);

/* Notifies the device of returned buffers if it wants to hear about them. */
bool vnet_rx_kick(vnet *n);

/* Interrupt control for the RX DPC: disable while polling; enable returns
 * false if frames arrived meanwhile (poll again). */
void vnet_rx_disable_intr(vnet *n);
bool vnet_rx_enable_intr(vnet *n);

/* Receive memory: slots are the DMA pieces buffers are made of (the OS can
 * describe each with an MDL once); a frame's segments name their slot. */
uint32_t vnet_rx_slot_count(const vnet *n);
vnet_status vnet_rx_slot_info(const vnet *n, uint32_t slot, uint8_t **va, uint64_t *pa,
                              uint32_t *size);
/* Buffers the device holds now: the OS can switch to copying frames when
 * this runs low (NDIS_RECEIVE_FLAGS_RESOURCES). */
uint32_t vnet_rx_posted(const vnet *n);
uint32_t vnet_rx_buffer_count(const vnet *n);
vnet_status vnet_rx_last_error(const vnet *n);

/* ---- transmit --------------------------------------------------------------------- */

#define VNET_TX_MAX_SEGS 31u /* data segments per frame; one more carries the header */

typedef struct vnet_tx_seg {
    uint64_t pa;
    const void *va; /* may be NULL unless the bytes must be copied (see vnet_tx) */
    uint32_t len;
} vnet_tx_seg;

#define VNET_TXO_CSUM 0x01u /* complete the checksum at csum_start + csum_offset */
#define VNET_TXO_TSO4 0x02u /* segment TCPv4 into mss-sized frames */
#define VNET_TXO_TSO6 0x04u /* segment TCPv6 */
#define VNET_TXO_VLAN 0x08u /* insert an 802.1Q tag with vlan_tci */

/* Offsets are into the frame as the OS gives it (before tag insertion). */
typedef struct vnet_tx_offload {
    uint32_t flags;
    uint16_t csum_start, csum_offset; /* required with CSUM, TSO4, TSO6 */
    uint16_t mss;                     /* required with TSO4, TSO6 */
    uint16_t hdr_len;                 /* headers through TCP, with TSO (a hint to the device) */
    uint16_t vlan_tci;
    /* With TSO: NULL, or the frame's first hdr_len bytes (at most
     * VNET_TX_COPY_MAX) as they must go out, replacing the frame's own:
     * copied next to the virtio header, the rest gathered from the frame
     * (see vnet_lso_fix_headers). */
    const void *hdrs;
} vnet_tx_offload;

/* Makes the headers of a large send in Windows' LSOv2 form (IPv4 Total
 * Length or IPv6 Payload Length 0, TCP checksum field = pseudo-header sum
 * without the TCP length) what a virtio device expects of a GSO frame, as
 * Linux does (tcp_gso_segment derives each segment's checksum from the
 * field, taking it to include the whole frame's TCP length; ip_rcv checks
 * the IP length): the IP length of the whole frame (and, for IPv4, the
 * header checksum), the pseudo-header sum with the whole TCP length. hdrs
 * holds the frame's first hdr_len bytes; l3 and l4 are the IP and TCP
 * header offsets; frame_len the whole frame. False when the headers or the
 * lengths do not fit (an IP length over 65535). */
bool vnet_lso_fix_headers(uint8_t *hdrs, uint32_t hdr_len, uint16_t l3, uint16_t l4,
                          uint32_t frame_len, bool v6);

/* Queues one frame (no notification: batch, then vnet_tx_kick). `off` may
 * be NULL. Frames up to tx_copy_break bytes whose segments all have a va
 * are copied next to the header (one descriptor); a VLAN insertion needs
 * the va of the first 12 bytes. VNET_E_RING_FULL is back-pressure: keep the
 * frame, wait for tx_resume (or reap), retry. Every other error rejects the
 * frame for good (counted). `cookie` (non-NULL) comes back in tx_done. */
vnet_status vnet_tx(vnet *n, const vnet_tx_seg *segs, uint16_t nseg, const vnet_tx_offload *off,
                    void *cookie);
bool vnet_tx_kick(vnet *n);

/* Completes up to `budget` transmitted frames through tx_done; returns how
 * many. VNET_E_BROKEN shows in vnet_tx_broken(). */
unsigned vnet_tx_reap(vnet *n, unsigned budget);
bool vnet_tx_broken(const vnet *n);
/* Frames in flight. */
uint32_t vnet_tx_pending(const vnet *n);
void vnet_tx_disable_intr(vnet *n);
bool vnet_tx_enable_intr(vnet *n);

/* ---- control queue ------------------------------------------------------------------ */

typedef enum vnet_ctrl_op {
    VNET_CTRL_OP_SET_MAC,
    VNET_CTRL_OP_MAC_TABLE,
    VNET_CTRL_OP_PROMISC,
    VNET_CTRL_OP_ALLMULTI,
    VNET_CTRL_OP_VLAN_ADD,
    VNET_CTRL_OP_VLAN_DEL,
    VNET_CTRL_OP_ANNOUNCE_ACK,
} vnet_ctrl_op;

/* Completion of one command: VNET_OK, VNET_E_CTRL_REJECTED,
 * VNET_E_CTRL_BAD_ACK, VNET_E_CTRL_NO_ACK, VNET_E_TIMEOUT or
 * VNET_E_CANCELLED. Runs under the caller's CTRL lock. */
typedef void (*vnet_ctrl_done_fn)(void *ctx, void *cookie, vnet_ctrl_op op, vnet_status status);

#define VNET_CTRL_SLOTS    8u  /* commands in flight at once */
#define VNET_MAC_TABLE_MAX 64u /* entries per table (unicast, multicast) */

/* Each submits one command and kicks; the callback (may be NULL) reports
 * the device's answer. Synchronous errors: VNET_E_STATE, VNET_E_UNSUPPORTED
 * (feature not negotiated), VNET_E_INVAL, VNET_E_BUSY, VNET_E_BROKEN. */
vnet_status vnet_ctrl_set_mac(vnet *n, const uint8_t mac[6], vnet_ctrl_done_fn done, void *cookie);
/* `uc` holds n_uc unicast and `mc` n_mc multicast addresses, 6 bytes each. */
vnet_status vnet_ctrl_set_mac_table(vnet *n, const uint8_t *uc, uint32_t n_uc, const uint8_t *mc,
                                    uint32_t n_mc, vnet_ctrl_done_fn done, void *cookie);
vnet_status vnet_ctrl_set_promisc(vnet *n, bool on, vnet_ctrl_done_fn done, void *cookie);
vnet_status vnet_ctrl_set_allmulti(vnet *n, bool on, vnet_ctrl_done_fn done, void *cookie);
vnet_status vnet_ctrl_vlan(vnet *n, uint16_t vid, bool add, vnet_ctrl_done_fn done, void *cookie);
/* After sending the announcement frames for a VNET_CHG_ANNOUNCE. */
vnet_status vnet_ctrl_announce_ack(vnet *n, vnet_ctrl_done_fn done, void *cookie);

/* Completes answered commands (control-queue interrupt or DPC); returns how many. */
unsigned vnet_ctrl_poll(vnet *n);
/* Timeout path, driven by an OS timer while vnet_ctrl_pending() > 0:
 * ages the outstanding commands by `elapsed_ms` and completes those older
 * than ctrl_timeout_ms with VNET_E_TIMEOUT. Their slots stay with the
 * device (a late answer is counted and frees them); when every slot is
 * held so, submissions fail with VNET_E_BUSY until a stop and start, which
 * the OS should schedule on the first timeout. Returns how many timed out. */
unsigned vnet_ctrl_tick(vnet *n, uint32_t elapsed_ms);
/* Commands waiting for an answer (timed-out ones excluded). */
uint32_t vnet_ctrl_pending(const vnet *n);

/* ---- statistics ------------------------------------------------------------------------ */

/* Every path's counters: no path may run (or the caller holds the RX, TX
 * and CTRL locks). */
void vnet_get_stats(const vnet *n, vnet_stats *out);
/* One path's counters, with that path's lock held (CTRL: the control
 * queue's and the configuration's). */
void vnet_get_rx_stats(const vnet *n, vnet_rx_stats *out);
void vnet_get_tx_stats(const vnet *n, vnet_tx_stats *out);
void vnet_get_ctrl_stats(const vnet *n, vnet_ctrl_stats *ctrl, vnet_cfg_stats *cfg);

#endif /* VNET_H */
