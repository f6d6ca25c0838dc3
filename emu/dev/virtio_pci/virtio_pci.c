/*
 * virtio_pci.c - see virtio_pci.h.
 *
 * v->mu guards the host pointer and the per-queue "run scheduled" flags,
 * which the switch or a hypervisor may touch outside the device lock. The
 * model itself is only ever entered under ndisemu's device lock.
 */
#include "virtio_pci.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_QUEUES  64
#define QUEUE_DELAY 1000 /* ns from the doorbell to the device running the queue */

typedef struct queue_run {
    emu_vpci *v;
    uint16_t queue;
    bool scheduled;
} queue_run;

struct emu_vpci {
    pthread_mutex_t mu;
    emu_vdev *dev;
    emu_host *host;
    uint16_t device_type, msix_vectors;
    char pnp_id[32];
    queue_run q[MAX_QUEUES];
    emu_vpci_stats st;
};

emu_vpci *emu_vpci_create(void)
{
    emu_vpci *v = calloc(1, sizeof(*v));
    if (!v)
        return NULL;
    pthread_mutex_init(&v->mu, NULL);
    for (uint16_t i = 0; i < MAX_QUEUES; i++) {
        v->q[i].v = v;
        v->q[i].queue = i;
    }
    return v;
}

void emu_vpci_destroy(emu_vpci *v)
{
    if (!v)
        return;
    pthread_mutex_destroy(&v->mu);
    free(v);
}

void emu_vpci_bind(emu_vpci *v, emu_vdev *dev, uint16_t device_type, uint16_t msix_vectors)
{
    v->dev = dev;
    v->device_type = device_type;
    v->msix_vectors = msix_vectors;
}

emu_vdev *emu_vpci_vdev(emu_vpci *v)
{
    return v->dev;
}

/* ---- the model's host ops ---- */

static void *host_translate(void *ctx, uint64_t gpa, uint64_t len)
{
    emu_vpci *v = ctx;
    pthread_mutex_lock(&v->mu);
    void *p = v->host && len <= SIZE_MAX ? emu_host_dma_ptr(v->host, gpa, (size_t)len) : NULL;
    if (!p)
        v->st.dma_refused++;
    pthread_mutex_unlock(&v->mu);
    return p;
}

static void signal_vector(emu_vpci *v, unsigned vector)
{
    pthread_mutex_lock(&v->mu);
    bool ok = v->host && emu_host_msix_signal(v->host, vector) == 0;
    if (ok) {
        v->st.interrupts++;
        if (vector < 8)
            v->st.by_vector[vector]++;
    } else
        v->st.lost_interrupts++;
    pthread_mutex_unlock(&v->mu);
}

static void host_raise_msix(void *ctx, uint16_t vector)
{
    signal_vector(ctx, vector);
}

static void host_set_intx(void *ctx, bool asserted)
{
    if (asserted)
        signal_vector(ctx, 0);
}

static void run_queue(void *arg)
{
    queue_run *q = arg;
    emu_vpci *v = q->v;
    pthread_mutex_lock(&v->mu);
    q->scheduled = false;
    v->st.queue_runs++;
    pthread_mutex_unlock(&v->mu);
    emu_vdev_process_queue(v->dev, q->queue);
}

static void host_queue_notify(void *ctx, emu_vdev *dev, uint16_t queue)
{
    emu_vpci *v = ctx;
    (void)dev;
    if (queue >= MAX_QUEUES)
        return;
    pthread_mutex_lock(&v->mu);
    queue_run *q = &v->q[queue];
    if (q->scheduled)
        v->st.notifies_coalesced++;
    else if (v->host && emu_host_schedule(v->host, QUEUE_DELAY, run_queue, q))
        q->scheduled = true;
    pthread_mutex_unlock(&v->mu);
}

static const emu_vdev_host_ops k_host_ops = {
    .translate = host_translate,
    .raise_msix = host_raise_msix,
    .set_intx = host_set_intx,
    .queue_notify = host_queue_notify,
};

const emu_vdev_host_ops *emu_vpci_host_ops(void)
{
    return &k_host_ops;
}

/* ---- ndisemu's device ops ---- */

static uint32_t cfg_read(void *d, uint32_t off, unsigned size)
{
    emu_vpci *v = d;
    if (off + size > 256)
        return 0; /* no extended configuration space */
    return emu_vdev_cfg_read(v->dev, off, size);
}

static void cfg_write(void *d, uint32_t off, unsigned size, uint32_t value)
{
    emu_vpci *v = d;
    if (off + size <= 256)
        emu_vdev_cfg_write(v->dev, off, size, value);
}

static uint64_t mmio_read(void *d, unsigned bar, uint64_t off, unsigned size)
{
    return emu_vdev_mmio_read(((emu_vpci *)d)->dev, bar, off, size);
}

static void mmio_write(void *d, unsigned bar, uint64_t off, unsigned size, uint64_t value)
{
    emu_vdev_mmio_write(((emu_vpci *)d)->dev, bar, off, size, value);
}

static void attach(void *d, emu_host *host)
{
    emu_vpci *v = d;
    pthread_mutex_lock(&v->mu);
    v->host = host;
    for (unsigned i = 0; i < MAX_QUEUES; i++)
        v->q[i].scheduled = false;
    pthread_mutex_unlock(&v->mu);
}

static void detach(void *d)
{
    emu_vpci *v = d;
    pthread_mutex_lock(&v->mu);
    v->host = NULL;
    pthread_mutex_unlock(&v->mu);
}

static const emu_device_ops k_device_ops = {
    .cfg_read = cfg_read,
    .cfg_write = cfg_write,
    .mmio_read = mmio_read,
    .mmio_write = mmio_write,
    .attach = attach,
    .detach = detach,
};

void emu_vpci_device_desc(emu_vpci *v, const char *instance, emu_device_desc *desc)
{
    memset(desc, 0, sizeof(*desc));
    /* The hardware id is what the configuration space says now (a modern
     * 0x1040 + type, or a transitional id). */
    snprintf(v->pnp_id, sizeof(v->pnp_id), "PCI\\VEN_%04X&DEV_%04X",
             (unsigned)emu_vdev_cfg_read(v->dev, 0x00, 2),
             (unsigned)emu_vdev_cfg_read(v->dev, 0x02, 2));
    desc->instance = instance;
    desc->pnp_id = v->pnp_id;
    desc->bar_size[0] = EMU_VDEV_BAR0_SIZE;
    desc->msix_vectors = v->msix_vectors;
    desc->ops = &k_device_ops;
    desc->dev = v;
}

uint64_t emu_vpci_schedule(emu_vpci *v, uint64_t delay_ns, emu_device_work_fn fn, void *arg)
{
    pthread_mutex_lock(&v->mu);
    uint64_t id = v->host ? emu_host_schedule(v->host, delay_ns, fn, arg) : 0;
    pthread_mutex_unlock(&v->mu);
    return id;
}

bool emu_vpci_attached(emu_vpci *v)
{
    pthread_mutex_lock(&v->mu);
    bool a = v->host != NULL;
    pthread_mutex_unlock(&v->mu);
    return a;
}

void emu_vpci_get_stats(emu_vpci *v, emu_vpci_stats *out)
{
    pthread_mutex_lock(&v->mu);
    *out = v->st;
    pthread_mutex_unlock(&v->mu);
}
