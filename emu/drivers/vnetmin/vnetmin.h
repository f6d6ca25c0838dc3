/*
 * vnetmin.h - the minimal virtio-net miniport of the scenarios, standing in
 * for the virtio-net driver under test until vfo.sys exists.
 *
 * On lib/vnet: it negotiates (accepting STANDBY unless the registry value
 * Standby is 0), follows the link, and carries frames by copying them: each
 * send is copied into a transmit buffer of its own, each received frame into
 * an NBL indicated with NDIS_RECEIVE_FLAGS_RESOURCES. No offloads, no
 * control queue, no announcements, no failover: with it a guest is a guest
 * with two network adapters (the VF's and this one) and nothing joining
 * them, which is what the scenarios show until vfo.sys runs there.
 */
#ifndef VNETMIN_H
#define VNETMIN_H

#include <ndis.h>

#include "ndisutil.h"
#include "vnet.h"

#define VM_TAG      'nmtV'
#define VM_TX_SLOTS 256
#define VM_BUF_SIZE 2048
#define VM_RX_NBLS  64 /* frames per receive indication */

typedef struct vm_adapter {
    NDIS_HANDLE handle, intr;
    volatile UCHAR *regs;
    ULONG regs_len;
    NDIS_PHYSICAL_ADDRESS regs_pa;
    uint16_t msix_count;
    vnet *vn;
    UCHAR mac[6];
    ULONG64 speed_bps;
    BOOLEAN link_up, standby_wanted, running, pausing, removed;

    NDIS_SPIN_LOCK rx_lock, tx_lock, cfg_lock;
    UCHAR *tx_bufs;
    NDIS_PHYSICAL_ADDRESS tx_bufs_pa;
    PNET_BUFFER tx_nb[VM_TX_SLOTS];
    USHORT tx_free[VM_TX_SLOTS];
    ULONG n_tx_free;
    PNET_BUFFER_LIST tx_done_list; /* completions gathered by tx_done, under tx_lock */
    LONG sends_out;

    UCHAR *rx_copy; /* VM_RX_NBLS buffers the received frames are copied into */
    PMDL rx_mdl[VM_RX_NBLS];
    PNET_BUFFER_LIST rx_nbl[VM_RX_NBLS];
    nu_rx_set rx_set;                     /* rx_nbl and rx_mdl over rx_copy */
    PNET_BUFFER_LIST rx_free[VM_RX_NBLS]; /* under rx_lock */
    ULONG n_rx_free;

    ULONG packet_filter, lookahead;
    UCHAR mcast[32][6];
    ULONG n_mcast;
} vm_adapter;

extern const vio_os_ops vm_os_ops;

/* vnetmin_data.c */
MINIPORT_SEND_NET_BUFFER_LISTS MpSendNetBufferLists;
MINIPORT_RETURN_NET_BUFFER_LISTS MpReturnNetBufferLists;
MINIPORT_MESSAGE_INTERRUPT MpMessageIsr;
MINIPORT_MESSAGE_INTERRUPT_DPC MpMessageDpc;
MINIPORT_PAUSE MpPause;
MINIPORT_RESTART MpRestart;
extern const vnet_callbacks vm_callbacks;
void vm_fail_all_sends(vm_adapter *a);
NDIS_STATUS vm_buffers_alloc(vm_adapter *a);
void vm_buffers_free(vm_adapter *a);

#endif /* VNETMIN_H */
