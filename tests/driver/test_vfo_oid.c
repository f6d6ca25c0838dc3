/*
 * test_vfo_oid.c - OID requests on vfo from the protocol above it
 * (IOCTL_MINIPROT_OID: any request, as the fuzz_oid target sends them),
 * with the VF present so that each set is replayed to it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vfo_world.h"

static NDIS_STATUS oid_set(vfo_world *w, NDIS_OID oid, const void *data, unsigned len)
{
    uint8_t in[sizeof(miniprot_oid) + 256], out[sizeof(miniprot_oid_result) + 256];
    miniprot_oid q = { NdisRequestSetInformation, oid, 0, len, len };
    miniprot_oid_result res;
    size_t ret = 0;
    int32_t nt = -1;
    assert_true(len <= 256);
    memcpy(in, &q, sizeof(q));
    memcpy(in + sizeof(q), data, len);
    assert_int_equal(emu_ctl_ioctl(w->pt_ctl, IOCTL_MINIPROT_OID, in, sizeof(q) + len, out,
                                   sizeof(res) + len, &ret, &nt),
                     EMU_OK);
    assert_int_equal(nt, 0);
    assert_true(ret >= sizeof(res));
    memcpy(&res, out, sizeof(res));
    return (NDIS_STATUS)res.status;
}

static const struct vfo_ctl_adapter *adapter0(vfo_world *w, struct vfo_ctl_pairs *p)
{
    assert_int_equal(vw_pairs(w, p), EMU_OK);
    assert_int_equal(p->adapter_count, 1);
    return &p->adapters[0];
}

/*
 * The VF pends its OIDs (the test miniport completes them from a work item).
 * The packet filter's replay completes after the network addresses were
 * recorded: the engine issues the addresses' replay from inside the
 * filter's answer. vfo answered it while the replay slot was still claimed:
 * "aborted", re-issued at once, aborted again, ... for ever at one virtual
 * instant (found by fuzz_oid; before the fix this test never returned and
 * ctest stopped it at its timeout).
 */
static void replay_step_issued_from_the_previous_answer(void **state)
{
    (void)state;
    vfo_world w;
    struct vfo_ctl_pairs p;
    uint8_t mac[6];
    const ULONG filter = NDIS_PACKET_TYPE_DIRECTED | NDIS_PACKET_TYPE_BROADCAST;
    /* NETWORK_ADDRESS_LIST with one IPv4 NETWORK_ADDRESS_IP (10.0.0.2). */
    const uint8_t addrs[] = { 1, 0, 0,  0, 2, 0, 0, 0, 16, 0, 2, 0, 0, 0,
                              0, 0, 10, 0, 0, 2, 0, 0, 0,  0, 0, 0, 0, 0 };
    vw_mac(0, mac);
    assert_int_equal(vw_start(&w, 1), EMU_OK);
    assert_int_equal(vw_add_virtio(&w, 0, NULL, NULL), EMU_OK);
    assert_int_equal(vw_add_vf(&w, 0, mac), EMU_OK);
    assert_int_equal(adapter0(&w, &p)->pair_state, VFO_CTL_PAIR_ACTIVE);
    assert_int_equal(oid_set(&w, OID_GEN_CURRENT_PACKET_FILTER, &filter, sizeof(filter)),
                     NDIS_STATUS_SUCCESS);
    assert_int_equal(oid_set(&w, OID_GEN_NETWORK_LAYER_ADDRESSES, addrs, sizeof(addrs)),
                     NDIS_STATUS_SUCCESS);
    assert_int_equal(emu_run_until_idle(w.rt), EMU_OK);
    const struct vfo_ctl_adapter *a = adapter0(&w, &p);
    assert_int_equal(a->pair_state, VFO_CTL_PAIR_ACTIVE);
    assert_int_equal(a->counters.replay_failures, 0);
    assert_int_equal(vw_finish(&w), EMU_OK);
    vw_destroy(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(replay_step_issued_from_the_previous_answer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
