/*
 * netwatch.h - Linux network interfaces appearing, changing carrier and
 * going away, from rtnetlink (RTM_NEWLINK / RTM_DELLINK), delivered as
 * platform work on ndisemu's real-time scheduler.
 */
#ifndef EMU_NETWATCH_H
#define EMU_NETWATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "ndisemu/emu.h"

typedef enum emu_netwatch_kind {
    EMU_NETIF_PRESENT, /* exists (new, or a change other than carrier) */
    EMU_NETIF_CARRIER, /* carrier changed: see up */
    EMU_NETIF_GONE     /* removed */
} emu_netwatch_kind;

typedef struct emu_netwatch_event {
    emu_netwatch_kind kind;
    char ifname[16];
    int ifindex;
    bool up; /* carrier (IFF_LOWER_UP) */
    uint8_t mac[6];
} emu_netwatch_event;

typedef void (*emu_netwatch_fn)(void *ctx, const emu_netwatch_event *ev);
typedef struct emu_netwatch emu_netwatch;

/* Calls fn for every interface that exists now (PRESENT, then CARRIER), then
 * for each change. NULL when rtnetlink cannot be opened. */
emu_netwatch *emu_netwatch_start(emu_runtime *rt, emu_netwatch_fn fn, void *ctx);
void emu_netwatch_stop(emu_netwatch *w);

#endif /* EMU_NETWATCH_H */
