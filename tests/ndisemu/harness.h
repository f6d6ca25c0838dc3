/*
 * harness.h - shared setup for the ndisemu self-tests: a runtime with the
 * minimal miniport + protocol and one loopnic, driven through public APIs.
 */
#ifndef NDISEMU_TEST_HARNESS_H
#define NDISEMU_TEST_HARNESS_H

#include <ndis.h>

#include "loopnic.h"
#include "miniprot.h"
#include "ndisemu/emu.h"

typedef struct harness {
    emu_sched_kind kind;
    emu_runtime *rt;
    emu_driver *mp, *pt;
    loopnic *nic;
    emu_adapter *ad;
    emu_ctl *ctl;
    emu_device_desc desc;
    emu_driver *flt; /* a filter driver (harness_filter.c), or NULL */
} harness;

int h_start(harness *h, emu_sched_kind kind, uint64_t seed, const char *mp_so, const char *pt_so,
            bool quiet);
/* emu_config.sg_async_pct of the runtimes h_start creates from now on. */
extern uint32_t h_sg_async_pct;
/* emu_config.shared_memory_limit of the runtimes h_start creates from now on. */
extern uint64_t h_shared_memory_limit;
int h_add_nic(harness *h);
int h_send(harness *h, unsigned n, unsigned len);
int h_stats(harness *h, miniprot_stats *st);
/* Scenarios: 0 when every step passed, else the failing step's line in
 * harness.c. */
int h_scenario(harness *h);
/* Frames on the wire when the system shuts down (MiniportShutdownEx), then
 * 1 ms of virtual time: a NIC that was not stopped DMAs them. */
int h_shutdown_scenario(harness *h);
int h_burst_scenario(harness *h);
/* The NIC hangs under traffic; NDIS resets it (NDIS_STATUS_RESET_START/_END). */
int h_reset_scenario(harness *h);
/* Large sends (LSOv2, then LSOv1) through the minimal drivers, looped back. */
int h_lso_scenario(harness *h);
/* A send every second for 40 s of virtual time (NdisTimedDataSend). */
int h_steady_scenario(harness *h);
/* LSOv2 sends racing a surprise removal (real time); h_sends_refused
 * accumulates the sends NDIS failed itself (emu_counters.sends_refused). */
int h_lso_surprise_scenario(harness *h);
extern uint64_t h_sends_refused;
/* One scenario with the minimal drivers on a fresh runtime, then shutdown
 * (leak checks) and teardown. 0 when it ran and ended verifier clean; else
 * non-zero, after printing the failing step and violation to stderr. */
int h_run_clean(emu_sched_kind kind, uint64_t seed, int (*scenario)(harness *h));
void h_finish(harness *h);

/* harness_filter.c: the same drivers with a lightweight filter loaded
 * before the NIC arrives (flt_desc: its description; NULL = next to it). */
int h_start_filtered(harness *h, emu_sched_kind kind, uint64_t seed, const char *flt_so,
                     const char *flt_desc, bool quiet);
/* Writes a passflt description with these settings; returns its path
 * (a static buffer). runtype: "optional" or "mandatory". */
const char *h_passflt_desc(const char *service, const char *runtype, unsigned hold_ms,
                           unsigned pend_oid_ms, bool fail_attach, bool bypass_receive);
/* The filter's statistics (through its control device). */
struct passflt_stats;
int h_filter_stats(harness *h, struct passflt_stats *out);
/* A filter through its paces: traffic with frames held in the filter, an
 * OID pended there, a stack restart while it holds receives, detach and
 * attach at run time, D3/D0, removal. */
int h_filter_scenario(harness *h);
/* h_run_clean with a filter. */
int h_run_clean_filtered(emu_sched_kind kind, uint64_t seed, const char *flt_so,
                         const char *flt_desc, int (*scenario)(harness *h));

#endif
