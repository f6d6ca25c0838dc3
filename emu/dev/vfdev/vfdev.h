/*
 * vfdev.h - an emulated SR-IOV virtual function, as a PCI device model for
 * ndisemu (emu_device_ops) with its port on the host switch.
 *
 * Models the VF of an Intel X540 (8086:1515) or a Mellanox ConnectX-4
 * (15b3:1014) as far as a guest sees it (vfdev_regs.h): the hardware MAC,
 * link, capabilities, a PF-imposed reset, statistics; frames go to and come
 * from its switch port. The host side (a hypervisor model or a test) plugs
 * it into a guest through the PCI bus, and can:
 *  - set the link up or down (the PF's per-VF link state; transmission
 *    stalls while it is down),
 *  - reset it (a PF or VF FLR: the rings stop and the driver must start
 *    over; frames queued on it are lost),
 *  - pull it out (host-side surprise removal: registers read all ones at
 *    once, no DMA, no interrupts; the guest's PnP notices afterwards).
 * A TX descriptor is completed only once its frame went out: a station on
 * the VF's port that can refuse frames (emu_port_connect_checked: a real
 * interface as the VF's wire) keeps the frame at the ring's head, offered
 * again every millisecond, until the wire takes it or the VF goes away.
 * Its switch port is up while the VF is attached to a guest, present and
 * has link; frames steered to it otherwise are dropped at the switch.
 *
 * The link (carrier) is not up the moment the PF allows it: a real VF needs
 * its PF mailbox handshake and the PHY's autonegotiation first. After every
 * attach (a hot-add reaching the guest), PF-imposed reset and PF link
 * change to up, the carrier stays down for link_up_delay_ns and then comes
 * up (with a LINK interrupt), unless the PF link went down meanwhile.
 * EMU_VFDEV_LINK_NEVER keeps it down for good. 0 = at once (the VF is up
 * when the driver first reads STATUS).
 */
#ifndef EMU_VFDEV_H
#define EMU_VFDEV_H

#include <stdbool.h>
#include <stdint.h>

#include "ndisemu/emu_device.h"
#include "vfdev_regs.h"
#include "vswitch.h"

typedef struct emu_vfdev emu_vfdev;

typedef enum emu_vf_model {
    EMU_VF_X540, /* Intel X540 VF, 10 Gb/s, checksum + LSO, 2 RSS queues */
    EMU_VF_CX4,  /* Mellanox ConnectX-4 VF, 25 Gb/s, checksum + LSO, 8 RSS queues */
} emu_vf_model;

typedef struct emu_vfdev_cfg {
    emu_vf_model model;
    uint8_t mac[6];
    uint32_t caps;             /* VFDEV_CAP_*; 0 = the model's */
    uint32_t mtu;              /* 0 = 1500 */
    bool link_up;              /* initial link state (the PF's per-VF link) */
    uint64_t link_up_delay_ns; /* carrier down this long after attach, reset, link up */
} emu_vfdev_cfg;

#define EMU_VFDEV_LINK_NEVER UINT64_MAX /* link_up_delay_ns: the carrier never comes up */

typedef struct emu_vfdev_stats {
    uint64_t tx_frames, rx_frames, rx_no_buffer, rx_dropped_gone, dma_errors, interrupts;
    uint64_t resets;     /* PF-imposed resets */
    uint64_t tx_lost;    /* descriptors dropped by a reset or removal before the wire */
    uint64_t tx_refused; /* times the wire refused the frame at the ring's head (kept) */
    /* TX or RX tail writes refused: behind the previous tail or past the ring
     * (a driver that rang the doorbell outside its lock) */
    uint64_t bad_doorbells;
} emu_vfdev_stats;

emu_vfdev *emu_vfdev_create(const emu_vfdev_cfg *cfg);
void emu_vfdev_destroy(emu_vfdev *vf);
/* The switch port its frames use (the device connects itself to it). */
void emu_vfdev_set_port(emu_vfdev *vf, emu_port *port);
emu_port *emu_vfdev_port(const emu_vfdev *vf);
/* Fills desc for emu_add_device / the PCI bus; instance must outlive it. */
void emu_vfdev_device_desc(emu_vfdev *vf, const char *instance, emu_device_desc *desc);
/* "PCI\VEN_8086&DEV_1515" or "PCI\VEN_15B3&DEV_1014". */
const char *emu_vfdev_pnp_id(emu_vf_model model);
const uint8_t *emu_vfdev_mac(const emu_vfdev *vf);

/* Host-side controls; callable from platform work or the top level. */
void emu_vfdev_set_link(emu_vfdev *vf, bool up);
void emu_vfdev_pf_reset(emu_vfdev *vf);
void emu_vfdev_pull(emu_vfdev *vf); /* surprise: gone now, until plugged again */
bool emu_vfdev_attached(emu_vfdev *vf);
/* The carrier as the guest's driver sees it (STATUS.LINK_UP). */
bool emu_vfdev_carrier(emu_vfdev *vf);
/* Called from the VF's device work (under ndisemu's device lock, the VF's
 * own lock released) each time its carrier changes as the driver sees it;
 * `wait_ns` on a change to down is the link-up delay now running (or
 * EMU_VFDEV_LINK_NEVER, or 0 for a PF link down: it comes up when the PF
 * says). It must not call back into the VF; a hypervisor model defers. */
typedef void (*emu_vfdev_carrier_fn)(void *ctx, emu_vfdev *vf, bool up, uint64_t wait_ns);
void emu_vfdev_set_carrier_fn(emu_vfdev *vf, emu_vfdev_carrier_fn fn, void *ctx);
void emu_vfdev_get_stats(emu_vfdev *vf, emu_vfdev_stats *out);

#endif /* EMU_VFDEV_H */
