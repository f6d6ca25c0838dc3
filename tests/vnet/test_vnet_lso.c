/*
 * Large sends in Windows' LSOv2 form through the Linux host model: as
 * Windows TCP/IP builds them (IPv4 Total Length 0, TCP checksum field =
 * pseudo-header sum without the TCP length) the host drops them; with the
 * length alone fixed every segment has a wrong TCP checksum; with
 * vnet_lso_fix_headers every segment passes a Linux host's IP and TCP
 * input checks and the payload arrives whole.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "netframe.h"
#include "virtio_net_dev.h"
#include "vnet.h"

#define PAYLOAD 10000u
#define MSS     1460u
#define L3      14u
#define L4      34u
#define HDRS    54u

static uint8_t g_frame[HDRS + PAYLOAD];

typedef struct seen {
    unsigned ok, bad_len, bad_csum;
    size_t bytes;
} seen;

static void check_segment(void *ctx, const uint8_t *f, size_t len, const emu_vnet_meta *m)
{
    seen *s = ctx;
    size_t payload = 0;
    (void)m;
    nf_tcp_verdict v = nf_check_tcp(f, len, &payload);
    s->ok += v == NF_TCP_OK;
    s->bad_len += v == NF_TCP_BAD_LEN;
    s->bad_csum += v == NF_TCP_BAD_CSUM;
    if (v == NF_TCP_OK)
        s->bytes += payload;
}

static size_t windows_frame(void)
{
    nf_tcp t = { .dst_mac = { 2, 0, 0, 0, 0, 1 },
                 .src_mac = { 2, 0, 0, 0, 0, 2 },
                 .src_ip = 0x0A000002u,
                 .dst_ip = 0x0A000001u,
                 .src_port = 5003,
                 .dst_port = 5003,
                 .seq = 1000 };
    return nf_build_tcp_lso(g_frame, sizeof(g_frame), &t, PAYLOAD);
}

static seen segment(void)
{
    emu_vnet_meta m = { .flags = EMU_VNET_META_CSUM_PARTIAL,
                        .csum_start = L4,
                        .csum_offset = 16,
                        .gso_type = EMU_VNET_GSO_TCPV4,
                        .gso_size = MSS,
                        .hdr_len = HDRS };
    seen s = { 0 };
    emu_vnet_gso_segment(g_frame, sizeof(g_frame), &m, check_segment, &s);
    return s;
}

static void windows_form_is_dropped_by_the_host(void **state)
{
    (void)state;
    assert_int_equal(windows_frame(), sizeof(g_frame));
    seen s = segment();
    assert_int_equal(s.ok + s.bad_len + s.bad_csum, 0); /* ip_rcv: Total Length 0 */
}

static void length_alone_gives_bad_checksums(void **state)
{
    (void)state;
    windows_frame();
    g_frame[L3 + 2] = (uint8_t)((sizeof(g_frame) - L3) >> 8);
    g_frame[L3 + 3] = (uint8_t)(sizeof(g_frame) - L3);
    seen s = segment();
    assert_int_equal(s.ok, 0);
    assert_int_equal(s.bad_csum, (PAYLOAD + MSS - 1) / MSS);
}

static void fixed_headers_arrive_whole(void **state)
{
    (void)state;
    windows_frame();
    assert_true(vnet_lso_fix_headers(g_frame, HDRS, L3, L4, sizeof(g_frame), false));
    assert_int_equal((g_frame[L3 + 2] << 8) | g_frame[L3 + 3], sizeof(g_frame) - L3);
    seen s = segment();
    assert_int_equal(s.ok, (PAYLOAD + MSS - 1) / MSS);
    assert_int_equal(s.bad_len + s.bad_csum, 0);
    assert_int_equal(s.bytes, PAYLOAD);
}

static void bad_headers_are_refused(void **state)
{
    (void)state;
    windows_frame();
    assert_false(vnet_lso_fix_headers(g_frame, HDRS, L3, L3, sizeof(g_frame), false));
    assert_false(vnet_lso_fix_headers(g_frame, 40, L3, L4, sizeof(g_frame), false));
    assert_false(vnet_lso_fix_headers(g_frame, HDRS, L3, L4, 70000, false)); /* over 65535 */
    g_frame[L3] = 0x65;                                                      /* not IPv4 */
    assert_false(vnet_lso_fix_headers(g_frame, HDRS, L3, L4, sizeof(g_frame), false));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(windows_form_is_dropped_by_the_host),
        cmocka_unit_test(length_alone_gives_bad_checksums),
        cmocka_unit_test(fixed_headers_arrive_whole),
        cmocka_unit_test(bad_headers_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
