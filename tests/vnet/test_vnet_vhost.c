/*
 * lib/vnet with DPDK's vhost library as the device (dpdk-testpmd, net_vhost,
 * macswap forwarding, in another process; tests/support/vhu_rig): frames of
 * 64 and 1500 bytes go out through vnet_tx and must come back through
 * vnet_rx_next with the MAC addresses swapped and every other byte intact,
 * in order, with checksum and TSO offloads negotiated (the 1500-byte TCP
 * frames ask the device to complete their checksum). The back end must count
 * every frame both ways and log no complaint about a descriptor or a
 * request. No timing is asserted; waits have generous limits only to fail
 * instead of hanging.
 *
 * Skips (exit 77) when dpdk-testpmd is not installed.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "vhu_rig.h"

#define F(bit)      VIO_FEATURE(bit)
#define FRAMES      64u /* per size: a quarter of the ring, so no back-pressure */
#define WAIT_NS     (60ull * 1000000000ull)
#define TCP_CSUM_AT (34u + 16u)

static const uint8_t dst_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0d };
static const uint8_t src_mac[6] = { 0x52, 0x54, 0x00, 0x76, 0x66, 0x6f };
static vhu_rig rig;
static uint64_t sent_total;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
    size_t i;

    for (i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        sum += (uint32_t)(p[len - 1] << 8);
    return sum;
}

static uint16_t fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    return (uint16_t)sum;
}

/* IPv4/TCP frame of `len` bytes; the TCP checksum field holds the
 * pseudo-header sum, as a checksum offload request expects. */
static void build_tcp(uint8_t *f, uint32_t len, uint32_t seq)
{
    uint32_t ip_len = len - 14, tcp_len = ip_len - 20, i;
    uint8_t pseudo[12] = {
        10, 0, 0, 1, 10, 0, 0, 2, 0, 6, (uint8_t)(tcp_len >> 8), (uint8_t)tcp_len
    };
    uint16_t s;

    memcpy(f, dst_mac, 6);
    memcpy(f + 6, src_mac, 6);
    f[12] = 0x08;
    f[13] = 0x00;
    memset(f + 14, 0, 40);
    f[14] = 0x45;
    f[16] = (uint8_t)(ip_len >> 8);
    f[17] = (uint8_t)ip_len;
    f[22] = 64;
    f[23] = 6;
    memcpy(f + 26, pseudo, 8);
    s = (uint16_t)~fold(sum16(f + 14, 20, 0));
    f[24] = (uint8_t)(s >> 8);
    f[25] = (uint8_t)s;
    f[34] = 0x30;
    f[35] = 0x39;
    f[37] = 80;
    memcpy(f + 38, &seq, 4);
    f[46] = 0x50;
    f[47] = 0x10;
    for (i = 54; i < len; i++)
        f[i] = (uint8_t)(i * 7 + seq);
    s = fold(sum16(pseudo, 12, 0));
    f[TCP_CSUM_AT] = (uint8_t)(s >> 8);
    f[TCP_CSUM_AT + 1] = (uint8_t)s;
}

/* A short frame of an experimental EtherType carrying its sequence number. */
static void build_short(uint8_t *f, uint32_t len, uint32_t seq)
{
    uint32_t i;

    memcpy(f, dst_mac, 6);
    memcpy(f + 6, src_mac, 6);
    f[12] = 0x88;
    f[13] = 0xb5;
    memcpy(f + 14, &seq, 4);
    for (i = 18; i < len; i++)
        f[i] = (uint8_t)(i ^ seq);
}

static bool tcp_checksum_ok(const uint8_t *f, uint32_t len)
{
    uint32_t tcp_len = len - 34;
    uint8_t pseudo[12] = {
        10, 0, 0, 1, 10, 0, 0, 2, 0, 6, (uint8_t)(tcp_len >> 8), (uint8_t)tcp_len
    };

    return fold(sum16(f + 34, tcp_len, sum16(pseudo, 12, 0))) == 0xFFFF;
}

static uint32_t gather(const vnet_rx_frame *fr, uint8_t *out, uint32_t cap)
{
    uint32_t done = 0, k;

    for (k = 0; k < fr->nseg && done < cap; k++) {
        uint32_t n = fr->seg[k].len < cap - done ? fr->seg[k].len : cap - done;
        memcpy(out + done, fr->seg[k].va, n);
        done += n;
    }
    return done;
}

/* The frame as it must come back from macswap. */
static void check_returned(const uint8_t *sent, const uint8_t *got, uint32_t len,
                           const vnet_rx_frame *fr, bool csum_offload)
{
    assert_memory_equal(got, sent + 6, 6);
    assert_memory_equal(got + 6, sent, 6);
    if (!csum_offload) {
        assert_memory_equal(got + 12, sent + 12, len - 12);
        return;
    }
    assert_memory_equal(got + 12, sent + 12, TCP_CSUM_AT - 12);
    assert_memory_equal(got + TCP_CSUM_AT + 2, sent + TCP_CSUM_AT + 2, len - TCP_CSUM_AT - 2);
    /* Either still a partial checksum, flagged so, or completed correctly. */
    if (fr->flags & VNET_RXF_CSUM_PARTIAL) {
        assert_int_equal(fr->csum_start, 34);
        assert_int_equal(fr->csum_offset, 16);
        assert_memory_equal(got + TCP_CSUM_AT, sent + TCP_CSUM_AT, 2);
    } else {
        assert_true(tcp_checksum_ok(got, len));
    }
}

static void send_all(uint32_t len, bool tcp)
{
    static const vnet_tx_offload csum = { .flags = VNET_TXO_CSUM,
                                          .csum_start = 34,
                                          .csum_offset = 16 };
    uint32_t i;

    for (i = 0; i < FRAMES; i++) {
        uint8_t *va = (uint8_t *)rig.payload.va + (size_t)i * VHU_RIG_SLOT;
        vnet_tx_seg seg = { rig.payload.pa + (uint64_t)i * VHU_RIG_SLOT, va, len };

        if (tcp)
            build_tcp(va, len, i);
        else
            build_short(va, len, i);
        assert_int_equal(vnet_tx(rig.n, &seg, 1, tcp ? &csum : NULL, va), VNET_OK);
    }
    vnet_tx_kick(rig.n);
    sent_total += FRAMES;
}

static void round_trip(uint32_t len, bool tcp)
{
    static uint8_t got[2048];
    uint64_t completed0 = rig.tx_completed, deadline;
    uint32_t received = 0;
    vnet_rx_frame fr;

    send_all(len, tcp);
    deadline = now_ns() + WAIT_NS;
    while ((received < FRAMES || rig.tx_completed - completed0 < FRAMES) && now_ns() < deadline) {
        vnet_tx_reap(rig.n, FRAMES);
        while (received < FRAMES && vnet_rx_next(rig.n, &fr) == VNET_OK) {
            const uint8_t *sent = (uint8_t *)rig.payload.va + (size_t)received * VHU_RIG_SLOT;

            assert_int_equal(fr.len, len);
            assert_int_equal(gather(&fr, got, sizeof(got)), len);
            check_returned(sent, got, len, &fr, tcp);
            assert_int_equal(vnet_rx_return(rig.n, fr.handle), VNET_OK);
            received++;
        }
        vnet_rx_kick(rig.n);
    }
    assert_int_equal(received, FRAMES);
    assert_int_equal(rig.tx_completed - completed0, FRAMES);
}

static void offloads_negotiated(void **state)
{
    uint64_t f = vnet_features(rig.n);

    (void)state;
    assert_true(f & F(VNET_F_CSUM));
    assert_true(f & F(VNET_F_GUEST_CSUM));
    assert_true(f & F(VNET_F_HOST_TSO4));
    assert_true(f & F(VNET_F_HOST_TSO6));
    assert_true(f & F(VNET_F_GUEST_TSO4));
    assert_true(f & F(VNET_F_MRG_RXBUF));
}

static void frames_of_64_bytes_come_back_swapped(void **state)
{
    (void)state;
    round_trip(64, false);
}

static void frames_of_1500_bytes_with_checksum_offload_come_back_swapped(void **state)
{
    (void)state;
    round_trip(1500, true);
}

static void driver_and_back_end_agree_and_nothing_was_malformed(void **state)
{
    vnet_stats s;
    testpmd_port_stats ps;
    unsigned complaints;
    char first[512];
    bool clean;

    (void)state;
    vnet_get_stats(rig.n, &s);
    assert_int_equal(s.rx.dropped, 0);
    assert_int_equal(s.tx.err_segs, 0);
    clean = vhu_rig_down(&rig, &ps, &complaints, first, sizeof(first));
    memset(&rig, 0, sizeof(rig));
    if (complaints)
        fprintf(stderr, "first back-end complaint: %s", first);
    assert_int_equal(complaints, 0);
    assert_true(ps.found);
    assert_int_equal(ps.rx_packets, sent_total);
    assert_int_equal(ps.tx_packets, sent_total);
    assert_int_equal(ps.rx_dropped + ps.tx_dropped, 0);
    assert_true(clean);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(offloads_negotiated),
        cmocka_unit_test(frames_of_64_bytes_come_back_swapped),
        cmocka_unit_test(frames_of_1500_bytes_with_checksum_offload_come_back_swapped),
        cmocka_unit_test(driver_and_back_end_agree_and_nothing_was_malformed),
    };
    vhu_rig_params p = { .forward_mode = "macswap", .tag = "vnet-test" };
    int rc = vhu_rig_up(&rig, &p);

    if (rc == VHU_RIG_NOT_FOUND) {
        printf("SKIP: %s\n", rig.error);
        return 77;
    }
    if (rc != 0) {
        fprintf(stderr, "test_vnet_vhost: %s\n", rig.error);
        return 1;
    }
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    if (rig.n) /* a test failed before the last one took it down */
        vhu_rig_down(&rig, &(testpmd_port_stats){ 0 }, &(unsigned){ 0 }, NULL, 0);
    return rc;
}
