/*
 * world.h - a guest's binding configuration, vfo's pairs, a store and a
 * clock, around one policy instance; shared by the policy tests.
 */
#ifndef TEST_WORLD_H
#define TEST_WORLD_H

#include "fakes.h"

/* Identities: vfo adapters V1/V2, their VFs F1/F2 (same MACs), and an
 * unrelated adapter X that shares F1's MAC. */
#define V1 "{11111111-2222-3333-4444-0000000000A1}"
#define F1 "{AAAAAAAA-BBBB-CCCC-DDDD-0000000000F1}"
#define V2 "{11111111-2222-3333-4444-0000000000A2}"
#define F2 "{AAAAAAAA-BBBB-CCCC-DDDD-0000000000F2}"
#define X1 "{99999999-8888-7777-6666-555555555555}"

extern const uint8_t MAC1[6];
extern const uint8_t MAC2[6];

struct snap {
    size_t n;
    bool enabled[FAKE_MAX_BINDINGS];
};

struct world {
    struct fake_net net;
    struct fake_store store;
    struct fake_log log;
    struct crash crash;
    jmp_buf crash_env;
    struct vsvc_config cfg;
    struct vsvc_policy *p;
    struct vsvc_pairs pairs;
    uint64_t now;
    struct vsvc_reconcile_result res;
};

/* Components of a Windows guest, vfo adapter V1 and VF F1 (UpperRange
 * ndis5, so every protocol bound), F1 not yet paired. */
struct world *world_new(bool transactional);
void world_free(struct world *w);
/* A fresh policy on the same persistent state (service restart). */
void world_restart(struct world *w);
void world_add_pair2(struct world *w); /* V2 and F2, F2 ndis5 too */
int world_reconcile(struct world *w);
void world_pair(struct world *w, const char *vfo, const uint8_t *mac, uint32_t state,
                const char *vf);
void world_unpair_all(struct world *w);

void snap_take(const struct world *w, struct snap *s);
void assert_snap_equal(const struct world *w, const struct snap *s);
/* Every binding of adapter `id` is as the snapshot had it. */
void assert_adapter_as(const struct world *w, const char *id, const struct snap *s);
/* Only vfoprot (and filters, untouched) remain enabled on the VF. */
void assert_vf_stripped(struct world *w, const char *vf);

#endif /* TEST_WORLD_H */
