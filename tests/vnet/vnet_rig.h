/*
 * vnet_rig.h - lib/vnet driving the emu/dev virtio-net model on the shared
 * test platform (tests/support/vio_harness.h): guest memory with guard
 * zones, the OS ops lib/vnet runs on, queues run from the notify hook.
 *
 * The device's backend is either a capture (every transmitted frame is
 * copied into rig->tx[]) or, for two rigs, the model's pair backend.
 * Frames the test sends are copied into guest memory first, optionally cut
 * into several segments.
 */
#ifndef VNET_RIG_H
#define VNET_RIG_H

#include <stdbool.h>
#include <stdint.h>

#include "vio_harness.h"
#include "virtio_net_dev.h"
#include "vnet.h"

#define RIG_MAX_FRAMES 512
#define RIG_TX_AREA    (256u * 1024u)

typedef struct rig_frame {
    uint8_t *data;
    size_t len;
    emu_vnet_meta meta;
} rig_frame;

typedef struct rig_opts {
    uint64_t dev_features; /* offered by the device; 0 = EMU_VNET_FEATURES_ALL */
    bool offer_standby;
    bool no_mac;         /* offer everything but VIRTIO_NET_F_MAC */
    const uint8_t *mac;  /* the device's configured MAC; NULL = rig_mac */
    uint16_t mtu;        /* device config mtu; 0 = 1500 */
    uint16_t queue_size; /* device maximum for rx and tx; 0 = 256 */
    bool link_down;
    bool host_rarp;
    bool no_start; /* create only: the test starts */
    vnet_params params;
} rig_opts;

typedef struct ctrl_record {
    uint32_t calls;
    vnet_ctrl_op op;
    vnet_status status;
    void *cookie;
} ctrl_record;

typedef struct vnet_rig {
    vio_harness *h;
    emu_vnet *dev;
    vnet *n;
    vio_dma tx_area; /* where rig_send puts frames */
    uint32_t tx_area_used;

    rig_frame tx[RIG_MAX_FRAMES]; /* captured by the backend */
    uint32_t ntx;

    uint32_t tx_done, tx_cancelled, resumes;
    void *last_cookie;
    ctrl_record ctrl;
} vnet_rig;

extern const uint8_t rig_mac[6];

vnet_rig *rig_up(const rig_opts *opts);
void rig_down(vnet_rig *r);

/* Copies `frame` into guest memory (cut into `pieces` segments of about
 * equal length) and calls vnet_tx + vnet_tx_kick. */
vnet_status rig_send(vnet_rig *r, const uint8_t *frame, size_t len, unsigned pieces,
                     const vnet_tx_offload *off, void *cookie);
/* Like rig_send, segments without a va (the OS mapped no virtual address). */
vnet_status rig_send_unmapped(vnet_rig *r, const uint8_t *frame, size_t len, unsigned pieces,
                              const vnet_tx_offload *off, void *cookie);

/* The next received frame, copied into buf (cap bytes); returns its length
 * and the descriptor in *f, then returns the buffers and kicks. 0 if none. */
size_t rig_recv(vnet_rig *r, uint8_t *buf, size_t cap, vnet_rx_frame *f);

/* Releases the captured frames. */
void rig_clear_tx(vnet_rig *r);

/* A control-command callback recording into r->ctrl. */
void rig_ctrl_done(void *ctx, void *cookie, vnet_ctrl_op op, vnet_status status);

/* Fills buf with an Ethernet frame to `dst` from rig_mac, ethertype 0x88B5
 * (local experimental), payload bytes a function of seed. */
void rig_make_frame(uint8_t *buf, size_t len, const uint8_t dst[6], uint8_t seed);

/* Builds a TCP/IPv4 (or IPv6) frame with `payload` bytes, checksums either
 * complete or left as the pseudo-header sum (partial). Returns its length;
 * *csum_start and *csum_offset locate the TCP checksum. */
size_t rig_make_tcp(uint8_t *buf, size_t cap, bool v6, size_t payload, bool partial,
                    uint16_t *csum_start, uint16_t *csum_offset);
/* Independently verifies the IPv4 header and TCP checksums of such a frame. */
bool rig_tcp_checksums_ok(const uint8_t *f, size_t len);

#endif /* VNET_RIG_H */
