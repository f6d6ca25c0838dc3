/*
 * vhu_net.h - a virtio-net PCI function whose queues are served by a
 * vhost-user back end in another process (DPDK's vhost library, ...), as
 * QEMU's vhost-user-net does: the emu/dev device model answers the driver's
 * register accesses (configuration space, common configuration, MSI-X,
 * device configuration with the MAC and link status), and when the driver
 * sets DRIVER_OK the rings and the driver's memory are handed to the back
 * end; the driver's notify writes become kick eventfd writes.
 *
 * The driver's memory lives in a memfd (emu_vhu_arena) that the back end
 * maps: everything the driver gives the device must come from the arena.
 *
 * Feature negotiation: the driver is offered what the back end offers,
 * less what a vhost-user front end must handle itself and this one does
 * not (control queue, multiqueue, announce, packed rings, logging), plus
 * the device configuration the front end provides (MAC, link STATUS).
 * FEATURES_OK sends SET_FEATURES; a refusal refuses FEATURES_OK.
 *
 * Owns no thread. Errors are counted and described, never fatal.
 */
#ifndef EMU_VHU_NET_H
#define EMU_VHU_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio_dev.h"

/* ---- the driver's memory, shared through a memfd ------------------------- */

typedef struct emu_vhu_arena emu_vhu_arena;

/* `size` bytes (rounded up to pages) at guest-physical address `gpa_base`. */
emu_vhu_arena *emu_vhu_arena_create(uint64_t size, uint64_t gpa_base);
void emu_vhu_arena_destroy(emu_vhu_arena *a);
/* Zeroed memory whose byte `guard` is page-aligned; *payload_gpa is that
 * byte's guest-physical address. NULL when the arena is full. Freed memory is
 * not reused (the arena is for one device's lifetime). */
void *emu_vhu_arena_alloc(emu_vhu_arena *a, size_t size, size_t guard, uint64_t *payload_gpa);
void emu_vhu_arena_free(emu_vhu_arena *a, void *block, size_t size);
/* Host address of [gpa, gpa + len), or NULL outside the arena. */
void *emu_vhu_arena_translate(emu_vhu_arena *a, uint64_t gpa, uint64_t len);
uint64_t emu_vhu_arena_live_bytes(const emu_vhu_arena *a);

/* ---- the device ------------------------------------------------------------ */

typedef struct emu_vhu_net emu_vhu_net;

typedef struct emu_vhu_net_params {
    const char *socket_path; /* the back end listens here */
    int connect_timeout_ms;
    emu_vhu_arena *arena;
    uint8_t mac[6];
    uint16_t queue_size;           /* largest ring the driver may use; default 256 */
    uint64_t feature_mask;         /* 0: every feature this front end can pass on */
    const emu_vdev_host_ops *host; /* translate and raise_msix are used */
    void *host_ctx;
    uint16_t msix_vectors;
} emu_vhu_net_params;

typedef struct emu_vhu_net_stats {
    uint64_t backend_features;  /* GET_FEATURES */
    uint64_t protocol_features; /* negotiated */
    uint64_t acked_features;    /* SET_FEATURES */
    uint64_t kicks;             /* notify writes passed on */
    uint64_t starts;            /* rings handed over */
    uint64_t stops;             /* rings taken back (GET_VRING_BASE) */
    uint64_t errors;            /* protocol failures or refusals */
} emu_vhu_net_stats;

/* Connects and negotiates; NULL with *error filled on failure. */
emu_vhu_net *emu_vhu_net_create(const emu_vhu_net_params *params, char *error, size_t error_len);
/* Takes the rings back from the back end if they were handed over, closes
 * the connection. Call after the driver is gone. */
void emu_vhu_net_destroy(emu_vhu_net *n);
emu_vdev *emu_vhu_net_vdev(emu_vhu_net *n);
const emu_vhu_net_stats *emu_vhu_net_get_stats(const emu_vhu_net *n);
/* The last protocol error ("" if none). */
const char *emu_vhu_net_last_error(const emu_vhu_net *n);
/* Interrupts the back end signalled on queue `queue` since the last call. */
uint64_t emu_vhu_net_take_calls(emu_vhu_net *n, uint16_t queue);

#endif /* EMU_VHU_NET_H */
