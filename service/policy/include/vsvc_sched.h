/*
 * vsvc_sched.h - when the service reconciles: at start, shortly after a
 * burst of device events (debounced, but never postponed past the first
 * event's debounce deadline), at once when vfo reports a change, when the
 * policy asks to be called back
 * (pending restore, retry after a busy lock), and periodically as a safety
 * net. Pure arithmetic on a caller-supplied monotonic clock.
 */
#ifndef VSVC_SCHED_H
#define VSVC_SCHED_H

#include "vsvc_config.h"

struct vsvc_sched {
    struct vsvc_config cfg;
    bool have_due;
    uint64_t due;           /* an event-driven or requested reconcile */
    uint64_t next_periodic; /* the safety-net reconcile */
};

/* The first reconcile is due at once. */
void vsvc_sched_init(struct vsvc_sched *s, const struct vsvc_config *cfg, uint64_t now_ms);
/* A network adapter arrived or left: reconcile once the burst settles. */
void vsvc_sched_event(struct vsvc_sched *s, uint64_t now_ms);
/* vfo reported a change (a pair formed or left): reconcile now. */
void vsvc_sched_vfo_change(struct vsvc_sched *s, uint64_t now_ms);
bool vsvc_sched_due(const struct vsvc_sched *s, uint64_t now_ms);
/* A reconcile ran; next_ms is the policy's vsvc_reconcile_result.next_ms. */
void vsvc_sched_done(struct vsvc_sched *s, uint64_t now_ms, uint32_t next_ms);
/* How long the caller may sleep before the next deadline (<= INT32_MAX). */
uint32_t vsvc_sched_wait_ms(const struct vsvc_sched *s, uint64_t now_ms);

#endif /* VSVC_SCHED_H */
