/*
 * vio_harness.h - a test platform joining lib/virtio (the driver, through
 * its OS ops) and the emu/dev virtio device model (through its host ops),
 * with a small test personality.
 *
 * Guest memory: every DMA allocation is its own heap block framed by guard
 * zones (canary bytes, also poisoned for AddressSanitizer when it is on) and
 * placed at a guest-physical address above 4 GiB with unmapped holes around
 * it, so a stray access by the driver trips ASan or the canaries, and a
 * stray device access fails translation. Register accesses by the driver
 * outside a mapped BAR window are counted.
 *
 * The device is either the harness's own test personality or one the test
 * brings (vh_params.make_device, e.g. the virtio-net model), built on the
 * harness's host ops. The test personality has a configurable number of
 * queues. Each queue either echoes (copies the readable bytes of a buffer
 * into its writable part and returns it at once) or holds buffers until the
 * test completes them. Its 16-byte configuration space is vh_config.
 */
#ifndef VIO_HARNESS_H
#define VIO_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include "vio.h"
#include "virtio_dev.h"

#define VH_MAX_QUEUES  8
#define VH_MAX_VECTORS 64
#define VH_DEVICE_TYPE 0x3F

typedef struct vh_config {
    uint8_t mac[6];
    uint16_t status;
    uint32_t speed;
    uint32_t cookie;
} vh_config;

typedef enum vh_queue_mode {
    VH_ECHO,
    VH_HOLD,
} vh_queue_mode;

/* Builds a device on the harness's host ops instead of the test personality.
 * The harness does not destroy such a device: its maker does, after
 * vh_destroy. */
typedef emu_vdev *(*vh_make_device)(void *make_ctx, const emu_vdev_host_ops *host, void *host_ctx,
                                    uint16_t msix_vectors);

typedef struct vh_params {
    uint16_t num_queues;        /* default 2 (with make_device: the device's queue count) */
    uint16_t queue_size;        /* device maximum per queue, default 256 */
    uint64_t features;          /* device-specific feature bits offered */
    uint16_t msix_vectors;      /* device table size, default num_queues + 1 */
    uint16_t os_vectors;        /* vectors the "OS" grants, default msix_vectors */
    bool process_on_notify;     /* run the queue from the notify hook */
    vh_make_device make_device; /* NULL: the test personality */
    void *make_ctx;
    /* Optional guest-memory provider (NULL: the heap), for devices that must
     * map the driver's memory themselves (vhost-user shares it through a
     * memfd). block_alloc returns zeroed memory of `size` bytes whose byte
     * `guard` sits at a page-aligned guest-physical address, stored in
     * *payload_gpa; that address must be what the device uses for it. */
    void *(*block_alloc)(void *ctx, size_t size, size_t guard, uint64_t *payload_gpa);
    void (*block_free)(void *ctx, void *block, size_t size);
    void *block_ctx;
} vh_params;

typedef struct vio_harness vio_harness;

struct vio_harness {
    vh_params params;
    emu_vdev *dev;
    vio_os_ops ops;

    /* what the host side saw */
    uint64_t msix_raised[VH_MAX_VECTORS];
    uint64_t notify_count[VH_MAX_QUEUES];
    bool intx_level;
    uint64_t slept_us;
    uint64_t bad_register_accesses; /* driver accesses outside a mapped window */
    uint64_t bad_frees;             /* frees of unknown memory or with a wrong size */
    uint64_t guard_corruptions;     /* canary bytes found changed */
    uint8_t status_log[32];         /* device_status values the device accepted, in order */
    uint32_t nstatus;

    /* What the driver reads from PCI configuration space can be overridden
     * byte by byte, to present malformed capabilities. */
    uint8_t cfg_override[256];
    bool cfg_overridden[256];

    /* A hostile device's registers (tests/fuzz): when set, every value the
     * driver reads from BAR 0 (common configuration, ISR, device
     * configuration) passes through the hook, which may replace it. */
    uint64_t (*read_hook)(void *ctx, uint64_t bar_off, unsigned width, uint64_t value);
    void *read_hook_ctx;

    /* the test personality */
    vh_queue_mode mode[VH_MAX_QUEUES];
    uint32_t echo_limit[VH_MAX_QUEUES]; /* cap on bytes written back, 0 = none */
    emu_vdev_req *held[VH_MAX_QUEUES];
    uint32_t nheld[VH_MAX_QUEUES];
    uint64_t popped[VH_MAX_QUEUES];
    uint64_t last_features_validated;
    uint64_t refuse_feature_mask; /* refuse FEATURES_OK if any of these is accepted */
    uint32_t resets_seen;

    /* bookkeeping (private to vio_harness.c) */
    emu_vdev_personality pers;
    emu_vdev_queue_info qinfo[VH_MAX_QUEUES];
    struct vh_alloc *allocs;
    uint32_t nallocs;
    uint32_t alloc_cap;
    uint32_t last_hit;
    uint64_t next_gpa;
    struct vh_map *maps;
    uint64_t mem_live;
};

/* Creates the device and an "OS" that has enabled memory decoding, bus
 * mastering and MSI-X with every vector unmasked. */
vio_harness *vh_create(const vh_params *params);
/* Frees everything; returns false if the driver leaked memory (mem_alloc
 * or DMA), mismatched a free or corrupted a guard zone. */
bool vh_destroy(vio_harness *h);

/* vio_dev_create + begin_init + negotiate(wanted). */
vio_status vh_driver_init(vio_harness *h, uint64_t wanted, vio_dev **out);

/* Resets the device, detaches every buffer still in flight, destroys the
 * queues and the driver's device. Returns the number of buffers detached. */
uint32_t vh_driver_teardown(vio_harness *h, vio_dev *dev, vio_vq **vqs, unsigned nvq);

/* A DMA buffer for test payloads (through the same ops the driver uses). */
bool vh_dma_alloc(vio_harness *h, size_t size, vio_dma *out);
void vh_dma_free(vio_harness *h, vio_dma *dma);

/* A 64-bit digest of every live DMA allocation: equal digests before and
 * after a call mean the call wrote no shared memory. */
uint64_t vh_dma_digest(vio_harness *h);
/* Number of corrupted guard bytes across all live allocations (also checked
 * and accumulated at free). */
uint64_t vh_check_guards(vio_harness *h);

/* Completes up to n held buffers of queue q in FIFO order, writing
 * `written` bytes (clamped by the device to what is writable), then
 * signals. Returns the number completed. */
uint32_t vh_complete_held(vio_harness *h, uint16_t q, uint32_t n, uint32_t written);

/* Offset in configuration space of the first capability with PCI id `id`
 * (and, for vendor capabilities (id 9), virtio cfg_type `type`), or 0. */
uint8_t vh_find_cap(vio_harness *h, uint8_t id, int type);

/* Makes the driver read `value` (little-endian, `width` bytes) at `offset`
 * of PCI configuration space. */
void vh_override_cfg(vio_harness *h, uint32_t offset, unsigned width, uint32_t value);

/* Completes held buffer number `i` of queue q (any order) and signals. */
void vh_complete_one(vio_harness *h, uint16_t q, uint32_t i, uint32_t written);

/* Sets the test personality's configuration space (and, if notify, bumps
 * the generation with a configuration-change interrupt). */
void vh_set_config(vio_harness *h, const vh_config *cfg, bool notify);

#endif /* VIO_HARNESS_H */
