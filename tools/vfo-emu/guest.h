/*
 * guest.h - what the guest OS does to its own adapters (restart the stack,
 * sleep and wake), and what the guest can tell about the driver under test:
 * vfo's control device (pairs, states, counters), ndisemu's tagged-pool
 * accounting, and how soon traffic used a VF once it was added.
 */
#ifndef VFO_EMU_GUEST_H
#define VFO_EMU_GUEST_H

#include "cond.h"
#include "scn.h"
#include "world.h"

/* "adapter <id> restart | power d3 | power d0": -1 when not carried out. */
int guest_adapter_cmd(world *w, const scn_cmd *c);

/* The pairs' states as PAIR events in the timeline, from vfo's change
 * notification (nothing when the driver under test has no vfo control
 * device). Started at boot, stopped before shutdown, freed with the world. */
void guest_watch_start(world *w);
/* Opens vfo's control device once it exists (from the sampling tick). */
void guest_watch_tick(world *w);
void guest_watch_stop(world *w);
void guest_watch_free(world *w);

/* Subjects (docs/scenarios.md):
 *   pair.<standby id>.<field>   vfo's control device for that adapter
 *   mem.<id>.bytes|allocations  ndisemu's accounting for a guest adapter
 *   mem.driver.bytes|allocations  ... for the standby's driver as a whole
 *   switchover.<primary id>     from the primary's last PRIMARY_PLUG (the
 *                               hot-plug starts: before the guest initializes
 *                               and binds the VF) to the first datagram of the
 *                               guest's stream that entered the network by
 *                               that VF's port
 *   unplug.<id>                 from its last DEVICE_DEL to the DEVICE_DELETED
 * Returns 1 when the subject is not one of these, else as cond_subject. */
int guest_subject(world *w, char p[4][64], unsigned n, cval *v, char *err, size_t errlen);

#endif /* VFO_EMU_GUEST_H */
