/*
 * virtio_dev.h - a virtio 1.x PCI device model: the device side of the PCI
 * modern transport (configuration space with the virtio capabilities and
 * MSI-X, common configuration, notify, ISR and device-specific registers in
 * BAR 0) and of split virtqueues, under a pluggable "personality" that
 * makes it a particular device (virtio-net, a test device, ...).
 *
 * The model owns no thread and no clock; it is driven by calls:
 *   - the owner (a test, or an emulator that traps a driver's register
 *     accesses) calls emu_vdev_cfg_read/write and emu_vdev_mmio_read/write;
 *   - a write to a queue's notify register calls host->queue_notify, and the
 *     owner decides when the device runs that queue: emu_vdev_process_queue()
 *     (tests may call it right from the hook);
 *   - the personality's queue handler then takes buffers with emu_vdev_pop,
 *     fills or consumes them, returns them with emu_vdev_push (now or later)
 *     and calls emu_vdev_signal to interrupt the driver if it asked for it.
 * Guest memory is reached only through host->translate; an address the host
 * cannot translate is the driver's error: the device sets
 * DEVICE_NEEDS_RESET, notifies a configuration change and stops the queue.
 *
 * For hardening tests the model misbehaves on request (emu_vdev_inject_fault):
 * wrong used ids and lengths, used-index jumps, configuration changing under
 * the driver's reads, a reset that never completes, refused features and
 * MSI-X vectors.
 *
 * Everything is little-endian, as virtio 1.x is; the model runs on
 * little-endian hosts only.
 */
#ifndef EMU_VIRTIO_DEV_H
#define EMU_VIRTIO_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct emu_vdev emu_vdev;

/* What the device needs from whoever embeds it. */
typedef struct emu_vdev_host_ops {
    /* Host pointer to guest-physical [gpa, gpa + len), or NULL if any of it
     * is outside guest memory. Called with len > 0 only. */
    void *(*translate)(void *host, uint64_t gpa, uint64_t len);
    /* Send MSI-X message `vector` (an index into the device's MSI-X table). */
    void (*raise_msix)(void *host, uint16_t vector);
    /* Optional: level of the INTx line, used while MSI-X is disabled. */
    void (*set_intx)(void *host, bool asserted);
    /* The driver wrote queue `queue`'s notify register. Also called once
     * for every enabled queue when the driver sets DRIVER_OK, because
     * buffers made available before that were not looked at. */
    void (*queue_notify)(void *host, emu_vdev *dev, uint16_t queue);
} emu_vdev_host_ops;

/* Per-queue part of a personality. */
typedef struct emu_vdev_queue_info {
    uint16_t max_size; /* power of two, at most 32768 */
    /* Runs the queue: pop, handle, push, signal. */
    void (*process)(emu_vdev *dev, void *ctx, uint16_t queue);
} emu_vdev_queue_info;

/* What makes the model a particular device. Hooks other than the queue
 * handlers are optional. The model copies this struct but keeps using the
 * `queues` array, which must outlive the device. */
typedef struct emu_vdev_personality {
    uint16_t device_type; /* virtio device type: 1 = network, ... */
    uint32_t pci_class;   /* 24-bit PCI class code, e.g. 0x020000 (Ethernet) */
    uint64_t features;    /* device-specific feature bits offered */
    uint32_t config_size; /* bytes of device-specific configuration (<= 4096) */
    uint16_t num_queues;  /* <= 64 */
    const emu_vdev_queue_info *queues;
    /* The driver set FEATURES_OK with `features`; false refuses them. */
    bool (*validate_features)(emu_vdev *dev, void *ctx, uint64_t features);
    /* device_status changed (after the model applied it). */
    void (*status_changed)(emu_vdev *dev, void *ctx, uint8_t old_status, uint8_t new_status);
    /* The device is being reset: drop every request popped and not pushed. */
    void (*reset)(emu_vdev *dev, void *ctx);
} emu_vdev_personality;

typedef struct emu_vdev_params {
    const emu_vdev_personality *personality;
    void *personality_ctx;
    const emu_vdev_host_ops *host;
    void *host_ctx;
    uint16_t msix_vectors; /* MSI-X table size (<= 64); 0 = min(num_queues + 1, 64) */
} emu_vdev_params;

/* Transport feature bits the model implements and offers by default. */
#define EMU_VDEV_F_INDIRECT_DESC 28
#define EMU_VDEV_F_EVENT_IDX     29
#define EMU_VDEV_F_VERSION_1     32

/* Layout of BAR 0 (64-bit memory BAR), for owners that map it. */
#define EMU_VDEV_BAR0_SIZE 0x4000u

/* Returns NULL if the parameters are unusable (missing hooks, sizes). */
emu_vdev *emu_vdev_create(const emu_vdev_params *params);
void emu_vdev_destroy(emu_vdev *dev);
/* Presents the device as a transitional one (virtio 1.x 4.1.2.1): the
 * transitional PCI device id of its type (network: 0x1000), the type in the
 * subsystem id, revision 0, as QEMU does unless disable-legacy=on. The
 * modern interface (the vendor capabilities) stays, as a transitional
 * device offers it beside the legacy one; the legacy I/O BAR is not
 * modelled. Call before the device is plugged. 0, or -1 for a type with no
 * transitional id. */
int emu_vdev_make_transitional(emu_vdev *dev);

/* ---- register access, as a PCI bus or emulator traps it ---------------- */

/* PCI configuration space, 256 bytes; size 1, 2 or 4. */
uint32_t emu_vdev_cfg_read(emu_vdev *dev, uint32_t offset, unsigned size);
void emu_vdev_cfg_write(emu_vdev *dev, uint32_t offset, unsigned size, uint32_t value);
/* Memory BAR access; size 1, 2, 4 or 8 (an 8-byte access is two 4-byte
 * ones, low half first). Only BAR 0 is implemented; other BARs read as all
 * ones and ignore writes. Common-configuration writes must use the field's
 * natural width; device-specific configuration is read-only. Accesses that
 * break these rules are ignored and counted in bad_accesses. */
uint64_t emu_vdev_mmio_read(emu_vdev *dev, unsigned bar, uint64_t offset, unsigned size);
void emu_vdev_mmio_write(emu_vdev *dev, unsigned bar, uint64_t offset, unsigned size,
                         uint64_t value);
/* The address programmed into BAR `bar` (0 for unimplemented BARs). */
uint64_t emu_vdev_bar_address(emu_vdev *dev, unsigned bar);

/* ---- the device side of the virtqueues, for personalities -------------- */

#define EMU_VDEV_MAX_SEGS 64

typedef struct emu_vdev_seg {
    void *host;
    uint32_t len;
    bool writable;
} emu_vdev_seg;

/* One buffer (descriptor chain) taken from a queue. Readable segments come
 * first, then writable ones. Valid until pushed or until the device resets. */
typedef struct emu_vdev_req {
    uint16_t queue;
    uint16_t head;
    uint32_t epoch; /* reset generation: a push from before a reset is ignored */
    uint16_t nseg;
    uint16_t n_readable;
    uint32_t readable_len;
    uint32_t writable_len;
    emu_vdev_seg seg[EMU_VDEV_MAX_SEGS];
} emu_vdev_req;

typedef enum emu_vdev_pop_result {
    EMU_VDEV_POP_ERROR = -1, /* the driver broke the ring; the queue stopped */
    EMU_VDEV_POP_EMPTY = 0,
    EMU_VDEV_POP_OK = 1,
} emu_vdev_pop_result;

/* Runs queue `queue` through its personality handler, if the driver has set
 * DRIVER_OK, the queue is enabled and not stopped. */
void emu_vdev_process_queue(emu_vdev *dev, uint16_t queue);

emu_vdev_pop_result emu_vdev_pop(emu_vdev *dev, uint16_t queue, emu_vdev_req *req);
/* Returns the buffer to the driver with `written` bytes written. */
void emu_vdev_push(emu_vdev *dev, const emu_vdev_req *req, uint32_t written);
/* Interrupts the driver for the buffers pushed since the last signal, if it
 * asked for that (EVENT_IDX used_event, or the NO_INTERRUPT flag). */
void emu_vdev_signal(emu_vdev *dev, uint16_t queue);

/* Copy from the readable / into the writable part of a request, at a byte
 * offset into that part. Return the number of bytes copied. */
size_t emu_vdev_req_read(const emu_vdev_req *req, size_t offset, void *buf, size_t len);
size_t emu_vdev_req_write(const emu_vdev_req *req, size_t offset, const void *data, size_t len);

/* ---- state, for personalities and owners ------------------------------- */

uint8_t emu_vdev_status(const emu_vdev *dev);
/* Feature bits the driver accepted (valid once FEATURES_OK stuck). */
uint64_t emu_vdev_driver_features(const emu_vdev *dev);
/* Replaces the offered feature set (default: personality features plus
 * VERSION_1, INDIRECT_DESC, EVENT_IDX). Takes effect at the next read. */
void emu_vdev_offer_features(emu_vdev *dev, uint64_t features);
bool emu_vdev_queue_enabled(const emu_vdev *dev, uint16_t queue);
uint16_t emu_vdev_queue_size(const emu_vdev *dev, uint16_t queue);
/* Guest-physical addresses of an enabled queue's rings, for owners that
 * hand the rings to a device outside the model (vhost-user). */
bool emu_vdev_queue_rings(const emu_vdev *dev, uint16_t queue, uint64_t *desc, uint64_t *avail,
                          uint64_t *used);

/* Device-specific configuration, as the device changes it. set() alone is
 * silent; config_changed() bumps config_generation and, once the driver is
 * running, sends the configuration-change interrupt. */
void emu_vdev_config_set(emu_vdev *dev, uint32_t offset, const void *data, uint32_t len);
void emu_vdev_config_get(const emu_vdev *dev, uint32_t offset, void *buf, uint32_t len);
void emu_vdev_config_changed(emu_vdev *dev);

/* The device hit an error it cannot recover from (DEVICE_NEEDS_RESET). */
void emu_vdev_needs_reset(emu_vdev *dev);

/* ---- misbehaviour on request -------------------------------------------- */

#define EMU_VDEV_FOREVER UINT32_MAX

typedef enum emu_vdev_fault {
    EMU_VDEV_FAULT_USED_ID,         /* next `count` used entries of `queue` carry id `value` */
    EMU_VDEV_FAULT_USED_LEN,        /* ... carry length `value` */
    EMU_VDEV_FAULT_USED_IDX_JUMP,   /* next `count` pushes on `queue` move used idx `value` extra */
    EMU_VDEV_FAULT_CONFIG_CHURN,    /* next `count` device-config reads each change the whole
                                       config (bytes inverted) and config_generation after
                                       answering */
    EMU_VDEV_FAULT_RESET_STUCK,     /* a reset completes only after `count` status reads */
    EMU_VDEV_FAULT_REFUSE_FEATURES, /* next `count` FEATURES_OK writes are refused */
    EMU_VDEV_FAULT_REFUSE_MSIX,     /* next `count` vector writes read back NO_VECTOR */
    EMU_VDEV_FAULT_COUNT
} emu_vdev_fault;

/* Arms a fault (count 0 disarms). `queue` and `value` only where noted. */
void emu_vdev_inject_fault(emu_vdev *dev, emu_vdev_fault fault, uint16_t queue, uint32_t value,
                           uint32_t count);

/* ---- statistics ---------------------------------------------------------- */

/* The driver's mistakes the device detected (the queue or device stops). */
typedef enum emu_vdev_error {
    EMU_VDEV_ERR_NONE,
    EMU_VDEV_ERR_QUEUE_SIZE,   /* enabled with a size that is 0, not a power of two or too big */
    EMU_VDEV_ERR_RING_ADDRESS, /* ring memory not translatable */
    EMU_VDEV_ERR_AVAIL_IDX,    /* avail idx moved by more than the queue size */
    EMU_VDEV_ERR_HEAD,         /* avail ring entry out of range */
    EMU_VDEV_ERR_DESC_ADDRESS, /* buffer not translatable */
    EMU_VDEV_ERR_DESC_NEXT,    /* next out of range */
    EMU_VDEV_ERR_DESC_LOOP,    /* chain longer than its table */
    EMU_VDEV_ERR_INDIRECT,     /* bad indirect table (size, nesting, NEXT with INDIRECT) */
    EMU_VDEV_ERR_CHAIN_LONG,   /* more than EMU_VDEV_MAX_SEGS segments */
    EMU_VDEV_ERR_DESC_ORDER,   /* readable segment after a writable one */
    EMU_VDEV_ERR_LEN_OVERFLOW, /* chain length does not fit 32 bits */
    EMU_VDEV_ERR_COUNT
} emu_vdev_error;

typedef struct emu_vdev_stats {
    uint64_t notifies; /* queue notify writes */
    uint64_t popped;
    uint64_t pushed;
    uint64_t queue_irqs;      /* queue interrupts sent (MSI-X or INTx) */
    uint64_t irqs_suppressed; /* signals the driver did not want */
    uint64_t msix_held;       /* messages held back by a mask (pending bit set) */
    uint64_t config_irqs;
    uint64_t resets;
    uint64_t driver_errors;
    uint64_t bad_accesses; /* register accesses with a wrong size or offset */
    emu_vdev_error last_error;
} emu_vdev_stats;

const emu_vdev_stats *emu_vdev_get_stats(const emu_vdev *dev);
const char *emu_vdev_error_name(emu_vdev_error err);

#endif /* EMU_VIRTIO_DEV_H */
