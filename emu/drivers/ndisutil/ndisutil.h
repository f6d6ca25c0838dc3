/*
 * ndisutil.h - small NDIS helpers the platform's miniports share (vfnic,
 * vnetmin): status and link indications, OID answers, the attributes every
 * PCI Ethernet miniport sets, receive NBLs, registry reads. Written against include/ddk.
 */
#ifndef EMU_NDISUTIL_H
#define EMU_NDISUTIL_H

#include <ndis.h>

#include "nu_object.h"

void nu_indicate_status(NDIS_HANDLE mp, NDIS_STATUS code, PVOID buf, ULONG len);
/* Up: connected, full duplex, at speed_bps; down: disconnected, speed unknown. */
void nu_link_state(NDIS_LINK_STATE *ls, BOOLEAN up, ULONG64 speed_bps);
void nu_indicate_link(NDIS_HANDLE mp, BOOLEAN up, ULONG64 speed_bps);

/* Copies an OID query's answer; BUFFER_TOO_SHORT with BytesNeeded otherwise. */
NDIS_STATUS nu_answer(PNDIS_OID_REQUEST r, const void *p, ULONG len);

/* Registration attributes of a PCI hardware miniport that tolerates
 * surprise removal; `extra` adds attribute flags (BUS_MASTER...). */
NDIS_STATUS nu_set_registration(NDIS_HANDLE mp, NDIS_HANDLE ctx, ULONG extra);
/* General attributes of an 802.3 adapter; the caller adjusts the rest
 * (filters, statistics, RSS) and sets them. */
void nu_ethernet_general(NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES *ga, const UCHAR perm[6],
                         const UCHAR current[6], ULONG mtu, ULONG64 speed_bps, BOOLEAN up);

/* Receive NBLs over one buffer area: `count` NBLs, one NET_BUFFER and one
 * MDL each, over consecutive `size`-byte pieces of `base`, from a pool of
 * their own; NBL i carries i in its first MiniportReserved slot. On failure
 * what was made stays in the set for nu_rx_set_free. */
typedef struct nu_rx_set {
    NDIS_HANDLE pool;
    ULONG count;
    PMDL *mdl;             /* count entries, caller's storage */
    PNET_BUFFER_LIST *nbl; /* count entries, caller's storage */
} nu_rx_set;
NDIS_STATUS nu_rx_set_alloc(NDIS_HANDLE mp, ULONG tag, UCHAR *base, ULONG size, nu_rx_set *set);
void nu_rx_set_free(nu_rx_set *set);

NDIS_STATUS nu_open_config(NDIS_HANDLE mp, NDIS_HANDLE *cfg);
/* An integer registry value by ASCII name, or dflt. */
ULONG nu_read_int(NDIS_HANDLE cfg, const char *name, ULONG dflt);

#endif /* EMU_NDISUTIL_H */
