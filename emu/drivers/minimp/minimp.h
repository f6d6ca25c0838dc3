/*
 * minimp.h - the minimal test miniport's adapter state. The same source
 * also builds the deliberately broken drivers: DRIVER_BREAK selects one
 * contract violation (see minimp_break.h).
 */
#ifndef MINIMP_H
#define MINIMP_H

#include <ndis.h>

#include "nu_object.h"

#include "loopnic.h"
#include "minimp_break.h"

#define MP_TAG      'pmiM'
#define MP_BUF_SIZE 2048
#define MP_MAX_RING 256

/* Concurrency: `lock` protects everything below it. The send path, the
 * DPC, returns, pause and OIDs run concurrently on several CPUs; the ISR
 * only reads the device's cause register into isr_cause (an atomic). */
#ifdef MINIMP_SINK
/* sink_mp (minimp built with MINIMP_SINK; minimp_sink.c): the device is
 * left out of the data path. Sends complete at once (or from the DPC on
 * another CPU) and receives come from a pool of the sink's own, on request.
 * Everything here is under the adapter lock. */
#define MP_SINK_NBLS 256
typedef struct mp_sink {
    PNET_BUFFER_LIST nbl[MP_SINK_NBLS];
    PMDL mdl[MP_SINK_NBLS];
    PUCHAR buf;
    PNET_BUFFER_LIST free_list;
    ULONG n_free;
    ULONG tx_mode;                      /* 0: complete in the send call; 1: from the DPC */
    PNET_BUFFER_LIST tx_head, *tx_tail; /* sends the DPC completes */
    ULONG tx_n;
    ULONG rx_left, rx_len, rx_list; /* the receive burst being indicated */
    BOOLEAN rx_starved;             /* waiting for returns to go on */
    ULONG64 tx_done, rx_indicated, rx_returned, ctl_frames;
} mp_sink;
#endif

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
    LONG isr_cause;

    /* Descriptor rings and receive buffers in shared memory. Buffer i
     * belongs to rx_nbl[i] (its NET_BUFFER_LIST_MINIPORT_RESERVED[0] = i);
     * which buffer sits at which ring position is rx_pos_nbl[]. */
    loopnic_desc *tx_ring, *rx_ring;
    NDIS_PHYSICAL_ADDRESS tx_ring_pa, rx_ring_pa;
    UCHAR *rx_bufs;
    NDIS_PHYSICAL_ADDRESS rx_bufs_pa;
    PNET_BUFFER_LIST rx_nbl[MP_MAX_RING];
    PMDL rx_mdl[MP_MAX_RING];

    NDIS_SPIN_LOCK lock;
    ULONG tx_tail, tx_clean; /* free-running; slot = value % ring */
    ULONG tx_reserved;       /* slots promised to sends still mapping their NBs */
    PNET_BUFFER tx_nb[MP_MAX_RING];
    PSCATTER_GATHER_LIST tx_sgl[MP_MAX_RING];
    ULONG rx_tail, rx_clean; /* positions given to the device / consumed */
    PNET_BUFFER_LIST rx_pos_nbl[MP_MAX_RING];
    PNET_BUFFER_LIST rx_held[MP_MAX_RING]; /* a reset's end: the buffers to post again */
    ULONG sends_out;                       /* NBLs at the miniport */
    ULONG recvs_out;                       /* NBLs indicated, not yet returned */
    BOOLEAN running, pausing, removed, low_power;
    BOOLEAN resetting; /* from MiniportResetEx to NdisMResetComplete */
    ULONG64 xmit_ok, rcv_ok;

    /* OID state: NDIS sends one OID at a time. */
    ULONG packet_filter;
    UCHAR mcast[32][6];
    ULONG n_mcast;
    PNDIS_OID_REQUEST pending_oid;
    BOOLEAN held_one_send; /* BRK_ONE_SEND_HELD: its first send is kept */

#ifdef MINIMP_SINK
    mp_sink sink;
#endif
    PVOID leak;              /* BRK_LEAK_AT_* */
    NDIS_HANDLE timer;       /* BRK_TIMER_IN_ISR */
    NDIS_HANDLE reset_timer; /* completes a pended MiniportResetEx */
    BOOLEAN hang_once;       /* BRK_RESET_COMPLETE_UNPENDED */
} mp_adapter;

/* minimp_datapath.c */
ULONG mp_reg_rd(mp_adapter *a, ULONG off);
void mp_reg_wr(mp_adapter *a, ULONG off, ULONG v);
void mp_hw_start_locked(mp_adapter *a);
void mp_hw_stop_locked(mp_adapter *a);
BOOLEAN mp_pause_done_locked(mp_adapter *a);
void mp_tx_clean(mp_adapter *a);
/* NDIS's reset (MiniportResetEx, at <= DISPATCH_LEVEL): the device stops
 * and every send it held completes aborted. mp_reset_end (DISPATCH_LEVEL)
 * restarts it once nothing the reset began with is left: FALSE while a
 * send still maps its buffers or an OID request is still being done. */
void mp_reset_begin(mp_adapter *a);
BOOLEAN mp_reset_end(mp_adapter *a);
void mp_indicate_bare_status(mp_adapter *a, NDIS_STATUS code);
MINIPORT_SEND_NET_BUFFER_LISTS MpSendNetBufferLists;
MINIPORT_CANCEL_SEND MpCancelSend;
MINIPORT_RETURN_NET_BUFFER_LISTS MpReturnNetBufferLists;
MINIPORT_MESSAGE_INTERRUPT MpMessageIsr;
MINIPORT_MESSAGE_INTERRUPT_DPC MpMessageDpc;

#ifdef MINIMP_HOSTILE
/* minimp_hostile.c: the hostile VF's receive recipes. */
#define MP_RECIPE_LEN 48
ULONG mp_hostile_rx(mp_adapter *a, PNET_BUFFER_LIST chain, UCHAR status[][MP_RECIPE_LEN],
                    ULONG max);
void mp_hostile_status(mp_adapter *a, UCHAR status[][MP_RECIPE_LEN], ULONG n);
void mp_hostile_restore(mp_adapter *a, PNET_BUFFER_LIST nbl);
#endif
MINIPORT_PROCESS_SG_LIST MpProcessSGList;
/* At DISPATCH_LEVEL: n sends back to NDIS (and a pended pause finished). */
void mp_complete_sends(mp_adapter *a, PNET_BUFFER_LIST list, ULONG n);

#ifdef MINIMP_SINK
/* minimp_sink.c */
NDIS_STATUS mp_sink_init(mp_adapter *a);
void mp_sink_free(mp_adapter *a);
void mp_sink_send(mp_adapter *a, PNET_BUFFER_LIST nbls);
void mp_sink_dpc(mp_adapter *a, ULONG msg, PNDIS_RECEIVE_THROTTLE_PARAMETERS tp);
/* Takes the sink's own NBLs out of the chain; returns what is left. */
PNET_BUFFER_LIST mp_sink_return(mp_adapter *a, PNET_BUFFER_LIST nbls);
#endif

#endif /* MINIMP_H */
