/*
 * The simulated world of test_fo_random: the glue and NDIS around each pair,
 * as a random walk sees them, with the checks made on every engine action
 * and after every step. See test_fo_random.c for the invariants.
 */
#ifndef FO_RANDOM_WORLD_H
#define FO_RANDOM_WORLD_H

#include <stdbool.h>
#include <stdint.h>

#include "fo_engine.h"

#define NPAIRS    2
#define MAX_PKTS  4096
#define MAX_TRACE 512

uint64_t rnd(void);
uint32_t below(uint32_t n);
bool chance(uint32_t percent);
void rnd_seed(uint64_t seed, uint64_t seq);

/* Failure reporting: the sequence's identity and its step trace. */
void note(const char *what);
void trace_start(uint64_t seed, uint64_t seq);
void fail(const char *why, const char *file, int line);
#define CHECK(cond)                          \
    do {                                     \
        if (!(cond))                         \
            fail(#cond, __FILE__, __LINE__); \
    } while (0)

typedef enum bind_state {
    B_NONE,
    B_OPENING,   /* OPEN_PRIMARY executed, open not completed */
    B_OPEN,      /* opened: bound */
    B_UNBINDING, /* ProtocolUnbindAdapterEx called, close not requested yet */
    B_CLOSING,   /* CLOSE_PRIMARY executed, close not completed */
} bind_state;

typedef struct sim_pair {
    fo_pair p;
    int index;
    bool registered;
    bool halting, released;
    /* the VF binding as NDIS sees it */
    bind_state b;
    bool b_running, b_pausing;
    bool power_low, power_pending, reset, removing, surprise;
    /* the vfo miniport */
    bool up_running, up_pausing, sb_low, sb_link;
    /* outstanding requests */
    bool replay_out;
    uint32_t replay_token;
    bool timer_armed;
    uint32_t timer_token;
    bool drained_pending; /* the fast path said so; the glue's DPC has not run yet */
    /* packets */
    uint32_t ptx[MAX_PKTS], n_ptx; /* on the primary, not completed */
    uint32_t stx[MAX_PKTS], n_stx; /* on virtio, not completed */
    uint32_t lent_rx;              /* VF receives indicated up, not returned */
} sim_pair;

extern fo_registry reg;
extern sim_pair sp[NPAIRS];
extern uint8_t completed[MAX_PKTS];
extern uint32_t npkts;
extern uint64_t total_steps, total_primary_sends, total_resends, total_detaches;

void pair_start(sim_pair *s);
uint32_t lent(const sim_pair *s);
/* Executes (and checks) every queued action of s. */
void absorb(sim_pair *s);
/* An event the simulated NDIS considers legal must be accepted. */
void legal(sim_pair *s, fo_reason r);
void check_invariants(sim_pair *s);
uint32_t new_packet(void);
void complete_up(uint32_t id);
void took_drained(sim_pair *s, bool drained);

/* fo_random_steps.c: one kind of event each; false when not applicable now. */
typedef bool (*step_fn)(sim_pair *);
typedef struct step_kind {
    step_fn fn;
    const char *name;
    unsigned weight;
} step_kind;
extern const step_kind steps[];
extern const unsigned nsteps;

bool step_bind(sim_pair *s);
bool step_open_complete(sim_pair *s);
bool step_restart(sim_pair *s);
bool step_pause(sim_pair *s);
bool step_close_complete(sim_pair *s);
bool step_replay_complete(sim_pair *s);
bool step_complete_primary_send(sim_pair *s);
bool step_complete_standby_send(sim_pair *s);
bool step_return(sim_pair *s);
bool step_drained_dpc(sim_pair *s);
bool step_timer(sim_pair *s);

/* fo_random_walk.c: one whole sequence (rnd_seed first), its invariants
 * checked after every step and at quiescence. */
extern uint64_t sequences_on_primary;
void run_sequence(uint64_t seed, uint64_t seq, unsigned max_steps);

#endif /* FO_RANDOM_WORLD_H */
