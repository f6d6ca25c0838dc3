/*
 * vfnic.h - an NDIS 6.30 miniport for the emulated SR-IOV VF (vfdev), in
 * the role of a vendor VF driver (Intel X540 VF, Mellanox ConnectX VF) on a
 * KVM guest: permanent MAC from the hardware, its own offload and RSS
 * capabilities (the device's, narrowed by the standardized registry
 * keywords), link up/down indications, recovery from a PF-imposed reset,
 * pause/restart, statistics, and sends failed (not lost) on surprise
 * removal. Its description file picks the INF range: vfnic.desc declares
 * UpperRange ndis5 (the usual KVM case: TCP/IP binds too), vfnic_ndisvf.desc
 * ndisvf (Hyper-V style: only protocols asking for ndisvf bind).
 *
 * Transmit copies each frame into a per-slot bounce buffer (the device takes
 * one buffer per frame); receive indicates the slot's buffer zero-copy and
 * reposts it when the NBL comes back. Offloads are reported and configured,
 * but the device model does not compute checksums: senders on the emulated
 * network send complete frames.
 */
#ifndef VFNIC_H
#define VFNIC_H

#include <ndis.h>

#include "ndisutil.h"
#include "vfdev_regs.h"

#define VF_TAG      'cnfV'
#define VF_BUF_SIZE 2048
#define VF_RING     256
#define VF_MCAST    32

typedef struct vf_offload_cfg {
    UCHAR ip4_csum, tcp4_csum, udp4_csum, tcp6_csum, udp6_csum; /* 0 off, 1 Tx, 2 Rx, 3 both */
    BOOLEAN lso4, lso6, rss;
    ULONG rss_queues;
} vf_offload_cfg;

typedef struct vf_stats {
    ULONG64 xmit_ok, xmit_bytes, xmit_error, xmit_discards;
    ULONG64 rcv_ok, rcv_bytes, rcv_discards, rcv_filtered;
} vf_stats;

typedef struct vf_adapter {
    NDIS_HANDLE handle, intr, reset_work;
    volatile UCHAR *regs;
    ULONG regs_len;
    NDIS_PHYSICAL_ADDRESS regs_pa;
    UCHAR perm_mac[6], mac[6];
    ULONG mtu, caps;
    ULONG64 speed_bps;
    vf_offload_cfg off;

    vfdev_desc *tx_ring, *rx_ring;
    NDIS_PHYSICAL_ADDRESS tx_ring_pa, rx_ring_pa;
    UCHAR *tx_bufs, *rx_bufs;
    NDIS_PHYSICAL_ADDRESS tx_bufs_pa, rx_bufs_pa;
    PNET_BUFFER_LIST rx_nbl[VF_RING];
    PMDL rx_mdl[VF_RING];
    nu_rx_set rx_set;           /* rx_nbl and rx_mdl over rx_bufs */
    BOOLEAN rx_lent[VF_RING];   /* indicated up, not returned yet */
    USHORT rx_slot_of[VF_RING]; /* descriptor index -> buffer slot */

    NDIS_SPIN_LOCK lock; /* rings, flags, stats, filters */
    ULONG tx_tail, tx_clean;
    PNET_BUFFER tx_nb[VF_RING];
    /* Sends accepted while the ring was full, in order: they go into the
     * ring as it drains (a VF driver queues them; failing them would make
     * vfo move them to virtio while the VF works). */
    PNET_BUFFER_LIST backlog, *backlog_tail;
    ULONG rx_tail, rx_clean;
    LONG sends_out; /* NBLs the miniport owns */
    LONG recvs_out; /* NBLs indicated, not returned */
    LONG isr_cause;
    LONG reset_queued; /* the recovery work item is queued or running */
    BOOLEAN running, pausing, removed, low_power, link_up, resetting, hw_ready;
    ULONG packet_filter;
    UCHAR mcast[VF_MCAST][6];
    ULONG n_mcast;
    vf_stats st;
} vf_adapter;

/* vfnic_hw.c: registers and rings */
ULONG vf_reg_read(vf_adapter *a, ULONG off);
void vf_reg_write(vf_adapter *a, ULONG off, ULONG v);
NDIS_STATUS vf_hw_alloc(vf_adapter *a);
void vf_hw_free(vf_adapter *a);
void vf_hw_start(vf_adapter *a);
void vf_hw_stop(vf_adapter *a);
void vf_post_rx_slot(vf_adapter *a, ULONG slot);
BOOLEAN vf_desc_done(vfdev_desc *d);

/* vfnic_data.c: datapath, interrupts, link, reset */
MINIPORT_SEND_NET_BUFFER_LISTS MpSendNetBufferLists;
MINIPORT_RETURN_NET_BUFFER_LISTS MpReturnNetBufferLists;
MINIPORT_CANCEL_SEND MpCancelSend;
MINIPORT_MESSAGE_INTERRUPT MpMessageIsr;
MINIPORT_MESSAGE_INTERRUPT_DPC MpMessageDpc;
MINIPORT_PAUSE MpPause;
MINIPORT_RESTART MpRestart;
MINIPORT_DEVICE_PNP_EVENT_NOTIFY MpDevicePnPEventNotify;
void vf_fail_pending_sends(vf_adapter *a, NDIS_STATUS status);

/* vfnic_oid.c */
MINIPORT_OID_REQUEST MpOidRequest;
MINIPORT_CANCEL_OID_REQUEST MpCancelOidRequest;
void vf_build_offload(const vf_adapter *a, NDIS_OFFLOAD *o, BOOLEAN hardware);
void vf_rss_caps(const vf_adapter *a, NDIS_RECEIVE_SCALE_CAPABILITIES *c);

#endif /* VFNIC_H */
