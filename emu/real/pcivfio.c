/*
 * pcivfio.c - the VFIO route of a real PCI function (pcireal.h): the type1
 * IOMMU container, the function's group and device, its regions, DMA
 * mappings (IOVAs) and MSI-X vectors as eventfds.
 *
 * The kernel owns the function's real MSI-X table (it programs it for the
 * interrupt remapping of the vectors it hands out as eventfds), so the
 * capability's enable and mask bits and the table the driver sees are a
 * shadow: the driver's writes land there, enabling it turns the eventfds
 * on, and a masked vector's event is dropped and counted.
 */
#include "pcireal_int.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define MSIX_ENTRY_MASKED 1u /* vector control, bit 0 */

bool emu_pcireal_behind_iommu(const char *bdf)
{
    char path[256];
    snprintf(path, sizeof(path), SYSFS_PCI "/%s/iommu_group", bdf);
    return access(path, F_OK) == 0;
}

static bool bound_to(const char *bdf, const char *driver)
{
    char path[256], link[256];
    snprintf(path, sizeof(path), SYSFS_PCI "/%s/driver", bdf);
    ssize_t n = readlink(path, link, sizeof(link) - 1);
    if (n <= 0)
        return false;
    link[n] = 0;
    const char *cur = strrchr(link, '/');
    return cur && !strcmp(cur + 1, driver);
}

int emu_pcireal_bind_vfio(const char *bdf, char *err, size_t errlen)
{
    if (!emu_pcireal_behind_iommu(bdf)) {
        snprintf(err, errlen,
                 "%s is behind no IOMMU (no iommu_group): VFIO needs one (QEMU: -device "
                 "intel-iommu,intremap=on; the guest kernel: intel_iommu=on)",
                 bdf);
        return -1;
    }
    if (access("/sys/bus/pci/drivers/vfio-pci", F_OK) != 0) {
        snprintf(err, errlen, "the vfio-pci module is not loaded (modprobe vfio-pci)");
        return -1;
    }
    if (access("/dev/vfio/vfio", F_OK) != 0) {
        snprintf(err, errlen, "/dev/vfio/vfio is missing (modprobe vfio)");
        return -1;
    }
    if (pcireal_bind(bdf, "vfio-pci", err, errlen))
        return -1;
    if (!bound_to(bdf, "vfio-pci")) {
        snprintf(err, errlen, "%s did not bind to vfio-pci", bdf);
        return -1;
    }
    return 0;
}

static int open_group(emu_pcireal *p, char *err, size_t errlen)
{
    char path[320], link[256];
    snprintf(path, sizeof(path), SYSFS_PCI "/%s/iommu_group", p->bdf);
    ssize_t n = readlink(path, link, sizeof(link) - 1);
    if (n <= 0) {
        snprintf(err, errlen, "%s: %s (no IOMMU?)", path, strerror(errno));
        return -1;
    }
    link[n] = 0;
    const char *group = strrchr(link, '/');
    snprintf(path, sizeof(path), "/dev/vfio/%s", group ? group + 1 : link);
    p->group_fd = open(path, O_RDWR | O_CLOEXEC);
    if (p->group_fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    struct vfio_group_status status = { .argsz = sizeof(status) };
    if (ioctl(p->group_fd, VFIO_GROUP_GET_STATUS, &status) ||
        !(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
        snprintf(err, errlen,
                 "IOMMU group %s is not viable: every function in it must be bound to vfio-pci "
                 "(ls /sys/kernel/iommu_groups/%s/devices)",
                 group ? group + 1 : link, group ? group + 1 : link);
        return -1;
    }
    return 0;
}

static int open_container(emu_pcireal *p, char *err, size_t errlen)
{
    p->container_fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
    if (p->container_fd < 0) {
        snprintf(err, errlen, "/dev/vfio/vfio: %s (modprobe vfio)", strerror(errno));
        return -1;
    }
    if (ioctl(p->container_fd, VFIO_GET_API_VERSION) != VFIO_API_VERSION) {
        snprintf(err, errlen, "/dev/vfio/vfio: unknown VFIO API version");
        return -1;
    }
    if (ioctl(p->container_fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) <= 0) {
        snprintf(err, errlen,
                 "no type1 IOMMU for VFIO: the vfio_iommu_type1 module is not loaded "
                 "(modprobe vfio_iommu_type1)");
        return -1;
    }
    if (open_group(p, err, errlen))
        return -1;
    if (ioctl(p->group_fd, VFIO_GROUP_SET_CONTAINER, &p->container_fd) ||
        ioctl(p->container_fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) {
        snprintf(err, errlen, "VFIO container for %s: %s", p->bdf, strerror(errno));
        return -1;
    }
    p->device_fd = ioctl(p->group_fd, VFIO_GROUP_GET_DEVICE_FD, p->bdf);
    if (p->device_fd < 0) {
        snprintf(err, errlen, "VFIO_GROUP_GET_DEVICE_FD %s: %s", p->bdf, strerror(errno));
        return -1;
    }
    return 0;
}

static int region(emu_pcireal *p, unsigned index, struct vfio_region_info *ri)
{
    memset(ri, 0, sizeof(*ri));
    ri->argsz = sizeof(*ri);
    ri->index = index;
    return ioctl(p->device_fd, VFIO_DEVICE_GET_REGION_INFO, ri);
}

/* Memory BARs: mmap'ed where the kernel allows it, else through the fd. */
static int map_bars(emu_pcireal *p, char *err, size_t errlen)
{
    for (unsigned i = 0; i < EMU_PCI_BARS; i++) {
        struct vfio_region_info ri;
        if (region(p, VFIO_PCI_BAR0_REGION_INDEX + i, &ri) || ri.size == 0)
            continue;
        uint32_t reg = pcireal_cfg_raw_read(p, PCI_BAR0 + 4 * i, 4);
        if (reg & 1)
            continue; /* I/O space: not used by the functions we drive */
        real_bar *b = &p->bar[i];
        b->size = ri.size;
        b->region_off = ri.offset;
        b->flags_lo = reg & 0xF;
        b->wide = (reg & 0x6) == 0x4;
        void *va = MAP_FAILED;
        if (ri.flags & VFIO_REGION_INFO_FLAG_MMAP)
            va = mmap(NULL, ri.size, PROT_READ | PROT_WRITE, MAP_SHARED, p->device_fd,
                      (off_t)ri.offset);
        if (va != MAP_FAILED)
            b->va = va;
        else
            b->by_fd = true;
        if (b->wide)
            i++;
    }
    (void)err;
    (void)errlen;
    return 0;
}

static void find_msix(emu_pcireal *p)
{
    real_msix *m = &p->msix;
    uint32_t cap = pcireal_cfg_raw_read(p, PCI_CAP_PTR, 1) & 0xFC;
    for (unsigned hops = 0; cap >= 0x40 && hops < 48; hops++) {
        if ((pcireal_cfg_raw_read(p, cap, 1) & 0xFF) == PCI_CAP_ID_MSIX) {
            uint32_t control = pcireal_cfg_raw_read(p, cap + 2, 2);
            uint32_t table = pcireal_cfg_raw_read(p, cap + 4, 4);
            uint32_t pba = pcireal_cfg_raw_read(p, cap + 8, 4);
            m->cap = cap;
            m->vectors = (control & 0x7FF) + 1;
            if (m->vectors > MSIX_MAX_VECTORS)
                m->vectors = MSIX_MAX_VECTORS;
            m->table_bar = table & 7;
            m->table_off = table & ~7u;
            m->pba_bar = pba & 7;
            m->pba_off = pba & ~7u;
            for (unsigned i = 0; i < m->vectors; i++) {
                m->table[i][3] = MSIX_ENTRY_MASKED;
                m->vec[i].p = p;
                m->vec[i].n = i;
            }
            return;
        }
        cap = pcireal_cfg_raw_read(p, cap + 1, 1) & 0xFC;
    }
}

int pcivfio_open(emu_pcireal *p, char *err, size_t errlen)
{
    if (open_container(p, err, errlen))
        return -1;
    struct vfio_region_info ri;
    if (region(p, VFIO_PCI_CONFIG_REGION_INDEX, &ri)) {
        snprintf(err, errlen, "%s: no configuration region: %s", p->bdf, strerror(errno));
        return -1;
    }
    p->cfg_fd = dup(p->device_fd);
    p->cfg_base = ri.offset;
    if (p->cfg_fd < 0 || map_bars(p, err, errlen))
        return -1;
    find_msix(p);
    if (!p->msix.cap) {
        snprintf(err, errlen, "%s has no MSI-X capability (the VFIO route needs one)", p->bdf);
        return -1;
    }
    for (unsigned i = 0; i < p->msix.vectors; i++) {
        p->msix.efd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (p->msix.efd[i] < 0) {
            snprintf(err, errlen, "eventfd: %s", strerror(errno));
            return -1;
        }
    }
    return 0;
}

void pcivfio_close(emu_pcireal *p)
{
    for (unsigned i = 0; i < MSIX_MAX_VECTORS; i++) {
        if (p->msix.efd[i] >= 0)
            close(p->msix.efd[i]);
        p->msix.efd[i] = -1;
    }
    /* The device first, then the group, then the container: the IOMMU
     * mappings end with the container. */
    if (p->device_fd >= 0)
        close(p->device_fd);
    if (p->group_fd >= 0)
        close(p->group_fd);
    if (p->container_fd >= 0)
        close(p->container_fd);
    p->device_fd = p->group_fd = p->container_fd = -1;
}

int emu_pcireal_map_dma(void *pcireal, void *va, size_t len, uint64_t iova, char *err,
                        size_t errlen)
{
    emu_pcireal *p = pcireal;
    struct vfio_iommu_type1_dma_map map = {
        .argsz = sizeof(map),
        .flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
        .vaddr = (uintptr_t)va,
        .iova = iova,
        .size = len,
    };
    if (p->route != EMU_PCIREAL_VFIO || ioctl(p->container_fd, VFIO_IOMMU_MAP_DMA, &map)) {
        snprintf(err, errlen, "VFIO_IOMMU_MAP_DMA of %zu bytes at IOVA %#llx: %s", len,
                 (unsigned long long)iova,
                 p->route != EMU_PCIREAL_VFIO ? "not a VFIO function" : strerror(errno));
        return -1;
    }
    return 0;
}

/* ---- MSI-X: the shadow capability and table, the eventfds ---- */

static int set_irqs(emu_pcireal *p, bool on)
{
    struct {
        struct vfio_irq_set set;
        int32_t fds[MSIX_MAX_VECTORS];
    } req;
    memset(&req, 0, sizeof(req));
    unsigned n = on ? p->msix.vectors : 0;
    req.set.argsz = (uint32_t)(sizeof(req.set) + n * sizeof(int32_t));
    req.set.flags =
        VFIO_IRQ_SET_ACTION_TRIGGER | (on ? VFIO_IRQ_SET_DATA_EVENTFD : VFIO_IRQ_SET_DATA_NONE);
    req.set.index = VFIO_PCI_MSIX_IRQ_INDEX;
    req.set.start = 0;
    req.set.count = n;
    for (unsigned i = 0; i < n; i++)
        req.fds[i] = p->msix.efd[i];
    return ioctl(p->device_fd, VFIO_DEVICE_SET_IRQS, &req);
}

void pcivfio_irqs_off(emu_pcireal *p)
{
    if (p->msix.enabled && set_irqs(p, false))
        p->st.cfg_errors++;
    p->msix.enabled = false;
}

bool pcivfio_msix_cfg(emu_pcireal *p, uint32_t off, unsigned size)
{
    uint32_t cap = p->msix.cap;
    return p->route == EMU_PCIREAL_VFIO && cap && off >= cap && off + size <= cap + 4 &&
           off + size > cap + 2;
}

uint32_t pcivfio_msix_cfg_read(emu_pcireal *p, uint32_t off, unsigned size)
{
    uint32_t dw = pcireal_cfg_raw_read(p, p->msix.cap, 4);
    dw = (dw & ~((uint32_t)(MSIX_ENABLE | MSIX_MASKALL) << 16)) | (uint32_t)p->msix.control << 16;
    dw >>= (off - p->msix.cap) * 8;
    return size == 4 ? dw : dw & ((1u << (8 * size)) - 1);
}

void pcivfio_msix_cfg_write(emu_pcireal *p, uint32_t off, unsigned size, uint32_t value)
{
    uint32_t hi_byte = p->msix.cap + 3; /* holds the enable and function-mask bits */
    if (off > hi_byte || off + size <= hi_byte)
        return;
    uint32_t hi = (value >> ((hi_byte - off) * 8)) & 0xFF;
    p->msix.control = (uint16_t)((hi << 8) & (MSIX_ENABLE | MSIX_MASKALL));
    bool want = p->msix.control & MSIX_ENABLE;
    if (want && !p->msix.enabled) {
        if (set_irqs(p, true))
            p->st.cfg_errors++;
        else
            p->msix.enabled = true;
    } else if (!want && p->msix.enabled) {
        pcivfio_irqs_off(p);
    }
}

static bool in_range(uint64_t off, unsigned size, uint64_t start, uint64_t len)
{
    return off >= start && off + size <= start + len;
}

bool pcivfio_msix_mmio(emu_pcireal *p, unsigned bar, uint64_t off, unsigned size)
{
    const real_msix *m = &p->msix;
    if (p->route != EMU_PCIREAL_VFIO || !m->cap)
        return false;
    return (bar == m->table_bar && in_range(off, size, m->table_off, 16ull * m->vectors)) ||
           (bar == m->pba_bar && in_range(off, size, m->pba_off, 8ull * ((m->vectors + 63) / 64)));
}

uint64_t pcivfio_msix_mmio_read(emu_pcireal *p, unsigned bar, uint64_t off, unsigned size)
{
    const real_msix *m = &p->msix;
    if (!(bar == m->table_bar && in_range(off, size, m->table_off, 16ull * m->vectors)))
        return 0; /* the pending bits: we never leave one pending */
    uint64_t rel = off - m->table_off;
    const uint32_t *w = &m->table[rel / 16][0];
    unsigned word = (unsigned)(rel % 16) / 4, shift = (unsigned)(rel % 4) * 8;
    if (size == 8)
        return w[word] | (word < 3 ? (uint64_t)w[word + 1] << 32 : 0);
    uint32_t v = w[word] >> shift;
    return size == 4 ? v : v & ((1u << (8 * size)) - 1);
}

void pcivfio_msix_mmio_write(emu_pcireal *p, unsigned bar, uint64_t off, unsigned size,
                             uint64_t value)
{
    real_msix *m = &p->msix;
    if (!(bar == m->table_bar && in_range(off, size, m->table_off, 16ull * m->vectors)))
        return; /* the pending bits are read-only */
    uint64_t rel = off - m->table_off;
    uint32_t *w = &m->table[rel / 16][0];
    unsigned word = (unsigned)(rel % 16) / 4, shift = (unsigned)(rel % 4) * 8;
    if (size == 8) {
        w[word] = (uint32_t)value;
        if (word < 3)
            w[word + 1] = (uint32_t)(value >> 32);
        return;
    }
    uint32_t mask = size == 4 ? ~0u : ((1u << (8 * size)) - 1) << shift;
    w[word] = (w[word] & ~mask) | (((uint32_t)value << shift) & mask);
}

void pcivfio_irq_work(void *arg)
{
    struct real_vector *v = arg;
    emu_pcireal *p = v->p;
    if (!p->host)
        return;
    if ((p->msix.control & MSIX_MASKALL) || (p->msix.table[v->n][3] & MSIX_ENTRY_MASKED)) {
        p->st.masked++;
        return;
    }
    emu_host_msix_signal(p->host, v->n);
}

/* ---- BARs the kernel does not let us map ---- */

uint64_t pcivfio_bar_read(emu_pcireal *p, unsigned bar, uint64_t off, unsigned size)
{
    uint64_t v = 0;
    if (pread(p->device_fd, &v, size, (off_t)(p->bar[bar].region_off + off)) != (ssize_t)size) {
        p->st.bad_access++;
        return ~0ull;
    }
    return v;
}

void pcivfio_bar_write(emu_pcireal *p, unsigned bar, uint64_t off, unsigned size, uint64_t v)
{
    if (pwrite(p->device_fd, &v, size, (off_t)(p->bar[bar].region_off + off)) != (ssize_t)size)
        p->st.bad_access++;
}
