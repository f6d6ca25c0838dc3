/*
 * fault.c - malformed input from the real device, on request (SIGUSR1): the
 * used-ring index of the virtio-net function's receive queue jumps, then the
 * adapter's stack is paused and restarted (emu_restart_stack), whose
 * MiniportRestart polls the receive ring at once: vfo reads the index before
 * QEMU publishes its next one (it would overwrite ours with its own shadow),
 * as long as the guest is quiet. vfo's DbgPrint output around it is shown in
 * the timeline (ndisemu's trace, on for a moment).
 */
#include <stdlib.h>
#include <string.h>

#include "real.h"

#define PCI_CAP_PTR         0x34
#define PCI_CAP_ID_VENDOR   0x09
#define VIRTIO_CAP_COMMON   1
#define COMMON_Q_SELECT     0x16
#define COMMON_Q_DEVICE     0x30
#define VIRTIO_NET_RX_QUEUE 0
#define USED_IDX_OFFSET     2
#define JUMP                0x4000 /* more than any queue size */

static volatile uint8_t *common_cfg(real *r)
{
    uint32_t cap = emu_pcireal_cfg_read_raw(r->pci, PCI_CAP_PTR, 1) & 0xFC;
    for (unsigned hops = 0; cap >= 0x40 && hops < 48; hops++) {
        if ((emu_pcireal_cfg_read_raw(r->pci, cap, 1) & 0xFF) == PCI_CAP_ID_VENDOR &&
            (emu_pcireal_cfg_read_raw(r->pci, cap + 3, 1) & 0xFF) == VIRTIO_CAP_COMMON) {
            unsigned bar = emu_pcireal_cfg_read_raw(r->pci, cap + 4, 1) & 0xFF;
            uint32_t off = emu_pcireal_cfg_read_raw(r->pci, cap + 8, 4);
            uint64_t size = 0;
            volatile uint8_t *b = emu_pcireal_bar(r->pci, bar, &size);
            return b && off + 0x38 <= size ? b + off : NULL;
        }
        cap = emu_pcireal_cfg_read_raw(r->pci, cap + 1, 1) & 0xFC;
    }
    return NULL;
}

void real_fault_used_jump(real *r)
{
    volatile uint8_t *cc = r->pci ? common_cfg(r) : NULL;
    if (!cc) {
        real_event(r, "FAULT", "no virtio common configuration found");
        return;
    }
    *(volatile uint16_t *)(cc + COMMON_Q_SELECT) = VIRTIO_NET_RX_QUEUE;
    uint64_t used = *(volatile uint32_t *)(cc + COMMON_Q_DEVICE) |
                    (uint64_t) * (volatile uint32_t *)(cc + COMMON_Q_DEVICE + 4) << 32;
    volatile uint16_t *idx = emu_hugedma_va(r->dma, used + USED_IDX_OFFSET, 2);
    if (!idx) {
        real_event(r, "FAULT", "used ring %#llx is not in our DMA memory",
                   (unsigned long long)used);
        return;
    }
    char path[] = "/run/vfo-real.trace";
    r->trace = fopen(path, "w+");
    if (r->trace)
        emu_trace(r->rt, EMU_TRACE_TEXT, r->trace);
    uint16_t old = *idx, bad = (uint16_t)(old + JUMP);
    *idx = bad;
    real_event(r, "FAULT", "virtio RX queue's used index (ring at %#llx) %u -> %u",
               (unsigned long long)used, old, bad);
    emu_adapter *ad = emu_find_adapter(r->rt, "virtio0");
    int err = ad ? emu_restart_stack(r->rt, ad) : EMU_ERR_NOTFOUND;
    real_event(r, "FAULT", "virtio0's stack paused and restarted: %s",
               err ? emu_strerror(err) : "ok");
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
