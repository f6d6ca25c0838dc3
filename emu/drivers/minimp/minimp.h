/*
 * minimp.h - the minimal test miniport's adapter state. The same source
 * also builds the deliberately broken drivers: MINIMP_BREAK selects one
 * contract violation (see minimp_break.h).
 */
#ifndef MINIMP_H
#define MINIMP_H

#include <ndis.h>

#include "loopnic.h"
#include "minimp_break.h"

#define MP_TAG      'pmiM'
#define MP_BUF_SIZE 2048
#define MP_MAX_RING 256

typedef struct mp_adapter {
    NDIS_HANDLE handle;
    NDIS_HANDLE intr;
    NDIS_HANDLE dma;
    NDIS_HANDLE nbl_pool;
    NDIS_HANDLE work;
    volatile UCHAR *regs;
    ULONG regs_len;
    NDIS_PHYSICAL_ADDRESS regs_pa;
    UCHAR mac[6];
    ULONG ring;

    loopnic_desc *tx_ring, *rx_ring;
    NDIS_PHYSICAL_ADDRESS tx_ring_pa, rx_ring_pa;
    UCHAR *rx_bufs;
    NDIS_PHYSICAL_ADDRESS rx_bufs_pa;
    PNET_BUFFER_LIST rx_nbl[MP_MAX_RING];
    PMDL rx_mdl[MP_MAX_RING];

    NDIS_SPIN_LOCK lock;
    ULONG tx_tail, tx_clean;
    PNET_BUFFER tx_nb[MP_MAX_RING];
    PSCATTER_GATHER_LIST tx_sgl[MP_MAX_RING];
    ULONG rx_tail, rx_clean;
    LONG sends_out; /* NBLs at the miniport */
    LONG recvs_out; /* NBLs indicated, not returned */
    LONG isr_cause;
    BOOLEAN running, pausing, removed, low_power;
    ULONG packet_filter;
    UCHAR mcast[32][6];
    ULONG n_mcast;
    ULONG64 xmit_ok, rcv_ok;
    PNDIS_OID_REQUEST pending_oid;
    PVOID leak;
} mp_adapter;

#endif /* MINIMP_H */
