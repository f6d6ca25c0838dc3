/* The policy tests' world (world.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "world.h"

const uint8_t MAC1[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
const uint8_t MAC2[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x57 };

static const char *const protocols[] = {
    "vfoprot",   "ms_tcpip",    "ms_tcpip6", "ms_lldp",  "ms_lltdio",
    "ms_rspndr", "ms_msclient", "ms_server", "ms_pacer",
};

static void open_policy(struct world *w)
{
    struct vsvc_policy_env env = {
        .bg = &fake_net_ops,
        .bg_ctx = &w->net,
        .store = &fake_store_ops,
        .store_ctx = &w->store,
        .log = &fake_log_ops,
        .log_ctx = &w->log,
    };
    w->p = vsvc_policy_new(&w->cfg, &env);
    assert_non_null(w->p);
    assert_int_equal(vsvc_policy_start(w->p), VSVC_OK);
}

struct world *world_new(bool transactional)
{
    struct world *w = calloc(1, sizeof(*w));
    size_t i;

    assert_non_null(w);
    fake_net_init(&w->net, transactional);
    fake_store_init(&w->store);
    assert_non_null(w->store.mem);
    w->crash.countdown = -1;
    w->crash.env = &w->crash_env;
    w->net.crash = &w->crash;
    w->store.crash = &w->crash;
    vsvc_config_default(&w->cfg);
    w->now = 1000000;
    for (i = 0; i < sizeof(protocols) / sizeof(protocols[0]); i++)
        fake_net_component(&w->net, protocols[i]);
    fake_net_adapter(&w->net, V1, "vfo", MAC1);
    fake_net_ndis5_bindings(&w->net, V1);
    fake_net_adapter(&w->net, F1, "ixgbevf", MAC1);
    fake_net_ndis5_bindings(&w->net, F1);
    pairs_none(&w->pairs);
    pairs_add(&w->pairs, V1, MAC1, VFO_CTL_PAIR_ABSENT, NULL, NULL);
    open_policy(w);
    return w;
}

void world_free(struct world *w)
{
    vsvc_policy_free(w->p);
    fake_store_fini(&w->store);
    free(w);
}

void world_restart(struct world *w)
{
    vsvc_policy_free(w->p);
    fake_net_after_crash(&w->net);
    open_policy(w);
}

void world_add_pair2(struct world *w)
{
    fake_net_adapter(&w->net, V2, "vfo", MAC2);
    fake_net_ndis5_bindings(&w->net, V2);
    fake_net_adapter(&w->net, F2, "mlx5", MAC2);
    fake_net_ndis5_bindings(&w->net, F2);
    pairs_add(&w->pairs, V2, MAC2, VFO_CTL_PAIR_ABSENT, NULL, NULL);
}

int world_reconcile(struct world *w)
{
    return vsvc_policy_reconcile(w->p, &w->pairs, w->now, &w->res);
}

void world_pair(struct world *w, const char *vfo, const uint8_t *mac, uint32_t state,
                const char *vf)
{
    uint32_t i;
    for (i = 0; i < w->pairs.count; i++) {
        struct vsvc_pair *pr = &w->pairs.pair[i];
        if (strcmp(pr->vfo.id, vfo) != 0)
            continue;
        pr->state = state;
        memset(&pr->vf, 0, sizeof(pr->vf));
        if (state != VFO_CTL_PAIR_ABSENT) {
            strcpy(pr->vf.id, vf);
            memcpy(pr->vf.mac, mac, 6);
        }
        w->pairs.generation++;
        return;
    }
    fail_msg("no vfo adapter %s", vfo);
}

void world_unpair_all(struct world *w)
{
    uint32_t i;
    for (i = 0; i < w->pairs.count; i++)
        world_pair(w, w->pairs.pair[i].vfo.id, MAC1, VFO_CTL_PAIR_ABSENT, NULL);
}

void snap_take(const struct world *w, struct snap *s)
{
    size_t i;
    s->n = w->net.n_bindings;
    for (i = 0; i < s->n; i++)
        s->enabled[i] = w->net.bindings[i].enabled;
}

void assert_snap_equal(const struct world *w, const struct snap *s)
{
    size_t i;
    assert_int_equal(w->net.n_bindings, s->n);
    for (i = 0; i < s->n; i++) {
        if (w->net.bindings[i].enabled != s->enabled[i])
            fail_msg("binding %s on %s is %d, expected %d", w->net.bindings[i].path,
                     w->net.bindings[i].adapter_id, w->net.bindings[i].enabled, s->enabled[i]);
    }
}

void assert_adapter_as(const struct world *w, const char *id, const struct snap *s)
{
    size_t i;
    for (i = 0; i < s->n && i < w->net.n_bindings; i++) {
        const struct fake_binding *b = &w->net.bindings[i];
        if (strcasecmp(b->adapter_id, id) == 0 && b->enabled != s->enabled[i])
            fail_msg("binding %s on %s changed", b->path, id);
    }
}

void assert_vf_stripped(struct world *w, const char *vf)
{
    size_t i;
    for (i = 0; i < w->net.n_bindings; i++) {
        const struct fake_binding *b = &w->net.bindings[i];
        bool want;
        if (strcasecmp(b->adapter_id, vf) != 0 || b->kind == VSVC_BG_FILTER)
            continue;
        want = strcmp(b->path, "vfoprot") == 0;
        if (b->enabled != want)
            fail_msg("binding %s on VF %s is %s", b->path, vf, b->enabled ? "on" : "off");
    }
}
