/*
 * The walk of test_fo_random (see test_fo_random.c for the invariants): one
 * sequence = bring-up, a random walk of steps, then quiescence. Shared with
 * the fuzz target tests/fuzz/failover, which feeds rnd() from its input.
 */
#include "fo_random_world.h"

uint64_t sequences_on_primary; /* sequences in which a send took the primary */

/* ---- the walk ---------------------------------------------------------------- */

static void one_step(void)
{
    sim_pair *s = &sp[below(NPAIRS)];
    unsigned weight_total = 0;
    if (!s->registered)
        return;
    for (unsigned k = 0; k < nsteps; k++)
        weight_total += steps[k].weight;
    for (;;) {
        unsigned w = below(weight_total), k = 0;
        while (w >= steps[k].weight)
            w -= steps[k++].weight;
        if (steps[k].fn(s)) {
            note(steps[k].name);
            break;
        }
    }
    total_steps++;
    for (int i = 0; i < NPAIRS; i++)
        check_invariants(&sp[i]);
}

/* I3/I4: from wherever the walk stopped, everything outstanding completes and
 * a detach started now finishes, within a bounded number of rounds. */
static void quiesce(sim_pair *s)
{
    int rounds = 0;
    for (;; rounds++) {
        CHECK(rounds < 1000); /* no deadlock */
        bool progress = false;
        while (step_complete_primary_send(s) || step_complete_standby_send(s) || step_return(s) ||
               step_drained_dpc(s) || step_replay_complete(s) || step_timer(s))
            progress = true;
        if (s->b == B_OPENING)
            progress |= step_open_complete(s);
        else if (s->b == B_OPEN && s->b_running)
            progress |= step_pause(s);
        else if (s->b == B_OPEN && !s->b_pausing) {
            s->b = B_UNBINDING;
            legal(s, fo_primary_unbind(&s->p));
            progress = true;
        } else if (s->b == B_CLOSING)
            progress |= step_close_complete(s);
        check_invariants(s);
        if (!progress) {
            CHECK(s->b == B_NONE);                                       /* detach completed */
            CHECK(!s->b_pausing && !s->up_pausing && !s->power_pending); /* all completed */
            CHECK(lent(s) == 0 && s->n_stx == 0);
            break;
        }
    }
    fo_pair_info info;
    fo_pair_get_info(&s->p, &info);
    CHECK(info.state == FO_ABSENT && info.inflight == 0);
    if (s->halting)
        CHECK(s->released);
    CHECK(fo_registry_remove(&reg, &s->p) == FO_R_OK);
}

void run_sequence(uint64_t seed, uint64_t seq, unsigned max_steps)
{
    trace_start(seed, seq);
    rnd_seed(seed, seq);
    npkts = 0;
    fo_registry_init(&reg);
    for (int i = 0; i < NPAIRS; i++) {
        sp[i].index = i;
        pair_start(&sp[i]);
        if (chance(90)) {
            sp[i].up_running = true;
            legal(&sp[i], fo_upper_restart(&sp[i].p));
        }
    }
    /* Most walks start from a bound pair, the state migrations start from;
     * the bring-up uses the same steps, so it can fail like any other. */
    for (int i = 0; i < NPAIRS; i++) {
        if (!chance(70))
            continue;
        note("bring-up");
        step_bind(&sp[i]);
        step_open_complete(&sp[i]);
        step_restart(&sp[i]);
        for (int k = 0; k < 2 * FO_SET_COUNT && step_replay_complete(&sp[i]); k++)
            ;
        check_invariants(&sp[i]);
    }
    unsigned n = 1 + below(max_steps);
    uint64_t sends_before = total_primary_sends;
    for (unsigned k = 0; k < n; k++)
        one_step();
    sequences_on_primary += total_primary_sends != sends_before;
    note("| quiesce");
    for (int i = 0; i < NPAIRS; i++)
        quiesce(&sp[i]);
    for (uint32_t id = 0; id < npkts; id++)
        CHECK(completed[id] == 1); /* I2: every packet, exactly once */
}
