/*
 * tcpip_int.h - the TCP/IP stand-in's internal state (see tcpip.h).
 */
#ifndef TCPIP_INT_H
#define TCPIP_INT_H

#include <ndis.h>

#include "nu_object.h"

#include "tcpip.h"

#define TC_TAG          'ipcT'
#define TC_MAX_BINDINGS 8
#define TC_FRAME_MAX    1514

typedef struct tc_binding {
    BOOLEAN in_use, running, pausing;
    NDIS_HANDLE handle, bind_ctx, unbind_ctx, pool;
    UINT medium;            /* SelectedMediumIndex: NDIS writes it when a pended open completes */
    NDIS_HANDLE chain_pool; /* DataSize 0: NBLs over MDL chains of our own */
    NDIS_HANDLE work;       /* the OID sequence */
    NDIS_HANDLE pause_work; /* completes a pended pause at PASSIVE_LEVEL */
    ULONG adapter;          /* index into g_tc.stats.adapter */
    ULONG bind_seq;         /* order of binding, for route ties */
    LONG sends_out;
    PNET_PNP_EVENT_NOTIFICATION pause_event;
    /* the OID sequence tcpip.sys runs on a new binding */
    NDIS_OID_REQUEST oid;
    UCHAR oid_buf[64];
    ULONG oid_step;
    BOOLEAN oids_started;
    NDIS_EVENT oid_idle; /* set while no OID work is queued or pending */
} tc_binding;

typedef struct tc_state {
    NDIS_HANDLE proto, dev_handle, timer;
    PNDIS_GENERIC_OBJECT obj; /* the work items' handle (driver object) */
    PDEVICE_OBJECT dev;
    NDIS_SPIN_LOCK lock; /* everything below */
    tc_binding bind[TC_MAX_BINDINGS];
    ULONG next_bind_seq;
    tcpip_config cfg;
    BOOLEAN configured, peer_known, sending;
    UCHAR peer_mac[6];
    ULONG64 next_arp_ns;
    ULONG per_tick;
    ULONG64 *tx_log;
    tcpip_arrival *rx_log;
    ULONG64 n_rx;
    ULONG log_cap;
    tcpip_stats stats;
    ULONG64 shape_rng; /* 0: every frame flat (tcpip_shape.c) */
    ULONG tcp_seq;     /* the large sends' TCP sequence number */
} tc_state;

extern tc_state g_tc;

/* tcpip_bind.c */
void tc_register_characteristics(NDIS_PROTOCOL_DRIVER_CHARACTERISTICS *ch);
tc_binding *tc_route(void);

/* tcpip_io.c */
ULONG64 tc_now_ns(void);
void tc_send_garp(tc_binding *b);
void tc_receive(tc_binding *b, PNET_BUFFER_LIST nbls, ULONG flags);
void tc_send_complete(tc_binding *b, PNET_BUFFER_LIST nbls);
NDIS_TIMER_FUNCTION tc_tick;
void tc_set_rate(ULONG pps);

/* tcpip_shape.c (lock held for the choices) */
void tc_shape_seed(ULONG seed);
ULONG tc_shape_pieces(ULONG len); /* 1: flat */
PNET_BUFFER_LIST tc_chain_nbl(tc_binding *b, const UCHAR *frame, ULONG len, ULONG pieces);
BOOLEAN tc_chain_free(tc_binding *b, PNET_BUFFER_LIST nbl); /* FALSE: not a chain */
void tc_send_lso_locked(tc_binding *b);
void tc_send_csum_locked(tc_binding *b);
void tc_check_lso_completion(PNET_BUFFER_LIST nbl);

#endif /* TCPIP_INT_H */
