/*
 * pcireal_int.h - the state of a real PCI function (pcireal.h) shared by the
 * two routes: pcireal.c (what both share, and uio) and pcivfio.c (VFIO).
 */
#ifndef EMU_PCIREAL_INT_H
#define EMU_PCIREAL_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "pcireal.h"

#define SYSFS_PCI        "/sys/bus/pci/devices"
#define PCI_COMMAND      0x04
#define PCI_CMD_MEMORY   0x2
#define PCI_CMD_MASTER   0x4
#define PCI_CMD_INTX_OFF 0x400
#define PCI_BAR0         0x10
#define PCI_BAR_END      0x28
#define PCI_CAP_PTR      0x34
#define PCI_CAP_ID_MSIX  0x11
#define MSIX_ENABLE      0x8000
#define MSIX_MASKALL     0x4000
#define MSIX_MAX_VECTORS 64

typedef struct real_bar {
    volatile uint8_t *va; /* mmap'ed; NULL: through the VFIO device fd at region_off */
    uint64_t size;
    uint64_t region_off; /* VFIO: the BAR's region offset in the device fd */
    bool by_fd;          /* VFIO, not mappable: pread/pwrite at region_off */
    uint32_t flags_lo;   /* the register's low bits: type, prefetchable */
    bool wide;           /* 64-bit: the next register holds the high half */
} real_bar;

/* VFIO: the MSI-X capability is ours (the kernel owns the real table and
 * programs it for the eventfds); the driver's writes go to a shadow. */
typedef struct real_msix {
    uint32_t cap;     /* capability offset, 0: none */
    unsigned vectors; /* table entries */
    unsigned table_bar, pba_bar;
    uint64_t table_off, pba_off;
    uint16_t control; /* the enable and function-mask bits as the driver wrote them */
    bool enabled;     /* VFIO_DEVICE_SET_IRQS done */
    uint32_t table[MSIX_MAX_VECTORS][4];
    int efd[MSIX_MAX_VECTORS];
    struct real_vector {
        struct emu_pcireal *p;
        unsigned n;
    } vec[MSIX_MAX_VECTORS];
} real_msix;

struct emu_pcireal {
    char bdf[32];
    char pnp_id[48];
    emu_pcireal_route route;
    int cfg_fd, uio_fd, quit_fd;
    uint64_t cfg_base;                     /* offset of configuration space in cfg_fd */
    int container_fd, group_fd, device_fd; /* VFIO */
    real_bar bar[EMU_PCI_BARS];
    real_msix msix;
    const emu_dma_ops *dma;
    emu_host *host;
    pthread_t irq_thread;
    bool thread_running;
    bool rearm_pending; /* under the device lock */
    emu_device_ops ops;
    emu_pcireal_stats st;
    struct {
        int armed; /* atomic */
        unsigned bar;
        uint64_t off;
        uint8_t count;
    } churn;
};

int pcireal_read_text(const char *path, char *buf, size_t len);
int pcireal_write_text(const char *path, const char *text);
uint32_t pcireal_cfg_raw_read(emu_pcireal *p, uint32_t off, unsigned size);
void pcireal_cfg_raw_write(emu_pcireal *p, uint32_t off, unsigned size, uint32_t v);
/* Binds bdf to `driver` through driver_override and drivers_probe. */
int pcireal_bind(const char *bdf, const char *driver, char *err, size_t errlen);

/* pcivfio.c */
int pcivfio_open(emu_pcireal *p, char *err, size_t errlen);
void pcivfio_close(emu_pcireal *p);
bool pcivfio_msix_cfg(emu_pcireal *p, uint32_t off, unsigned size);
uint32_t pcivfio_msix_cfg_read(emu_pcireal *p, uint32_t off, unsigned size);
void pcivfio_msix_cfg_write(emu_pcireal *p, uint32_t off, unsigned size, uint32_t value);
bool pcivfio_msix_mmio(emu_pcireal *p, unsigned bar, uint64_t off, unsigned size);
uint64_t pcivfio_msix_mmio_read(emu_pcireal *p, unsigned bar, uint64_t off, unsigned size);
void pcivfio_msix_mmio_write(emu_pcireal *p, unsigned bar, uint64_t off, unsigned size,
                             uint64_t value);
uint64_t pcivfio_bar_read(emu_pcireal *p, unsigned bar, uint64_t off, unsigned size);
void pcivfio_bar_write(emu_pcireal *p, unsigned bar, uint64_t off, unsigned size, uint64_t v);
/* Device work (arg: &p->msix.vec[n]): vector n's eventfd fired. */
void pcivfio_irq_work(void *arg);
void pcivfio_irqs_off(emu_pcireal *p);

#endif /* EMU_PCIREAL_INT_H */
