/*
 * vfo_world.h - test support: vfo.sys in ndisemu with a virtio-net device,
 * a VF (the minimal test miniport over a loopback NIC with the same MAC) and
 * the minimal test protocol standing in for TCP/IP, driven only through
 * public interfaces: PnP, netcfg, and the control devices.
 */
#ifndef VFO_WORLD_H
#define VFO_WORLD_H

#include <ndis.h>

#include "loopnic.h"
#include "miniprot.h"
#include "ndisemu/emu.h"
#include "vfo_ctl.h"
#include "vnet_pci.h"

#define VW_VF_INSTANCE "{5A1F0C3E-7B2D-4E8A-9C61-0D4B3A2E1F05}"

typedef struct vfo_world {
    emu_runtime *rt;
    emu_driver *vfo, *mp, *pt;
    vnet_pci *vn;
    emu_device_desc vn_desc;
    emu_adapter *vfo_ad;
    loopnic *vf;
    emu_device_desc vf_desc;
    emu_adapter *vf_ad;
    emu_ctl *ctl, *pt_ctl;
    uint8_t mac[6];
} vfo_world;

extern const uint8_t vw_mac[6];

int vw_start(vfo_world *w, uint64_t seed);
int vw_add_virtio(vfo_world *w, const vnet_pci_opts *o, const char *const *registry);
int vw_remove_virtio(vfo_world *w);
/* The VF: same MAC; the test protocol's binding to it is disabled, as the
 * binding service would. */
int vw_add_vf(vfo_world *w, const uint8_t mac[6]);
int vw_remove_vf(vfo_world *w, bool surprise);
int vw_pairs(vfo_world *w, struct vfo_ctl_pairs *p);
int vw_pt_filter(vfo_world *w, uint32_t filter);
/* n frames of len bytes to our own MAC, through the test protocol. */
int vw_pt_send(vfo_world *w, unsigned n, unsigned len);
int vw_pt_stats(vfo_world *w, miniprot_stats *st);
/* Orderly shutdown; then EMU_OK unless a verifier rule tripped. */
int vw_finish(vfo_world *w);
void vw_destroy(vfo_world *w);

#endif
