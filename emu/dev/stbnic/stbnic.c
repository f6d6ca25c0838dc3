/*
 * stbnic.c - see stbnic.h. The bare model: a virtio-net personality with
 * the identity the failover needs and no data path.
 */
#include "stbnic.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtio_pci.h"

#define VNET_TYPE    1
#define F_MAC        5
#define F_STATUS     16
#define CFG_MAC      0
#define CFG_STATUS   6
#define CFG_SIZE     8
#define S_LINK_UP    1
#define MSIX_VECTORS 3
#define MAX_REG      8

struct emu_stbnic {
    pthread_mutex_t mu;
    emu_stbnic_cfg cfg;
    emu_vpci *glue;
    emu_vdev *vdev;
    emu_port *port;
    emu_stbnic_features_fn on_features;
    void *on_features_ctx;
    bool standby_offered, link_up;
    uint64_t driver_features;
    char reg_store[MAX_REG][64];
    const char *reg[MAX_REG + 1];
    emu_stbnic_stats st;
};

static void idle_queue(emu_vdev *dev, void *ctx, uint16_t queue)
{
    (void)dev;
    (void)ctx;
    (void)queue;
}

static const emu_vdev_queue_info k_queues[2] = { { 256, idle_queue }, { 256, idle_queue } };

static uint64_t offered(const emu_stbnic *nic)
{
    uint64_t f = (1ull << F_MAC) | (1ull << F_STATUS) | (1ull << EMU_VDEV_F_VERSION_1) |
                 (1ull << EMU_VDEV_F_INDIRECT_DESC) | (1ull << EMU_VDEV_F_EVENT_IDX);
    return nic->standby_offered ? f | (1ull << EMU_STBNIC_F_STANDBY) : f;
}

/* Device context (the driver's FEATURES_OK write). */
static bool features_ok(emu_vdev *dev, void *ctx, uint64_t features)
{
    emu_stbnic *nic = ctx;
    (void)dev;
    pthread_mutex_lock(&nic->mu);
    nic->driver_features = features;
    nic->st.negotiations++;
    emu_stbnic_features_fn fn = nic->on_features;
    void *fctx = nic->on_features_ctx;
    pthread_mutex_unlock(&nic->mu);
    if (fn)
        fn(fctx, nic, features);
    return true;
}

static const emu_vdev_personality k_bare = {
    .device_type = VNET_TYPE,
    .pci_class = 0x020000,
    .features = (1ull << F_MAC) | (1ull << F_STATUS) | (1ull << EMU_STBNIC_F_STANDBY),
    .config_size = CFG_SIZE,
    .num_queues = 2,
    .queues = k_queues,
    .validate_features = features_ok,
};

static void write_status(emu_stbnic *nic)
{
    uint8_t b[2] = { nic->link_up ? S_LINK_UP : 0, 0 };
    emu_vdev_config_set(nic->vdev, CFG_STATUS, b, 2);
}

emu_stbnic *emu_stbnic_create(const emu_stbnic_cfg *cfg)
{
    if (!cfg || cfg->model != EMU_STBNIC_BARE)
        return NULL;
    emu_stbnic *nic = calloc(1, sizeof(*nic));
    if (!nic)
        return NULL;
    pthread_mutex_init(&nic->mu, NULL);
    nic->cfg = *cfg;
    unsigned n = 0;
    for (; cfg->registry && cfg->registry[n] && n < MAX_REG; n++) {
        snprintf(nic->reg_store[n], sizeof(nic->reg_store[n]), "%s", cfg->registry[n]);
        nic->reg[n] = nic->reg_store[n];
    }
    nic->reg[n] = NULL;
    nic->cfg.registry = nic->reg;
    nic->link_up = !cfg->link_down;
    nic->glue = emu_vpci_create();
    emu_vdev_params p = { .personality = &k_bare,
                          .personality_ctx = nic,
                          .host = emu_vpci_host_ops(),
                          .host_ctx = nic->glue,
                          .msix_vectors = MSIX_VECTORS };
    nic->vdev = nic->glue ? emu_vdev_create(&p) : NULL;
    if (!nic->vdev) {
        emu_stbnic_destroy(nic);
        return NULL;
    }
    emu_vpci_bind(nic->glue, nic->vdev, VNET_TYPE, MSIX_VECTORS);
    emu_vdev_config_set(nic->vdev, CFG_MAC, cfg->mac, 6);
    write_status(nic);
    emu_vdev_offer_features(nic->vdev, offered(nic));
    return nic;
}

void emu_stbnic_destroy(emu_stbnic *nic)
{
    if (!nic)
        return;
    emu_stbnic_set_port(nic, NULL);
    emu_vdev_destroy(nic->vdev);
    emu_vpci_destroy(nic->glue);
    pthread_mutex_destroy(&nic->mu);
    free(nic);
}

void emu_stbnic_set_listener(emu_stbnic *nic, emu_stbnic_features_fn fn, void *ctx)
{
    pthread_mutex_lock(&nic->mu);
    nic->on_features = fn;
    nic->on_features_ctx = ctx;
    pthread_mutex_unlock(&nic->mu);
}

void emu_stbnic_device_desc(emu_stbnic *nic, const char *instance, emu_device_desc *desc)
{
    emu_vpci_device_desc(nic->glue, instance, desc);
    desc->registry = nic->reg;
}

const uint8_t *emu_stbnic_mac(const emu_stbnic *nic)
{
    return nic->cfg.mac;
}

/* Runs fn under the device lock when plugged, directly otherwise (nothing
 * else enters the model then). */
static void in_device(emu_stbnic *nic, emu_device_work_fn fn)
{
    if (!emu_vpci_schedule(nic->glue, 0, fn, nic))
        fn(nic);
}

static void apply_offer(void *arg)
{
    emu_stbnic *nic = arg;
    pthread_mutex_lock(&nic->mu);
    uint64_t f = offered(nic);
    pthread_mutex_unlock(&nic->mu);
    emu_vdev_offer_features(nic->vdev, f);
}

void emu_stbnic_offer_standby(emu_stbnic *nic, bool offer)
{
    pthread_mutex_lock(&nic->mu);
    nic->standby_offered = offer;
    pthread_mutex_unlock(&nic->mu);
    in_device(nic, apply_offer);
}

static void apply_link(void *arg)
{
    emu_stbnic *nic = arg;
    write_status(nic);
    emu_vdev_config_changed(nic->vdev);
}

void emu_stbnic_set_link(emu_stbnic *nic, bool up)
{
    pthread_mutex_lock(&nic->mu);
    nic->link_up = up;
    pthread_mutex_unlock(&nic->mu);
    in_device(nic, apply_link);
}

static void bare_rx(void *ctx, const uint8_t *frame, size_t len, unsigned from)
{
    emu_stbnic *nic = ctx;
    (void)frame;
    (void)len;
    (void)from;
    pthread_mutex_lock(&nic->mu);
    nic->st.rx_dropped++;
    pthread_mutex_unlock(&nic->mu);
}

void emu_stbnic_set_port(emu_stbnic *nic, emu_port *port)
{
    pthread_mutex_lock(&nic->mu);
    emu_port *old = nic->port;
    nic->port = port;
    pthread_mutex_unlock(&nic->mu);
    if (old)
        emu_port_connect(old, NULL, NULL);
    if (port) {
        emu_port_set_station_mac(port, nic->cfg.mac);
        emu_port_connect(port, bare_rx, nic);
    }
}

emu_port *emu_stbnic_port(emu_stbnic *nic)
{
    pthread_mutex_lock(&nic->mu);
    emu_port *p = nic->port;
    pthread_mutex_unlock(&nic->mu);
    return p;
}

bool emu_stbnic_announce(emu_stbnic *nic)
{
    (void)nic;
    return false; /* the bare model offers no GUEST_ANNOUNCE */
}

uint64_t emu_stbnic_driver_features(emu_stbnic *nic)
{
    pthread_mutex_lock(&nic->mu);
    uint64_t f = nic->driver_features;
    pthread_mutex_unlock(&nic->mu);
    return f;
}

void emu_stbnic_get_stats(emu_stbnic *nic, emu_stbnic_stats *out)
{
    pthread_mutex_lock(&nic->mu);
    *out = nic->st;
    pthread_mutex_unlock(&nic->mu);
}
