/*
 * guest_test.h - what the platform tests share about a guest: the TCP/IP
 * stand-in's control device (IOCTLs that must succeed, its statistics) and
 * a stream exchanged with the peer host. Include after cmocka.h.
 */
#ifndef GUEST_TEST_H
#define GUEST_TEST_H

#include "ndisemu/emu.h"
#include "peer.h"
#include "tcpip.h"

#define MS 1000000ull

static inline void guest_ioctl_ok(emu_ctl *ctl, uint32_t code, const void *in, size_t in_len,
                                  void *out, size_t out_len)
{
    int32_t nt = -1;
    size_t ret;
    assert_int_equal(emu_ctl_ioctl(ctl, code, in, in_len, out, out_len, &ret, &nt), EMU_OK);
    assert_int_equal(nt, 0);
}

static inline void guest_stats(emu_ctl *ctl, tcpip_stats *s)
{
    guest_ioctl_ok(ctl, IOCTL_TCPIP_STATS, NULL, 0, s, sizeof(*s));
}

/* Both directions for `ms` at 1000/s, then a 5 ms drain. */
static inline void guest_exchange(emu_runtime *rt, emu_ctl *ctl, emu_peer *peer, unsigned ms)
{
    uint32_t pps = 1000;
    guest_ioctl_ok(ctl, IOCTL_TCPIP_START, &pps, sizeof(pps), NULL, 0);
    assert_int_equal(emu_peer_start(peer, pps), EMU_OK);
    assert_int_equal(emu_run_for(rt, ms * MS), EMU_OK);
    guest_ioctl_ok(ctl, IOCTL_TCPIP_STOP, NULL, 0, NULL, 0);
    emu_peer_stop(peer);
    assert_int_equal(emu_run_for(rt, 5 * MS), EMU_OK);
}

#endif /* GUEST_TEST_H */
