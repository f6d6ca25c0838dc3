/*
 * vfdev_regs.h - the register interface of the emulated SR-IOV virtual
 * function, shared by the device model (vfdev.c) and its driver (vfnic).
 * Plain C types only: the driver includes it too.
 *
 * Not a copy of any real VF's programming model; it has what the failover
 * depends on: a MAC from the hardware, link state with a change interrupt,
 * a reset the PF can impose (the driver must acknowledge it and start over),
 * capabilities (checksum, LSO, RSS queues) and statistics.
 *
 * BAR0, little endian, 32-bit registers unless noted:
 *   0x00 MAC_LO (ro)   0x04 MAC_HI (ro, low 16 bits)
 *   0x08 CTRL   bit0 ENABLE (rings run), bit1 RESET (write 1: reset the
 *               function; reads back 0 when done)
 *   0x0C STATUS (ro) bit0 LINK_UP, bit1 RESET_PENDING (the PF reset the VF;
 *               the driver must write CTRL.RESET and reprogram everything)
 *   0x10 ICR (read clears)  0x14 IMR   causes: bit0 TX, bit1 RX, bit2 LINK,
 *               bit3 RESET
 *   0x18 TX_RING (64-bit)  0x20 RX_RING (64-bit)  0x28 RING_SIZE (entries)
 *   0x2C TX_TAIL  0x30 RX_TAIL   (doorbells: free-running producer indexes)
 *   0x34 CAPS (ro) bit0 IPv4 checksum, bit1 TCP/UDP checksum v4, bit2 v6,
 *               bit3 LSOv2 IPv4, bit4 LSOv2 IPv6, bits 8-15 RSS queues
 *   0x38 MTU (ro)  0x3C SPEED (ro, Mb/s)
 *   0x40.. statistics (64-bit, ro): TX_PKTS, TX_BYTES, RX_PKTS, RX_BYTES,
 *               RX_NO_BUFFER (frames dropped: no posted buffer)
 * Descriptor (16 bytes): u64 buffer address, u32 length, u32 flags (DONE).
 */
#ifndef VFDEV_REGS_H
#define VFDEV_REGS_H

#include <stdint.h>

#define VFDEV_MAC_LO        0x00
#define VFDEV_MAC_HI        0x04
#define VFDEV_CTRL          0x08
#define VFDEV_STATUS        0x0C
#define VFDEV_ICR           0x10
#define VFDEV_IMR           0x14
#define VFDEV_TX_RING       0x18
#define VFDEV_RX_RING       0x20
#define VFDEV_RING_SIZE     0x28
#define VFDEV_TX_TAIL       0x2C
#define VFDEV_RX_TAIL       0x30
#define VFDEV_CAPS          0x34
#define VFDEV_MTU           0x38
#define VFDEV_SPEED         0x3C
#define VFDEV_STAT_TX_PKTS  0x40
#define VFDEV_STAT_TX_BYTES 0x48
#define VFDEV_STAT_RX_PKTS  0x50
#define VFDEV_STAT_RX_BYTES 0x58
#define VFDEV_STAT_RX_NOBUF 0x60
#define VFDEV_BAR0_SIZE     0x1000

#define VFDEV_CTRL_ENABLE          0x1u
#define VFDEV_CTRL_RESET           0x2u
#define VFDEV_STATUS_LINK_UP       0x1u
#define VFDEV_STATUS_RESET_PENDING 0x2u
#define VFDEV_INT_TX               0x1u
#define VFDEV_INT_RX               0x2u
#define VFDEV_INT_LINK             0x4u
#define VFDEV_INT_RESET            0x8u

#define VFDEV_CAP_CSUM_IP4    0x01u
#define VFDEV_CAP_CSUM_L4_IP4 0x02u
#define VFDEV_CAP_CSUM_L4_IP6 0x04u
#define VFDEV_CAP_LSO_IP4     0x08u
#define VFDEV_CAP_LSO_IP6     0x10u
#define VFDEV_CAP_RSS_SHIFT   8
#define VFDEV_CAP_RSS_MASK    0xFF00u

#define VFDEV_DESC_DONE 0x1u
#define VFDEV_MAX_RING  1024
#define VFDEV_MAX_FRAME 1514

typedef struct vfdev_desc {
    uint64_t addr;
    uint32_t len;
    uint32_t flags;
} vfdev_desc;

#endif /* VFDEV_REGS_H */
