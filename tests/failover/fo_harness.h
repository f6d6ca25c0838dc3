/*
 * A scripted stand-in for the vfo.sys glue: it drains the engine's actions
 * after every call, logs them, and keeps the facts tests assert on (is the
 * binding open, was the link ever indicated down, which replay steps were
 * sent in which order). It answers nothing by itself: tests drive every
 * completion explicitly through the public engine API.
 */
#ifndef FO_HARNESS_H
#define FO_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fo_engine.h"

#define H_LOG_MAX 4096

typedef struct h_pair {
    fo_pair p;
    bool binding_open; /* FO_ACT_OPEN_PRIMARY seen and no CLOSE_PRIMARY since */
    bool close_requested;
    bool link_down_indicated; /* any INDICATE_LINK with up == false */
    fo_path tx_path;          /* last FO_ACT_TX_PATH */
    uint32_t timer_token;     /* last armed timer, 0 if none */
    uint32_t timer_delay;
    bool timer_armed;
    fo_setting replay_out; /* replay step awaiting an answer, FO_SET_NONE if none */
    uint32_t replay_token;
} h_pair;

typedef struct h_ctx {
    fo_registry reg;
    h_pair pairs[2];
    fo_action log[H_LOG_MAX];
    size_t nlog;
} h_ctx;

/* Standby / candidate descriptions with sensible defaults (MAC 52:54:00:00:00:0<i+1>,
 * MTU 1500, checksum + LSO + RSS, link up at 10 Gb/s for the VF, 1 Gb/s for virtio). */
void h_standby_desc(fo_standby_desc *d, int i);
void h_candidate_desc(fo_adapter_desc *d, int i);

void h_init(h_ctx *h);
/* Registers pair i with cfg (NULL: defaults) and restarts its upper edge. */
void h_add_pair(h_ctx *h, int i, const fo_config *cfg);
fo_pair *h_p(h_ctx *h, int i);

/* Drains and logs every queued action of pair i; returns how many. */
size_t h_drain(h_ctx *h, int i);
/* Runs an engine call's result through: drains pair i, returns r. */
fo_reason h_after(h_ctx *h, int i, fo_reason r);
void h_clear_log(h_ctx *h);

/* Number of logged actions of kind k (for pair-agnostic logs). */
size_t h_count(const h_ctx *h, fo_action_kind k);
/* Index of the first logged action of kind k, or -1. */
long h_first(const h_ctx *h, fo_action_kind k);
const fo_action *h_last(const h_ctx *h, fo_action_kind k);

/* Answers the outstanding replay step of pair i with st. False if none. */
bool h_answer_replay(h_ctx *h, int i, fo_oid_status st);
/* Answers every replay step with OK until none is outstanding; returns the
 * number of steps answered. */
int h_answer_all_replays(h_ctx *h, int i);

/* Bind candidate i to pair i and take it all the way to ACTIVE: open,
 * restart, replay everything, link as in the description. */
void h_attach(h_ctx *h, int i, const fo_adapter_desc *cand);
/* Graceful detach the way NDIS does it: pause, unbind, close. Requires no
 * references outstanding. */
void h_detach(h_ctx *h, int i);

fo_state h_state(h_ctx *h, int i);

/* The single-pair fixture the tests share: H holds pair 0, registered with the
 * default configuration and its upper edge running; VF is the candidate that
 * matches it (h_candidate_desc(0)). */
extern h_ctx H;
extern fo_adapter_desc VF;
int h_setup(void **state);        /* cmocka setup: a fresh H and VF */
int h_setup_active(void **state); /* ... with VF attached and ACTIVE, log cleared */
fo_pair *P(void);                 /* pair 0 of H */
fo_reason ev(fo_reason r);        /* drains pair 0's actions after an event; returns r */
fo_reason h_why(void);            /* pair 0's fo_pair_info.why */

#endif /* FO_HARNESS_H */
