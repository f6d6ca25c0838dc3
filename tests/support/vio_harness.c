/*
 * vio_harness.c - see vio_harness.h.
 */
#include "vio_harness.h"

#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define VH_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VH_ASAN 1
#endif
#endif
#ifdef VH_ASAN
#include <sanitizer/asan_interface.h>
#define VH_POISON(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#define VH_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define VH_POISON(p, n)   ((void)(p), (void)(n))
#define VH_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define VH_GUARD       64u
#define VH_CANARY      0xA5u
#define VH_GPA_BASE    0x100000000ull /* above 4 GiB: both address halves matter */
#define VH_GPA_ALIGN   4096u
#define VH_MAX_MAPS    8u
#define VH_CONFIG_SIZE 16u

struct vh_alloc {
    uint64_t gpa;
    size_t size;
    uint8_t *block; /* guard | size bytes | guard */
    bool live;
};

struct vh_map {
    bool used;
    uint8_t bar;
    uint32_t offset;
    uint32_t length;
};

/* ---- guest memory ----------------------------------------------------------- */

static uint64_t guard_damage(struct vh_alloc *a)
{
    uint8_t *tail = a->block + VH_GUARD + a->size;
    uint64_t bad = 0;
    uint32_t i;

    VH_UNPOISON(a->block, VH_GUARD);
    VH_UNPOISON(tail, VH_GUARD);
    for (i = 0; i < VH_GUARD; i++)
        bad += (a->block[i] != VH_CANARY) + (tail[i] != VH_CANARY);
    VH_POISON(a->block, VH_GUARD);
    VH_POISON(tail, VH_GUARD);
    return bad;
}

static struct vh_alloc *new_alloc(vio_harness *h)
{
    if (h->nallocs == h->alloc_cap) {
        uint32_t cap = h->alloc_cap ? h->alloc_cap * 2 : 16;
        struct vh_alloc *n = realloc(h->allocs, cap * sizeof(*n));
        if (!n)
            return NULL;
        h->allocs = n;
        h->alloc_cap = cap;
    }
    return &h->allocs[h->nallocs++];
}

/* A block from the provider, or from the heap with its own guest-physical
 * address and an untranslatable hole of at least a page after it. *zeroed:
 * the block is all zero already (calloc: a large block comes straight from
 * fresh pages, which a memset would only fault in). */
static uint8_t *block_get(vio_harness *h, size_t size, uint64_t *gpa, bool *zeroed)
{
    uint8_t *block;

    *zeroed = false;
    if (h->params.block_alloc)
        return h->params.block_alloc(h->params.block_ctx, size, VH_GUARD, gpa);
    block = calloc(1, size);
    *zeroed = block != NULL;
    if (block) {
        *gpa = h->next_gpa;
        h->next_gpa += ((size - 2 * VH_GUARD + VH_GPA_ALIGN - 1) / VH_GPA_ALIGN + 1) * VH_GPA_ALIGN;
    }
    return block;
}

static void block_put(vio_harness *h, uint8_t *block, size_t size)
{
    if (h->params.block_free)
        h->params.block_free(h->params.block_ctx, block, size);
    else
        free(block);
}

static bool gm_alloc(vio_harness *h, size_t size, size_t align, vio_dma *out)
{
    struct vh_alloc *a;
    uint8_t *block;
    uint64_t gpa;
    bool zeroed;

    if (size == 0 || align == 0 || align > VH_GPA_ALIGN || (align & (align - 1)))
        return false;
    block = block_get(h, size + 2 * VH_GUARD, &gpa, &zeroed);
    if (!block)
        return false;
    a = new_alloc(h);
    if (!a) {
        block_put(h, block, size + 2 * VH_GUARD);
        return false;
    }
    memset(block, VH_CANARY, VH_GUARD);
    if (!zeroed)
        memset(block + VH_GUARD, 0, size);
    memset(block + VH_GUARD + size, VH_CANARY, VH_GUARD);
    VH_POISON(block, VH_GUARD);
    VH_POISON(block + VH_GUARD + size, VH_GUARD);
    a->gpa = gpa;
    a->size = size;
    a->block = block;
    a->live = true;
    out->va = block + VH_GUARD;
    out->pa = a->gpa;
    out->size = size;
    out->os_handle = block;
    return true;
}

static void gm_free(vio_harness *h, vio_dma *dma)
{
    uint32_t i;

    for (i = 0; i < h->nallocs; i++) {
        struct vh_alloc *a = &h->allocs[i];
        if (a->live && a->block == dma->os_handle && a->gpa == dma->pa) {
            h->guard_corruptions += guard_damage(a);
            VH_UNPOISON(a->block, a->size + 2 * VH_GUARD);
            block_put(h, a->block, a->size + 2 * VH_GUARD);
            a->live = false;
            return;
        }
    }
    h->bad_frees++;
}

static bool alloc_covers(const struct vh_alloc *a, uint64_t gpa, uint64_t len)
{
    return a->live && gpa >= a->gpa && len <= a->size && gpa - a->gpa <= a->size - len;
}

static void *host_translate(void *ctx, uint64_t gpa, uint64_t len)
{
    vio_harness *h = ctx;
    uint32_t i;

    /* Buffers cluster in a few allocations: try the last hit first. */
    if (h->last_hit < h->nallocs && alloc_covers(&h->allocs[h->last_hit], gpa, len))
        return h->allocs[h->last_hit].block + VH_GUARD + (gpa - h->allocs[h->last_hit].gpa);
    for (i = 0; i < h->nallocs; i++) {
        if (alloc_covers(&h->allocs[i], gpa, len)) {
            h->last_hit = i;
            return h->allocs[i].block + VH_GUARD + (gpa - h->allocs[i].gpa);
        }
    }
    return NULL;
}

uint64_t vh_dma_digest(vio_harness *h)
{
    uint64_t hash = 1469598103934665603ull; /* FNV-1a */
    uint32_t i;
    size_t k;

    for (i = 0; i < h->nallocs; i++) {
        const struct vh_alloc *a = &h->allocs[i];
        if (!a->live)
            continue;
        for (k = 0; k < a->size; k++)
            hash = (hash ^ a->block[VH_GUARD + k]) * 1099511628211ull;
    }
    return hash;
}

uint64_t vh_check_guards(vio_harness *h)
{
    uint64_t bad = 0;
    uint32_t i;

    for (i = 0; i < h->nallocs; i++)
        if (h->allocs[i].live)
            bad += guard_damage(&h->allocs[i]);
    return bad;
}

/* ---- the OS ops lib/virtio runs on --------------------------------------------- */

static uint32_t os_pci_cfg_read(void *os, uint32_t offset, unsigned width)
{
    vio_harness *h = os;
    uint32_t v = emu_vdev_cfg_read(h->dev, offset, width);
    unsigned i;

    for (i = 0; i < width && offset + i < 256; i++) {
        if (h->cfg_overridden[offset + i]) {
            v &= ~(0xFFu << (8 * i));
            v |= (uint32_t)h->cfg_override[offset + i] << (8 * i);
        }
    }
    return v;
}

void vh_override_cfg(vio_harness *h, uint32_t offset, unsigned width, uint32_t value)
{
    unsigned i;

    for (i = 0; i < width && offset + i < 256; i++) {
        h->cfg_override[offset + i] = (uint8_t)(value >> (8 * i));
        h->cfg_overridden[offset + i] = true;
    }
}

static void *os_bar_map(void *os, uint8_t bar, uint32_t offset, uint32_t length)
{
    vio_harness *h = os;
    uint32_t i;

    if (bar != 0 || offset > EMU_VDEV_BAR0_SIZE || length > EMU_VDEV_BAR0_SIZE - offset)
        return NULL;
    for (i = 0; i < VH_MAX_MAPS; i++) {
        if (!h->maps[i].used) {
            h->maps[i] = (struct vh_map){ true, bar, offset, length };
            return &h->maps[i];
        }
    }
    return NULL;
}

static void os_bar_unmap(void *os, void *region, uint32_t length)
{
    struct vh_map *m = region;
    vio_harness *h = os;

    if (!m->used || m->length != length)
        h->bad_frees++;
    m->used = false;
}

/* Every register access goes through here: count the ones outside the window. */
static bool reg_target(vio_harness *h, void *region, uint32_t off, unsigned width,
                       uint64_t *bar_off)
{
    struct vh_map *m = region;

    if (!m || !m->used || off > m->length || width > m->length - off) {
        h->bad_register_accesses++;
        return false;
    }
    *bar_off = (uint64_t)m->offset + off;
    return true;
}

static uint64_t reg_read(void *os, void *region, uint32_t off, unsigned width)
{
    vio_harness *h = os;
    uint64_t bar_off, v;

    if (!reg_target(h, region, off, width, &bar_off))
        return UINT64_MAX;
    v = emu_vdev_mmio_read(h->dev, 0, bar_off, width);
    return h->read_hook ? h->read_hook(h->read_hook_ctx, bar_off, width, v) : v;
}

static void reg_write(void *os, void *region, uint32_t off, unsigned width, uint64_t v)
{
    vio_harness *h = os;
    uint64_t bar_off;

    if (reg_target(h, region, off, width, &bar_off))
        emu_vdev_mmio_write(h->dev, 0, bar_off, width, v);
}

static uint8_t os_read8(void *os, void *r, uint32_t off)
{
    return (uint8_t)reg_read(os, r, off, 1);
}
static uint16_t os_read16(void *os, void *r, uint32_t off)
{
    return (uint16_t)reg_read(os, r, off, 2);
}
static uint32_t os_read32(void *os, void *r, uint32_t off)
{
    return (uint32_t)reg_read(os, r, off, 4);
}
static void os_write8(void *os, void *r, uint32_t off, uint8_t v)
{
    reg_write(os, r, off, 1, v);
}
static void os_write16(void *os, void *r, uint32_t off, uint16_t v)
{
    reg_write(os, r, off, 2, v);
}
static void os_write32(void *os, void *r, uint32_t off, uint32_t v)
{
    reg_write(os, r, off, 4, v);
}

static bool os_dma_alloc(void *os, size_t size, size_t align, vio_dma *out)
{
    return gm_alloc(os, size, align, out);
}

static void os_dma_free(void *os, vio_dma *dma)
{
    gm_free(os, dma);
}

/* Plain memory carries its size in front, so frees with a wrong size show. */
static void *os_mem_alloc(void *os, size_t size)
{
    vio_harness *h = os;
    size_t *p = calloc(1, sizeof(size_t) * 2 + size);

    if (!p)
        return NULL;
    p[0] = size;
    h->mem_live++;
    return p + 2;
}

static void os_mem_free(void *os, void *ptr, size_t size)
{
    vio_harness *h = os;
    size_t *p = (size_t *)ptr - 2;

    if (p[0] != size)
        h->bad_frees++;
    h->mem_live--;
    free(p);
}

static uint16_t os_msix_vector_count(void *os)
{
    vio_harness *h = os;
    return h->params.os_vectors;
}

static void os_sleep_us(void *os, uint32_t us)
{
    vio_harness *h = os;
    h->slept_us += us;
}

static const vio_os_ops vh_os_ops = {
    .pci_cfg_read = os_pci_cfg_read,
    .bar_map = os_bar_map,
    .bar_unmap = os_bar_unmap,
    .read8 = os_read8,
    .read16 = os_read16,
    .read32 = os_read32,
    .write8 = os_write8,
    .write16 = os_write16,
    .write32 = os_write32,
    .dma_alloc = os_dma_alloc,
    .dma_free = os_dma_free,
    .mem_alloc = os_mem_alloc,
    .mem_free = os_mem_free,
    .msix_vector_count = os_msix_vector_count,
    .sleep_us = os_sleep_us,
};

/* ---- the host ops the device model runs on ----------------------------------- */

static void host_raise_msix(void *ctx, uint16_t vector)
{
    vio_harness *h = ctx;
    if (vector < VH_MAX_VECTORS)
        h->msix_raised[vector]++;
}

static void host_set_intx(void *ctx, bool asserted)
{
    vio_harness *h = ctx;
    h->intx_level = asserted;
}

static void host_queue_notify(void *ctx, emu_vdev *dev, uint16_t queue)
{
    vio_harness *h = ctx;

    if (queue < VH_MAX_QUEUES)
        h->notify_count[queue]++;
    if (h->params.process_on_notify)
        emu_vdev_process_queue(dev, queue);
}

static const emu_vdev_host_ops vh_host_ops = {
    .translate = host_translate,
    .raise_msix = host_raise_msix,
    .set_intx = host_set_intx,
    .queue_notify = host_queue_notify,
};

/* ---- the test personality ------------------------------------------------------- */

/* Copies the readable bytes into the writable part; returns bytes written. */
static uint32_t echo(const emu_vdev_req *req, uint32_t limit)
{
    uint8_t chunk[256];
    size_t done = 0, want = req->readable_len;

    if (want > req->writable_len)
        want = req->writable_len;
    if (limit && want > limit)
        want = limit;
    while (done < want) {
        size_t n = want - done < sizeof(chunk) ? want - done : sizeof(chunk);
        n = emu_vdev_req_read(req, done, chunk, n);
        emu_vdev_req_write(req, done, chunk, n);
        done += n;
    }
    return (uint32_t)done;
}

static void vh_process(emu_vdev *dev, void *ctx, uint16_t q)
{
    vio_harness *h = ctx;
    emu_vdev_req req;

    for (;;) {
        if (h->mode[q] == VH_HOLD) {
            if (h->nheld[q] == h->params.queue_size ||
                emu_vdev_pop(dev, q, &h->held[q][h->nheld[q]]) != EMU_VDEV_POP_OK)
                break;
            h->nheld[q]++;
            h->popped[q]++;
            continue;
        }
        if (emu_vdev_pop(dev, q, &req) != EMU_VDEV_POP_OK)
            break;
        h->popped[q]++;
        emu_vdev_push(dev, &req, echo(&req, h->echo_limit[q]));
    }
    emu_vdev_signal(dev, q);
}

static bool vh_validate(emu_vdev *dev, void *ctx, uint64_t features)
{
    vio_harness *h = ctx;

    (void)dev;
    h->last_features_validated = features;
    return (features & h->refuse_feature_mask) == 0;
}

static void vh_status_changed(emu_vdev *dev, void *ctx, uint8_t old_status, uint8_t new_status)
{
    vio_harness *h = ctx;

    (void)dev;
    (void)old_status;
    if (h->nstatus < sizeof(h->status_log))
        h->status_log[h->nstatus++] = new_status;
}

static void vh_reset(emu_vdev *dev, void *ctx)
{
    vio_harness *h = ctx;

    (void)dev;
    memset(h->nheld, 0, sizeof(h->nheld));
    h->resets_seen++;
}

uint32_t vh_complete_held(vio_harness *h, uint16_t q, uint32_t n, uint32_t written)
{
    uint32_t i;

    if (n > h->nheld[q])
        n = h->nheld[q];
    for (i = 0; i < n; i++)
        emu_vdev_push(h->dev, &h->held[q][i], written);
    memmove(h->held[q], h->held[q] + n, (h->nheld[q] - n) * sizeof(emu_vdev_req));
    h->nheld[q] -= n;
    emu_vdev_signal(h->dev, q);
    return n;
}

void vh_complete_one(vio_harness *h, uint16_t q, uint32_t i, uint32_t written)
{
    if (i >= h->nheld[q])
        return;
    emu_vdev_push(h->dev, &h->held[q][i], written);
    memmove(&h->held[q][i], &h->held[q][i + 1], (h->nheld[q] - i - 1) * sizeof(emu_vdev_req));
    h->nheld[q]--;
    emu_vdev_signal(h->dev, q);
}

void vh_set_config(vio_harness *h, const vh_config *cfg, bool notify)
{
    uint8_t raw[VH_CONFIG_SIZE];

    memcpy(raw, cfg->mac, 6);
    memcpy(raw + 6, &cfg->status, 2);
    memcpy(raw + 8, &cfg->speed, 4);
    memcpy(raw + 12, &cfg->cookie, 4);
    emu_vdev_config_set(h->dev, 0, raw, sizeof(raw));
    if (notify)
        emu_vdev_config_changed(h->dev);
}

/* ---- set-up ------------------------------------------------------------------------- */

uint8_t vh_find_cap(vio_harness *h, uint8_t id, int type)
{
    uint8_t pos = (uint8_t)emu_vdev_cfg_read(h->dev, 0x34, 1);
    unsigned hops;

    for (hops = 0; pos && hops < 48; hops++) {
        if (emu_vdev_cfg_read(h->dev, pos, 1) == id &&
            (id != 0x09 || (int)emu_vdev_cfg_read(h->dev, pos + 3u, 1) == type))
            return pos;
        pos = (uint8_t)emu_vdev_cfg_read(h->dev, pos + 1u, 1);
    }
    return 0;
}

/* What the OS does before a driver starts: decode memory, master the bus,
 * place BAR 0, enable MSI-X and unmask every vector. */
static void os_enable_device(vio_harness *h)
{
    uint8_t msix = vh_find_cap(h, 0x11, 0);
    uint32_t table, vectors, v;

    emu_vdev_cfg_write(h->dev, 0x04, 2, 0x0006);
    emu_vdev_cfg_write(h->dev, 0x10, 4, 0xFE000000u);
    emu_vdev_cfg_write(h->dev, 0x14, 4, 0);
    if (!msix)
        return;
    vectors = (emu_vdev_cfg_read(h->dev, msix + 2u, 2) & 0x7FF) + 1;
    table = emu_vdev_cfg_read(h->dev, msix + 4u, 4) & ~7u;
    emu_vdev_cfg_write(h->dev, msix + 2u, 2, 0x8000);
    for (v = 0; v < vectors; v++)
        emu_vdev_mmio_write(h->dev, 0, table + 16 * v + 12, 4, 0);
}

static void apply_defaults(vh_params *p)
{
    if (p->num_queues == 0)
        p->num_queues = 2;
    if (p->num_queues > VH_MAX_QUEUES)
        p->num_queues = VH_MAX_QUEUES;
    if (p->queue_size == 0)
        p->queue_size = 256;
    if (p->msix_vectors == 0)
        p->msix_vectors = (uint16_t)(p->num_queues + 1);
    if (p->os_vectors == 0)
        p->os_vectors = p->msix_vectors;
}

/* The harness's own device: the test personality. */
static emu_vdev *make_test_device(vio_harness *h)
{
    emu_vdev_params dp = { 0 };
    uint16_t q;

    for (q = 0; q < h->params.num_queues; q++) {
        h->qinfo[q] = (emu_vdev_queue_info){ h->params.queue_size, vh_process };
        h->held[q] = calloc(h->params.queue_size, sizeof(emu_vdev_req));
    }
    h->pers = (emu_vdev_personality){
        .device_type = VH_DEVICE_TYPE,
        .pci_class = 0xFF0000,
        .features = h->params.features,
        .config_size = VH_CONFIG_SIZE,
        .num_queues = h->params.num_queues,
        .queues = h->qinfo,
        .validate_features = vh_validate,
        .status_changed = vh_status_changed,
        .reset = vh_reset,
    };
    dp.personality = &h->pers;
    dp.personality_ctx = h;
    dp.host = &vh_host_ops;
    dp.host_ctx = h;
    dp.msix_vectors = h->params.msix_vectors;
    return emu_vdev_create(&dp);
}

vio_harness *vh_create(const vh_params *params)
{
    vio_harness *h = calloc(1, sizeof(*h));

    if (!h)
        return NULL;
    if (params)
        h->params = *params;
    apply_defaults(&h->params);
    h->ops = vh_os_ops;
    h->next_gpa = VH_GPA_BASE;
    h->maps = calloc(VH_MAX_MAPS, sizeof(*h->maps));
    if (h->params.make_device)
        h->dev = h->params.make_device(h->params.make_ctx, &vh_host_ops, h, h->params.msix_vectors);
    else
        h->dev = make_test_device(h);
    if (!h->dev || !h->maps) {
        vh_destroy(h);
        return NULL;
    }
    os_enable_device(h);
    return h;
}

bool vh_destroy(vio_harness *h)
{
    bool clean;
    uint32_t i, live = 0;
    uint16_t q;

    if (!h)
        return true;
    for (i = 0; i < h->nallocs; i++) {
        if (h->allocs[i].live) {
            live++;
            h->guard_corruptions += guard_damage(&h->allocs[i]);
            VH_UNPOISON(h->allocs[i].block, h->allocs[i].size + 2 * VH_GUARD);
            block_put(h, h->allocs[i].block, h->allocs[i].size + 2 * VH_GUARD);
        }
    }
    for (i = 0; h->maps && i < VH_MAX_MAPS; i++)
        live += h->maps[i].used;
    clean = live == 0 && h->mem_live == 0 && h->bad_frees == 0 && h->guard_corruptions == 0;
    if (!h->params.make_device)
        emu_vdev_destroy(h->dev);
    for (q = 0; q < VH_MAX_QUEUES; q++)
        free(h->held[q]);
    free(h->allocs);
    free(h->maps);
    free(h);
    return clean;
}

vio_status vh_driver_init(vio_harness *h, uint64_t wanted, vio_dev **out)
{
    vio_status st = vio_dev_create(&h->ops, h, NULL, out);

    if (st == VIO_OK)
        st = vio_dev_begin_init(*out);
    if (st == VIO_OK)
        st = vio_dev_negotiate(*out, wanted, NULL);
    return st;
}

uint32_t vh_driver_teardown(vio_harness *h, vio_dev *dev, vio_vq **vqs, unsigned nvq)
{
    uint32_t detached = 0;
    unsigned i;

    (void)h;
    vio_dev_reset(dev);
    for (i = 0; i < nvq; i++) {
        while (vio_vq_detach_unused(vqs[i]))
            detached++;
        vio_vq_destroy(vqs[i]);
    }
    vio_dev_destroy(dev);
    return detached;
}

bool vh_dma_alloc(vio_harness *h, size_t size, vio_dma *out)
{
    return gm_alloc(h, size, 16, out);
}

void vh_dma_free(vio_harness *h, vio_dma *dma)
{
    gm_free(h, dma);
}
