/*
 * netport.h - a Linux network interface as a station on an emulated switch:
 * frames the switch delivers to the port go out of the interface through an
 * AF_PACKET socket, frames the interface receives enter the switch. With an
 * emulated VF (emu/dev/vfdev) on the same switch, the VF's wire is the real
 * interface (in the lab: the guest's e1000e that QEMU hot-plugs as the
 * failover primary).
 *
 * A frame is sent only if the interface's driver takes it (PACKET_QDISC_BYPASS):
 * one it refuses is refused to the switch's sender (emu_port_connect_checked),
 * which keeps it; no frame is reported sent that the interface dropped.
 *
 * Received frames are handed to the switch as platform work on ndisemu's
 * real-time scheduler, never from the socket's thread. GRO is switched off
 * on the interface so that every frame is one the wire carried.
 */
#ifndef EMU_NETPORT_H
#define EMU_NETPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ndisemu/emu.h"
#include "vswitch.h"

typedef struct emu_netport emu_netport;

typedef struct emu_netport_stats {
    uint64_t rx_frames, tx_frames; /* interface -> switch, switch -> interface */
    uint64_t rx_oversize;          /* longer than an Ethernet frame: dropped, counted */
    uint64_t tx_errors;            /* send() failed for good: the frame was dropped */
    uint64_t tx_refused;           /* the interface did not take the frame (not running,
                                      queue full): the sender (the VF) keeps it */
    uint64_t tx_unconfirmed;       /* taken but not time-stamped: the driver dropped it
                                      (being removed); refused as well */
} emu_netport_stats;

/* Brings ifname up and opens its AF_PACKET socket; connects port. NULL with
 * the reason in err. */
emu_netport *emu_netport_open(emu_runtime *rt, const char *ifname, emu_port *port, char *err,
                              size_t errlen);
void emu_netport_close(emu_netport *np);
void emu_netport_get_stats(emu_netport *np, emu_netport_stats *out);

/* The interface's MAC address and carrier, read now. -1 when it is gone. */
int emu_netif_mac(const char *ifname, uint8_t mac[6]);
int emu_netif_carrier(const char *ifname, bool *up);

#endif /* EMU_NETPORT_H */
