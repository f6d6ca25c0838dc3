/*
 * pcireal.c - a host PCI function (pcireal.h): what both routes share, and
 * the uio route (sysfs and /dev/uioN). The VFIO route is in pcivfio.c.
 */
#include "pcireal_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#define IORESOURCE_MEM 0x200

int pcireal_read_text(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, len - 1);
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = 0;
    return 0;
}

int pcireal_write_text(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

int emu_pcireal_find(uint16_t vendor, uint16_t device, char *bdf, size_t len)
{
    DIR *d = opendir(SYSFS_PCI);
    if (!d)
        return -1;
    int found = -1;
    for (struct dirent *e; found && (e = readdir(d));) {
        char path[512], v[32], dv[32];
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), SYSFS_PCI "/%s/vendor", e->d_name);
        if (pcireal_read_text(path, v, sizeof(v)))
            continue;
        snprintf(path, sizeof(path), SYSFS_PCI "/%s/device", e->d_name);
        if (pcireal_read_text(path, dv, sizeof(dv)))
            continue;
        if (strtoul(v, NULL, 16) == vendor && strtoul(dv, NULL, 16) == device) {
            snprintf(bdf, len, "%s", e->d_name);
            found = 0;
        }
    }
    closedir(d);
    return found;
}

int pcireal_bind(const char *bdf, const char *driver, char *err, size_t errlen)
{
    char path[256], link[256];
    snprintf(path, sizeof(path), SYSFS_PCI "/%s/driver", bdf);
    ssize_t n = readlink(path, link, sizeof(link) - 1);
    if (n > 0) {
        link[n] = 0;
        const char *cur = strrchr(link, '/');
        if (cur && !strcmp(cur + 1, driver))
            return 0; /* bound already */
    }
    snprintf(path, sizeof(path), SYSFS_PCI "/%s/driver_override", bdf);
    if (pcireal_write_text(path, driver)) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    snprintf(path, sizeof(path), SYSFS_PCI "/%s/driver/unbind", bdf);
    (void)pcireal_write_text(path, bdf); /* no driver is fine */
    if (pcireal_write_text("/sys/bus/pci/drivers_probe", bdf)) {
        snprintf(err, errlen, "binding %s to %s: %s", bdf, driver, strerror(errno));
        return -1;
    }
    return 0;
}

int emu_pcireal_bind_uio(const char *bdf, char *err, size_t errlen)
{
    char path[256];
    if (access("/sys/bus/pci/drivers/uio_pci_generic", F_OK) != 0) {
        snprintf(err, errlen,
                 "the uio_pci_generic module is not loaded (modprobe uio_pci_generic)");
        return -1;
    }
    if (pcireal_bind(bdf, "uio_pci_generic", err, errlen))
        return -1;
    snprintf(path, sizeof(path), SYSFS_PCI "/%s/uio", bdf);
    if (access(path, F_OK) != 0) {
        snprintf(err, errlen,
                 "%s did not bind to uio_pci_generic (it needs a function with an INTx line)", bdf);
        return -1;
    }
    return 0;
}

static int open_uio(emu_pcireal *p, char *err, size_t errlen)
{
    char path[256];
    snprintf(path, sizeof(path), SYSFS_PCI "/%s/uio", p->bdf);
    DIR *d = opendir(path);
    if (!d) {
        snprintf(err, errlen, "%s is not bound to uio_pci_generic", p->bdf);
        return -1;
    }
    char name[32] = "";
    for (struct dirent *e; (e = readdir(d));) {
        if (strncmp(e->d_name, "uio", 3) == 0 && strlen(e->d_name) < sizeof(name))
            snprintf(name, sizeof(name), "%.31s", e->d_name);
    }
    closedir(d);
    snprintf(path, sizeof(path), "/dev/%s", name);
    p->uio_fd = name[0] ? open(path, O_RDWR | O_CLOEXEC) : -1;
    if (p->uio_fd < 0) {
        snprintf(err, errlen, "%s: %s", name[0] ? path : "/dev/uio*", strerror(errno));
        return -1;
    }
    return 0;
}

/* sysfs `resource`: one "start end flags" line per resource, BARs first. */
static int map_bars(emu_pcireal *p, char *err, size_t errlen)
{
    char path[256], text[2048];
    snprintf(path, sizeof(path), SYSFS_PCI "/%s/resource", p->bdf);
    if (pcireal_read_text(path, text, sizeof(text))) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *line = text;
    for (unsigned i = 0; i < EMU_PCI_BARS && line && *line; i++) {
        unsigned long long start = 0, end = 0, flags = 0;
        if (sscanf(line, "%llx %llx %llx", &start, &end, &flags) == 3 && (flags & IORESOURCE_MEM) &&
            end > start) {
            real_bar *b = &p->bar[i];
            b->size = end - start + 1;
            snprintf(path, sizeof(path), SYSFS_PCI "/%s/resource%u", p->bdf, i);
            int fd = open(path, O_RDWR | O_SYNC);
            void *va = fd < 0 ? MAP_FAILED
                              : mmap(NULL, b->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
            if (fd >= 0)
                close(fd);
            if (va == MAP_FAILED) {
                snprintf(err, errlen, "mapping %s: %s", path, strerror(errno));
                return -1;
            }
            b->va = va;
            uint32_t reg = 0;
            if (pread(p->cfg_fd, &reg, 4, PCI_BAR0 + 4 * i) == 4) {
                b->flags_lo = reg & 0xF;
                b->wide = (reg & 0x6) == 0x4;
            }
        }
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    return 0;
}

uint32_t pcireal_cfg_raw_read(emu_pcireal *p, uint32_t off, unsigned size)
{
    uint32_t v = 0;
    if (pread(p->cfg_fd, &v, size, (off_t)(p->cfg_base + off)) != (ssize_t)size) {
        p->st.cfg_errors++;
        return 0xFFFFFFFFu;
    }
    return v;
}

void pcireal_cfg_raw_write(emu_pcireal *p, uint32_t off, unsigned size, uint32_t v)
{
    if (pwrite(p->cfg_fd, &v, size, (off_t)(p->cfg_base + off)) != (ssize_t)size)
        p->st.cfg_errors++;
}
/* The 32-bit BAR register `reg` (0..5) as the driver must see it. */
static uint32_t virtual_bar(emu_pcireal *p, unsigned reg)
{
    if (reg > 0 && p->bar[reg - 1].wide && p->bar[reg - 1].size)
        return p->host ? (uint32_t)(emu_host_bar_address(p->host, reg - 1) >> 32) : 0;
    if (!p->bar[reg].size || !p->host)
        return 0;
    return (uint32_t)emu_host_bar_address(p->host, reg) | p->bar[reg].flags_lo;
}

static uint32_t cfg_read(void *d, uint32_t off, unsigned size)
{
    emu_pcireal *p = d;
    if (off + size > PCI_BAR0 && off < PCI_BAR_END) {
        uint32_t reg = (off - PCI_BAR0) / 4, shift = (off % 4) * 8;
        uint32_t v = virtual_bar(p, reg) >> shift;
        return size == 4 ? v : v & ((1u << (8 * size)) - 1);
    }
    if (pcivfio_msix_cfg(p, off, size))
        return pcivfio_msix_cfg_read(p, off, size);
    return pcireal_cfg_raw_read(p, off, size);
}

static void cfg_write(void *d, uint32_t off, unsigned size, uint32_t value)
{
    emu_pcireal *p = d;
    if (off + size > PCI_BAR0 && off < PCI_BAR_END)
        return; /* BARs are the bus's business: they stay where the kernel put them */
    if (pcivfio_msix_cfg(p, off, size)) {
        pcivfio_msix_cfg_write(p, off, size, value);
        return;
    }
    if (off == PCI_COMMAND && size >= 2) /* decoding and bus mastering stay on */
        value |= PCI_CMD_MEMORY | PCI_CMD_MASTER;
    pcireal_cfg_raw_write(p, off, size, value);
}

static bool bar_ok(emu_pcireal *p, unsigned bar, uint64_t off, unsigned size)
{
    if (bar < EMU_PCI_BARS && (p->bar[bar].va || p->bar[bar].by_fd) &&
        off + size <= p->bar[bar].size && off % size == 0)
        return true;
    p->st.bad_access++;
    return false;
}

static void rearm(emu_pcireal *p)
{
    p->rearm_pending = false;
    uint16_t cmd = (uint16_t)pcireal_cfg_raw_read(p, PCI_COMMAND, 2);
    pcireal_cfg_raw_write(p, PCI_COMMAND, 2,
                          (cmd & ~PCI_CMD_INTX_OFF) | PCI_CMD_MEMORY | PCI_CMD_MASTER);
    p->st.rearms++;
}

static uint64_t mmio_read(void *d, unsigned bar, uint64_t off, unsigned size)
{
    emu_pcireal *p = d;
    if (!bar_ok(p, bar, off, size))
        return ~0ull;
    if (pcivfio_msix_mmio(p, bar, off, size))
        return pcivfio_msix_mmio_read(p, bar, off, size);
    if (!p->bar[bar].va)
        return pcivfio_bar_read(p, bar, off, size);
    volatile uint8_t *a = p->bar[bar].va + off;
    uint64_t v;
    switch (size) {
    case 1:
        v = *a;
        break;
    case 2:
        v = *(volatile uint16_t *)a;
        break;
    case 4:
        v = *(volatile uint32_t *)a;
        break;
    default:
        v = *(volatile uint64_t *)a;
        break;
    }
    if (p->rearm_pending)
        rearm(p);
    if (__atomic_load_n(&p->churn.armed, __ATOMIC_ACQUIRE) && bar == p->churn.bar && size == 1 &&
        off == p->churn.off) {
        v = (uint8_t)(v + ++p->churn.count);
        p->st.churned++;
    }
    return v;
}

static void mmio_write(void *d, unsigned bar, uint64_t off, unsigned size, uint64_t value)
{
    emu_pcireal *p = d;
    if (!bar_ok(p, bar, off, size))
        return;
    if (pcivfio_msix_mmio(p, bar, off, size)) {
        pcivfio_msix_mmio_write(p, bar, off, size, value);
        return;
    }
    if (!p->bar[bar].va) {
        pcivfio_bar_write(p, bar, off, size, value);
        return;
    }
    volatile uint8_t *a = p->bar[bar].va + off;
    switch (size) {
    case 1:
        *a = (uint8_t)value;
        break;
    case 2:
        *(volatile uint16_t *)a = (uint16_t)value;
        break;
    case 4:
        *(volatile uint32_t *)a = (uint32_t)value;
        break;
    default:
        *(volatile uint64_t *)a = value;
        break;
    }
}

/* Device work: the line fired. */
static void irq_work(void *arg)
{
    emu_pcireal *p = arg;
    if (!p->host)
        return;
    p->rearm_pending = true;
    emu_host_msix_signal(p->host, 0);
}

/* Waits for the uio line or the VFIO vectors' eventfds (fds[0] is quit_fd). */
static void *irq_main(void *arg)
{
    emu_pcireal *p = arg;
    struct pollfd fds[1 + MSIX_MAX_VECTORS] = { { p->quit_fd, POLLIN, 0 } };
    unsigned n = 1;
    if (p->route == EMU_PCIREAL_UIO)
        fds[n++] = (struct pollfd){ p->uio_fd, POLLIN, 0 };
    else
        for (unsigned i = 0; i < p->msix.vectors; i++)
            fds[n++] = (struct pollfd){ p->msix.efd[i], POLLIN, 0 };
    for (;;) {
        if (poll(fds, n, -1) < 0 && errno != EINTR)
            return NULL;
        if (fds[0].revents)
            return NULL;
        for (unsigned i = 1; i < n; i++) {
            if (fds[i].revents & ~POLLIN)
                return NULL; /* the function went away */
            if (!(fds[i].revents & POLLIN))
                continue;
            uint64_t count = 0; /* uio: a 32-bit count; eventfd: 64 bits */
            size_t len = p->route == EMU_PCIREAL_UIO ? sizeof(uint32_t) : sizeof(uint64_t);
            if (read(fds[i].fd, &count, len) != (ssize_t)len)
                return NULL;
            __atomic_add_fetch(&p->st.interrupts, 1, __ATOMIC_RELAXED);
            if (p->route == EMU_PCIREAL_UIO)
                emu_host_schedule(p->host, 0, irq_work, p);
            else
                emu_host_schedule(p->host, 0, pcivfio_irq_work, &p->msix.vec[i - 1]);
        }
    }
}

static void attach(void *d, emu_host *host)
{
    emu_pcireal *p = d;
    p->host = host;
    uint16_t cmd = (uint16_t)pcireal_cfg_raw_read(p, PCI_COMMAND, 2);
    pcireal_cfg_raw_write(p, PCI_COMMAND, 2,
                          (cmd & ~PCI_CMD_INTX_OFF) | PCI_CMD_MEMORY | PCI_CMD_MASTER);
    uint64_t one = 1;
    if (read(p->quit_fd, &one, sizeof(one)) < 0) {
        /* nothing pending: fine */
    }
    p->thread_running = pthread_create(&p->irq_thread, NULL, irq_main, p) == 0;
}

static void detach(void *d)
{
    emu_pcireal *p = d;
    if (p->thread_running) {
        uint64_t one = 1;
        if (write(p->quit_fd, &one, sizeof(one)) != sizeof(one))
            p->st.cfg_errors++;
        pthread_join(p->irq_thread, NULL);
        p->thread_running = false;
    }
    if (p->route == EMU_PCIREAL_VFIO)
        pcivfio_irqs_off(p);
    /* The miniport reset the device in its halt; stop bus mastering too. */
    uint16_t cmd = (uint16_t)pcireal_cfg_raw_read(p, PCI_COMMAND, 2);
    pcireal_cfg_raw_write(p, PCI_COMMAND, 2, cmd & ~PCI_CMD_MASTER);
    p->host = NULL;
}

static int open_route(emu_pcireal *p, char *err, size_t errlen)
{
    if (p->route == EMU_PCIREAL_VFIO)
        return pcivfio_open(p, err, errlen);
    char path[256];
    snprintf(path, sizeof(path), SYSFS_PCI "/%s/config", p->bdf);
    p->cfg_fd = open(path, O_RDWR | O_CLOEXEC);
    if (p->cfg_fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    return open_uio(p, err, errlen) || map_bars(p, err, errlen) ? -1 : 0;
}

emu_pcireal *emu_pcireal_open(const char *bdf, emu_pcireal_route route, char *err, size_t errlen)
{
    emu_pcireal *p = calloc(1, sizeof(*p));
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(p->bdf, sizeof(p->bdf), "%s", bdf);
    p->route = route;
    p->cfg_fd = p->uio_fd = p->container_fd = p->group_fd = p->device_fd = -1;
    for (unsigned i = 0; i < MSIX_MAX_VECTORS; i++)
        p->msix.efd[i] = -1;
    p->quit_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    char path[256], v[32], dv[32];
    snprintf(path, sizeof(path), SYSFS_PCI "/%s/vendor", bdf);
    int e1 = pcireal_read_text(path, v, sizeof(v));
    snprintf(path, sizeof(path), SYSFS_PCI "/%s/device", bdf);
    if (e1 || pcireal_read_text(path, dv, sizeof(dv))) {
        snprintf(err, errlen, "%s: no such PCI function", bdf);
        emu_pcireal_close(p);
        return NULL;
    }
    if (p->quit_fd < 0 || open_route(p, err, errlen)) {
        if (p->quit_fd < 0)
            snprintf(err, errlen, "eventfd: %s", strerror(errno));
        emu_pcireal_close(p);
        return NULL;
    }
    snprintf(p->pnp_id, sizeof(p->pnp_id), "PCI\\VEN_%04lX&DEV_%04lX", strtoul(v, NULL, 16),
             strtoul(dv, NULL, 16));
    p->ops.cfg_read = cfg_read;
    p->ops.cfg_write = cfg_write;
    p->ops.mmio_read = mmio_read;
    p->ops.mmio_write = mmio_write;
    p->ops.attach = attach;
    p->ops.detach = detach;
    return p;
}

void emu_pcireal_set_dma(emu_pcireal *p, const emu_dma_ops *dma)
{
    p->dma = dma;
}

void emu_pcireal_close(emu_pcireal *p)
{
    if (!p)
        return;
    for (unsigned i = 0; i < EMU_PCI_BARS; i++) {
        if (p->bar[i].va)
            munmap((void *)p->bar[i].va, p->bar[i].size);
    }
    if (p->cfg_fd >= 0)
        close(p->cfg_fd);
    if (p->uio_fd >= 0)
        close(p->uio_fd);
    pcivfio_close(p);
    if (p->quit_fd >= 0)
        close(p->quit_fd);
    free(p);
}

void emu_pcireal_device_desc(emu_pcireal *p, const char *instance, emu_device_desc *desc)
{
    memset(desc, 0, sizeof(*desc));
    desc->instance = instance;
    desc->pnp_id = p->pnp_id;
    for (unsigned i = 0; i < EMU_PCI_BARS; i++)
        desc->bar_size[i] = p->bar[i].size;
    /* uio: the INTx line; VFIO: one message per MSI-X table entry */
    desc->msix_vectors = p->route == EMU_PCIREAL_VFIO ? p->msix.vectors : 0;
    desc->ops = &p->ops;
    desc->dev = p;
    desc->dma = p->dma;
}

void emu_pcireal_get_stats(emu_pcireal *p, emu_pcireal_stats *out)
{
    *out = p->st;
    out->interrupts = __atomic_load_n(&p->st.interrupts, __ATOMIC_RELAXED);
}

void emu_pcireal_churn(emu_pcireal *p, unsigned bar, uint64_t off, bool armed)
{
    __atomic_store_n(&p->churn.armed, 0, __ATOMIC_RELEASE);
    p->churn.bar = bar;
    p->churn.off = off;
    __atomic_store_n(&p->churn.armed, armed ? 1 : 0, __ATOMIC_RELEASE);
}

uint32_t emu_pcireal_cfg_read_raw(emu_pcireal *p, uint32_t off, unsigned size)
{
    return pcireal_cfg_raw_read(p, off, size);
}

volatile void *emu_pcireal_bar(emu_pcireal *p, unsigned bar, uint64_t *size)
{
    if (bar >= EMU_PCI_BARS || !p->bar[bar].va)
        return NULL;
    *size = p->bar[bar].size;
    return p->bar[bar].va;
}
