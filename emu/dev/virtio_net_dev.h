/*
 * virtio_net_dev.h - a virtio-net device: the emu/dev virtio device model
 * (virtio_dev.h) with a network personality, written from the virtio 1.x
 * specification and QEMU's observable behaviour (hw/net/virtio-net.c).
 *
 * Queues: 0 receive, 1 transmit, 2 control. Configuration: mac, status
 * (LINK_UP, ANNOUNCE), max_virtqueue_pairs (1), mtu, speed, duplex.
 *
 * Frames go in and out through a backend:
 *   - the driver transmits: the device strips the virtio header, checks it
 *     and hands the frame plus its offload metadata (emu_vnet_meta) to
 *     backend->transmit;
 *   - the world sends a frame: the owner calls emu_vnet_receive, which
 *     filters it as QEMU does (promiscuous, VLAN table, broadcast,
 *     multicast, MAC table, own MAC), writes the virtio header the
 *     negotiated features allow and places it in receive buffers (merged
 *     across buffers with MRG_RXBUF). EMU_VNET_RX_NO_BUFFERS means "keep
 *     it and try again": backend->rx_ready is called when the driver posts
 *     buffers, like QEMU's flush of queued packets.
 * A GSO frame the driver did not agree to receive is refused
 * (EMU_VNET_RX_UNSUPPORTED); backends segment first with
 * emu_vnet_gso_segment, as the host kernel does behind QEMU's tap. A
 * partial checksum is completed by the device when the driver did not
 * negotiate GUEST_CSUM.
 *
 * A built-in pair backend (emu_vnet_pair_*) joins two devices back to back
 * with a bounded backlog per direction.
 *
 * QEMU-like controls: offer or hide STANDBY, toggle the link, set speed and
 * duplex, and emu_vnet_announce() after a "migration" (ANNOUNCE if
 * negotiated, plus an optional host-side RARP). Misbehaviour on request:
 * emu_vnet_inject() (bad receive headers, held buffers, silent or garbled
 * control answers) and emu_vnet_config_poke() (raw configuration bytes),
 * on top of the transport faults of emu_vdev_inject_fault().
 *
 * Like the rest of emu/dev it owns no thread and no clock, and knows
 * nothing about vfo.
 */
#ifndef EMU_VIRTIO_NET_DEV_H
#define EMU_VIRTIO_NET_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio_dev.h"

typedef struct emu_vnet emu_vnet;

/* Device-specific feature bits the model implements. */
#define EMU_VNET_F_CSUM           0
#define EMU_VNET_F_GUEST_CSUM     1
#define EMU_VNET_F_MTU            3
#define EMU_VNET_F_MAC            5
#define EMU_VNET_F_GUEST_TSO4     7
#define EMU_VNET_F_GUEST_TSO6     8
#define EMU_VNET_F_HOST_TSO4      11
#define EMU_VNET_F_HOST_TSO6      12
#define EMU_VNET_F_MRG_RXBUF      15
#define EMU_VNET_F_STATUS         16
#define EMU_VNET_F_CTRL_VQ        17
#define EMU_VNET_F_CTRL_RX        18
#define EMU_VNET_F_CTRL_VLAN      19
#define EMU_VNET_F_GUEST_ANNOUNCE 21
#define EMU_VNET_F_CTRL_MAC_ADDR  23
#define EMU_VNET_F_STANDBY        62
#define EMU_VNET_F_SPEED_DUPLEX   63

#define EMU_VNET_BIT(b) (1ull << (b))
/* Everything above except STANDBY, which the owner offers on purpose. */
#define EMU_VNET_FEATURES_ALL                                                       \
    (EMU_VNET_BIT(EMU_VNET_F_CSUM) | EMU_VNET_BIT(EMU_VNET_F_GUEST_CSUM) |          \
     EMU_VNET_BIT(EMU_VNET_F_MTU) | EMU_VNET_BIT(EMU_VNET_F_MAC) |                  \
     EMU_VNET_BIT(EMU_VNET_F_GUEST_TSO4) | EMU_VNET_BIT(EMU_VNET_F_GUEST_TSO6) |    \
     EMU_VNET_BIT(EMU_VNET_F_HOST_TSO4) | EMU_VNET_BIT(EMU_VNET_F_HOST_TSO6) |      \
     EMU_VNET_BIT(EMU_VNET_F_MRG_RXBUF) | EMU_VNET_BIT(EMU_VNET_F_STATUS) |         \
     EMU_VNET_BIT(EMU_VNET_F_CTRL_VQ) | EMU_VNET_BIT(EMU_VNET_F_CTRL_RX) |          \
     EMU_VNET_BIT(EMU_VNET_F_CTRL_VLAN) | EMU_VNET_BIT(EMU_VNET_F_GUEST_ANNOUNCE) | \
     EMU_VNET_BIT(EMU_VNET_F_CTRL_MAC_ADDR) | EMU_VNET_BIT(EMU_VNET_F_SPEED_DUPLEX))

#define EMU_VNET_QUEUE_RX   0
#define EMU_VNET_QUEUE_TX   1
#define EMU_VNET_QUEUE_CTRL 2

/* ---- frames and their offload metadata (like a tap device's vnet header) -- */

#define EMU_VNET_META_CSUM_PARTIAL 0x01 /* checksum field holds the pseudo-header sum */
#define EMU_VNET_META_CSUM_VALID   0x02 /* checksums were verified (or computed) */

#define EMU_VNET_GSO_NONE  0
#define EMU_VNET_GSO_TCPV4 1
#define EMU_VNET_GSO_TCPV6 4
#define EMU_VNET_GSO_ECN   0x80

typedef struct emu_vnet_meta {
    uint8_t flags;
    uint8_t gso_type;
    uint16_t gso_size;
    uint16_t hdr_len;
    uint16_t csum_start; /* with EMU_VNET_META_CSUM_PARTIAL */
    uint16_t csum_offset;
} emu_vnet_meta;

typedef struct emu_vnet_backend {
    /* The driver transmitted a frame. `frame` is valid during the call. */
    void (*transmit)(void *ctx, emu_vnet *dev, const uint8_t *frame, size_t len,
                     const emu_vnet_meta *meta);
    /* Optional: the driver made receive buffers available (or the device
     * became ready): retry frames refused with NO_BUFFERS or NOT_READY. */
    void (*rx_ready)(void *ctx, emu_vnet *dev);
} emu_vnet_backend;

typedef enum emu_vnet_rx_result {
    EMU_VNET_RX_DELIVERED,
    EMU_VNET_RX_NO_BUFFERS,  /* not enough receive buffers: keep the frame, retry at rx_ready */
    EMU_VNET_RX_NOT_READY,   /* the driver has not set DRIVER_OK: keep it, retry at rx_ready */
    EMU_VNET_RX_FILTERED,    /* the receive filter rejected it (dropped) */
    EMU_VNET_RX_LINK_DOWN,   /* dropped: the link is down */
    EMU_VNET_RX_UNSUPPORTED, /* GSO the driver did not negotiate: segment first */
    EMU_VNET_RX_BAD_FRAME,   /* too short, too long for the buffers or the MTU, bad metadata */
} emu_vnet_rx_result;

/* Optional notifications for an owner that models a hypervisor. */
typedef struct emu_vnet_events {
    void (*features_ok)(void *ctx, emu_vnet *dev, uint64_t features);
    void (*driver_ok)(void *ctx, emu_vnet *dev);
    void (*reset)(void *ctx, emu_vnet *dev);
} emu_vnet_events;

typedef struct emu_vnet_params {
    const emu_vdev_host_ops *host;
    void *host_ctx;
    uint16_t msix_vectors;    /* 0: one per queue plus one for configuration */
    uint64_t features;        /* device-specific bits offered (EMU_VNET_FEATURES_ALL, ...) */
    uint8_t mac[6];           /* the NIC's configured address */
    uint16_t mtu;             /* config mtu; 0 = 1500 */
    uint16_t rx_queue_size;   /* 0 = 256 */
    uint16_t tx_queue_size;   /* 0 = 256 */
    uint16_t ctrl_queue_size; /* 0 = 64 */
    bool link_down;           /* start with the link down */
    bool host_announce_rarp;  /* emu_vnet_announce also sends a RARP to the backend */
} emu_vnet_params;

/* Creates the device; speed and duplex start "unknown", the link up unless
 * link_down. NULL if the parameters are unusable. */
emu_vnet *emu_vnet_create(const emu_vnet_params *params);
void emu_vnet_destroy(emu_vnet *dev);
/* The transport, for register access and transport faults. */
emu_vdev *emu_vnet_vdev(emu_vnet *dev);

void emu_vnet_set_backend(emu_vnet *dev, const emu_vnet_backend *backend, void *ctx);
void emu_vnet_set_events(emu_vnet *dev, const emu_vnet_events *events, void *ctx);

/* A frame from the world for the driver. `meta` may be NULL. */
emu_vnet_rx_result emu_vnet_receive(emu_vnet *dev, const uint8_t *frame, size_t len,
                                    const emu_vnet_meta *meta);

/* What the driver negotiated to receive: GSO types it accepts and whether
 * it takes partial checksums. Backends segment anything else. */
bool emu_vnet_accepts_gso(const emu_vnet *dev, uint8_t gso_type);

/* ---- QEMU-like controls ---------------------------------------------------------- */

/* Offers (or stops offering) STANDBY from the next negotiation on. */
void emu_vnet_offer_standby(emu_vnet *dev, bool offer);
/* Replaces the device-specific features offered from the next negotiation on. */
void emu_vnet_offer_features(emu_vnet *dev, uint64_t features);
uint64_t emu_vnet_driver_features(const emu_vnet *dev);
bool emu_vnet_standby_acked(const emu_vnet *dev);

/* Link status; a change notifies the driver (configuration interrupt). */
void emu_vnet_set_link(emu_vnet *dev, bool up);
bool emu_vnet_link_up(const emu_vnet *dev);
/* speed in Mbit/s (0xFFFFFFFF unknown), duplex 0 half, 1 full, 0xFF unknown;
 * raw values are written as given, so invalid ones can be presented. */
void emu_vnet_set_speed_duplex(emu_vnet *dev, uint32_t speed, uint8_t duplex);

/* After a migration: sends a RARP through the backend if host_announce_rarp,
 * and sets ANNOUNCE (with a configuration interrupt) if the driver
 * negotiated GUEST_ANNOUNCE and CTRL_VQ. Returns whether ANNOUNCE was set. */
bool emu_vnet_announce(emu_vnet *dev);
bool emu_vnet_announce_pending(const emu_vnet *dev);

/* ---- receive filter state, as the driver programmed it ---------------------------- */

typedef struct emu_vnet_filter {
    uint8_t mac[6]; /* the default MAC (VIRTIO_NET_CTRL_MAC_ADDR_SET) */
    bool promisc;
    bool allmulti;
    bool uni_overflow;
    bool multi_overflow;
    uint32_t n_uc, n_mc;
    uint8_t uc[64][6];
    uint8_t mc[64][6];
} emu_vnet_filter;

void emu_vnet_get_filter(const emu_vnet *dev, emu_vnet_filter *out);
bool emu_vnet_vlan_allowed(const emu_vnet *dev, uint16_t vid);

/* ---- misbehaviour on request ------------------------------------------------------- */

typedef enum emu_vnet_fault {
    EMU_VNET_FAULT_RX_FLAGS,       /* next `count` received frames carry header flags `value` */
    EMU_VNET_FAULT_RX_GSO_TYPE,    /* ... gso_type `value` */
    EMU_VNET_FAULT_RX_GSO_SIZE,    /* ... gso_size `value` */
    EMU_VNET_FAULT_RX_CSUM_START,  /* ... NEEDS_CSUM, csum_start `value`, csum_offset 16 */
    EMU_VNET_FAULT_RX_NUM_BUFFERS, /* ... num_buffers `value` (the buffers used stay the same) */
    EMU_VNET_FAULT_RX_USED_LEN,    /* ... used length `value` for the first buffer */
    EMU_VNET_FAULT_RX_HOLD_TAIL,   /* ... the last buffer of a merged frame is held */
    EMU_VNET_FAULT_TX_HOLD,        /* next `count` transmitted buffers are held */
    EMU_VNET_FAULT_CTRL_SILENT,    /* next `count` control commands are held, unanswered */
    EMU_VNET_FAULT_CTRL_ACK,       /* ... answered with ack byte `value` */
    EMU_VNET_FAULT_CTRL_NO_ACK,    /* ... returned without an ack (used length 0) */
    EMU_VNET_FAULT_COUNT
} emu_vnet_fault;

/* Arms a fault for the next `count` events (EMU_VDEV_FOREVER: all; 0 disarms). */
void emu_vnet_inject(emu_vnet *dev, emu_vnet_fault fault, uint32_t value, uint32_t count);
/* Completes every held buffer (receive tails, transmitted frames, control
 * commands, which are then executed and answered) and signals. */
void emu_vnet_release_held(emu_vnet *dev);
/* Writes raw configuration bytes (and notifies when asked): invalid MTU,
 * speed, duplex or status values, a MAC no NIC may have, ... */
void emu_vnet_config_poke(emu_vnet *dev, uint32_t offset, const void *data, uint32_t len,
                          bool notify);

/* ---- offload helpers for backends ------------------------------------------------ */

/* Completes the partial checksum of a frame in place (csum_start,
 * csum_offset as in the virtio header). False if the range is outside. */
bool emu_vnet_csum_complete(uint8_t *frame, size_t len, uint16_t csum_start, uint16_t csum_offset);

/* Cuts a TCPv4/TCPv6 GSO frame into mss-sized frames as a Linux host does
 * (tcp_gso_segment), calling emit for each (its metadata says the checksums
 * are valid). The frame must be what Linux expects of a GSO frame: IP
 * length fields set for the whole frame, the TCP checksum field holding
 * the pseudo-header sum over the whole TCP length; each segment's checksum
 * is derived from that field, so a field without the length gives wrong
 * checksums. Returns the number of frames, 0 for a frame it cannot parse or
 * whose IP length is not the frame's (dropped, as ip_rcv drops it). */
typedef void (*emu_vnet_emit_fn)(void *ctx, const uint8_t *frame, size_t len,
                                 const emu_vnet_meta *meta);
size_t emu_vnet_gso_segment(const uint8_t *frame, size_t len, const emu_vnet_meta *meta,
                            emu_vnet_emit_fn emit, void *ctx);

/* ---- statistics --------------------------------------------------------------------- */

typedef struct emu_vnet_stats {
    uint64_t tx_frames, tx_bytes;
    uint64_t tx_bad_header; /* driver's header broke the rules: frame dropped */
    uint64_t tx_link_down;  /* dropped while the link was down */
    uint64_t tx_no_backend; /* dropped: nobody to hand it to */
    uint64_t rx_frames, rx_bytes;
    uint64_t rx_no_buffers, rx_not_ready, rx_filtered, rx_link_down, rx_unsupported, rx_bad_frame;
    uint64_t rx_csum_completed; /* partial checksums finished for a driver without GUEST_CSUM */
    uint64_t rx_bad_buffer;     /* a receive buffer with readable parts: DEVICE_NEEDS_RESET */
    uint64_t ctrl_ok, ctrl_err;
    uint64_t ctrl_bad; /* command buffer without room for the ack */
    uint64_t announces;
    uint64_t faults_fired;
} emu_vnet_stats;

const emu_vnet_stats *emu_vnet_get_stats(const emu_vnet *dev);

/* ---- the pair backend ---------------------------------------------------------------- */

typedef struct emu_vnet_pair emu_vnet_pair;

typedef struct emu_vnet_pair_stats {
    uint64_t forwarded[2]; /* frames delivered to end 0 / end 1 */
    uint64_t queued[2];    /* frames that had to wait for buffers */
    uint64_t dropped[2];   /* backlog full, filtered, link down or refused */
    uint64_t segmented[2]; /* GSO frames cut up because the receiver lacks GSO */
} emu_vnet_pair_stats;

/* Joins a and b: what one transmits, the other receives. Frames a device
 * cannot take yet wait in a FIFO of up to `backlog` frames per direction
 * (0 = 256). Installs itself as both devices' backend. */
emu_vnet_pair *emu_vnet_pair_create(emu_vnet *a, emu_vnet *b, uint32_t backlog);
void emu_vnet_pair_destroy(emu_vnet_pair *pair);
const emu_vnet_pair_stats *emu_vnet_pair_get_stats(const emu_vnet_pair *pair);
uint32_t emu_vnet_pair_backlog(const emu_vnet_pair *pair, unsigned end);

#endif /* EMU_VIRTIO_NET_DEV_H */
