/*
 * virtio_dev_cfg.c - the device's PCI configuration space: type-0 header
 * with a 64-bit memory BAR, the virtio vendor capabilities (common, notify,
 * ISR, device, PCI configuration access window) and the MSI-X capability.
 */
#include <string.h>

#include "virtio_dev_internal.h"

#define EMU_VDEV_PCI_VENDOR      0x1AF4u
#define EMU_VDEV_PCI_DEVICE_BASE 0x1040u
#define EMU_VDEV_PCI_SUBSYS_ID   0x1100u
#define EMU_VDEV_CAP_ID_VENDOR   0x09u
#define EMU_VDEV_CAP_ID_MSIX     0x11u

#define EMU_VDEV_CFG_CAP_DATA (EMU_VDEV_CAP_PCI_CFG + 16u)
#define EMU_VDEV_MSIX_CONTROL (EMU_VDEV_CAP_MSIX + 2u)

static void put32(emu_vdev *dev, uint32_t off, uint32_t v)
{
    emu_vdev_put_le32(&dev->cfg[off], v);
}

static uint32_t get32(const emu_vdev *dev, uint32_t off)
{
    return emu_vdev_le16(&dev->cfg[off]) | ((uint32_t)emu_vdev_le16(&dev->cfg[off + 2]) << 16);
}

static void vendor_cap(emu_vdev *dev, uint8_t pos, uint8_t next, uint8_t len, uint8_t type,
                       uint32_t offset, uint32_t length)
{
    dev->cfg[pos] = EMU_VDEV_CAP_ID_VENDOR;
    dev->cfg[pos + 1] = next;
    dev->cfg[pos + 2] = len;
    dev->cfg[pos + 3] = type;
    dev->cfg[pos + 4] = 0; /* BAR 0 */
    put32(dev, pos + 8u, offset);
    put32(dev, pos + 12u, length);
}

static void header_init(emu_vdev *dev)
{
    emu_vdev_put_le16(&dev->cfg[0x00], EMU_VDEV_PCI_VENDOR);
    emu_vdev_put_le16(&dev->cfg[0x02],
                      (uint16_t)(EMU_VDEV_PCI_DEVICE_BASE + dev->pers.device_type));
    emu_vdev_put_le16(&dev->cfg[0x06], 0x0010); /* capability list present */
    dev->cfg[0x08] = 0x01;                      /* revision 1: a modern device */
    dev->cfg[0x09] = (uint8_t)dev->pers.pci_class;
    dev->cfg[0x0A] = (uint8_t)(dev->pers.pci_class >> 8);
    dev->cfg[0x0B] = (uint8_t)(dev->pers.pci_class >> 16);
    dev->cfg[0x10] = 0x04; /* BAR 0: 64-bit memory, BAR 1 holds the high half */
    emu_vdev_put_le16(&dev->cfg[0x2C], EMU_VDEV_PCI_VENDOR);
    emu_vdev_put_le16(&dev->cfg[0x2E], EMU_VDEV_PCI_SUBSYS_ID);
    dev->cfg[0x34] = EMU_VDEV_CAP_COMMON;
    dev->cfg[0x3D] = 0x01; /* INTA# */

    dev->cfg_wmask[0x04] = 0x07; /* I/O, memory, bus master */
    dev->cfg_wmask[0x05] = 0x04; /* INTx disable */
    dev->cfg_wmask[0x11] = (uint8_t) ~((EMU_VDEV_BAR0_SIZE - 1) >> 8);
    memset(&dev->cfg_wmask[0x12], 0xFF, 6); /* rest of BAR 0 and BAR 1 */
    dev->cfg_wmask[0x3C] = 0xFF;            /* interrupt line */
}

static void caps_init(emu_vdev *dev)
{
    uint8_t after_isr = dev->pers.config_size ? EMU_VDEV_CAP_DEVICE : EMU_VDEV_CAP_PCI_CFG;

    vendor_cap(dev, EMU_VDEV_CAP_COMMON, EMU_VDEV_CAP_NOTIFY, 16, 1, EMU_VDEV_COMMON_OFF,
               EMU_VDEV_COMMON_LEN);
    vendor_cap(dev, EMU_VDEV_CAP_NOTIFY, EMU_VDEV_CAP_ISR, 20, 2, EMU_VDEV_NOTIFY_OFF,
               dev->pers.num_queues * EMU_VDEV_NOTIFY_MUL);
    put32(dev, EMU_VDEV_CAP_NOTIFY + 16u, EMU_VDEV_NOTIFY_MUL);
    vendor_cap(dev, EMU_VDEV_CAP_ISR, after_isr, 16, 3, EMU_VDEV_ISR_OFF, 1);
    if (dev->pers.config_size)
        vendor_cap(dev, EMU_VDEV_CAP_DEVICE, EMU_VDEV_CAP_PCI_CFG, 16, 4, EMU_VDEV_DEVICE_OFF,
                   dev->pers.config_size);
    vendor_cap(dev, EMU_VDEV_CAP_PCI_CFG, EMU_VDEV_CAP_MSIX, 20, 5, 0, 0);
    dev->cfg_wmask[EMU_VDEV_CAP_PCI_CFG + 4] = 0xFF;            /* bar */
    memset(&dev->cfg_wmask[EMU_VDEV_CAP_PCI_CFG + 8], 0xFF, 8); /* offset, length */

    dev->cfg[EMU_VDEV_CAP_MSIX] = EMU_VDEV_CAP_ID_MSIX;
    dev->cfg[EMU_VDEV_CAP_MSIX + 1] = 0;
    emu_vdev_put_le16(&dev->cfg[EMU_VDEV_MSIX_CONTROL], (uint16_t)(dev->msix_vectors - 1));
    put32(dev, EMU_VDEV_CAP_MSIX + 4u, EMU_VDEV_MSIX_TBL_OFF); /* BIR 0 */
    put32(dev, EMU_VDEV_CAP_MSIX + 8u, EMU_VDEV_MSIX_PBA_OFF);
    dev->cfg_wmask[EMU_VDEV_MSIX_CONTROL + 1] = 0xC0; /* enable, function mask */
}

/* virtio 1.x 4.1.2.1: transitional PCI device ids by device type. */
static int transitional_id(uint16_t type)
{
    static const struct {
        uint16_t type, id;
    } ids[] = { { 1, 0x1000 }, { 2, 0x1001 }, { 5, 0x1002 }, { 3, 0x1003 },
                { 8, 0x1004 }, { 4, 0x1005 }, { 9, 0x1009 } };
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
        if (ids[i].type == type)
            return ids[i].id;
    return -1;
}

int emu_vdev_make_transitional(emu_vdev *dev)
{
    int id = transitional_id(dev->pers.device_type);
    if (id < 0)
        return -1;
    emu_vdev_put_le16(&dev->cfg[0x02], (uint16_t)id);
    emu_vdev_put_le16(&dev->cfg[0x2E], dev->pers.device_type);
    dev->cfg[0x08] = 0x00; /* transitional devices have revision 0 */
    return 0;
}

void emu_vdev_cfg_init(emu_vdev *dev)
{
    header_init(dev);
    caps_init(dev);
}

bool emu_vdev_msix_enabled(const emu_vdev *dev)
{
    return (dev->cfg[EMU_VDEV_MSIX_CONTROL + 1] & 0x80) != 0;
}

uint64_t emu_vdev_bar_address(emu_vdev *dev, unsigned bar)
{
    if (bar != 0)
        return 0;
    return (get32(dev, 0x10) & ~0xFull) | ((uint64_t)get32(dev, 0x14) << 32);
}

static bool access_ok(emu_vdev *dev, uint32_t offset, unsigned size)
{
    if ((size == 1 || size == 2 || size == 4) && offset < EMU_VDEV_CFG_SPACE &&
        size <= EMU_VDEV_CFG_SPACE - offset && offset % size == 0)
        return true;
    dev->stats.bad_accesses++;
    return false;
}

/* The VIRTIO_PCI_CAP_PCI_CFG window: the driver picks a BAR, offset and
 * width in the capability, then accesses pci_cfg_data. */
static bool window_target(emu_vdev *dev, unsigned size, uint8_t *bar, uint32_t *off, uint32_t *len)
{
    *bar = dev->cfg[EMU_VDEV_CAP_PCI_CFG + 4];
    *off = get32(dev, EMU_VDEV_CAP_PCI_CFG + 8u);
    *len = get32(dev, EMU_VDEV_CAP_PCI_CFG + 12u);
    if ((*len == 1 || *len == 2 || *len == 4) && *len <= size)
        return true;
    dev->stats.bad_accesses++;
    return false;
}

uint32_t emu_vdev_cfg_read(emu_vdev *dev, uint32_t offset, unsigned size)
{
    uint32_t v = 0;
    unsigned i;

    if (!access_ok(dev, offset, size))
        return (uint32_t)emu_vdev_all_ones(size);
    if (offset == EMU_VDEV_CFG_CAP_DATA) {
        uint8_t bar;
        uint32_t off, len;
        if (!window_target(dev, size, &bar, &off, &len))
            return 0;
        return (uint32_t)emu_vdev_mmio_read(dev, bar, off, len);
    }
    for (i = 0; i < size; i++)
        v |= (uint32_t)dev->cfg[offset + i] << (8 * i);
    return v;
}

void emu_vdev_cfg_write(emu_vdev *dev, uint32_t offset, unsigned size, uint32_t value)
{
    unsigned i;

    if (!access_ok(dev, offset, size))
        return;
    if (offset == EMU_VDEV_CFG_CAP_DATA) {
        uint8_t bar;
        uint32_t off, len;
        if (window_target(dev, size, &bar, &off, &len))
            emu_vdev_mmio_write(dev, bar, off, len, value);
        return;
    }
    for (i = 0; i < size; i++) {
        uint8_t m = dev->cfg_wmask[offset + i];
        uint8_t b = (uint8_t)(value >> (8 * i));
        dev->cfg[offset + i] = (uint8_t)((dev->cfg[offset + i] & ~m) | (b & m));
    }
    /* Enabling MSI-X or clearing the function mask releases held messages. */
    if (offset <= EMU_VDEV_MSIX_CONTROL + 1 && offset + size > EMU_VDEV_MSIX_CONTROL)
        emu_vdev_msix_deliver_pending(dev);
}
