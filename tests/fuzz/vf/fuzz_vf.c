/*
 * The VF edge: vfo's protocol side bound to a hostile VF miniport
 * (hostile_mp, emu/drivers/minimp/minimp_hostile.c) that turns recipe
 * frames into malformed receives: hundreds of MDLs per NET_BUFFER, any
 * DataOffset/DataLength inside them (zero-length NBs included), bogus
 * out-of-band information (checksum, LSO, 802.1Q, hash), and status
 * indications with any code and a buffer of any size (or none). The
 * recipes travel as frames the test protocol sends through vfo, which puts
 * them on the VF (pair active); the VF's loopback device hands them back
 * and the VF indicates them as the recipe says. Interleaved: VF pause and
 * restart, vfo's own pause, VF surprise and orderly removal and return,
 * plain traffic.
 *
 * Persistent (fuzz_world.h): a verifier rule, a hang or memory any driver
 * (hostile_mp included) still holds after the input aborts.
 */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_input.h"
#include "fuzz_world.h"

#define MAX_OPS     48
#define RECIPE_LEN  48
#define HOSTILE_ETH 0x88B6

static emu_driver *g_hostile;

static void plug_hostile_vf(vfo_world *w, bool run)
{
    uint8_t mac[6];
    emu_driver *mp = w->mp;
    vw_mac(0, mac);
    w->mp = g_hostile; /* vw_plug_vf plugs the VF for w->mp's service */
    int err = run ? vw_add_vf(w, 0, mac) : vw_plug_vf(w, 0, mac);
    w->mp = mp;
    fw_check(w, err, "hostile VF arrival");
}

static void send_recipe(vfo_world *w, fz_input *in)
{
    uint8_t frame[1514];
    size_t len = 14 + RECIPE_LEN + fz_u8(in) * 4u;
    memset(frame, 0, sizeof(frame));
    vw_mac(0, frame);
    vw_mac(0, frame + 6);
    frame[12] = HOSTILE_ETH >> 8;
    frame[13] = HOSTILE_ETH & 0xFF;
    fz_bytes(in, frame + 14, RECIPE_LEN);
    size_t ret;
    int32_t nt;
    int err = emu_ctl_ioctl(w->pt_ctl, IOCTL_MINIPROT_SEND, frame, len, NULL, 0, &ret, &nt);
    fw_check(w, err, "send");
}

static void vf_op(vfo_world *w, fz_input *in)
{
    uint8_t how = fz_u8(in);
    if (!w->vf_ad[0]) {
        plug_hostile_vf(w, how & 1);
        return;
    }
    switch (how % 3) {
    case 0:
        fw_check(w, vw_remove_vf(w, 0, false), "VF removal");
        break;
    case 1:
        fw_check(w, vw_remove_vf(w, 0, true), "VF surprise removal");
        break;
    default:
        fw_check(w, emu_restart_stack(w->rt, w->vf_ad[0]), "VF pause and restart");
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vfo_world *w = fw_get();
    fz_input in = { data, size, 0 };
    if (!g_hostile)
        g_hostile = fw_load(w, HOSTILE_SO);
    fw_check(w, vw_add_virtio(w, 0, NULL, NULL), "virtio arrival");
    plug_hostile_vf(w, true);
    for (unsigned op = 0; op < MAX_OPS && fz_more(&in); op++) {
        switch (fz_u8(&in) % 8) {
        case 0:
        case 1:
        case 2:
            send_recipe(w, &in);
            break;
        case 3:
            fw_check(w, emu_run_for(w->rt, (uint64_t)fz_u16(&in) * 1000u), "run for");
            break;
        case 4:
            fw_check(w, emu_run_until_idle(w->rt), "run until idle");
            break;
        case 5:
            vf_op(w, &in);
            break;
        case 6:
            fw_check(w, emu_restart_stack(w->rt, w->vfo_ad[0]), "vfo pause and restart");
            break;
        default:
            fw_check(w, vw_pt_send(w, fz_u8(&in) % 8, 60 + fz_u8(&in) * 5u, false), "traffic");
            break;
        }
    }
    fw_end(w);
    return 0;
}
