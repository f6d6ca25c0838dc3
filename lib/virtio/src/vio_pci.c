/*
 * vio_pci.c - the virtio 1.x PCI modern transport: status handshake,
 * feature negotiation, reset, device configuration and MSI-X routing.
 */
#include <string.h>

#include "vio_internal.h"

#define VIO_DEFAULT_RESET_TIMEOUT_US  1000000u
#define VIO_DEFAULT_RESET_POLL_US     1000u
#define VIO_DEFAULT_CONFIG_READ_TRIES 16u

/* Transport bits this library implements; others in 24..41 are never
 * accepted, whatever the caller wants. */
#define VIO_TRANSPORT_MASK \
    ((VIO_FEATURE(VIO_F_TRANSPORT_LAST + 1) - 1) & ~(VIO_FEATURE(VIO_F_TRANSPORT_FIRST) - 1))
#define VIO_TRANSPORT_SUPPORTED                                        \
    (VIO_FEATURE(VIO_F_INDIRECT_DESC) | VIO_FEATURE(VIO_F_EVENT_IDX) | \
     VIO_FEATURE(VIO_F_VERSION_1) | VIO_FEATURE(VIO_F_ACCESS_PLATFORM))

static bool ops_complete(const vio_os_ops *ops)
{
    return ops->pci_cfg_read && ops->bar_map && ops->bar_unmap && ops->read8 && ops->read16 &&
           ops->read32 && ops->write8 && ops->write16 && ops->write32 && ops->dma_alloc &&
           ops->dma_free && ops->mem_alloc && ops->mem_free && ops->msix_vector_count &&
           ops->sleep_us;
}

static void apply_params(vio_dev *dev, const vio_dev_params *p)
{
    dev->params.reset_timeout_us = VIO_DEFAULT_RESET_TIMEOUT_US;
    dev->params.reset_poll_us = VIO_DEFAULT_RESET_POLL_US;
    dev->params.config_read_tries = VIO_DEFAULT_CONFIG_READ_TRIES;
    if (!p)
        return;
    if (p->reset_timeout_us)
        dev->params.reset_timeout_us = p->reset_timeout_us;
    if (p->reset_poll_us)
        dev->params.reset_poll_us = p->reset_poll_us;
    if (p->config_read_tries)
        dev->params.config_read_tries = p->config_read_tries;
}

vio_status vio_dev_create(const vio_os_ops *ops, void *os, const vio_dev_params *params,
                          vio_dev **out)
{
    vio_status st;
    vio_dev *dev;

    if (!ops || !out || !ops_complete(ops))
        return VIO_E_INVAL;
    *out = NULL;
    dev = ops->mem_alloc(os, sizeof(*dev));
    if (!dev)
        return VIO_E_NOMEM;
    memset(dev, 0, sizeof(*dev));
    dev->ops = ops;
    dev->os = os;
    apply_params(dev, params);
    st = vio_caps_discover(dev);
    if (st != VIO_OK) {
        ops->mem_free(os, dev, sizeof(*dev));
        return st;
    }
    dev->num_queues = vio_common_read16(dev, VIO_COMMON_NUMQ);
    *out = dev;
    return VIO_OK;
}

void vio_dev_destroy(vio_dev *dev)
{
    if (!dev)
        return;
    vio_caps_unmap(dev);
    dev->ops->mem_free(dev->os, dev, sizeof(*dev));
}

uint16_t vio_dev_device_type(const vio_dev *dev)
{
    return dev->device_type;
}

uint16_t vio_dev_num_queues(const vio_dev *dev)
{
    return dev->num_queues;
}

uint32_t vio_dev_config_size(const vio_dev *dev)
{
    return dev->device.map ? dev->device.length : 0;
}

uint8_t vio_dev_pci_cfg_cap_offset(const vio_dev *dev)
{
    return dev->pci_cfg_cap;
}

uint8_t vio_dev_get_status(vio_dev *dev)
{
    return vio_common_read8(dev, VIO_COMMON_STATUS);
}

static void add_status(vio_dev *dev, uint8_t bits)
{
    vio_common_write8(dev, VIO_COMMON_STATUS, (uint8_t)(vio_dev_get_status(dev) | bits));
}

vio_status vio_dev_reset(vio_dev *dev)
{
    uint32_t max_sleeps = dev->params.reset_timeout_us / dev->params.reset_poll_us;
    uint32_t sleeps = 0;

    vio_common_write8(dev, VIO_COMMON_STATUS, 0);
    dev->features = 0;
    dev->stats.resets++;
    /* The spec: after writing 0, wait for device_status to read back 0
     * before re-initialising. Most devices finish at once, so poll first. */
    for (;;) {
        dev->stats.reset_polls++;
        if (vio_dev_get_status(dev) == 0)
            return VIO_OK;
        if (sleeps++ == max_sleeps)
            break;
        dev->ops->sleep_us(dev->os, dev->params.reset_poll_us);
    }
    dev->stats.reset_timeouts++;
    return VIO_E_RESET_TIMEOUT;
}

void vio_dev_reset_nowait(vio_dev *dev)
{
    vio_common_write8(dev, VIO_COMMON_STATUS, 0);
    dev->features = 0;
    dev->stats.resets++;
}

vio_status vio_dev_begin_init(vio_dev *dev)
{
    vio_status st = vio_dev_reset(dev);

    if (st != VIO_OK)
        return st;
    add_status(dev, VIO_STATUS_ACKNOWLEDGE);
    add_status(dev, VIO_STATUS_DRIVER);
    return VIO_OK;
}

uint64_t vio_dev_device_features(vio_dev *dev)
{
    uint64_t lo, hi;

    vio_common_write32(dev, VIO_COMMON_DFSELECT, 0);
    lo = vio_common_read32(dev, VIO_COMMON_DF);
    vio_common_write32(dev, VIO_COMMON_DFSELECT, 1);
    hi = vio_common_read32(dev, VIO_COMMON_DF);
    return lo | (hi << 32);
}

static void write_driver_features(vio_dev *dev, uint64_t features)
{
    vio_common_write32(dev, VIO_COMMON_GFSELECT, 0);
    vio_common_write32(dev, VIO_COMMON_GF, (uint32_t)features);
    vio_common_write32(dev, VIO_COMMON_GFSELECT, 1);
    vio_common_write32(dev, VIO_COMMON_GF, (uint32_t)(features >> 32));
}

vio_status vio_dev_negotiate(vio_dev *dev, uint64_t wanted, uint64_t *accepted)
{
    uint64_t offered = vio_dev_device_features(dev);
    uint64_t accept;

    if (!(offered & VIO_FEATURE(VIO_F_VERSION_1))) {
        vio_dev_fail(dev);
        return VIO_E_NO_VERSION_1;
    }
    /* A modern driver always accepts VERSION_1; the transport range is
     * limited to what the rings below implement. */
    wanted = (wanted & ~VIO_TRANSPORT_MASK) | (wanted & VIO_TRANSPORT_SUPPORTED);
    accept = (offered & wanted) | VIO_FEATURE(VIO_F_VERSION_1);
    write_driver_features(dev, accept);
    add_status(dev, VIO_STATUS_FEATURES_OK);
    if (!(vio_dev_get_status(dev) & VIO_STATUS_FEATURES_OK)) {
        dev->stats.features_refused++;
        vio_dev_fail(dev);
        return VIO_E_FEATURES_REFUSED;
    }
    dev->features = accept;
    if (accepted)
        *accepted = accept;
    return VIO_OK;
}

uint64_t vio_dev_features(const vio_dev *dev)
{
    return dev->features;
}

bool vio_dev_has_feature(const vio_dev *dev, unsigned bit)
{
    return bit < 64 && (dev->features & VIO_FEATURE(bit)) != 0;
}

vio_status vio_dev_driver_ok(vio_dev *dev)
{
    uint8_t status = vio_dev_get_status(dev);

    if (status & VIO_STATUS_DEVICE_NEEDS_RESET)
        return VIO_E_DEVICE_NEEDS_RESET;
    vio_common_write8(dev, VIO_COMMON_STATUS, (uint8_t)(status | VIO_STATUS_DRIVER_OK));
    return VIO_OK;
}

void vio_dev_fail(vio_dev *dev)
{
    add_status(dev, VIO_STATUS_FAILED);
}

bool vio_dev_needs_reset(vio_dev *dev)
{
    return (vio_dev_get_status(dev) & VIO_STATUS_DEVICE_NEEDS_RESET) != 0;
}

vio_status vio_dev_program_vector(vio_dev *dev, uint32_t off, uint16_t vector)
{
    if (vector != VIO_MSI_NO_VECTOR && vector >= dev->ops->msix_vector_count(dev->os)) {
        dev->stats.msix_refused++;
        return VIO_E_MSIX_VECTOR;
    }
    vio_common_write16(dev, off, vector);
    /* A device out of vector resources reads back NO_VECTOR. */
    if (vio_common_read16(dev, off) != vector) {
        dev->stats.msix_refused++;
        return VIO_E_MSIX_VECTOR;
    }
    return VIO_OK;
}

vio_status vio_dev_set_config_vector(vio_dev *dev, uint16_t vector)
{
    return vio_dev_program_vector(dev, VIO_COMMON_MSIX, vector);
}

uint8_t vio_dev_read_isr(vio_dev *dev)
{
    return dev->ops->read8(dev->os, dev->isr.map, 0);
}

/* One pass over the range with natural-width accesses. */
static void read_config_range(vio_dev *dev, uint32_t offset, uint8_t *out, uint32_t len)
{
    uint32_t done = 0;

    while (done < len) {
        uint32_t off = offset + done;
        uint32_t left = len - done;

        if (off % 4 == 0 && left >= 4) {
            uint32_t v = dev->ops->read32(dev->os, dev->device.map, off);
            memcpy(out + done, &v, 4);
            done += 4;
        } else if (off % 2 == 0 && left >= 2) {
            uint16_t v = dev->ops->read16(dev->os, dev->device.map, off);
            memcpy(out + done, &v, 2);
            done += 2;
        } else {
            out[done] = dev->ops->read8(dev->os, dev->device.map, off);
            done += 1;
        }
    }
}

vio_status vio_dev_config_read(vio_dev *dev, uint32_t offset, void *buf, uint32_t len)
{
    uint32_t size = vio_dev_config_size(dev);
    uint32_t tries;

    if (!buf && len)
        return VIO_E_INVAL;
    if (offset > size || len > size - offset)
        return VIO_E_RANGE;
    for (tries = 0; tries < dev->params.config_read_tries; tries++) {
        uint8_t before = vio_common_read8(dev, VIO_COMMON_CFGGENERATION);
        uint8_t after;

        read_config_range(dev, offset, buf, len);
        after = vio_common_read8(dev, VIO_COMMON_CFGGENERATION);
        if (before == after) {
            dev->stats.config_reads++;
            return VIO_OK;
        }
        dev->stats.config_retries++;
    }
    dev->stats.config_unstable++;
    return VIO_E_CONFIG_UNSTABLE;
}

const vio_dev_stats *vio_dev_get_stats(const vio_dev *dev)
{
    return &dev->stats;
}
