/*
 * nfmodel.h - a MODEL of Linux net_failover's receive rule, for comparison
 * in reports; not a run of Linux.
 *
 * net_failover (drivers/net/net_failover.c, net_failover_handle_frame)
 * passes a frame that arrives on the standby (virtio-net) netdev up to the
 * failover netdev only while no primary is registered: once a VF's netdev
 * has registered (its driver probed) and until it unregisters, frames on
 * the standby are dropped, whatever the VF's link. Applied to this run: the
 * peer's sequence-stamped datagrams the host switches delivered to the
 * guest's virtio-net taps while a VF was registered in the guest (between
 * its DEVICE_ADDED and its DEVICE_DELETED) are what net_failover would have
 * lost on top of what this run lost, everything else (the guest's transmit
 * path, hence where the switches send the peer's frames) being equal. One
 * pair per guest is assumed: any registered VF counts for every tap.
 */
#ifndef VFO_EMU_NFMODEL_H
#define VFO_EMU_NFMODEL_H

#include "hv.h"

struct world;

typedef struct nfmodel {
    uint32_t stream;                              /* the peer's stream id */
    char primary[EMU_HV_MAX_NICS][EMU_HV_ID_LEN]; /* ids seen in PRIMARY_PLUG */
    bool registered[EMU_HV_MAX_NICS];
    unsigned n_primary;
    unsigned n_registered;
    uint64_t on_standby; /* the peer's datagrams delivered to a tap */
    uint64_t would_drop; /* of these, while a VF was registered */
} nfmodel;

void nfmodel_init(nfmodel *m, uint32_t peer_stream);
/* Every event of the timeline (called with the hypervisor locked). */
void nfmodel_event(struct world *w, const emu_hv_event *e);

#endif /* VFO_EMU_NFMODEL_H */
