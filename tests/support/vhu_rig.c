/*
 * vhu_rig.c - see vhu_rig.h.
 */
#define _GNU_SOURCE
#include "vhu_rig.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define ARENA_SIZE (64ull << 20)
#define ARENA_GPA  0x100000000ull /* above 4 GiB: both address halves matter */
#define CONNECT_MS 60000          /* testpmd starts slowly on a loaded machine */
#define STOP_MS    30000
static const uint8_t rig_mac[6] = { 0x52, 0x54, 0x00, 0x76, 0x66, 0x6f };

static void *arena_alloc(void *ctx, size_t size, size_t guard, uint64_t *gpa)
{
    return emu_vhu_arena_alloc(ctx, size, guard, gpa);
}

static void arena_free(void *ctx, void *block, size_t size)
{
    emu_vhu_arena_free(ctx, block, size);
}

static emu_vdev *make_device(void *ctx, const emu_vdev_host_ops *host, void *host_ctx,
                             uint16_t vectors)
{
    vhu_rig *r = ctx;
    emu_vhu_net_params p = { .socket_path = r->socket_path,
                             .connect_timeout_ms = CONNECT_MS,
                             .arena = r->arena,
                             .host = host,
                             .host_ctx = host_ctx,
                             .msix_vectors = vectors };

    memcpy(p.mac, rig_mac, 6);
    r->dev = emu_vhu_net_create(&p, r->error, sizeof(r->error));
    return r->dev ? emu_vhu_net_vdev(r->dev) : NULL;
}

static void tx_done(void *ctx, void *cookie, vnet_status status)
{
    vhu_rig *r = ctx;

    (void)cookie;
    if (status == VNET_OK)
        r->tx_completed++;
}

static const vnet_callbacks rig_callbacks = { .tx_done = tx_done };

static bool start_testpmd(vhu_rig *r)
{
    char vdev[256];
    testpmd_params tp = { .vdev = vdev,
                          .forward_mode = r->params.forward_mode,
                          .lcores = r->params.lcores,
                          .tag = r->params.tag,
                          .extra = r->params.testpmd_extra,
                          .no_huge = r->params.no_huge };

    snprintf(r->socket_path, sizeof(r->socket_path), "/tmp/vfo-%s-%d.sock", r->params.tag,
             (int)getpid());
    unlink(r->socket_path);
    /* tso=1 offers the TSO features (the PMD hides them by default). */
    snprintf(vdev, sizeof(vdev), "net_vhost0,iface=%s,queues=1,tso=1", r->socket_path);
    return testpmd_start(&r->pmd, &tp);
}

static int fail(vhu_rig *r, const char *what)
{
    char saved[sizeof(r->error)];

    memcpy(saved, r->error, sizeof(saved));
    snprintf(r->error, sizeof(r->error), "%s: %.200s", what, saved);
    if (r->pmd.pid > 0)
        testpmd_stop(&r->pmd, STOP_MS);
    testpmd_dump_log(&r->pmd);
    return -1;
}

/* Starts testpmd with net_vhost and waits for its socket. */
static int back_end_up(vhu_rig *r)
{
    if (!r->params.lcores)
        r->params.lcores = "0,1";
    if (!r->params.tag)
        r->params.tag = "vhu";
    if (!testpmd_find(r->error, sizeof(r->error)))
        return VHU_RIG_NOT_FOUND;
    if (!start_testpmd(r))
        return fail(r, "starting dpdk-testpmd");
    if (!testpmd_wait_for_file(&r->pmd, r->socket_path, CONNECT_MS)) {
        snprintf(r->error, sizeof(r->error), "no socket %.100s (log %.100s)", r->socket_path,
                 r->pmd.log_path);
        return fail(r, "dpdk-testpmd did not come up");
    }
    return 0;
}

int vhu_rig_up(vhu_rig *r, const vhu_rig_params *params)
{
    vh_params hp = { .num_queues = 2, .make_device = make_device };
    vnet_status st;
    int rc;

    memset(r, 0, sizeof(*r));
    r->params = *params;
    r->pmd.pid = -1;
    if (params->socket_path) {
        snprintf(r->socket_path, sizeof(r->socket_path), "%s", params->socket_path);
    } else if ((rc = back_end_up(r)) != 0) {
        return rc;
    }
    r->arena = emu_vhu_arena_create(ARENA_SIZE, ARENA_GPA);
    if (!r->arena)
        return fail(r, "memfd guest memory");
    hp.make_ctx = r;
    hp.block_alloc = arena_alloc;
    hp.block_free = arena_free;
    hp.block_ctx = r->arena;
    r->h = vh_create(&hp);
    if (!r->h)
        return fail(r, "vhost-user device");
    st = vnet_create(&r->h->ops, r->h, NULL, &rig_callbacks, r, &r->n);
    if (st == VNET_OK)
        st = vnet_start(r->n);
    if (st != VNET_OK) {
        snprintf(r->error, sizeof(r->error), "%s (front end: %s)", vnet_status_name(st),
                 emu_vhu_net_last_error(r->dev));
        return fail(r, "vnet start");
    }
    if (!vh_dma_alloc(r->h, (size_t)VHU_RIG_SLOTS * VHU_RIG_SLOT, &r->payload))
        return fail(r, "payload memory");
    vnet_tx_disable_intr(r->n);
    vnet_rx_disable_intr(r->n);
    return 0;
}

bool vhu_rig_down(vhu_rig *r, testpmd_port_stats *stats, unsigned *complaints, char *first,
                  size_t first_len)
{
    bool clean = true;

    if (r->n)
        vnet_destroy(r->n); /* resets the device: the rings come back first */
    if (r->h) {
        vh_dma_free(r->h, &r->payload);
        clean = vh_destroy(r->h);
    }
    if (r->dev) {
        clean = clean && emu_vhu_net_get_stats(r->dev)->errors == 0;
        emu_vhu_net_destroy(r->dev);
    }
    emu_vhu_arena_destroy(r->arena);
    if (r->params.socket_path) {
        memset(stats, 0, sizeof(*stats));
        *complaints = 0;
        return clean;
    }
    if (!testpmd_stop(&r->pmd, STOP_MS))
        clean = false;
    testpmd_read_log(&r->pmd, stats, complaints, first, first_len);
    unlink(r->socket_path);
    return clean;
}
