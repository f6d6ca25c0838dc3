/*
 * vfo_world.h - test support: vfo.sys in ndisemu with up to two virtio-net
 * devices, VFs (the minimal test miniport over a loopback NIC), and the
 * minimal test protocol standing in for TCP/IP, driven only through public
 * interfaces: PnP, netcfg, control devices, ndisemu's accounting.
 */
#ifndef VFO_WORLD_H
#define VFO_WORLD_H

#include <ndis.h>

#include "loopnic.h"
#include "miniprot.h"
#include "ndisemu/emu.h"
#include "vfo_ctl.h"
#include "vnet_pci.h"

#define VW_MAX 2

typedef struct vfo_world {
    emu_runtime *rt;
    emu_driver *vfo, *mp, *pt;
    vnet_pci *vn[VW_MAX];
    emu_device_desc vn_desc[VW_MAX];
    emu_adapter *vfo_ad[VW_MAX];
    loopnic *vf[VW_MAX];
    emu_device_desc vf_desc[VW_MAX];
    emu_adapter *vf_ad[VW_MAX];
    char vn_name[VW_MAX][16], vf_name[VW_MAX][48], vn_reg[VW_MAX][80];
    const char *vn_regs[VW_MAX][4];
    emu_ctl *ctl, *pt_ctl;
} vfo_world;

/* The MAC of pair i (virtio device and VF alike). */
void vw_mac(unsigned i, uint8_t mac[6]);

int vw_start(vfo_world *w, uint64_t seed);
/* The same with a runtime configuration of the caller's (the real-time
 * scheduler...); mp_desc: the VF driver's description file (NULL: its own,
 * UpperRange ndis5; MINIMP_NDISVF_DESC: ndisvf, so the test protocol never
 * binds to a VF). */
int vw_start_cfg(vfo_world *w, const emu_config *cfg, const char *mp_desc);
/* Virtio device i: o = NULL for standby offered, pair i's MAC, loopback on.
 * extra_reg: more "Keyword=Value" registry entries (NULL-terminated), or NULL. */
int vw_add_virtio(vfo_world *w, unsigned i, const vnet_pci_opts *o, const char *const *extra_reg);
int vw_remove_virtio(vfo_world *w, unsigned i, bool surprise);
/* VF i with this MAC; the test protocol's binding to it is disabled, as the
 * binding service would. run: run until idle afterwards. */
int vw_add_vf(vfo_world *w, unsigned i, const uint8_t mac[6]);
/* The same, without running on afterwards (the bind has completed). */
int vw_plug_vf(vfo_world *w, unsigned i, const uint8_t mac[6]);
int vw_remove_vf(vfo_world *w, unsigned i, bool surprise);
/* Virtual nanoseconds the last vw_add_vf / vw_remove_vf PnP operation took
 * (bind, or query-remove to close), before running on until idle. */
extern uint64_t vw_last_pnp_ns;
/* vfo's control device, opened on first use (it exists while vfo has an
 * adapter); NULL when there is none. */
emu_ctl *vw_ctl(vfo_world *w);
#define VW_STATUS_DELETE_PENDING ((int32_t)0xC0000056L)
int vw_pairs(vfo_world *w, struct vfo_ctl_pairs *p);
int vw_pt_filter(vfo_world *w, uint32_t filter);
/* n frames of len bytes to pair 0's MAC, through the test protocol; run
 * until idle afterwards when run is set (else they stay in flight). */
int vw_pt_send(vfo_world *w, unsigned n, unsigned len, bool run);
int vw_pt_stats(vfo_world *w, miniprot_stats *st);
/* Orderly shutdown; then EMU_OK unless a verifier rule tripped. */
int vw_finish(vfo_world *w);
void vw_destroy(vfo_world *w);

#endif
