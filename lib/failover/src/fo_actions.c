/* The pair's action queue: events append, the glue drains after every event. */
#include "fo_internal.h"

void fo_emit(fo_pair *p, const fo_action *a)
{
    if (p->q_len == FO_ACTION_QUEUE) {
        /* The glue stopped draining: keep what is queued (older actions must
         * run first) and make the problem loud. Sized so one event never
         * comes close (tests assert it). */
        p->n_queue_full++;
        p->last_error = FO_R_ACTION_QUEUE_FULL;
        return;
    }
    p->q[(p->q_head + p->q_len) % FO_ACTION_QUEUE] = *a;
    p->q_len++;
}

void fo_emit_kind(fo_pair *p, fo_action_kind k)
{
    fo_action a = { .kind = k };
    fo_emit(p, &a);
}

void fo_report(fo_pair *p, fo_reason why, fo_setting s)
{
    fo_action a = { .kind = FO_ACT_REPORT };
    a.u.report.reason = why;
    a.u.report.setting = s;
    fo_emit(p, &a);
}

size_t fo_take_actions(fo_pair *p, fo_action *out, size_t max)
{
    size_t n = 0;
    while (n < max && p->q_len) {
        out[n++] = p->q[p->q_head];
        p->q_head = (p->q_head + 1) % FO_ACTION_QUEUE;
        p->q_len--;
    }
    return n;
}
