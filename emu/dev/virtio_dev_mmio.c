/*
 * virtio_dev_mmio.c - BAR 0 of the device: common configuration, ISR,
 * device-specific configuration, notify registers, MSI-X table and PBA.
 */
#include <string.h>

#include "virtio_dev_internal.h"

static emu_vdev_queue *selected_queue(emu_vdev *dev)
{
    return dev->queue_select < dev->pers.num_queues ? &dev->queues[dev->queue_select] : NULL;
}

/* ---- device_status ------------------------------------------------------- */

static bool features_acceptable(emu_vdev *dev)
{
    uint64_t f = dev->driver_features;

    if (f & ~dev->offered)
        return false;
    if (!(f & (1ull << EMU_VDEV_F_VERSION_1)))
        return false;
    if (emu_vdev_fault_fires(dev, EMU_VDEV_FAULT_REFUSE_FEATURES, 0))
        return false;
    return !dev->pers.validate_features || dev->pers.validate_features(dev, dev->pers_ctx, f);
}

static uint8_t status_read(emu_vdev *dev)
{
    if (dev->reset_pending) {
        if (emu_vdev_fault_fires(dev, EMU_VDEV_FAULT_RESET_STUCK, 0))
            return dev->status; /* still "resetting" */
        emu_vdev_do_reset(dev);
    }
    return dev->status;
}

static void status_write(emu_vdev *dev, uint8_t v)
{
    uint8_t old = dev->status;
    uint16_t q;

    if (v == 0) {
        if (dev->faults[EMU_VDEV_FAULT_RESET_STUCK].count)
            dev->reset_pending = true;
        else
            emu_vdev_do_reset(dev);
        return;
    }
    if ((v & EMU_VDEV_S_FEATURES_OK) && !(old & EMU_VDEV_S_FEATURES_OK)) {
        if (features_acceptable(dev)) {
            dev->event_idx = (dev->driver_features >> EMU_VDEV_F_EVENT_IDX) & 1;
            dev->indirect = (dev->driver_features >> EMU_VDEV_F_INDIRECT_DESC) & 1;
        } else {
            v &= (uint8_t)~EMU_VDEV_S_FEATURES_OK;
        }
    }
    dev->status = (uint8_t)(v | (old & EMU_VDEV_S_NEEDS_RESET));
    if (dev->pers.status_changed)
        dev->pers.status_changed(dev, dev->pers_ctx, old, dev->status);
    /* Buffers made available before DRIVER_OK were not looked at: let the
     * owner schedule every enabled queue once now. */
    if ((dev->status & EMU_VDEV_S_DRIVER_OK) && !(old & EMU_VDEV_S_DRIVER_OK)) {
        for (q = 0; q < dev->pers.num_queues; q++)
            if (dev->queues[q].enabled)
                dev->host->queue_notify(dev->host_ctx, dev, q);
    }
}

/* ---- common configuration ------------------------------------------------ */

static uint16_t vector_accept(emu_vdev *dev, uint16_t v)
{
    if (v == EMU_VDEV_NO_VECTOR)
        return v;
    if (emu_vdev_fault_fires(dev, EMU_VDEV_FAULT_REFUSE_MSIX, 0) || v >= dev->msix_vectors)
        return EMU_VDEV_NO_VECTOR;
    return v;
}

static uint32_t select_half(uint64_t v, uint32_t select)
{
    return select == 0 ? (uint32_t)v : select == 1 ? (uint32_t)(v >> 32) : 0;
}

/* The registers as the driver would see them now, except device_status
 * (whose read has side effects and is handled by the caller). */
static void common_snapshot(emu_vdev *dev, uint8_t r[EMU_VDEV_COMMON_LEN])
{
    emu_vdev_queue *q = selected_queue(dev);

    memset(r, 0, EMU_VDEV_COMMON_LEN);
    emu_vdev_put_le32(r + EMU_VDEV_C_DFSELECT, dev->dfselect);
    emu_vdev_put_le32(r + EMU_VDEV_C_DF, select_half(dev->offered, dev->dfselect));
    emu_vdev_put_le32(r + EMU_VDEV_C_GFSELECT, dev->gfselect);
    emu_vdev_put_le32(r + EMU_VDEV_C_GF, select_half(dev->driver_features, dev->gfselect));
    emu_vdev_put_le16(r + EMU_VDEV_C_MSIX, dev->config_msix);
    emu_vdev_put_le16(r + EMU_VDEV_C_NUMQ, dev->pers.num_queues);
    r[EMU_VDEV_C_GENERATION] = dev->generation;
    emu_vdev_put_le16(r + EMU_VDEV_C_Q_SELECT, dev->queue_select);
    if (!q)
        return;
    emu_vdev_put_le16(r + EMU_VDEV_C_Q_SIZE, q->size);
    emu_vdev_put_le16(r + EMU_VDEV_C_Q_MSIX, q->msix_vector);
    emu_vdev_put_le16(r + EMU_VDEV_C_Q_ENABLE, q->enabled);
    emu_vdev_put_le16(r + EMU_VDEV_C_Q_NOFF, dev->queue_select);
    emu_vdev_put_le32(r + EMU_VDEV_C_Q_DESC, (uint32_t)q->desc_gpa);
    emu_vdev_put_le32(r + EMU_VDEV_C_Q_DESC + 4, (uint32_t)(q->desc_gpa >> 32));
    emu_vdev_put_le32(r + EMU_VDEV_C_Q_AVAIL, (uint32_t)q->avail_gpa);
    emu_vdev_put_le32(r + EMU_VDEV_C_Q_AVAIL + 4, (uint32_t)(q->avail_gpa >> 32));
    emu_vdev_put_le32(r + EMU_VDEV_C_Q_USED, (uint32_t)q->used_gpa);
    emu_vdev_put_le32(r + EMU_VDEV_C_Q_USED + 4, (uint32_t)(q->used_gpa >> 32));
}

static uint32_t common_read(emu_vdev *dev, uint32_t off, unsigned size)
{
    uint8_t r[EMU_VDEV_COMMON_LEN];
    uint32_t v = 0;
    unsigned i;

    common_snapshot(dev, r);
    if (off <= EMU_VDEV_C_STATUS && off + size > EMU_VDEV_C_STATUS)
        r[EMU_VDEV_C_STATUS] = status_read(dev);
    for (i = 0; i < size; i++)
        v |= (uint32_t)r[off + i] << (8 * i);
    return v;
}

/* Sets the low or high half of a 64-bit queue address register. */
static void set_half(uint64_t *reg, bool high, uint32_t v)
{
    if (high)
        *reg = (*reg & 0xFFFFFFFFull) | ((uint64_t)v << 32);
    else
        *reg = (*reg & ~0xFFFFFFFFull) | v;
}

static bool queue_address_write(emu_vdev *dev, uint32_t off, uint32_t v)
{
    emu_vdev_queue *q = selected_queue(dev);
    bool high = (off & 4) != 0;

    if (!q || q->enabled)
        return true; /* ignored: no such queue, or it is live */
    switch (off & ~4u) {
    case EMU_VDEV_C_Q_DESC:
        set_half(&q->desc_gpa, high, v);
        return true;
    case EMU_VDEV_C_Q_AVAIL:
        set_half(&q->avail_gpa, high, v);
        return true;
    case EMU_VDEV_C_Q_USED:
        set_half(&q->used_gpa, high, v);
        return true;
    default:
        return false;
    }
}

static void driver_features_write(emu_vdev *dev, uint32_t v)
{
    /* Features are fixed once FEATURES_OK is set. */
    if (dev->status & EMU_VDEV_S_FEATURES_OK)
        return;
    if (dev->gfselect == 0)
        dev->driver_features = (dev->driver_features & ~0xFFFFFFFFull) | v;
    else if (dev->gfselect == 1)
        dev->driver_features = (dev->driver_features & 0xFFFFFFFFull) | ((uint64_t)v << 32);
}

static bool queue_write16(emu_vdev *dev, uint32_t off, uint16_t v)
{
    emu_vdev_queue *q = selected_queue(dev);

    if (!q)
        return true;
    switch (off) {
    case EMU_VDEV_C_Q_SIZE:
        if (!q->enabled)
            q->size = v;
        return true;
    case EMU_VDEV_C_Q_MSIX:
        q->msix_vector = vector_accept(dev, v);
        return true;
    case EMU_VDEV_C_Q_ENABLE:
        if (v == 1 && !q->enabled)
            q->enabled = emu_vdev_queue_attach(dev, q);
        return true;
    default:
        return false;
    }
}

static bool common_write_field(emu_vdev *dev, uint32_t off, unsigned size, uint32_t v)
{
    if (off >= EMU_VDEV_C_Q_DESC)
        return size == 4 && queue_address_write(dev, off, v);
    switch (off) {
    case EMU_VDEV_C_DFSELECT:
        if (size != 4)
            return false;
        dev->dfselect = v;
        return true;
    case EMU_VDEV_C_GFSELECT:
        if (size != 4)
            return false;
        dev->gfselect = v;
        return true;
    case EMU_VDEV_C_GF:
        if (size != 4)
            return false;
        driver_features_write(dev, v);
        return true;
    case EMU_VDEV_C_MSIX:
        if (size != 2)
            return false;
        dev->config_msix = vector_accept(dev, (uint16_t)v);
        return true;
    case EMU_VDEV_C_STATUS:
        if (size != 1)
            return false;
        status_write(dev, (uint8_t)v);
        return true;
    case EMU_VDEV_C_Q_SELECT:
        if (size != 2)
            return false;
        dev->queue_select = (uint16_t)v;
        return true;
    default:
        return size == 2 && queue_write16(dev, off, (uint16_t)v);
    }
}

/* Writes must hit one field with its natural width (spec 4.1.3.1). */
static void common_write(emu_vdev *dev, uint32_t off, unsigned size, uint32_t v)
{
    if (!common_write_field(dev, off, size, v))
        dev->stats.bad_accesses++;
}

/* ---- ISR, device configuration, notify ------------------------------------ */

static uint8_t isr_read(emu_vdev *dev)
{
    uint8_t v = dev->isr;

    dev->isr = 0;
    if (v && dev->host->set_intx)
        dev->host->set_intx(dev->host_ctx, false);
    return v;
}

static uint32_t device_config_read(emu_vdev *dev, uint32_t off, unsigned size)
{
    uint32_t v = 0;
    unsigned i;

    if (off >= dev->pers.config_size || size > dev->pers.config_size - off) {
        dev->stats.bad_accesses++;
        return 0;
    }
    for (i = 0; i < size; i++)
        v |= (uint32_t)dev->config[off + i] << (8 * i);
    if (emu_vdev_fault_fires(dev, EMU_VDEV_FAULT_CONFIG_CHURN, 0)) {
        for (i = 0; i < dev->pers.config_size; i++)
            dev->config[i] = (uint8_t)~dev->config[i];
        dev->generation++;
    }
    return v;
}

static void notify_write(emu_vdev *dev, uint32_t off, unsigned size, uint32_t v)
{
    uint32_t q = off / EMU_VDEV_NOTIFY_MUL;

    if (off % EMU_VDEV_NOTIFY_MUL || size < 2 || q >= dev->pers.num_queues || (uint16_t)v != q) {
        dev->stats.bad_accesses++;
        return;
    }
    dev->stats.notifies++;
    dev->host->queue_notify(dev->host_ctx, dev, (uint16_t)q);
}

/* ---- MSI-X table and PBA -------------------------------------------------- */

static uint32_t msix_read(emu_vdev *dev, uint32_t off, unsigned size)
{
    if (size != 4)
        return 0;
    if (off >= EMU_VDEV_MSIX_PBA_OFF) {
        uint32_t word = (off - EMU_VDEV_MSIX_PBA_OFF) / 4;
        return word < 2 ? (uint32_t)(dev->msix_pending >> (32 * word)) : 0;
    }
    off -= EMU_VDEV_MSIX_TBL_OFF;
    if (off / 16 >= dev->msix_vectors)
        return 0;
    return dev->msix_table[off / 16][(off % 16) / 4];
}

static void msix_write(emu_vdev *dev, uint32_t off, unsigned size, uint32_t v)
{
    uint32_t entry, word;

    if (size != 4 || off >= EMU_VDEV_MSIX_PBA_OFF) {
        dev->stats.bad_accesses++; /* the PBA is read-only */
        return;
    }
    off -= EMU_VDEV_MSIX_TBL_OFF;
    entry = off / 16;
    word = (off % 16) / 4;
    if (entry >= dev->msix_vectors)
        return;
    dev->msix_table[entry][word] = word == 3 ? (v & 1) : v;
    if (word == 3)
        emu_vdev_msix_deliver_pending(dev);
}

/* ---- dispatch --------------------------------------------------------------- */

typedef enum region {
    REGION_NONE,
    REGION_COMMON,
    REGION_ISR,
    REGION_DEVICE,
    REGION_NOTIFY,
    REGION_MSIX,
} region;

static region decode(const emu_vdev *dev, uint32_t off, uint32_t *rel)
{
    if (off < EMU_VDEV_COMMON_OFF + EMU_VDEV_COMMON_LEN) {
        *rel = off - EMU_VDEV_COMMON_OFF;
        return REGION_COMMON;
    }
    if (off >= EMU_VDEV_ISR_OFF && off < EMU_VDEV_ISR_OFF + EMU_VDEV_ISR_LEN) {
        *rel = off - EMU_VDEV_ISR_OFF;
        return REGION_ISR;
    }
    if (off >= EMU_VDEV_DEVICE_OFF && off < EMU_VDEV_DEVICE_OFF + dev->pers.config_size) {
        *rel = off - EMU_VDEV_DEVICE_OFF;
        return REGION_DEVICE;
    }
    if (off >= EMU_VDEV_NOTIFY_OFF && off < EMU_VDEV_MSIX_TBL_OFF) {
        *rel = off - EMU_VDEV_NOTIFY_OFF;
        return REGION_NOTIFY;
    }
    if (off >= EMU_VDEV_MSIX_TBL_OFF) {
        *rel = off;
        return REGION_MSIX;
    }
    return REGION_NONE;
}

static bool mmio_access_ok(emu_vdev *dev, unsigned bar, uint64_t offset, unsigned size)
{
    if (bar == 0 && (size == 1 || size == 2 || size == 4) && offset < EMU_VDEV_BAR0_SIZE &&
        size <= EMU_VDEV_BAR0_SIZE - offset && offset % size == 0)
        return true;
    dev->stats.bad_accesses++;
    return false;
}

static uint32_t mmio_read32(emu_vdev *dev, uint32_t off, unsigned size)
{
    uint32_t rel = 0;

    switch (decode(dev, off, &rel)) {
    case REGION_COMMON:
        if (rel + size > EMU_VDEV_COMMON_LEN)
            break;
        return common_read(dev, rel, size);
    case REGION_ISR:
        return rel == 0 && size == 1 ? isr_read(dev) : 0;
    case REGION_DEVICE:
        return device_config_read(dev, rel, size);
    case REGION_MSIX:
        return msix_read(dev, rel, size);
    case REGION_NOTIFY:
    case REGION_NONE:
        break;
    }
    return 0;
}

static void mmio_write32(emu_vdev *dev, uint32_t off, unsigned size, uint32_t v)
{
    uint32_t rel = 0;

    switch (decode(dev, off, &rel)) {
    case REGION_COMMON:
        common_write(dev, rel, size, v);
        return;
    case REGION_NOTIFY:
        notify_write(dev, rel, size, v);
        return;
    case REGION_MSIX:
        msix_write(dev, rel, size, v);
        return;
    case REGION_ISR:
    case REGION_DEVICE: /* read-only for every personality so far */
    case REGION_NONE:
        dev->stats.bad_accesses++;
        return;
    }
}

uint64_t emu_vdev_mmio_read(emu_vdev *dev, unsigned bar, uint64_t offset, unsigned size)
{
    /* A 64-bit access is two 32-bit ones, low half first. */
    if (size == 8 && offset % 8 == 0)
        return emu_vdev_mmio_read(dev, bar, offset, 4) |
               (emu_vdev_mmio_read(dev, bar, offset + 4, 4) << 32);
    if (!mmio_access_ok(dev, bar, offset, size))
        return emu_vdev_all_ones(size);
    return mmio_read32(dev, (uint32_t)offset, size);
}

void emu_vdev_mmio_write(emu_vdev *dev, unsigned bar, uint64_t offset, unsigned size,
                         uint64_t value)
{
    if (size == 8 && offset % 8 == 0) {
        emu_vdev_mmio_write(dev, bar, offset, 4, (uint32_t)value);
        emu_vdev_mmio_write(dev, bar, offset + 4, 4, (uint32_t)(value >> 32));
        return;
    }
    if (mmio_access_ok(dev, bar, offset, size))
        mmio_write32(dev, (uint32_t)offset, size, (uint32_t)value);
}
