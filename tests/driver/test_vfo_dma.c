/*
 * test_vfo_dma.c - ndisemu's DMA provider (emu_device_desc.dma), the hook
 * real hardware needs (docs/realdev.md), under vfo.sys on the emulated
 * virtio-net device: shared memory comes from the provider at the addresses
 * it gives, long frames bounce through provider blocks (short ones are
 * copied by lib/vnet), the device reaches both through those addresses, and
 * every block is back when the adapter is gone. Verifier on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vfo_world.h"

#define DEV_BASE 0x7000000000ull /* far from ndisemu's own addresses */

typedef struct provider {
    uint64_t next, allocs, frees, live, bounces_1000;
} provider;

static void *block_alloc(void *ctx, size_t len, uint64_t *dev_addr)
{
    provider *pv = ctx;
    void *va = aligned_alloc(4096, (len + 4095) & ~(size_t)4095);
    if (!va)
        return NULL;
    *dev_addr = DEV_BASE + pv->next;
    pv->next += ((len + 4095) & ~(uint64_t)4095) + 4096;
    pv->allocs++;
    pv->live++;
    pv->bounces_1000 += len == 1000;
    return va;
}

static void block_free(void *ctx, void *va, size_t len)
{
    provider *pv = ctx;
    (void)len;
    free(va);
    pv->frees++;
    pv->live--;
}

static void provider_blocks_carry_traffic(void **state)
{
    (void)state;
    provider pv = { 0 };
    emu_dma_ops ops = { block_alloc, block_free, &pv };
    vfo_world w;
    miniprot_stats st;
    vnet_pci_opts o = { .standby = true, .loopback = true, .dma = &ops };
    vw_mac(0, o.mac);
    assert_int_equal(vw_start(&w, 1), EMU_OK);
    assert_int_equal(vw_add_virtio(&w, 0, &o, NULL), EMU_OK);
    assert_string_equal(emu_adapter_state(w.vfo_ad[0]), "running");
    uint64_t ring_blocks = pv.allocs;
    assert_true(ring_blocks > 0); /* rings and buffers: from the provider */
    assert_int_equal(vw_pt_filter(&w, NDIS_PACKET_TYPE_DIRECTED), EMU_OK);

    uint64_t tx_before = w.vn[0]->tx_frames;
    assert_int_equal(vw_pt_send(&w, 4, 1000, true), EMU_OK); /* mapped: bounced */
    assert_int_equal(vw_pt_send(&w, 3, 100, true), EMU_OK);  /* copied by lib/vnet */
    assert_int_equal(vw_pt_stats(&w, &st), EMU_OK);
    assert_int_equal(st.send_ok, 7);
    assert_int_equal(w.vn[0]->tx_frames - tx_before, 7);
    assert_int_equal(st.received, 7); /* looped back through the receive ring */
    assert_int_equal(pv.bounces_1000, 4);
    assert_int_equal(pv.live, ring_blocks); /* the bounce blocks are back */

    emu_counters c;
    emu_get_counters(w.rt, &c);
    assert_int_equal(c.bad_dma, 0);
    assert_int_equal(vw_remove_virtio(&w, 0, false), EMU_OK);
    assert_int_equal(pv.live, 0);
    assert_int_equal(vw_finish(&w), EMU_OK);
    vw_destroy(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(provider_blocks_carry_traffic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
