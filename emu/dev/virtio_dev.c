/*
 * virtio_dev.c - the device model's life cycle, reset, interrupts,
 * device-specific configuration and fault injection.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "virtio_dev_internal.h"

#define EMU_VDEV_TRANSPORT_FEATURES                                        \
    ((1ull << EMU_VDEV_F_VERSION_1) | (1ull << EMU_VDEV_F_INDIRECT_DESC) | \
     (1ull << EMU_VDEV_F_EVENT_IDX))

/* Everything a reset returns to its initial value. */
static void reset_state(emu_vdev *dev)
{
    uint16_t i;

    dev->status = 0;
    dev->isr = 0;
    dev->reset_pending = false;
    dev->driver_features = 0;
    dev->event_idx = false;
    dev->indirect = false;
    dev->dfselect = 0;
    dev->gfselect = 0;
    dev->config_msix = EMU_VDEV_NO_VECTOR;
    dev->queue_select = 0;
    dev->epoch++;
    for (i = 0; i < dev->pers.num_queues; i++) {
        emu_vdev_queue *q = &dev->queues[i];
        memset(q, 0, sizeof(*q));
        q->max_size = dev->pers.queues[i].max_size;
        q->size = q->max_size;
        q->msix_vector = EMU_VDEV_NO_VECTOR;
    }
}

static bool personality_usable(const emu_vdev_personality *p)
{
    uint16_t q;

    if (!p || !p->queues || p->num_queues == 0 || p->num_queues > EMU_VDEV_MAX_QUEUES ||
        p->config_size > EMU_VDEV_MAX_CONFIG || p->device_type == 0)
        return false;
    for (q = 0; q < p->num_queues; q++) {
        uint16_t size = p->queues[q].max_size;
        if (!p->queues[q].process || size == 0 || size > EMU_VDEV_QSIZE_MAX ||
            (size & (size - 1)) != 0)
            return false;
    }
    return true;
}

emu_vdev *emu_vdev_create(const emu_vdev_params *params)
{
    uint16_t vectors;
    emu_vdev *dev;

    if (!params || !personality_usable(params->personality) || !params->host ||
        !params->host->translate || !params->host->raise_msix || !params->host->queue_notify)
        return NULL;
    vectors = params->msix_vectors;
    if (vectors == 0)
        vectors = (uint16_t)(params->personality->num_queues + 1u);
    if (vectors > EMU_VDEV_MAX_VECTORS)
        vectors = EMU_VDEV_MAX_VECTORS;
    dev = calloc(1, sizeof(*dev));
    if (!dev)
        return NULL;
    dev->pers = *params->personality;
    dev->pers_ctx = params->personality_ctx;
    dev->host = params->host;
    dev->host_ctx = params->host_ctx;
    dev->msix_vectors = vectors;
    dev->offered = dev->pers.features | EMU_VDEV_TRANSPORT_FEATURES;
    /* Every MSI-X entry starts masked, as the PCI spec requires. */
    for (uint16_t v = 0; v < vectors; v++)
        dev->msix_table[v][3] = 1;
    emu_vdev_cfg_init(dev);
    reset_state(dev);
    return dev;
}

void emu_vdev_destroy(emu_vdev *dev)
{
    free(dev);
}

void emu_vdev_do_reset(emu_vdev *dev)
{
    if (dev->pers.reset)
        dev->pers.reset(dev, dev->pers_ctx);
    reset_state(dev);
    if (dev->host->set_intx)
        dev->host->set_intx(dev->host_ctx, false);
    dev->stats.resets++;
}

bool emu_vdev_fault_consume(emu_vdev *dev, emu_vdev_fault fault, uint16_t queue)
{
    emu_vdev_fault_state *f = &dev->faults[fault];

    if (f->count == 0 || f->queue != queue)
        return false;
    if (f->count != EMU_VDEV_FOREVER && --f->count == 0)
        dev->faults_armed &= ~(1u << fault);
    return true;
}

void emu_vdev_inject_fault(emu_vdev *dev, emu_vdev_fault fault, uint16_t queue, uint32_t value,
                           uint32_t count)
{
    if ((unsigned)fault >= EMU_VDEV_FAULT_COUNT)
        return;
    dev->faults[fault].queue = queue;
    dev->faults[fault].value = value;
    dev->faults[fault].count = count;
    if (count)
        dev->faults_armed |= 1u << fault;
    else
        dev->faults_armed &= ~(1u << fault);
}

/* ---- interrupts ---------------------------------------------------------- */

static bool msix_masked(const emu_vdev *dev, uint16_t vector)
{
    uint16_t control = emu_vdev_le16(&dev->cfg[EMU_VDEV_CAP_MSIX + 2]);

    return (control & 0x4000) || (dev->msix_table[vector][3] & 1);
}

static void msix_send(emu_vdev *dev, uint16_t vector)
{
    if (vector >= dev->msix_vectors)
        return;
    if (msix_masked(dev, vector)) {
        dev->msix_pending |= 1ull << vector;
        dev->stats.msix_held++;
        return;
    }
    dev->host->raise_msix(dev->host_ctx, vector);
}

void emu_vdev_msix_deliver_pending(emu_vdev *dev)
{
    uint16_t v;

    if (!emu_vdev_msix_enabled(dev))
        return;
    for (v = 0; v < dev->msix_vectors; v++) {
        if ((dev->msix_pending & (1ull << v)) && !msix_masked(dev, v)) {
            dev->msix_pending &= ~(1ull << v);
            dev->host->raise_msix(dev->host_ctx, v);
        }
    }
}

static void intx_assert(emu_vdev *dev)
{
    uint16_t command = emu_vdev_le16(&dev->cfg[0x04]);

    if (dev->host->set_intx && !(command & 0x0400))
        dev->host->set_intx(dev->host_ctx, true);
}

void emu_vdev_queue_irq(emu_vdev *dev, uint16_t queue)
{
    dev->stats.queue_irqs++;
    if (emu_vdev_msix_enabled(dev)) {
        msix_send(dev, dev->queues[queue].msix_vector);
        return;
    }
    dev->isr |= 0x1;
    intx_assert(dev);
}

static void config_irq(emu_vdev *dev)
{
    dev->stats.config_irqs++;
    /* The spec sets the configuration bit before any notification, MSI-X
     * or not, so a driver that reads ISR sees it either way. */
    dev->isr |= 0x2;
    if (emu_vdev_msix_enabled(dev))
        msix_send(dev, dev->config_msix);
    else
        intx_assert(dev);
}

/* ---- errors ------------------------------------------------------------ */

void emu_vdev_needs_reset(emu_vdev *dev)
{
    if (dev->status & EMU_VDEV_S_NEEDS_RESET)
        return;
    dev->status |= EMU_VDEV_S_NEEDS_RESET;
    if (dev->status & EMU_VDEV_S_DRIVER_OK)
        config_irq(dev);
}

void emu_vdev_driver_error(emu_vdev *dev, emu_vdev_queue *q, emu_vdev_error err)
{
    dev->stats.driver_errors++;
    dev->stats.last_error = err;
    if (q)
        q->stopped = true;
    emu_vdev_needs_reset(dev);
}

static const char *const emu_vdev_error_names[EMU_VDEV_ERR_COUNT] = {
    [EMU_VDEV_ERR_NONE] = "none",
    [EMU_VDEV_ERR_QUEUE_SIZE] = "queue-size",
    [EMU_VDEV_ERR_RING_ADDRESS] = "ring-address",
    [EMU_VDEV_ERR_AVAIL_IDX] = "avail-idx",
    [EMU_VDEV_ERR_HEAD] = "head",
    [EMU_VDEV_ERR_DESC_ADDRESS] = "desc-address",
    [EMU_VDEV_ERR_DESC_NEXT] = "desc-next",
    [EMU_VDEV_ERR_DESC_LOOP] = "desc-loop",
    [EMU_VDEV_ERR_INDIRECT] = "indirect",
    [EMU_VDEV_ERR_CHAIN_LONG] = "chain-long",
    [EMU_VDEV_ERR_DESC_ORDER] = "desc-order",
    [EMU_VDEV_ERR_LEN_OVERFLOW] = "len-overflow",
};

const char *emu_vdev_error_name(emu_vdev_error err)
{
    if ((unsigned)err >= EMU_VDEV_ERR_COUNT)
        return "unknown";
    return emu_vdev_error_names[err];
}

/* ---- device-specific configuration ------------------------------------- */

static bool config_range_ok(const emu_vdev *dev, uint32_t offset, uint32_t len)
{
    return offset <= dev->pers.config_size && len <= dev->pers.config_size - offset;
}

void emu_vdev_config_set(emu_vdev *dev, uint32_t offset, const void *data, uint32_t len)
{
    if (config_range_ok(dev, offset, len))
        memcpy(dev->config + offset, data, len);
}

void emu_vdev_config_get(const emu_vdev *dev, uint32_t offset, void *buf, uint32_t len)
{
    if (config_range_ok(dev, offset, len))
        memcpy(buf, dev->config + offset, len);
}

void emu_vdev_config_changed(emu_vdev *dev)
{
    dev->generation++;
    /* A fence so a driver on another thread sees the new bytes with it. */
    atomic_thread_fence(memory_order_seq_cst);
    if (dev->status & EMU_VDEV_S_DRIVER_OK)
        config_irq(dev);
}

/* ---- state ----------------------------------------------------------------- */

uint8_t emu_vdev_status(const emu_vdev *dev)
{
    return dev->status;
}

uint64_t emu_vdev_driver_features(const emu_vdev *dev)
{
    return (dev->status & EMU_VDEV_S_FEATURES_OK) ? dev->driver_features : 0;
}

void emu_vdev_offer_features(emu_vdev *dev, uint64_t features)
{
    dev->offered = features;
}

bool emu_vdev_queue_enabled(const emu_vdev *dev, uint16_t queue)
{
    return queue < dev->pers.num_queues && dev->queues[queue].enabled;
}

uint16_t emu_vdev_queue_size(const emu_vdev *dev, uint16_t queue)
{
    return queue < dev->pers.num_queues ? dev->queues[queue].size : 0;
}

bool emu_vdev_queue_rings(const emu_vdev *dev, uint16_t queue, uint64_t *desc, uint64_t *avail,
                          uint64_t *used)
{
    const emu_vdev_queue *q;

    if (queue >= dev->pers.num_queues || !dev->queues[queue].enabled)
        return false;
    q = &dev->queues[queue];
    *desc = q->desc_gpa;
    *avail = q->avail_gpa;
    *used = q->used_gpa;
    return true;
}

const emu_vdev_stats *emu_vdev_get_stats(const emu_vdev *dev)
{
    return &dev->stats;
}
