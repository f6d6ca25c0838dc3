/*
 * Announce frames, byte for byte. Each frame is checked three ways:
 *   - against bytes written out here from the RFC layouts (ARP RFC 826,
 *     RARP RFC 903, IPv6 RFC 8200 + ICMPv6 Neighbor Advertisement RFC 4861,
 *     with the ICMPv6 checksum of RFC 4443 computed by this file's own code);
 *   - by an independent parser of those layouts, also written here;
 *   - by Wireshark's dissectors (tshark, Debian package `tshark`), which
 *     must agree on every field and call the ICMPv6 checksum good. That
 *     part is skipped only when tshark is not installed.
 */
#define _POSIX_C_SOURCE 200809L /* mkstemp, popen */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "vnet.h"

static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t v4[6][4] = {
    { 192, 0, 2, 10 }, { 0, 0, 0, 0 },         { 224, 0, 0, 1 },
    { 127, 0, 0, 1 },  { 255, 255, 255, 255 }, { 198, 51, 100, 7 },
};
static const uint8_t v6[4][16] = {
    { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x42 },
    { 0 },                                              /* :: */
    { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 }, /* ::1 */
    { 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x50, 0x54, 0, 0xff, 0xfe, 0x12, 0x34, 0x56 },
};

/* ---- the frames, written out from the RFCs -------------------------------- */

static const uint8_t garp_192_0_2_10[60] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* broadcast */
    0x52, 0x54, 0x00, 0x12, 0x34, 0x56, /* our MAC */
    0x08, 0x06,                         /* ARP */
    0x00, 0x01,                         /* ar$hrd: Ethernet */
    0x08, 0x00,                         /* ar$pro: IPv4 */
    0x06, 0x04,                         /* ar$hln, ar$pln */
    0x00, 0x01,                         /* ar$op: request */
    0x52, 0x54, 0x00, 0x12, 0x34, 0x56, /* ar$sha */
    192,  0,    2,    10,               /* ar$spa */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* ar$tha: unknown */
    192,  0,    2,    10,               /* ar$tpa: the same address */
    0,    0,    0,    0,    0,    0,    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* pad */
};

static const uint8_t rarp[60] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x80, 0x35, /* RARP */
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04,                      /* Ethernet, IPv4, 6, 4 */
    0x00, 0x03,                                              /* request reverse */
    0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0,    0,    0,    0, /* sha, spa unknown */
    0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0,    0,    0,    0, /* tha = our MAC, tpa */
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0, 0, 0, 0,
};

/* RFC 4443 2.3: ones' complement of the ones' complement sum of the
 * pseudo-header (RFC 8200 8.1) and the message, checksum field taken as 0. */
static uint16_t icmpv6_checksum(const uint8_t *f)
{
    uint32_t sum = 0;
    size_t i;

    for (i = 22; i < 54; i += 2)
        sum += (uint32_t)(f[i] << 8 | f[i + 1]);
    sum += 32 + 58;
    for (i = 54; i < 86; i += 2)
        if (i != 56)
            sum += (uint32_t)(f[i] << 8 | f[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* Unsolicited NA for `target`, checksum included. */
static void expected_na(uint8_t f[86], const uint8_t target[16])
{
    static const uint8_t head[] = {
        0x33, 0x33, 0x00, 0x00, 0x00, 0x01, /* all-nodes multicast MAC */
        0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x86, 0xdd, 0x60, 0x00, 0x00, 0x00, /* version 6 */
        0x00, 0x20, /* payload length 32 */
        58,   255,  /* ICMPv6, hop limit 255 */
    };
    static const uint8_t all_nodes[16] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
    uint8_t *icmp = f + 54;

    memset(f, 0, 86);
    memcpy(f, head, sizeof(head));
    memcpy(f + 22, target, 16);
    memcpy(f + 38, all_nodes, 16);
    icmp[0] = 136;  /* Neighbor Advertisement */
    icmp[4] = 0x20; /* R=0 S=0 O=1 */
    memcpy(icmp + 8, target, 16);
    icmp[24] = 2; /* Target Link-Layer Address */
    icmp[25] = 1;
    memcpy(icmp + 26, mac, 6);
    icmp[2] = (uint8_t)(icmpv6_checksum(f) >> 8);
    icmp[3] = (uint8_t)icmpv6_checksum(f);
}

/* ---- an independent parser of the same layouts -------------------------------- */

typedef struct arp_view {
    uint16_t ethertype, hrd, pro, op;
    uint8_t hln, pln;
    uint8_t sha[6], spa[4], tha[6], tpa[4];
    bool padded_with_zeros;
} arp_view;

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static bool parse_arp(const uint8_t *f, size_t len, arp_view *v)
{
    size_t i;

    if (len < 42)
        return false;
    v->ethertype = be16(f + 12);
    v->hrd = be16(f + 14);
    v->pro = be16(f + 16);
    v->hln = f[18];
    v->pln = f[19];
    v->op = be16(f + 20);
    if (v->hln != 6 || v->pln != 4)
        return false;
    memcpy(v->sha, f + 22, 6);
    memcpy(v->spa, f + 28, 4);
    memcpy(v->tha, f + 32, 6);
    memcpy(v->tpa, f + 38, 4);
    v->padded_with_zeros = true;
    for (i = 42; i < len; i++)
        v->padded_with_zeros &= f[i] == 0;
    return true;
}

typedef struct na_view {
    uint8_t version, next_header, hop_limit, type, code;
    uint16_t payload_len;
    bool router, solicited, override, checksum_ok;
    uint8_t src[16], dst[16], target[16], opt_type, opt_len, opt_mac[6];
} na_view;

static bool parse_na(const uint8_t *f, size_t len, na_view *v)
{
    const uint8_t *ip = f + 14, *icmp = f + 54;

    if (len < 86 || be16(f + 12) != 0x86dd)
        return false;
    v->version = ip[0] >> 4;
    v->payload_len = be16(ip + 4);
    v->next_header = ip[6];
    v->hop_limit = ip[7];
    memcpy(v->src, ip + 8, 16);
    memcpy(v->dst, ip + 24, 16);
    v->type = icmp[0];
    v->code = icmp[1];
    v->checksum_ok = be16(icmp + 2) == icmpv6_checksum(f);
    v->router = icmp[4] & 0x80;
    v->solicited = icmp[4] & 0x40;
    v->override = icmp[4] & 0x20;
    memcpy(v->target, icmp + 8, 16);
    v->opt_type = icmp[24];
    v->opt_len = icmp[25];
    memcpy(v->opt_mac, icmp + 26, 6);
    return true;
}

/* ---- the tests ------------------------------------------------------------------- */

static void gratuitous_arp(void **state)
{
    uint8_t f[VNET_ANNOUNCE_FRAME_MAX];
    size_t len = vnet_build_garp(f, sizeof(f), mac, v4[0]);
    arp_view a;

    (void)state;
    assert_int_equal(len, 60);
    assert_memory_equal(f, garp_192_0_2_10, 60);
    assert_true(parse_arp(f, len, &a));
    assert_int_equal(a.ethertype, 0x0806);
    assert_int_equal(a.hrd, 1);
    assert_int_equal(a.pro, 0x0800);
    assert_int_equal(a.op, 1);
    assert_memory_equal(a.sha, mac, 6);
    assert_memory_equal(a.spa, v4[0], 4);
    assert_memory_equal(a.tpa, v4[0], 4); /* sender = target: gratuitous */
    assert_true(a.padded_with_zeros);
}

static void reverse_arp(void **state)
{
    uint8_t f[VNET_ANNOUNCE_FRAME_MAX];
    size_t len = vnet_build_rarp(f, sizeof(f), mac);
    arp_view a;

    (void)state;
    assert_int_equal(len, 60);
    assert_memory_equal(f, rarp, 60);
    assert_true(parse_arp(f, len, &a));
    assert_int_equal(a.ethertype, 0x8035);
    assert_int_equal(a.op, 3);
    assert_memory_equal(a.sha, mac, 6);
    assert_memory_equal(a.tha, mac, 6);
}

static void unsolicited_neighbor_advertisement(void **state)
{
    static const uint8_t all_nodes[16] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
    uint8_t f[VNET_ANNOUNCE_FRAME_MAX], want[86];
    size_t i, len;
    na_view v;

    (void)state;
    for (i = 0; i < 4; i += 3) {
        len = vnet_build_unsolicited_na(f, sizeof(f), mac, v6[i]);
        assert_int_equal(len, 86);
        expected_na(want, v6[i]);
        assert_memory_equal(f, want, 86);
        assert_true(parse_na(f, len, &v));
        assert_int_equal(v.version, 6);
        assert_int_equal(v.payload_len, 32);
        assert_int_equal(v.next_header, 58);
        assert_int_equal(v.hop_limit, 255);
        assert_memory_equal(v.src, v6[i], 16);
        assert_memory_equal(v.dst, all_nodes, 16);
        assert_int_equal(v.type, 136);
        assert_int_equal(v.code, 0);
        assert_true(v.checksum_ok);
        assert_false(v.router);
        assert_false(v.solicited);
        assert_true(v.override);
        assert_memory_equal(v.target, v6[i], 16);
        assert_int_equal(v.opt_type, 2);
        assert_int_equal(v.opt_len, 1);
        assert_memory_equal(v.opt_mac, mac, 6);
    }
}

static void frames_for_an_address_list(void **state)
{
    vnet_announce_src src = { .ipv4 = v4, .n_ipv4 = 6, .ipv6 = v6, .n_ipv6 = 4 };
    uint8_t f[VNET_ANNOUNCE_FRAME_MAX], want[86];
    size_t len;

    (void)state;
    memcpy(src.mac, mac, 6);
    /* 0.0.0.0, 224.0.0.1, 127.0.0.1, 255.255.255.255, ::, ::1 are skipped. */
    assert_int_equal(vnet_announce_count(&src), 4);
    assert_int_equal(vnet_announce_frame(&src, 0, f, sizeof(f), &len), VNET_OK);
    assert_memory_equal(f, garp_192_0_2_10, 60);
    assert_int_equal(vnet_announce_frame(&src, 1, f, sizeof(f), &len), VNET_OK);
    assert_int_equal(len, 60);
    assert_memory_equal(f + 28, v4[5], 4);
    assert_int_equal(vnet_announce_frame(&src, 2, f, sizeof(f), &len), VNET_OK);
    assert_int_equal(len, 86);
    assert_memory_equal(f + 22, v6[0], 16);
    assert_int_equal(vnet_announce_frame(&src, 3, f, sizeof(f), &len), VNET_OK);
    expected_na(want, v6[3]);
    assert_memory_equal(f, want, 86);
    assert_int_equal(vnet_announce_frame(&src, 4, f, sizeof(f), &len), VNET_E_INVAL);
}

static void no_address_means_rarp(void **state)
{
    vnet_announce_src src = { .ipv4 = &v4[1], .n_ipv4 = 1, .ipv6 = &v6[1], .n_ipv6 = 1 };
    uint8_t f[VNET_ANNOUNCE_FRAME_MAX];
    size_t len;

    (void)state;
    memcpy(src.mac, mac, 6);
    assert_int_equal(vnet_announce_count(&src), 1);
    assert_int_equal(vnet_announce_frame(&src, 0, f, sizeof(f), &len), VNET_OK);
    assert_int_equal(len, 60);
    assert_memory_equal(f, rarp, 60);
    assert_int_equal(vnet_announce_frame(&src, 1, f, sizeof(f), &len), VNET_E_INVAL);
    src.n_ipv4 = 0;
    src.n_ipv6 = 0;
    src.ipv4 = NULL;
    src.ipv6 = NULL;
    assert_int_equal(vnet_announce_count(&src), 1);
}

static void bad_arguments(void **state)
{
    static const uint8_t multicast[6] = { 0x01, 0, 0x5e, 0, 0, 1 };
    vnet_announce_src src = { .ipv4 = v4, .n_ipv4 = 1 };
    uint8_t f[VNET_ANNOUNCE_FRAME_MAX];
    size_t len;

    (void)state;
    memcpy(src.mac, multicast, 6);
    assert_int_equal(vnet_announce_frame(&src, 0, f, sizeof(f), &len), VNET_E_INVAL);
    memcpy(src.mac, mac, 6);
    assert_int_equal(vnet_announce_frame(&src, 0, f, 59, &len), VNET_E_INVAL);
    assert_int_equal(vnet_announce_frame(NULL, 0, f, sizeof(f), &len), VNET_E_INVAL);
    assert_int_equal(vnet_announce_count(NULL), 0);
    assert_int_equal(vnet_build_garp(f, 59, mac, v4[0]), 0);
    assert_int_equal(vnet_build_garp(f, sizeof(f), mac, v4[2]), 0);
    assert_int_equal(vnet_build_garp(f, sizeof(f), multicast, v4[0]), 0);
    assert_int_equal(vnet_build_unsolicited_na(f, 85, mac, v6[0]), 0);
    assert_int_equal(vnet_build_unsolicited_na(f, sizeof(f), mac, v6[1]), 0);
    assert_int_equal(vnet_build_rarp(f, sizeof(f), multicast), 0);
    assert_int_equal(vnet_build_rarp(NULL, sizeof(f), mac), 0);
}

/* ---- Wireshark's opinion --------------------------------------------------------- */

static bool have_tshark(void)
{
    return system("command -v tshark >/dev/null 2>&1") == 0;
}

static void put32(FILE *f, uint32_t v)
{
    assert_int_equal(fwrite(&v, 4, 1, f), 1); /* pcap records are host-endian */
}

/* A classic pcap file (LINKTYPE_ETHERNET) with the frames. */
static void write_pcap(const char *path, uint8_t frames[][VNET_ANNOUNCE_FRAME_MAX],
                       const size_t *lens, size_t n)
{
    FILE *f = fopen(path, "wb");
    uint16_t version[2] = { 2, 4 };
    size_t i;

    assert_non_null(f);
    put32(f, 0xa1b2c3d4);
    assert_int_equal(fwrite(version, 2, 2, f), 2);
    put32(f, 0);
    put32(f, 0);
    put32(f, 65535);
    put32(f, 1);
    for (i = 0; i < n; i++) {
        put32(f, (uint32_t)i);
        put32(f, 0);
        put32(f, (uint32_t)lens[i]);
        put32(f, (uint32_t)lens[i]);
        assert_int_equal(fwrite(frames[i], 1, lens[i], f), lens[i]);
    }
    assert_int_equal(fclose(f), 0);
}

static void tshark_agrees(void **state)
{
    static const char *const want[] = {
        "0x0806|1|1|52:54:00:12:34:56|192.0.2.10|00:00:00:00:00:00|192.0.2.10|||||||||",
        "0x0806|1|1|52:54:00:12:34:56|198.51.100.7|00:00:00:00:00:00|198.51.100.7|||||||||",
        "0x86dd|||||||2001:db8::42|ff02::1|255|136|1|0|1|2001:db8::42|52:54:00:12:34:56",
        "0x86dd|||||||fe80::5054:ff:fe12:3456|ff02::1|255|136|1|0|1|fe80::5054:ff:fe12:3456|"
        "52:54:00:12:34:56",
        "0x8035|3||52:54:00:12:34:56|0.0.0.0|52:54:00:12:34:56|0.0.0.0|||||||||",
    };
    vnet_announce_src src = { .ipv4 = v4, .n_ipv4 = 6, .ipv6 = v6, .n_ipv6 = 4 };
    uint8_t frames[5][VNET_ANNOUNCE_FRAME_MAX];
    char path[] = "/tmp/vnet_announce_XXXXXX", cmd[1024], line[512];
    size_t lens[5], i;
    FILE *out;
    int fd;

    (void)state;
    if (!have_tshark()) {
        print_message("tshark is not installed (Debian package tshark): cross-check skipped\n");
        skip();
    }
    memcpy(src.mac, mac, 6);
    for (i = 0; i < 4; i++)
        assert_int_equal(
            vnet_announce_frame(&src, (uint32_t)i, frames[i], sizeof(frames[i]), &lens[i]),
            VNET_OK);
    lens[4] = vnet_build_rarp(frames[4], sizeof(frames[4]), mac);
    fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_pcap(path, frames, lens, 5);
    snprintf(cmd, sizeof(cmd),
             "tshark -r %s -T fields -E separator='|' -e eth.type -e arp.opcode "
             "-e arp.isgratuitous -e arp.src.hw_mac -e arp.src.proto_ipv4 -e arp.dst.hw_mac "
             "-e arp.dst.proto_ipv4 -e ipv6.src -e ipv6.dst -e ipv6.hlim -e icmpv6.type "
             "-e icmpv6.checksum.status -e icmpv6.nd.na.flag.s -e icmpv6.nd.na.flag.o "
             "-e icmpv6.nd.na.target_address -e icmpv6.opt.linkaddr 2>/dev/null",
             path);
    out = popen(cmd, "r");
    assert_non_null(out);
    for (i = 0; i < 5; i++) {
        assert_non_null(fgets(line, sizeof(line), out));
        line[strcspn(line, "\n")] = '\0';
        if (strcmp(line, want[i]) != 0)
            print_error("frame %zu: tshark says\n  %s\nexpected\n  %s\n", i, line, want[i]);
        assert_string_equal(line, want[i]);
    }
    assert_null(fgets(line, sizeof(line), out));
    assert_int_equal(pclose(out), 0);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gratuitous_arp),
        cmocka_unit_test(reverse_arp),
        cmocka_unit_test(unsolicited_neighbor_advertisement),
        cmocka_unit_test(frames_for_an_address_list),
        cmocka_unit_test(no_address_means_rarp),
        cmocka_unit_test(bad_arguments),
        cmocka_unit_test(tshark_agrees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
