/*
 * vio_pci_caps.c - identifying a virtio PCI function and locating its
 * structures through the vendor capabilities in PCI configuration space.
 *
 * Configuration space is device-controlled input: pointers are bounded to
 * the 256-byte space, the walk is bounded against loops, capabilities with
 * reserved BAR numbers or short lengths are ignored (as the spec requires),
 * and the first usable instance of each structure type wins.
 */
#include "vio_internal.h"

#define VIO_PCI_CFG_SPACE_SIZE 256u
#define VIO_PCI_CFG_HEADER_END 0x40u
/* 256 bytes past the header hold at most (256 - 64) / 4 capabilities. */
#define VIO_CAP_WALK_LIMIT 48u

typedef struct vio_cap {
    bool found;
    uint8_t bar;
    uint32_t offset;
    uint32_t length;
    uint32_t notify_multiplier;
} vio_cap;

typedef struct vio_cap_set {
    vio_cap common;
    vio_cap notify;
    vio_cap isr;
    vio_cap device;
    uint8_t pci_cfg_pos;
} vio_cap_set;

static uint8_t cfg8(vio_dev *dev, uint32_t off)
{
    return (uint8_t)dev->ops->pci_cfg_read(dev->os, off, 1);
}

static uint16_t cfg16(vio_dev *dev, uint32_t off)
{
    return (uint16_t)dev->ops->pci_cfg_read(dev->os, off, 2);
}

static uint32_t cfg32(vio_dev *dev, uint32_t off)
{
    return dev->ops->pci_cfg_read(dev->os, off, 4);
}

static vio_status identify(vio_dev *dev)
{
    uint16_t vendor = cfg16(dev, VIO_PCI_CFG_VENDOR_ID);
    uint16_t device = cfg16(dev, VIO_PCI_CFG_DEVICE_ID);
    uint16_t type;

    if (vendor != VIO_PCI_VENDOR_ID)
        return VIO_E_NOT_VIRTIO;
    if (device >= VIO_PCI_MODERN_DEVICE_ID_BASE && device <= VIO_PCI_MODERN_DEVICE_ID_LAST)
        type = (uint16_t)(device - VIO_PCI_MODERN_DEVICE_ID_BASE);
    else if (device >= VIO_PCI_TRANSITIONAL_ID_FIRST && device <= VIO_PCI_TRANSITIONAL_ID_LAST)
        type = cfg16(dev, VIO_PCI_CFG_SUBSYSTEM_ID);
    else
        return VIO_E_NOT_VIRTIO;
    if (type == 0) /* device type 0 is reserved */
        return VIO_E_NOT_VIRTIO;
    dev->device_type = type;
    return VIO_OK;
}

/* Reads the virtio_pci_cap at `pos` into the slot for its type. Returns
 * false if the capability is malformed (it is then ignored). */
static bool record_vendor_cap(vio_dev *dev, uint8_t pos, vio_cap_set *set)
{
    uint8_t cap_len = cfg8(dev, pos + VIO_PCI_CAP_OFF_LEN);
    uint8_t type = cfg8(dev, pos + VIO_PCI_CAP_OFF_CFG_TYPE);
    vio_cap cap = { 0 };
    vio_cap *slot;

    if (cap_len < VIO_PCI_CAP_LEN || (uint32_t)pos + cap_len > VIO_PCI_CFG_SPACE_SIZE)
        return false;
    if (type == VIO_PCI_CAP_PCI_CFG) {
        if (cap_len < VIO_PCI_CFG_CAP_LEN)
            return false;
        if (set->pci_cfg_pos == 0)
            set->pci_cfg_pos = pos;
        return true;
    }
    switch (type) {
    case VIO_PCI_CAP_COMMON_CFG:
        slot = &set->common;
        break;
    case VIO_PCI_CAP_NOTIFY_CFG:
        slot = &set->notify;
        break;
    case VIO_PCI_CAP_ISR_CFG:
        slot = &set->isr;
        break;
    case VIO_PCI_CAP_DEVICE_CFG:
        slot = &set->device;
        break;
    default:
        return true; /* a type this driver does not use: not an error */
    }
    cap.bar = cfg8(dev, pos + VIO_PCI_CAP_OFF_BAR);
    cap.offset = cfg32(dev, pos + VIO_PCI_CAP_OFF_OFFSET);
    cap.length = cfg32(dev, pos + VIO_PCI_CAP_OFF_LENGTH);
    if (cap.bar > VIO_PCI_MAX_BAR || cap.offset > UINT32_MAX - cap.length)
        return false;
    if (type == VIO_PCI_CAP_NOTIFY_CFG) {
        if (cap_len < VIO_PCI_NOTIFY_CAP_LEN)
            return false;
        cap.notify_multiplier = cfg32(dev, pos + VIO_PCI_CAP_OFF_NOTIFY_MUL);
    }
    if (!slot->found) {
        cap.found = true;
        *slot = cap;
    }
    return true;
}

static vio_status walk_caps(vio_dev *dev, vio_cap_set *set)
{
    unsigned visited;
    uint8_t pos;

    if (!(cfg16(dev, VIO_PCI_CFG_STATUS) & VIO_PCI_STATUS_CAP_LIST))
        return VIO_E_CAP_MISSING;
    pos = cfg8(dev, VIO_PCI_CFG_CAP_PTR) & 0xFC;
    for (visited = 0; pos != 0; visited++) {
        if (pos < VIO_PCI_CFG_HEADER_END || visited == VIO_CAP_WALK_LIMIT) {
            dev->stats.caps_ignored++; /* pointer into the header, or a loop */
            break;
        }
        if (cfg8(dev, pos) == VIO_PCI_CAP_ID_VENDOR && !record_vendor_cap(dev, pos, set))
            dev->stats.caps_ignored++;
        pos = cfg8(dev, pos + 1u) & 0xFC;
    }
    if (!set->common.found || !set->notify.found || !set->isr.found)
        return VIO_E_CAP_MISSING;
    if (set->common.length < VIO_COMMON_CFG_SIZE || set->isr.length < 1 || set->notify.length < 2)
        return VIO_E_CAP_INVALID;
    return VIO_OK;
}

static vio_status map_region(vio_dev *dev, const vio_cap *cap, uint32_t length, vio_region *r)
{
    r->bar = cap->bar;
    r->offset = cap->offset;
    r->length = length;
    r->map = dev->ops->bar_map(dev->os, cap->bar, cap->offset, length);
    return r->map ? VIO_OK : VIO_E_MAP_FAILED;
}

vio_status vio_caps_discover(vio_dev *dev)
{
    vio_cap_set set = { { 0 }, { 0 }, { 0 }, { 0 }, 0 };
    vio_status st;

    st = identify(dev);
    if (st == VIO_OK)
        st = walk_caps(dev, &set);
    if (st == VIO_OK)
        st = map_region(dev, &set.common, VIO_COMMON_CFG_SIZE, &dev->common);
    if (st == VIO_OK)
        st = map_region(dev, &set.isr, 1, &dev->isr);
    if (st == VIO_OK)
        st = map_region(dev, &set.notify, set.notify.length, &dev->notify);
    if (st == VIO_OK && set.device.found && set.device.length > 0)
        st = map_region(dev, &set.device, set.device.length, &dev->device);
    if (st != VIO_OK) {
        vio_caps_unmap(dev);
        return st;
    }
    dev->notify_off_multiplier = set.notify.notify_multiplier;
    dev->pci_cfg_cap = set.pci_cfg_pos;
    return VIO_OK;
}

static void unmap_region(vio_dev *dev, vio_region *r)
{
    if (r->map)
        dev->ops->bar_unmap(dev->os, r->map, r->length);
    r->map = NULL;
}

void vio_caps_unmap(vio_dev *dev)
{
    unmap_region(dev, &dev->device);
    unmap_region(dev, &dev->notify);
    unmap_region(dev, &dev->isr);
    unmap_region(dev, &dev->common);
}
