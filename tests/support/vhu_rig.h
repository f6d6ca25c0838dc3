/*
 * vhu_rig.h - lib/vnet with DPDK's vhost library as the device: the shared
 * test platform (vio_harness) with its guest memory in a memfd arena, the
 * emu/dev vhost-user virtio-net function as the device model, and
 * dpdk-testpmd with net_vhost serving the rings in another process.
 *
 * The driver runs with interrupts off and polls (vnet_rx_next,
 * vnet_tx_reap), as a DPC does; DPDK busy-polls the rings.
 */
#ifndef VHU_RIG_H
#define VHU_RIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "testpmd_proc.h"
#include "vhu_net.h"
#include "vio_harness.h"
#include "vnet.h"

typedef struct vhu_rig_params {
    const char *forward_mode;  /* testpmd's: macswap, io, rxonly, txonly */
    const char *lcores;        /* testpmd's -l, default "0,1" (forwarding on 1) */
    const char *tag;           /* names log, socket, file prefix; default "vhu" */
    const char *testpmd_extra; /* more testpmd arguments, or NULL */
    bool no_huge;
    /* Connect to this running back end instead of starting testpmd (the
     * testpmd fields above are then unused, and vhu_rig_down reports no
     * testpmd statistics). */
    const char *socket_path;
} vhu_rig_params;

typedef struct vhu_rig {
    vhu_rig_params params;
    char socket_path[128];
    testpmd_proc pmd;
    emu_vhu_arena *arena;
    emu_vhu_net *dev;
    vio_harness *h;
    vnet *n;
    vio_dma payload; /* 64 slots of 64 KiB for frames to send */
    uint64_t tx_completed;
    char error[256];
} vhu_rig;

#define VHU_RIG_SLOT      65536u
#define VHU_RIG_SLOTS     64u
#define VHU_RIG_NOT_FOUND 2 /* vhu_rig_up: testpmd is not installed */

/* 0: up. VHU_RIG_NOT_FOUND: testpmd missing (error says so). -1: failed
 * (error says why; the testpmd log was dumped). */
int vhu_rig_up(vhu_rig *r, const vhu_rig_params *params);
/* Stops the driver (the device reset takes the rings back from the back
 * end), stops testpmd and reads its log. False if anything leaked or
 * testpmd did not exit cleanly. */
bool vhu_rig_down(vhu_rig *r, testpmd_port_stats *stats, unsigned *complaints, char *first,
                  size_t first_len);

#endif /* VHU_RIG_H */
