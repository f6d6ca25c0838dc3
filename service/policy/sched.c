/* When to reconcile (vsvc_sched.h). */
#include "vsvc_sched.h"

#define MAX_WAIT_MS 0x7fffffffu

void vsvc_sched_init(struct vsvc_sched *s, const struct vsvc_config *cfg, uint64_t now_ms)
{
    s->cfg = *cfg;
    s->have_due = true;
    s->due = now_ms;
    s->next_periodic = now_ms + cfg->reconcile_interval_ms;
}

void vsvc_sched_event(struct vsvc_sched *s, uint64_t now_ms)
{
    uint64_t at = now_ms + s->cfg.debounce_ms;
    /* Later events never push an earlier deadline back: a storm of arrivals
     * cannot starve the reconcile. */
    if (!s->have_due || at < s->due) {
        s->due = at;
        s->have_due = true;
    }
}

/* vfo reports a pair only once it has bound the VF, so the VF's identity is
 * settled and nothing is gained by waiting; meanwhile TCP/IP, if the VF
 * declares ndis5, is bound to it and receives every frame a second time. */
void vsvc_sched_vfo_change(struct vsvc_sched *s, uint64_t now_ms)
{
    s->due = now_ms;
    s->have_due = true;
}

bool vsvc_sched_due(const struct vsvc_sched *s, uint64_t now_ms)
{
    return (s->have_due && now_ms >= s->due) || now_ms >= s->next_periodic;
}

void vsvc_sched_done(struct vsvc_sched *s, uint64_t now_ms, uint32_t next_ms)
{
    s->have_due = next_ms != 0;
    s->due = now_ms + next_ms;
    s->next_periodic = now_ms + s->cfg.reconcile_interval_ms;
}

uint32_t vsvc_sched_wait_ms(const struct vsvc_sched *s, uint64_t now_ms)
{
    uint64_t deadline = s->next_periodic;
    if (s->have_due && s->due < deadline)
        deadline = s->due;
    if (deadline <= now_ms)
        return 0;
    if (deadline - now_ms > MAX_WAIT_MS)
        return MAX_WAIT_MS;
    return (uint32_t)(deadline - now_ms);
}
