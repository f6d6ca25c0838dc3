/*
 * fakes.h - test back ends for the service policy:
 *   fake_net   a binding configuration that behaves like INetCfg as the
 *              policy relies on it (write lock, staged changes applied on
 *              commit) or like a back end that applies at once; bindings of
 *              an absent adapter persist, as Windows keeps them in the
 *              registry;
 *   fake_store the memory store, counting its writes;
 *   a log that counts events;
 *   crash injection: after the N-th mutating operation (store put/remove,
 *              set_binding, commit) the fakes longjmp to the test, which is
 *              what a process crash looks like to the persistent state.
 */
#ifndef TEST_FAKES_H
#define TEST_FAKES_H

#include <setjmp.h>

#include "vsvc_policy.h"

struct crash {
    long countdown; /* crash after this many more mutating ops; < 0: never */
    long ops;       /* mutating ops seen */
    jmp_buf *env;
};

void crash_tick(struct crash *c);

#define FAKE_MAX_ADAPTERS 16
#define FAKE_MAX_BINDINGS 128

struct fake_binding {
    char adapter_id[VSVC_ID_LEN];
    char path[VSVC_PATH_LEN];
    enum vsvc_bg_kind kind;
    bool fixed;
    bool enabled; /* committed state */
    bool staged;  /* state inside the current write session */
};

struct fake_adapter {
    char id[VSVC_ID_LEN];
    char service[VSVC_NAME_LEN];
    uint8_t mac[6];
    bool has_mac;
    bool present;
};

struct fake_net {
    bool transactional; /* changes wait for commit (INetCfg) */
    size_t n_adapters, n_bindings, n_components;
    struct fake_adapter adapters[FAKE_MAX_ADAPTERS];
    struct fake_binding bindings[FAKE_MAX_BINDINGS];
    char components[16][VSVC_NAME_LEN];
    /* session */
    bool open, writing;
    /* knobs */
    int busy_opens;           /* this many WRITE opens return VSVC_E_BUSY */
    int fail_commits;         /* this many commits fail */
    int fail_reads;           /* this many reads fail */
    const char *error_detail; /* what last_error() reports */
    struct crash *crash;
    /* observations */
    unsigned write_opens, read_opens, sets, commits, cancels;
    unsigned sets_outside_write; /* must stay 0 */
};

void fake_net_init(struct fake_net *n, bool transactional);
void fake_net_component(struct fake_net *n, const char *id);
void fake_net_remove_component(struct fake_net *n, const char *id); /* and its bindings */
void fake_net_adapter(struct fake_net *n, const char *id, const char *service, const uint8_t *mac);
void fake_net_present(struct fake_net *n, const char *id, bool present);
void fake_net_binding(struct fake_net *n, const char *adapter_id, const char *path,
                      enum vsvc_bg_kind kind, bool enabled);
struct fake_binding *fake_net_find(struct fake_net *n, const char *adapter_id, const char *path);
void fake_net_after_crash(struct fake_net *n);
bool fake_net_enabled(struct fake_net *n, const char *adapter_id, const char *path);
extern const struct vsvc_bg_ops fake_net_ops;

/* Typical bindings Windows creates on an adapter whose UpperRange is ndis5. */
void fake_net_ndis5_bindings(struct fake_net *n, const char *adapter_id);

struct fake_store {
    struct vsvc_mem_store *mem;
    int fail_puts;
    struct crash *crash;
    unsigned puts, removes;
};

void fake_store_init(struct fake_store *s);
void fake_store_fini(struct fake_store *s);
const struct vsvc_store_record *fake_store_find(struct fake_store *s, const char *adapter_id,
                                                const char *path);
extern const struct vsvc_store_ops fake_store_ops;

struct fake_log {
    unsigned count[VSVC_EV_COUNT];
    unsigned total;
    char last[VSVC_EV_COUNT][256];
};

extern const struct vsvc_log_ops fake_log_ops;

/* Pairs helpers. */
void pairs_none(struct vsvc_pairs *p);
struct vsvc_pair *pairs_add(struct vsvc_pairs *p, const char *vfo_id, const uint8_t *mac,
                            uint32_t state, const char *vf_id, const uint8_t *vf_mac);

#endif /* TEST_FAKES_H */
