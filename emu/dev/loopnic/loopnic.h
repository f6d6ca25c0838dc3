/*
 * loopnic.h - a minimal emulated PCI NIC for ndisemu's self-tests.
 *
 * One BAR of registers, one TX and one RX descriptor ring in guest memory,
 * one MSI-X vector. Every frame the driver transmits comes straight back
 * into its receive ring (loopback). Not a model of real hardware: just
 * enough device for a real miniport (DMA, doorbells, interrupts, surprise
 * removal).
 *
 * Register map (BAR0, little endian):
 *   0x00 MAC_LO (ro)  0x04 MAC_HI (ro, 16 bit)   0x08 CTRL (bit0 enable)
 *   0x0C ISR (read clears; bit0 TX done, bit1 RX)  0x10 IMR (same bits)
 *   0x18 TX_RING (64-bit PA)  0x20 RX_RING (64-bit PA)  0x28 RING_SIZE
 *   0x2C TX_TAIL (doorbell)   0x30 RX_TAIL (doorbell)   0x34 LINK (ro, 1 = up)
 *   0x38 FAULT (bit0: the device stopped moving frames; write 1 to restart
 *        it, which resumes where it stopped: nothing in the rings is lost)
 * Descriptor (16 bytes): u64 addr, u32 len, u32 flags (bit0 DONE).
 */
#ifndef LOOPNIC_H
#define LOOPNIC_H

#include <stdbool.h>
#include <stdint.h>

#include "ndisemu/emu_device.h"

#define LOOPNIC_MAC_LO    0x00
#define LOOPNIC_MAC_HI    0x04
#define LOOPNIC_CTRL      0x08
#define LOOPNIC_ISR       0x0C
#define LOOPNIC_IMR       0x10
#define LOOPNIC_TX_RING   0x18
#define LOOPNIC_RX_RING   0x20
#define LOOPNIC_RING_SIZE 0x28
#define LOOPNIC_TX_TAIL   0x2C
#define LOOPNIC_RX_TAIL   0x30
#define LOOPNIC_LINK      0x34
#define LOOPNIC_FAULT     0x38
#define LOOPNIC_INT_TX    1u
#define LOOPNIC_INT_RX    2u
#define LOOPNIC_DESC_DONE 1u
#define LOOPNIC_VENDOR    0x1AF4
#define LOOPNIC_DEVICE    0x7FFF

typedef struct loopnic_desc {
    uint64_t addr;
    uint32_t len;
    uint32_t flags;
} loopnic_desc;

typedef struct loopnic loopnic;

/* What the device saw; bad_doorbells counts tail writes that would move a
 * ring backwards or past its size (ignored, as a device must). */
typedef struct loopnic_stats {
    uint64_t tx_frames, rx_frames, rx_dropped, dma_errors, bad_doorbells, interrupts;
} loopnic_stats;

loopnic *loopnic_create(const uint8_t mac[6]);
void loopnic_destroy(loopnic *n);
/* Fills desc for emu_add_device; instance must outlive the call. */
void loopnic_device_desc(loopnic *n, const char *instance, emu_device_desc *desc);
/* Callable from any thread. */
void loopnic_get_stats(loopnic *n, loopnic_stats *out);
/* Callable from any thread: the device stops moving frames (FAULT reads 1)
 * until its driver restarts it; what it would do meanwhile waits. */
void loopnic_fault(loopnic *n);

#endif /* LOOPNIC_H */
