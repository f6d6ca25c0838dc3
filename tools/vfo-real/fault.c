/*
 * fault.c - malformed input from the real device, on request: SIGUSR1 with
 * the fault's name in /run/vfo-real.fault (no file: "used-jump").
 *
 *   used-jump     the used index of the virtio-net function's receive queue
 *                 jumps by more than the ring holds;
 *   used-id       a used entry naming descriptor 9999 (out of range) is
 *                 published on the receive queue;
 *   config-churn  config_generation never reads the same twice (the back
 *                 end answers the driver's reads so), until config-ok: the
 *                 next configuration change the device signals cannot be
 *                 read.
 *
 * For the ring faults the adapter's stack is then paused and restarted
 * (emu_restart_stack), whose MiniportRestart polls the receive ring at
 * once: vfo reads our index before QEMU publishes its next one (it would
 * overwrite ours with its own shadow), as long as the guest is quiet.
 * vfo's DbgPrint output around a fault is shown in the timeline (ndisemu's
 * trace, on for a moment).
 */
#include <stdlib.h>
#include <string.h>

#include "real.h"

#define PCI_CAP_PTR         0x34
#define PCI_CAP_ID_VENDOR   0x09
#define VIRTIO_CAP_COMMON   1
#define COMMON_GENERATION   0x15
#define COMMON_Q_SELECT     0x16
#define COMMON_Q_SIZE       0x18
#define COMMON_Q_DEVICE     0x30
#define VIRTIO_NET_RX_QUEUE 0
#define USED_IDX_OFFSET     2
#define USED_RING_OFFSET    4
#define JUMP                0x4000 /* more than any queue size */
#define BAD_ID              9999   /* more than any queue size */
#define FAULT_REQUEST       "/run/vfo-real.fault"
#define TRACE_TICKS         20 /* the driver's messages of the next 2 s */

/* The virtio common configuration: its BAR and offset, and where it is mapped. */
static volatile uint8_t *common_cfg(real *r, unsigned *bar_out, uint32_t *off_out)
{
    uint32_t cap = emu_pcireal_cfg_read_raw(r->pci, PCI_CAP_PTR, 1) & 0xFC;
    for (unsigned hops = 0; cap >= 0x40 && hops < 48; hops++) {
        if ((emu_pcireal_cfg_read_raw(r->pci, cap, 1) & 0xFF) == PCI_CAP_ID_VENDOR &&
            (emu_pcireal_cfg_read_raw(r->pci, cap + 3, 1) & 0xFF) == VIRTIO_CAP_COMMON) {
            unsigned bar = emu_pcireal_cfg_read_raw(r->pci, cap + 4, 1) & 0xFF;
            uint32_t off = emu_pcireal_cfg_read_raw(r->pci, cap + 8, 4);
            uint64_t size = 0;
            volatile uint8_t *b = emu_pcireal_bar(r->pci, bar, &size);
            *bar_out = bar;
            *off_out = off;
            return b && off + 0x38 <= size ? b + off : NULL;
        }
        cap = emu_pcireal_cfg_read_raw(r->pci, cap + 1, 1) & 0xFC;
    }
    return NULL;
}

static void trace_on(real *r)
{
    if (r->trace)
        return;
    r->trace = fopen("/run/vfo-real.trace", "w+");
    if (r->trace)
        emu_trace(r->rt, EMU_TRACE_TEXT, r->trace);
}

static void restart_stack(real *r)
{
    emu_adapter *ad = emu_find_adapter(r->rt, "virtio0");
    int err = ad ? emu_restart_stack(r->rt, ad) : EMU_ERR_NOTFOUND;
    real_event(r, "FAULT", "virtio0's stack paused and restarted: %s",
               err ? emu_strerror(err) : "ok");
}

/* The receive queue's used ring (in our DMA memory) and its size. */
static volatile uint16_t *rx_used_ring(real *r, uint64_t *used, uint16_t *qsize)
{
    unsigned bar;
    uint32_t off;
    volatile uint8_t *cc = r->pci ? common_cfg(r, &bar, &off) : NULL;
    if (!cc) {
        real_event(r, "FAULT", "no virtio common configuration found");
        return NULL;
    }
    *(volatile uint16_t *)(cc + COMMON_Q_SELECT) = VIRTIO_NET_RX_QUEUE;
    *qsize = *(volatile uint16_t *)(cc + COMMON_Q_SIZE);
    *used = *(volatile uint32_t *)(cc + COMMON_Q_DEVICE) |
            (uint64_t) * (volatile uint32_t *)(cc + COMMON_Q_DEVICE + 4) << 32;
    size_t len = USED_RING_OFFSET + 8u * *qsize;
    volatile uint16_t *ring = emu_hugedma_va(r->dma, *used, len);
    if (!ring)
        real_event(r, "FAULT", "used ring %#llx is not in our DMA memory",
                   (unsigned long long)*used);
    return ring;
}

static void used_jump(real *r)
{
    uint64_t used;
    uint16_t qsize;
    volatile uint16_t *ring = rx_used_ring(r, &used, &qsize);
    if (!ring)
        return;
    trace_on(r);
    volatile uint16_t *idx = ring + USED_IDX_OFFSET / 2;
    uint16_t old = *idx, bad = (uint16_t)(old + JUMP);
    *idx = bad;
    real_event(r, "FAULT", "virtio RX queue's used index (ring at %#llx) %u -> %u",
               (unsigned long long)used, old, bad);
    restart_stack(r);
}

static void used_id(real *r)
{
    uint64_t used;
    uint16_t qsize;
    volatile uint16_t *ring = rx_used_ring(r, &used, &qsize);
    if (!ring || !qsize)
        return;
    trace_on(r);
    volatile uint16_t *idx = ring + USED_IDX_OFFSET / 2;
    uint16_t old = *idx;
    volatile uint32_t *elem =
        (volatile uint32_t *)((volatile uint8_t *)ring + USED_RING_OFFSET + 8u * (old % qsize));
    elem[0] = BAD_ID;
    elem[1] = 64;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    *idx = (uint16_t)(old + 1);
    real_event(r, "FAULT", "virtio RX queue's used entry %u (ring at %#llx) names descriptor %u",
               old % qsize, (unsigned long long)used, BAD_ID);
    restart_stack(r);
}

static void config_churn(real *r, bool armed)
{
    unsigned bar;
    uint32_t off;
    if (!r->pci || !common_cfg(r, &bar, &off)) {
        real_event(r, "FAULT", "no virtio common configuration found");
        return;
    }
    if (armed)
        trace_on(r);
    emu_pcireal_churn(r->pci, bar, off + COMMON_GENERATION, armed);
    real_event(r, "FAULT", "virtio config_generation %s",
               armed ? "changes on every read (BAR read answered by vfo-real)" : "stable again");
}

unsigned real_fault_request(real *r)
{
    char name[32] = "used-jump";
    FILE *f = fopen(FAULT_REQUEST, "r");
    if (f) {
        if (!fgets(name, sizeof(name), f))
            name[0] = 0;
        name[strcspn(name, "\r\n ")] = 0;
        fclose(f);
    }
    if (!strcmp(name, "used-jump")) {
        used_jump(r);
    } else if (!strcmp(name, "used-id")) {
        used_id(r);
    } else if (!strcmp(name, "config-churn")) {
        config_churn(r, true);
        return 0; /* the trace runs until config-ok */
    } else if (!strcmp(name, "config-ok")) {
        config_churn(r, false);
        real_fault_report(r);
        return 0;
    } else {
        real_event(r, "FAULT", "unknown fault request \"%s\"", name);
        return 0;
    }
    return TRACE_TICKS;
}

/* Stops the trace and shows the driver's own messages from it. */
void real_fault_report(real *r)
{
    if (!r->trace)
        return;
    emu_trace(r->rt, EMU_TRACE_OFF, NULL);
    rewind(r->trace);
    char line[512];
    while (fgets(line, sizeof(line), r->trace)) {
        char *m = strstr(line, "vfo: ");
        if (m && strstr(line, "DbgPrint")) {
            m[strcspn(m, "\n")] = 0;
            size_t n = strlen(m);
            if (n && m[n - 1] == ')') /* the trace line's closing parenthesis */
                m[n - 1] = 0;
            real_event(r, "DRIVER", "%s", m);
        }
    }
    fclose(r->trace);
    r->trace = NULL;
}
