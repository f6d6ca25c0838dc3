/*
 * world.h - the emulated world a scenario runs in: the ndisemu runtime with
 * the guest's drivers, the host switch, the hypervisor model, a peer host,
 * and the TCP/IP stand-in's control device; plus what is recorded while it
 * runs (samples of every switch port for the plot, the runner's failures).
 */
#ifndef VFO_EMU_WORLD_H
#define VFO_EMU_WORLD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "hv.h"
#include "nfmodel.h"
#include "ndisemu/emu.h"
#include "peer.h"
#include "seqstat.h"
#include "tcpip.h"
#include "vsvc_emu.h"
#include "vswitch.h"

#define WORLD_MAX_FAILURES 32
#define WORLD_MAX_EXTRA    4
#define WORLD_MAX_SAVED    16
#define SAMPLE_NS          10000000ull /* 10 ms */
/* Entries of each TCP/IP stand-in log (sends, arrivals): 65 s of one
 * stream at 1000/s. A run that outgrows them fails rather than miscount;
 * they are allocated and filled for every seed, so bigger costs time. */
#define TCPIP_LOG_ENTRIES (1u << 16)

typedef struct drv_path {
    char so[512];
    char desc[512]; /* empty: next to the .so */
} drv_path;

typedef struct world_opts {
    uint64_t seed;
    bool seed_from_cli;
    emu_hv_cfg hv;
    uint32_t rate;    /* datagrams per second and direction */
    uint32_t payload; /* UDP payload bytes */
    bool tcpip;       /* load the TCP/IP stand-in */
    bool trace;       /* ndisemu trace to stderr */
    bool progress;    /* print events as they happen */
    char vf_range[16];
    char first_host[16];
    uint32_t rx_max_nbls; /* MaxNblsToIndicate ndisemu passes (0 = its default) */
    uint32_t lso_bytes;   /* TCP/IP's large sends per tick (0 = none) */
} world_opts;

/* Frame counters summed over the guest-facing ports of every host switch:
 * from the guest (out) and to it (in), on VF ports and on virtio taps. */
enum { PATH_OUT_VF, PATH_OUT_TAP, PATH_IN_VF, PATH_IN_TAP, PATH_SERIES };
typedef struct port_sample {
    uint64_t t_ns;
    uint64_t frames[PATH_SERIES];
} port_sample;

/* A lightweight filter over chosen adapters (filter.c). */
typedef struct world_filter {
    bool enabled;
    char over[256]; /* adapter ids, comma-separated */
    uint32_t hold_ms, pend_oid_ms;
    bool fail_attach, bypass_receive;
    char runtype[16];
    emu_driver *drv; /* once loaded */
} world_filter;

/* "--filter SO:DESC": another filter in passflt's place (Microsoft's filter
 * sample, `make mssamples`): loaded with its own description, its service
 * name read from it. */
typedef struct world_ext_filter {
    drv_path path; /* so empty: passflt */
    char service[64];
} world_ext_filter;

typedef struct world {
    world_opts o;
    drv_path standby, vf, tcpip, extra[WORLD_MAX_EXTRA];
    unsigned n_extra;
    bool standby_from_cli;

    emu_runtime *rt;
    emu_fabric *net;
    emu_hv *hv;
    emu_peer *peer;
    emu_peer_cfg peer_cfg;
    char peer_name[32];
    uint32_t guest_ip;
    emu_ctl *tcpip_ctl;
    bool booted, finished;
    uint64_t end_ns; /* virtual time when the run ended */

    bool traffic_on, traffic_in, traffic_out;
    uint64_t traffic_start_ns, traffic_stop_ns;
    port_sample *samples;
    size_t n_samples, cap_samples;
    uint64_t sample_timer;

    struct vsvc_emu *svc;             /* vfosvc, while running (svc.c) */
    struct vsvc_mem_store *svc_store; /* its records: outlive a stop */
    struct vsvc_emu_stats svc_stats;  /* its counters when it stopped */
    char netcfg_holder[64];           /* "service lock": who holds INetCfg's write lock */

    nfmodel nf; /* what net_failover's receive rule would have dropped (a model) */

    emu_driver *standby_drv; /* the driver under test, once loaded */
    world_filter filter;
    world_ext_filter ext_filter;
    struct guest_watch *watch; /* its pairs' states in the timeline (guest.c) */
    struct {
        char name[32];
        uint64_t v;
    } saved[WORLD_MAX_SAVED]; /* "save NAME SUBJECT" */
    unsigned n_saved;

    char failures[WORLD_MAX_FAILURES][256];
    unsigned n_failures;
    /* Why the command being carried out could not be: set by the argument
     * that was wrong, reported with the command's name, then cleared. */
    char why[160];
    FILE *out; /* progress and reports */
} world;

/* Defaults for the built-in driver paths come from the build. */
void world_defaults(world *w, FILE *out);
/* "vnetmin" names the minimal test miniport built with vfo-emu; anything
 * else is a path. */
const char *world_driver_alias(const char *name);
int world_create(world *w);
/* Stops the traffic and shuts the runtime down (removal, unload, leak
 * checks: a leak is a failure); the world can still be queried. */
void world_finish(world *w);
void world_destroy(world *w);
/* Loads the drivers, configures the stand-in, starts the guest. */
int world_boot(world *w);
void world_fail(world *w, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The TCP/IP stand-in, through its control device. */
int world_tcpip_stats(world *w, tcpip_stats *s);
int world_tcpip_ioctl(world *w, uint32_t code, const void *in, size_t in_len);
/* Its send log and arrival log (caller frees). */
int world_tcpip_tx_log(world *w, uint64_t **sent, size_t *n);
int world_tcpip_rx_log(world *w, emu_seq_arrival **arr, size_t *n);

int world_traffic(world *w, bool start, uint32_t rate, bool in, bool out);

/* One direction's logs: "in" is peer -> guest (the peer's send log, the
 * stand-in's arrivals by adapter), "out" guest -> peer (the stand-in's send
 * log, the peer's arrivals by switch port). */
typedef struct dir_logs {
    uint64_t *sent;
    size_t n_sent;
    emu_seq_arrival *arr;
    size_t n_arr;
    bool own_sent, own_arr;
} dir_logs;
int traffic_logs(world *w, bool in, dir_logs *d);
void traffic_logs_free(dir_logs *d);

#endif /* VFO_EMU_WORLD_H */
