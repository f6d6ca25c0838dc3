/*
 * The service core's building blocks: identities, the binding graph
 * builders back ends use, configuration ranges, the reconcile scheduler,
 * the command line and the status report.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vsvc_bg.h"
#include "vsvc_cli.h"
#include "vsvc_config.h"
#include "vsvc_control.h"
#include "vsvc_sched.h"
#include "vsvc_status.h"

#define GUID_LOWER "{aaaaaaaa-bbbb-cccc-dddd-0000000000f1}"
#define GUID_UPPER "{AAAAAAAA-BBBB-CCCC-DDDD-0000000000F1}"

static void ids_are_validated_and_canonical(void **state)
{
    char out[VSVC_ID_LEN];
    char name[VSVC_NAME_LEN];
    char mac[VSVC_MAC_STR_LEN];
    const uint8_t m[6] = { 0x52, 0x54, 0, 0xab, 0xcd, 0xef };
    (void)state;

    assert_int_equal(vsvc_id_canonical(GUID_LOWER, out), VSVC_OK);
    assert_string_equal(out, GUID_UPPER);
    assert_int_equal(vsvc_id_canonical("{AAAAAAAA-BBBB-CCCC-DDDD-0000000000F}", out), VSVC_E_INVAL);
    assert_string_equal(out, "");
    assert_int_equal(vsvc_id_canonical("{AAAAAAAA-BBBB-CCCC-DDDD-0000000000FG}", out),
                     VSVC_E_INVAL);
    assert_int_equal(vsvc_id_canonical("AAAAAAAA-BBBB-CCCC-DDDD-0000000000F1xx", out),
                     VSVC_E_INVAL);
    assert_int_equal(vsvc_id_canonical("{AAAAAAAA+BBBB-CCCC-DDDD-0000000000F1}", out),
                     VSVC_E_INVAL);
    assert_int_equal(vsvc_id_canonical(NULL, out), VSVC_E_INVAL);

    assert_int_equal(vsvc_component_canonical("MS_TCPIP", name), VSVC_OK);
    assert_string_equal(name, "ms_tcpip");
    assert_int_equal(vsvc_component_canonical("", name), VSVC_E_INVAL);
    assert_int_equal(vsvc_component_canonical("a>b", name), VSVC_E_INVAL);
    assert_int_equal(vsvc_component_canonical("a|b", name), VSVC_E_INVAL);
    assert_int_equal(vsvc_component_canonical("a b", name), VSVC_E_INVAL);

    vsvc_mac_format(m, mac);
    assert_string_equal(mac, "52:54:00:ab:cd:ef");
    assert_false(vsvc_mac_is_zero(m));

    assert_int_equal(vsvc_copy(name, 4, "abc"), VSVC_OK);
    assert_int_equal(vsvc_copy(name, 4, "abcd"), VSVC_E_INVAL);
    assert_string_equal(name, "");
    assert_string_not_equal(vsvc_strerror(VSVC_E_BUSY), "unknown error");
    assert_string_equal(vsvc_strerror(12345), "unknown error");
}

static void paths_are_validated(void **state)
{
    char path[VSVC_PATH_LEN] = "";
    char long_id[VSVC_NAME_LEN + 1];
    int i;
    (void)state;

    assert_int_equal(vsvc_bg_path_append(path, "MS_Server"), VSVC_OK);
    assert_int_equal(vsvc_bg_path_append(path, "ms_tcpip"), VSVC_OK);
    assert_string_equal(path, "ms_server>ms_tcpip");
    assert_int_equal(vsvc_bg_path_canonical("MS_SERVER>Ms_TcpIp", path), VSVC_OK);
    assert_string_equal(path, "ms_server>ms_tcpip");
    assert_int_equal(vsvc_bg_path_canonical("a>>b", path), VSVC_E_INVAL);
    assert_int_equal(vsvc_bg_path_canonical(">a", path), VSVC_E_INVAL);
    assert_int_equal(vsvc_bg_path_canonical("a>", path), VSVC_E_INVAL);
    assert_int_equal(vsvc_bg_path_canonical("", path), VSVC_E_INVAL);
    /* Too long overall: refused, never truncated. */
    memset(long_id, 'x', sizeof(long_id) - 1);
    long_id[sizeof(long_id) - 1] = '\0';
    assert_int_equal(vsvc_component_canonical(long_id, path), VSVC_E_INVAL);
    long_id[40] = '\0';
    path[0] = '\0';
    for (i = 0; i < 3; i++) /* 40, 81, 122 characters: fits in 127 */
        assert_int_equal(vsvc_bg_path_append(path, long_id), VSVC_OK);
    assert_int_equal(vsvc_bg_path_append(path, long_id), VSVC_E_INVAL);
    assert_int_equal(strlen(path), 122);
}

static void graph_builders_reject_bad_input(void **state)
{
    struct vsvc_bg_graph *g = vsvc_bg_graph_new();
    const uint8_t mac[6] = { 1, 2, 3, 4, 5, 6 };
    const struct vsvc_bg_binding *b;
    char id[VSVC_ID_LEN];
    size_t i;
    (void)state;

    assert_non_null(g);
    assert_int_equal(vsvc_bg_add_component(g, "VFOPROT"), VSVC_OK);
    assert_int_equal(vsvc_bg_add_component(g, "vfoprot"), VSVC_E_DUPLICATE);
    assert_true(vsvc_bg_has_component(g, "VfoProt"));
    assert_int_equal(vsvc_bg_add_adapter(g, GUID_LOWER, "PCI\\VEN_8086", "IXGBEVF", mac), VSVC_OK);
    assert_int_equal(vsvc_bg_add_adapter(g, GUID_UPPER, NULL, NULL, NULL), VSVC_E_DUPLICATE);
    assert_int_equal(vsvc_bg_add_adapter(g, "{bad}", NULL, NULL, NULL), VSVC_E_INVAL);
    assert_string_equal(vsvc_bg_find_adapter(g, GUID_UPPER)->service, "ixgbevf");
    assert_true(vsvc_bg_find_adapter(g, GUID_LOWER)->has_mac);

    assert_int_equal(
        vsvc_bg_add_binding(g, GUID_UPPER, "MS_Server>ms_tcpip", VSVC_BG_SERVICE, false, true),
        VSVC_OK);
    b = vsvc_bg_find_binding(g, GUID_LOWER, "ms_server>MS_TCPIP");
    assert_non_null(b);
    assert_string_equal(b->owner, "ms_server");
    assert_int_equal(
        vsvc_bg_add_binding(g, GUID_UPPER, "ms_server>ms_tcpip", VSVC_BG_SERVICE, false, false),
        VSVC_E_DUPLICATE);
    assert_int_equal(vsvc_bg_add_binding(g, "{11111111-2222-3333-4444-555555555555}", "ms_tcpip",
                                         VSVC_BG_PROTOCOL, false, true),
                     VSVC_E_NOTFOUND);
    assert_int_equal(
        vsvc_bg_add_binding(g, GUID_UPPER, "ms_tcpip", (enum vsvc_bg_kind)9, false, true),
        VSVC_E_INVAL);
    assert_null(vsvc_bg_find_binding(g, "junk", "ms_tcpip"));

    /* Capacity is a clear error, not an overrun. */
    for (i = 1; i < VSVC_BG_MAX_ADAPTERS; i++) {
        snprintf(id, sizeof(id), "{00000000-0000-0000-0000-%012lu}", (unsigned long)i);
        assert_int_equal(vsvc_bg_add_adapter(g, id, NULL, NULL, NULL), VSVC_OK);
    }
    assert_int_equal(
        vsvc_bg_add_adapter(g, "{10000000-0000-0000-0000-000000000000}", NULL, NULL, NULL),
        VSVC_E_FULL);
    vsvc_bg_graph_reset(g);
    assert_int_equal(g->n_adapters, 0);
    assert_null(vsvc_bg_find_adapter(g, GUID_UPPER));
    vsvc_bg_graph_free(g);
}

static void config_has_ranges(void **state)
{
    struct vsvc_config c;
    size_t i;
    (void)state;

    vsvc_config_default(&c);
    assert_int_equal(c.reconcile_interval_ms, 300000);
    assert_int_equal(c.restore_grace_ms, 30000);
    assert_int_equal(c.lock_attempts, 3);
    assert_int_equal(vsvc_config_set(&c, "RestoreGraceSeconds", 5), VSVC_OK);
    assert_int_equal(c.restore_grace_ms, 5000);
    assert_int_equal(vsvc_config_set(&c, "RestoreGraceSeconds", 0), VSVC_E_INVAL);
    assert_int_equal(vsvc_config_set(&c, "RestoreGraceSeconds", 3601), VSVC_E_INVAL);
    assert_int_equal(c.restore_grace_ms, 5000);
    assert_int_equal(vsvc_config_set(&c, "LockAttempts", 21), VSVC_E_INVAL);
    assert_int_equal(vsvc_config_set(&c, "NoSuchValue", 1), VSVC_E_NOTFOUND);
    for (i = 0; vsvc_config_name(i) != NULL; i++)
        assert_int_not_equal(vsvc_config_set(&c, vsvc_config_name(i), 0xffffffffu),
                             VSVC_E_NOTFOUND);
    assert_int_equal(i, 6);
}

static void scheduler_debounces_without_starving(void **state)
{
    struct vsvc_config c;
    struct vsvc_sched s;
    (void)state;

    vsvc_config_default(&c);
    vsvc_sched_init(&s, &c, 1000);
    assert_true(vsvc_sched_due(&s, 1000)); /* first pass at once */
    vsvc_sched_done(&s, 1000, 0);
    assert_false(vsvc_sched_due(&s, 1001));
    assert_int_equal(vsvc_sched_wait_ms(&s, 1000), c.reconcile_interval_ms);

    vsvc_sched_event(&s, 2000);
    assert_int_equal(vsvc_sched_wait_ms(&s, 2000), c.debounce_ms);
    vsvc_sched_event(&s, 2100); /* a burst does not push the deadline back */
    assert_int_equal(vsvc_sched_wait_ms(&s, 2100), c.debounce_ms - 100);
    assert_false(vsvc_sched_due(&s, 2000 + c.debounce_ms - 1));
    assert_true(vsvc_sched_due(&s, 2000 + c.debounce_ms));
    vsvc_sched_done(&s, 2300, 5000); /* the policy asks to be called back */
    assert_int_equal(vsvc_sched_wait_ms(&s, 2300), 5000);
    assert_true(vsvc_sched_due(&s, 7300));
    vsvc_sched_done(&s, 7300, 0);
    assert_true(vsvc_sched_due(&s, 7300 + c.reconcile_interval_ms)); /* safety net */
    assert_int_equal(vsvc_sched_wait_ms(&s, 7300 + c.reconcile_interval_ms + 5), 0);

    /* A vfo change is not debounced, even inside an adapter event's window. */
    vsvc_sched_done(&s, 50000, 0);
    vsvc_sched_event(&s, 50000);
    assert_false(vsvc_sched_due(&s, 50010));
    vsvc_sched_vfo_change(&s, 50010);
    assert_true(vsvc_sched_due(&s, 50010));
    assert_int_equal(vsvc_sched_wait_ms(&s, 50010), 0);
}

struct said {
    int count;
    enum vsvc_event last;
    char text[512];
};

static void said_log(void *ctx, enum vsvc_event ev, enum vsvc_level level, const char *text)
{
    struct said *s = ctx;
    assert_int_equal(level, vsvc_event_level(ev));
    s->count++;
    s->last = ev;
    snprintf(s->text, sizeof(s->text), "%s", text);
}

/* The control device's state is logged once per change, never per pass. */
static void control_state_logged_on_change(void **state)
{
    static const struct vsvc_log_ops ops = { .log = said_log };
    struct vsvc_control_note n = { "" };
    struct said s = { 0 };
    (void)state;

    assert_true(vsvc_control_note(&n, VSVC_E_IO, "not found", &ops, &s));
    assert_int_equal(s.last, VSVC_EV_CONTROL_UNAVAILABLE);
    assert_non_null(strstr(s.text, "(not found)"));
    assert_false(vsvc_control_note(&n, VSVC_E_IO, "not found", &ops, &s));
    assert_int_equal(s.count, 1);
    assert_true(vsvc_control_note(&n, VSVC_E_VERSION, "ABI 9", &ops, &s));
    assert_int_equal(s.last, VSVC_EV_CONTROL_BAD_REPLY);
    assert_true(vsvc_control_note(&n, VSVC_OK, "", &ops, &s));
    assert_int_equal(s.last, VSVC_EV_DEBUG);
    assert_false(vsvc_control_note(&n, VSVC_OK, "", &ops, &s));
    assert_int_equal(s.count, 3);
}

static int parse(struct vsvc_cli *cli, char *err, int argc, ...)
{
    char *argv[8];
    va_list ap;
    int i;
    va_start(ap, argc);
    for (i = 0; i < argc; i++)
        argv[i] = va_arg(ap, char *);
    va_end(ap);
    return vsvc_cli_parse(argc, argv, cli, err, 128);
}

static void command_line_is_strict(void **state)
{
    struct vsvc_cli cli;
    char err[128];
    (void)state;

    assert_int_equal(parse(&cli, err, 2, "vfosvc", "status"), VSVC_OK);
    assert_int_equal(cli.cmd, VSVC_CMD_STATUS);
    assert_int_equal(parse(&cli, err, 4, "vfosvc", "install", "--inf", "C:\\d\\vfoprot.inf"),
                     VSVC_OK);
    assert_int_equal(cli.cmd, VSVC_CMD_INSTALL);
    assert_string_equal(cli.inf_path, "C:\\d\\vfoprot.inf");
    assert_int_equal(parse(&cli, err, 2, "vfosvc", "install"), VSVC_OK);
    assert_string_equal(cli.inf_path, "");
    assert_int_equal(parse(&cli, err, 3, "vfosvc", "uninstall", "--force"), VSVC_OK);
    assert_true(cli.force);
    assert_int_equal(parse(&cli, err, 2, "vfosvc", "run"), VSVC_OK);
    assert_int_equal(cli.cmd, VSVC_CMD_RUN);

    assert_int_equal(parse(&cli, err, 1, "vfosvc"), VSVC_E_INVAL);
    assert_string_equal(err, "no command given");
    assert_int_equal(parse(&cli, err, 2, "vfosvc", "instal"), VSVC_E_INVAL);
    assert_non_null(strstr(err, "unknown command"));
    assert_int_equal(parse(&cli, err, 3, "vfosvc", "install", "--inf"), VSVC_E_INVAL);
    assert_int_equal(parse(&cli, err, 3, "vfosvc", "status", "--force"), VSVC_E_INVAL);
    assert_non_null(strstr(err, "--force"));
    assert_int_equal(parse(&cli, err, 3, "vfosvc", "install", "--force"), VSVC_E_INVAL);
    assert_int_equal(parse(&cli, err, 6, "vfosvc", "install", "--inf", "a", "--inf", "b"),
                     VSVC_E_INVAL);
    assert_non_null(strstr(vsvc_cli_usage(), "uninstall [--force]"));
}

struct lines {
    char text[64][512];
    int n;
};

static void collect(void *ctx, const char *line)
{
    struct lines *l = ctx;
    if (l->n < 64)
        snprintf(l->text[l->n++], sizeof(l->text[0]), "%s", line);
}

static bool has_line(const struct lines *l, const char *needle)
{
    int i;
    for (i = 0; i < l->n; i++) {
        if (strstr(l->text[i], needle) != NULL)
            return true;
    }
    return false;
}

static void status_report_shows_pairs_bindings_and_records(void **state)
{
    struct vsvc_bg_graph *g = vsvc_bg_graph_new();
    struct vsvc_pairs *pr = calloc(1, sizeof(*pr));
    struct vsvc_store_record recs[2];
    struct vsvc_status_input in;
    struct lines *out = calloc(1, sizeof(*out));
    const uint8_t mac[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };
    (void)state;

    assert_non_null(g);
    assert_non_null(pr);
    assert_non_null(out);
    vsvc_bg_add_component(g, "vfoprot");
    vsvc_bg_add_adapter(g, GUID_UPPER, "PCI\\VEN_8086&DEV_1515", "ixgbevf", mac);
    vsvc_bg_add_binding(g, GUID_UPPER, "vfoprot", VSVC_BG_PROTOCOL, false, true);
    vsvc_bg_add_binding(g, GUID_UPPER, "ms_tcpip", VSVC_BG_PROTOCOL, false, false);
    vsvc_bg_add_binding(g, GUID_UPPER, "ms_lldp", VSVC_BG_PROTOCOL, false, true);
    vsvc_bg_add_binding(g, GUID_UPPER, "ms_pacer", VSVC_BG_FILTER, false, true);
    pr->valid = true;
    pr->generation = 9;
    pr->count = 1;
    strcpy(pr->pair[0].vfo.id, "{11111111-2222-3333-4444-0000000000A1}");
    strcpy(pr->pair[0].vf.id, GUID_UPPER);
    memcpy(pr->pair[0].vf.mac, mac, 6);
    pr->pair[0].state = VFO_CTL_PAIR_ACTIVE;
    pr->pair[0].flags = VFO_CTL_ADAPTER_LINK_UP | VFO_CTL_ADAPTER_TX_ON_PRIMARY;
    pr->pair[0].n_refused = 1;
    strcpy(pr->pair[0].refused[0].candidate.id, "{99999999-8888-7777-6666-555555555555}");
    pr->pair[0].refused[0].reason = VFO_CTL_REFUSE_IS_VFO;
    pr->pair[0].refused[0].count = 3;
    pr->pair[0].counters.attaches = 4;
    memset(recs, 0, sizeof(recs));
    strcpy(recs[0].adapter_id, GUID_UPPER);
    strcpy(recs[0].path, "ms_tcpip");
    recs[0].was_enabled = true;
    strcpy(recs[1].adapter_id, "{12345678-0000-0000-0000-000000000000}");
    strcpy(recs[1].path, "ms_tcpip6");
    recs[1].was_enabled = true;

    memset(&in, 0, sizeof(in));
    in.service_state = "running";
    in.pairs = pr;
    in.graph = g;
    in.records = recs;
    in.n_records = 2;
    vsvc_status_report(&in, collect, out);
    assert_true(has_line(out, "vfosvc service: running"));
    assert_true(has_line(out, "vfoprot protocol: installed"));
    assert_true(has_line(out, "generation 9, 1 vfo adapter(s)"));
    assert_true(has_line(out, "remembered binding changes: 2"));
    assert_true(has_line(out, "state ACTIVE: link-up tx-on-vf"));
    assert_true(has_line(out, "VF " GUID_UPPER " MAC 52:54:00:12:34:56 service ixgbevf"));
    assert_true(has_line(out, "ms_tcpip                     disabled  set by vfosvc, was enabled"));
    assert_true(has_line(out, "ms_lldp                      enabled   not yet as vfosvc wants it"));
    assert_true(has_line(out, "ms_pacer                     enabled   filter, left alone"));
    assert_true(has_line(out, "vfoprot                      enabled   already as vfosvc wants it"));
    assert_true(has_line(out, "refused {99999999-8888-7777-6666-555555555555}"));
    assert_true(has_line(out, "is a vfo adapter (3 time(s))"));
    assert_true(has_line(out, "attaches 4"));
    assert_true(has_line(out, "{12345678-0000-0000-0000-000000000000} ms_tcpip6: was enabled, "
                              "adapter not present"));

    /* Nothing readable: every section says why. */
    memset(out, 0, sizeof(*out));
    memset(&in, 0, sizeof(in));
    in.service_state = "not installed";
    in.graph_error = "access denied";
    in.pairs_error = "cannot open \\\\.\\vfo: file not found";
    in.records_error = "registry: access denied";
    vsvc_status_report(&in, collect, out);
    assert_true(has_line(out, "binding configuration: unreadable: access denied"));
    assert_true(has_line(out, "vfo control device: unavailable: cannot open"));
    assert_true(has_line(out, "remembered binding changes: unreadable"));
    assert_int_equal(out->n, 4);

    free(out);
    free(pr);
    vsvc_bg_graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ids_are_validated_and_canonical),
        cmocka_unit_test(paths_are_validated),
        cmocka_unit_test(graph_builders_reject_bad_input),
        cmocka_unit_test(config_has_ranges),
        cmocka_unit_test(scheduler_debounces_without_starving),
        cmocka_unit_test(control_state_logged_on_change),
        cmocka_unit_test(command_line_is_strict),
        cmocka_unit_test(status_report_shows_pairs_bindings_and_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
