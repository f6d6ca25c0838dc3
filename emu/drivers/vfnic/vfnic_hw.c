/*
 * vfnic_hw.c - the VF's registers and rings: allocation, (re)programming
 * after initialization, power-up or a reset, and receive buffer posting.
 */
#include "vfnic.h"

ULONG vf_reg_read(vf_adapter *a, ULONG off)
{
    return READ_REGISTER_ULONG((volatile ULONG *)(a->regs + off));
}

void vf_reg_write(vf_adapter *a, ULONG off, ULONG v)
{
    WRITE_REGISTER_ULONG((volatile ULONG *)(a->regs + off), v);
}

static void reg_write64(vf_adapter *a, ULONG off, ULONG64 v)
{
    WRITE_REGISTER_ULONG64((volatile ULONG64 *)(a->regs + off), v);
}

/* The device writes DONE after the rest of the descriptor. */
BOOLEAN vf_desc_done(vfdev_desc *d)
{
    return (ReadULongAcquire((ULONG const volatile *)&d->flags) & VFDEV_DESC_DONE) != 0;
}

NDIS_STATUS vf_hw_alloc(vf_adapter *a)
{
    ULONG rl = VF_RING * sizeof(vfdev_desc), bl = VF_RING * VF_BUF_SIZE;
    NdisMAllocateSharedMemory(a->handle, rl, FALSE, (PVOID *)&a->tx_ring, &a->tx_ring_pa);
    NdisMAllocateSharedMemory(a->handle, rl, FALSE, (PVOID *)&a->rx_ring, &a->rx_ring_pa);
    NdisMAllocateSharedMemory(a->handle, bl, TRUE, (PVOID *)&a->tx_bufs, &a->tx_bufs_pa);
    NdisMAllocateSharedMemory(a->handle, bl, TRUE, (PVOID *)&a->rx_bufs, &a->rx_bufs_pa);
    if (!a->tx_ring || !a->rx_ring || !a->tx_bufs || !a->rx_bufs)
        return NDIS_STATUS_RESOURCES;
    a->rx_set = (nu_rx_set){ .count = VF_RING, .mdl = a->rx_mdl, .nbl = a->rx_nbl };
    return nu_rx_set_alloc(a->handle, VF_TAG, a->rx_bufs, VF_BUF_SIZE, &a->rx_set);
}

void vf_hw_free(vf_adapter *a)
{
    if (a->rx_set.count)
        nu_rx_set_free(&a->rx_set);
    ULONG rl = VF_RING * sizeof(vfdev_desc), bl = VF_RING * VF_BUF_SIZE;
    if (a->rx_bufs)
        NdisMFreeSharedMemory(a->handle, bl, TRUE, a->rx_bufs, a->rx_bufs_pa);
    if (a->tx_bufs)
        NdisMFreeSharedMemory(a->handle, bl, TRUE, a->tx_bufs, a->tx_bufs_pa);
    if (a->rx_ring)
        NdisMFreeSharedMemory(a->handle, rl, FALSE, a->rx_ring, a->rx_ring_pa);
    if (a->tx_ring)
        NdisMFreeSharedMemory(a->handle, rl, FALSE, a->tx_ring, a->tx_ring_pa);
}

/* Lock held. Gives buffer `slot` to the device at the next descriptor. The
 * ring keeps one descriptor empty so that full and empty differ. */
void vf_post_rx_slot(vf_adapter *a, ULONG slot)
{
    ULONG idx = a->rx_tail % VF_RING;
    vfdev_desc *d = &a->rx_ring[idx];
    d->addr = (ULONG64)a->rx_bufs_pa.QuadPart + (ULONG64)slot * VF_BUF_SIZE;
    d->len = VF_BUF_SIZE;
    d->flags = 0;
    a->rx_slot_of[idx] = (USHORT)slot;
    a->rx_lent[slot] = FALSE;
    a->rx_tail++;
}

/* Lock held. Resets the function and programs it from scratch: empty TX
 * ring, every receive buffer the stack does not hold posted, interrupts on.
 * Sends still in the ring must have been completed by the caller. */
void vf_hw_start(vf_adapter *a)
{
    vf_reg_write(a, VFDEV_CTRL, VFDEV_CTRL_RESET);
    NdisZeroMemory(a->tx_ring, VF_RING * sizeof(vfdev_desc));
    a->tx_tail = a->tx_clean = 0;
    a->rx_tail = a->rx_clean = 0;
    reg_write64(a, VFDEV_TX_RING, (ULONG64)a->tx_ring_pa.QuadPart);
    reg_write64(a, VFDEV_RX_RING, (ULONG64)a->rx_ring_pa.QuadPart);
    vf_reg_write(a, VFDEV_RING_SIZE, VF_RING);
    for (ULONG slot = 0; slot < VF_RING && a->rx_tail + 1 < VF_RING; slot++) {
        if (!a->rx_lent[slot])
            vf_post_rx_slot(a, slot);
    }
    vf_reg_write(a, VFDEV_CTRL, VFDEV_CTRL_ENABLE);
    vf_reg_write(a, VFDEV_RX_TAIL, a->rx_tail);
    vf_reg_write(a, VFDEV_IMR, VFDEV_INT_TX | VFDEV_INT_RX | VFDEV_INT_LINK | VFDEV_INT_RESET);
    a->hw_ready = TRUE;
}

void vf_hw_stop(vf_adapter *a)
{
    a->hw_ready = FALSE;
    if (!a->removed)
        vf_reg_write(a, VFDEV_CTRL, VFDEV_CTRL_RESET);
}
