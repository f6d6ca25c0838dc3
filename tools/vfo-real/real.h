/*
 * real.h - vfo-real: vfo.sys in ndisemu on real devices, inside a Linux
 * (QEMU) guest. Shared state of main.c (setup, run, teardown), vf.c (the
 * failover primary: the guest's NIC behind an emulated VF) and pairs.c
 * (vfo's control device: the PAIR timeline and the counters file).
 */
#ifndef VFO_REAL_H
#define VFO_REAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "hugedma.h"
#include "ndisemu/emu.h"
#include "netport.h"
#include "netwatch.h"
#include "pcireal.h"
#include "vfdev.h"
#include "vswitch.h"

typedef struct real_opts {
    const char *lib_dir;     /* vfo.so, vfnic.so, tapprot.so and their .desc files */
    const char *vf_range;    /* "ndis5" (vfnic.desc) or "ndisvf" (vfnic_ndisvf.desc) */
    const char *bdf;         /* the virtio-net function; NULL: the first 1af4:1041 */
    const char *route;       /* "auto", "uio" or "vfio" (pcireal.h) */
    const char *vf_if;       /* the VF's interface; NULL: the one with the virtio MAC */
    const char *status_path; /* counters file, rewritten on every change */
    unsigned hugepages;      /* 2 MiB blocks of DMA memory (uio: hugepages) */
    double seconds;          /* 0: until SIGINT/SIGTERM */
} real_opts;

typedef struct real_vf {
    char ifname[16];
    int ifindex;
    emu_vfdev *dev;
    emu_netport *port;
    emu_adapter *ad;
    bool plugged, link_up;
} real_vf;

typedef struct real {
    real_opts o;
    emu_runtime *rt;
    uint64_t t0;
    pthread_mutex_t out_mu;
    emu_hugedma *dma;
    emu_pcireal *pci;
    emu_switch *sw;
    emu_port *vf_port, *wire_port;
    emu_netwatch *watch;
    uint8_t mac[6]; /* vfo's (the virtio function's) MAC */
    bool have_mac;
    real_vf vf;
    pthread_mutex_t vf_mu; /* vf, between platform work and the main thread */
    emu_ctl *ctl;
    volatile int change; /* a WAIT_CHANGE completed */
    uint64_t generation;
    uint32_t last_state, last_flags;
    bool seen_adapter;
    FILE *trace; /* ndisemu's trace while a fault is injected */
} real;

/* One timeline line: "[  12.345] WHAT  detail". Any thread. */
void real_event(real *r, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* vf.c: the interface watcher's events (platform work). */
void real_vf_event(void *ctx, const emu_netwatch_event *ev);
void real_vf_unwire(real *r);   /* closes the interface's socket */
void real_vf_stats(real *r);    /* a VF_STATS line when the VF's wire counters changed */
void real_vf_teardown(real *r); /* frees the emulated VF (after emu_destroy) */

/* fault.c: malformed input from the virtio function, as /run/vfo-real.fault
 * asks (SIGUSR1): returns how many 100 ms ticks to show the driver's
 * messages for (0: until the next request or the end); report them. */
unsigned real_fault_request(real *r);
void real_fault_report(real *r);

/* pairs.c */
int real_pairs_start(real *r);
/* Main thread: prints what changed and rewrites the status file. */
void real_pairs_poll(real *r, bool force);
void real_pairs_stop(real *r);

#endif /* VFO_REAL_H */
