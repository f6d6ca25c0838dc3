/*
 * vhu_net.c - see vhu_net.h.
 */
#define _GNU_SOURCE
#include "vhu_net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vhost_user.h"

#define PAGE        4096u
#define NUM_QUEUES  2u  /* receiveq1, transmitq1 */
#define CONFIG_SIZE 10u /* mac[6], status, max_virtqueue_pairs */
#define LINK_UP     1u

/* Feature bits (virtio 1.x) this front end can pass from back end to driver:
 * the data-path offloads and ring layout the back end implements. Control
 * queue, multiqueue, announce, packed ring, IOMMU and logging are not
 * passed: a vhost-user front end has to take part in those. */
#define BIT(n) (1ull << (n))
#define PASSED_ON                                                                         \
    (BIT(0) | BIT(1) | BIT(7) | BIT(8) | BIT(9) | BIT(10) | BIT(11) | BIT(12) | BIT(13) | \
     BIT(14) | BIT(15) | BIT(27) | BIT(28) | BIT(29) | BIT(32))
/* Provided by this front end's own device configuration: MAC and STATUS. */
#define FRONT_END_OWN (BIT(5) | BIT(16))

/* ---- arena ----------------------------------------------------------------- */

struct emu_vhu_arena {
    int fd;
    uint8_t *va;
    uint64_t size;
    uint64_t gpa_base;
    uint64_t next;
    uint64_t live;
};

emu_vhu_arena *emu_vhu_arena_create(uint64_t size, uint64_t gpa_base)
{
    emu_vhu_arena *a = calloc(1, sizeof(*a));

    if (!a)
        return NULL;
    a->size = (size + PAGE - 1) & ~(uint64_t)(PAGE - 1);
    a->gpa_base = gpa_base;
    a->fd = memfd_create("vfo-guest-memory", MFD_CLOEXEC);
    if (a->fd < 0 || ftruncate(a->fd, (off_t)a->size) != 0) {
        if (a->fd >= 0)
            close(a->fd);
        free(a);
        return NULL;
    }
    a->va = mmap(NULL, a->size, PROT_READ | PROT_WRITE, MAP_SHARED, a->fd, 0);
    if (a->va == MAP_FAILED) {
        close(a->fd);
        free(a);
        return NULL;
    }
    return a;
}

void emu_vhu_arena_destroy(emu_vhu_arena *a)
{
    if (!a)
        return;
    munmap(a->va, a->size);
    close(a->fd);
    free(a);
}

void *emu_vhu_arena_alloc(emu_vhu_arena *a, size_t size, size_t guard, uint64_t *payload_gpa)
{
    uint64_t payload = (a->next + guard + PAGE - 1) & ~(uint64_t)(PAGE - 1);

    if (payload < guard || size > a->size || payload - guard > a->size - size)
        return NULL;
    a->next = payload - guard + size;
    a->live += size;
    *payload_gpa = a->gpa_base + payload;
    /* Never handed out before: the memfd's pages are still zero. */
    return a->va + (payload - guard);
}

void emu_vhu_arena_free(emu_vhu_arena *a, void *block, size_t size)
{
    (void)block;
    a->live -= size;
}

void *emu_vhu_arena_translate(emu_vhu_arena *a, uint64_t gpa, uint64_t len)
{
    uint64_t off = gpa - a->gpa_base;

    if (gpa < a->gpa_base || len > a->size || off > a->size - len)
        return NULL;
    return a->va + off;
}

uint64_t emu_vhu_arena_live_bytes(const emu_vhu_arena *a)
{
    return a->live;
}

/* ---- device ------------------------------------------------------------------ */

struct emu_vhu_net {
    emu_vhu_net_params params;
    emu_vhu_conn conn;
    emu_vdev *dev;
    emu_vdev_personality pers;
    emu_vdev_queue_info qinfo[NUM_QUEUES];
    emu_vdev_host_ops host;
    int kick[NUM_QUEUES];
    int call[NUM_QUEUES];
    bool started;
    emu_vhu_net_stats stats;
};

static void note_error(emu_vhu_net *n)
{
    n->stats.errors++;
    fprintf(stderr, "vhost-user front end: %s\n", n->conn.last_error);
}

static void no_processing(emu_vdev *dev, void *ctx, uint16_t queue)
{
    /* The back end runs the rings. */
    (void)dev;
    (void)ctx;
    (void)queue;
}

static void *host_translate(void *ctx, uint64_t gpa, uint64_t len)
{
    emu_vhu_net *n = ctx;
    return n->params.host->translate(n->params.host_ctx, gpa, len);
}

static void host_raise_msix(void *ctx, uint16_t vector)
{
    emu_vhu_net *n = ctx;
    n->params.host->raise_msix(n->params.host_ctx, vector);
}

static void host_queue_notify(void *ctx, emu_vdev *dev, uint16_t queue)
{
    emu_vhu_net *n = ctx;
    uint64_t one = 1;

    (void)dev;
    if (!n->started || queue >= NUM_QUEUES)
        return;
    if (write(n->kick[queue], &one, sizeof(one)) == sizeof(one))
        n->stats.kicks++;
}

static bool validate_features(emu_vdev *dev, void *ctx, uint64_t features)
{
    emu_vhu_net *n = ctx;
    uint64_t to_backend = features & n->stats.backend_features;

    (void)dev;
    if (n->stats.backend_features & BIT(EMU_VHU_F_PROTOCOL_FEATURES))
        to_backend |= BIT(EMU_VHU_F_PROTOCOL_FEATURES);
    if (!emu_vhu_set_u64(&n->conn, EMU_VHU_SET_FEATURES, to_backend)) {
        note_error(n);
        return false;
    }
    n->stats.acked_features = to_backend;
    return true;
}

static bool ring_user_addr(emu_vhu_net *n, uint64_t gpa, uint64_t len, uint64_t *va)
{
    void *p = emu_vhu_arena_translate(n->params.arena, gpa, len);

    *va = (uint64_t)(uintptr_t)p;
    return p != NULL;
}

static bool start_queue(emu_vhu_net *n, uint16_t q)
{
    emu_vhu_conn *c = &n->conn;
    uint64_t desc, avail, used, vdesc, vavail, vused;
    uint16_t size = emu_vdev_queue_size(n->dev, q);

    if (!emu_vdev_queue_rings(n->dev, q, &desc, &avail, &used))
        return true; /* the driver did not enable it */
    if (!ring_user_addr(n, desc, 16u * size, &vdesc) ||
        !ring_user_addr(n, avail, 6u + 2u * size, &vavail) ||
        !ring_user_addr(n, used, 6u + 8u * size, &vused)) {
        snprintf(c->last_error, sizeof(c->last_error), "queue %u rings outside shared memory", q);
        return false;
    }
    return emu_vhu_set_vring_state(c, EMU_VHU_SET_VRING_NUM, q, size) &&
           emu_vhu_set_vring_addr(c, q, vdesc, vused, vavail) &&
           emu_vhu_set_vring_state(c, EMU_VHU_SET_VRING_BASE, q, 0) &&
           emu_vhu_set_vring_fd(c, EMU_VHU_SET_VRING_CALL, q, n->call[q]) &&
           emu_vhu_set_vring_fd(c, EMU_VHU_SET_VRING_KICK, q, n->kick[q]) &&
           (!(n->stats.acked_features & BIT(EMU_VHU_F_PROTOCOL_FEATURES)) ||
            emu_vhu_set_vring_state(c, EMU_VHU_SET_VRING_ENABLE, q, 1));
}

/* DRIVER_OK: memory table, then every enabled ring. */
static void start_backend(emu_vhu_net *n)
{
    emu_vhu_arena *a = n->params.arena;
    emu_vhu_region r = { a->gpa_base, a->size, (uint64_t)(uintptr_t)a->va, 0, a->fd };
    uint16_t q;

    if (!emu_vhu_set_mem_table(&n->conn, &r, 1)) {
        note_error(n);
        return;
    }
    for (q = 0; q < NUM_QUEUES; q++) {
        if (!start_queue(n, q)) {
            note_error(n);
            emu_vdev_needs_reset(n->dev);
            return;
        }
    }
    n->started = true;
    n->stats.starts++;
}

/* Reset: the back end must stop touching the rings before the driver frees
 * them; GET_VRING_BASE stops a ring (vhost-user.rst, "Starting and stopping
 * rings"). */
static void stop_backend(emu_vhu_net *n)
{
    uint32_t base;
    uint16_t q;

    if (!n->started)
        return;
    n->started = false;
    for (q = 0; q < NUM_QUEUES; q++) {
        if ((n->stats.acked_features & BIT(EMU_VHU_F_PROTOCOL_FEATURES)) &&
            !emu_vhu_set_vring_state(&n->conn, EMU_VHU_SET_VRING_ENABLE, q, 0))
            note_error(n);
        if (!emu_vhu_get_vring_base(&n->conn, q, &base))
            note_error(n);
    }
    n->stats.stops++;
}

static void status_changed(emu_vdev *dev, void *ctx, uint8_t old_status, uint8_t new_status)
{
    emu_vhu_net *n = ctx;
    const uint8_t driver_ok = 0x04;

    (void)dev;
    if ((n->conn.protocol_features & BIT(EMU_VHU_PF_STATUS)) &&
        !emu_vhu_set_u64(&n->conn, EMU_VHU_SET_STATUS, new_status))
        note_error(n);
    if ((new_status & driver_ok) && !(old_status & driver_ok))
        start_backend(n);
}

static void device_reset(emu_vdev *dev, void *ctx)
{
    (void)dev;
    stop_backend(ctx);
}

static bool negotiate_protocol(emu_vhu_net *n)
{
    emu_vhu_conn *c = &n->conn;
    uint64_t pf;

    if (!emu_vhu_get_u64(c, EMU_VHU_GET_FEATURES, &n->stats.backend_features))
        return false;
    if (n->stats.backend_features & BIT(EMU_VHU_F_PROTOCOL_FEATURES)) {
        if (!emu_vhu_get_u64(c, EMU_VHU_GET_PROTOCOL_FEATURES, &pf) ||
            !emu_vhu_set_u64(c, EMU_VHU_SET_PROTOCOL_FEATURES,
                             pf & (BIT(EMU_VHU_PF_REPLY_ACK) | BIT(EMU_VHU_PF_STATUS))))
            return false;
        n->stats.protocol_features = c->protocol_features;
    }
    return emu_vhu_set_owner(c);
}

static bool make_eventfds(emu_vhu_net *n)
{
    unsigned q;

    for (q = 0; q < NUM_QUEUES; q++) {
        n->kick[q] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        n->call[q] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (n->kick[q] < 0 || n->call[q] < 0)
            return false;
    }
    return true;
}

static bool make_device(emu_vhu_net *n)
{
    uint8_t config[CONFIG_SIZE] = { 0 };
    emu_vdev_params dp = { 0 };
    unsigned q;
    uint64_t mask = n->params.feature_mask ? n->params.feature_mask : ~0ull;

    for (q = 0; q < NUM_QUEUES; q++)
        n->qinfo[q] = (emu_vdev_queue_info){ n->params.queue_size, no_processing };
    n->pers = (emu_vdev_personality){ .device_type = 1,
                                      .pci_class = 0x020000,
                                      .config_size = CONFIG_SIZE,
                                      .num_queues = NUM_QUEUES,
                                      .queues = n->qinfo,
                                      .validate_features = validate_features,
                                      .status_changed = status_changed,
                                      .reset = device_reset };
    n->host = (emu_vdev_host_ops){ .translate = host_translate,
                                   .raise_msix = host_raise_msix,
                                   .queue_notify = host_queue_notify };
    dp.personality = &n->pers;
    dp.personality_ctx = n;
    dp.host = &n->host;
    dp.host_ctx = n;
    dp.msix_vectors = n->params.msix_vectors;
    n->dev = emu_vdev_create(&dp);
    if (!n->dev)
        return false;
    emu_vdev_offer_features(n->dev,
                            ((n->stats.backend_features & PASSED_ON) | FRONT_END_OWN) & mask);
    memcpy(config, n->params.mac, 6);
    config[6] = LINK_UP;
    config[8] = 1; /* one queue pair */
    emu_vdev_config_set(n->dev, 0, config, CONFIG_SIZE);
    return true;
}

emu_vhu_net *emu_vhu_net_create(const emu_vhu_net_params *params, char *error, size_t error_len)
{
    emu_vhu_net *n = calloc(1, sizeof(*n));
    unsigned q;

    if (!n) {
        snprintf(error, error_len, "no memory");
        return NULL;
    }
    n->params = *params;
    if (!n->params.queue_size)
        n->params.queue_size = 256;
    for (q = 0; q < NUM_QUEUES; q++)
        n->kick[q] = n->call[q] = -1;
    if (!emu_vhu_connect(&n->conn, params->socket_path, params->connect_timeout_ms) ||
        !negotiate_protocol(n)) {
        snprintf(error, error_len, "%s", n->conn.last_error);
        emu_vhu_net_destroy(n);
        return NULL;
    }
    if (!make_eventfds(n) || !make_device(n)) {
        snprintf(error, error_len, "eventfd or device model creation failed");
        emu_vhu_net_destroy(n);
        return NULL;
    }
    return n;
}

void emu_vhu_net_destroy(emu_vhu_net *n)
{
    unsigned q;

    if (!n)
        return;
    if (n->conn.sock >= 0)
        stop_backend(n);
    emu_vhu_close(&n->conn);
    if (n->dev)
        emu_vdev_destroy(n->dev);
    for (q = 0; q < NUM_QUEUES; q++) {
        if (n->kick[q] >= 0)
            close(n->kick[q]);
        if (n->call[q] >= 0)
            close(n->call[q]);
    }
    free(n);
}

emu_vdev *emu_vhu_net_vdev(emu_vhu_net *n)
{
    return n->dev;
}

const emu_vhu_net_stats *emu_vhu_net_get_stats(const emu_vhu_net *n)
{
    return &n->stats;
}

const char *emu_vhu_net_last_error(const emu_vhu_net *n)
{
    return n->conn.last_error;
}

uint64_t emu_vhu_net_take_calls(emu_vhu_net *n, uint16_t queue)
{
    uint64_t v = 0;

    if (queue >= NUM_QUEUES || read(n->call[queue], &v, sizeof(v)) != sizeof(v))
        return 0;
    return v;
}
