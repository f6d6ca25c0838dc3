/*
 * vio_vq.h - split virtqueues, driver side.
 *
 * A queue is created after feature negotiation (it needs to know whether
 * INDIRECT_DESC and EVENT_IDX were accepted). All memory is allocated then;
 * the data path (add, kick, get_used, callbacks on/off) never allocates.
 *
 * The device is not trusted. Everything it writes is read exactly once into
 * a local and checked before use: a used entry whose id is out of range or
 * is not the head of a buffer in flight, whose length exceeds the
 * device-writable bytes posted, or a used index that moves past the buffers
 * in flight is rejected with its own VIO_E_USED_* code and counter, and the
 * queue is marked broken. A broken queue returns nothing more and writes
 * nothing more to shared memory; its buffers come back through
 * vio_vq_detach_unused() after the device is reset. The library never reads
 * back the descriptor table or the available ring it wrote (free-list links
 * are kept in private memory), so a device scribbling there changes nothing.
 *
 * Concurrency: calls on one queue must be serialised by the caller (one
 * lock or one DPC per queue); different queues are independent.
 */
#ifndef VIO_VQ_H
#define VIO_VQ_H

#include <stdbool.h>
#include <stdint.h>

#include "vio_pci.h"
#include "vio_types.h"

typedef struct vio_vq vio_vq;

typedef struct vio_vq_params {
    uint16_t index;        /* queue number */
    uint16_t max_size;     /* upper bound on entries, 0 = the device's maximum */
    uint16_t msix_vector;  /* VIO_MSI_NO_VECTOR when interrupts are line-based */
    uint16_t indirect_max; /* descriptors per indirect table, 0 = never indirect */
} vio_vq_params;

typedef enum vio_add_mode {
    VIO_ADD_AUTO,     /* indirect when negotiated, chain > 1 and it fits */
    VIO_ADD_DIRECT,   /* always a chain in the ring */
    VIO_ADD_INDIRECT, /* always one indirect table (VIO_E_INVAL if unavailable) */
} vio_add_mode;

typedef struct vio_vq_stats {
    uint64_t added; /* buffers made available */
    uint64_t added_indirect;
    uint64_t completed; /* buffers returned by get_used */
    uint64_t full;      /* adds refused with VIO_E_NOSPC */
    uint64_t notifies;  /* notify register writes */
    uint64_t notifies_suppressed;
    uint64_t detached; /* buffers returned by detach_unused */
    uint64_t err_used_id_range;
    uint64_t err_used_id_not_in_flight;
    uint64_t err_used_len;
    uint64_t err_used_idx_jump;
} vio_vq_stats;

/* Sizes the queue (min of device maximum and max_size, rounded down to a
 * power of two), allocates rings, bookkeeping and indirect tables, programs
 * size, vector, addresses and enables the queue. */
vio_status vio_vq_create(vio_dev *dev, const vio_vq_params *params, vio_vq **out);

/* Frees everything. The device must be reset (or gone) first; buffers
 * still in flight are forgotten, so detach them before. */
void vio_vq_destroy(vio_vq *vq);

/* Re-programs and re-enables the queue after a device reset and a new
 * negotiation, reusing its memory. VIO_E_BUSY if buffers were not detached. */
vio_status vio_vq_restart(vio_vq *vq);

uint16_t vio_vq_index(const vio_vq *vq);
uint16_t vio_vq_size(const vio_vq *vq);
/* Free descriptors in the ring (a direct buffer of n segments needs n, an
 * indirect one needs 1). */
uint16_t vio_vq_num_free(const vio_vq *vq);
/* Buffers made available and not yet returned. */
uint16_t vio_vq_in_flight(const vio_vq *vq);
bool vio_vq_uses_event_idx(const vio_vq *vq);
bool vio_vq_can_indirect(const vio_vq *vq);

/* Makes one buffer available: sg[0 .. n_out) are device-readable, then
 * sg[n_out .. n_out + n_in) device-writable. `token` (non-NULL) comes back
 * from get_used or detach_unused. The device sees it after the next kick
 * (vio_vq_kick_prepare publishes the available index once per batch), also a
 * device that polls instead of waiting for notifications. */
vio_status vio_vq_add(vio_vq *vq, const vio_sg *sg, uint16_t n_out, uint16_t n_in, void *token,
                      vio_add_mode mode);

/* Makes what was added since the last kick visible to the device and
 * returns true if the device wants a notification for it (EVENT_IDX: avail_event; otherwise the used ring's NO_NOTIFY flag).
 * Split from vio_vq_notify so the register write can happen outside a lock. */
bool vio_vq_kick_prepare(vio_vq *vq);
void vio_vq_notify(vio_vq *vq);
/* kick_prepare + notify; returns whether the device was notified. */
bool vio_vq_kick(vio_vq *vq);

/* Takes the next used buffer: VIO_OK with its token and the number of bytes
 * the device wrote, VIO_E_EMPTY if none is pending, VIO_E_BROKEN if the
 * queue is broken, or the VIO_E_USED_* verdict that just broke it. */
vio_status vio_vq_get_used(vio_vq *vq, void **token, uint32_t *len);

/* Whether get_used would return something (or an error) now. */
bool vio_vq_has_used(vio_vq *vq);

/* Interrupt suppression. disable asks the device not to interrupt; enable
 * asks for an interrupt at the next used buffer and returns false if used
 * buffers are already pending (poll again: the interrupt may not come).
 * enable_delayed (EVENT_IDX only; else as enable) asks for one only after
 * about 3/4 of the buffers in flight are used. */
void vio_vq_disable_cb(vio_vq *vq);
bool vio_vq_enable_cb(vio_vq *vq);
bool vio_vq_enable_cb_delayed(vio_vq *vq);

/* After a device reset (or surprise removal): returns the token of one
 * buffer not yet returned, or NULL when none is left. Once it returns NULL
 * the ring is back to its initial state and the queue is no longer broken. */
void *vio_vq_detach_unused(vio_vq *vq);

bool vio_vq_is_broken(const vio_vq *vq);
/* The verdict that broke the queue (VIO_OK if it is not broken). */
vio_status vio_vq_broken_reason(const vio_vq *vq);
const vio_vq_stats *vio_vq_get_stats(const vio_vq *vq);

#endif /* VIO_VQ_H */
