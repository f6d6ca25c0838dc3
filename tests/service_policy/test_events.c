/*
 * The three places an event lives must agree: vsvc_events.h (ids and
 * levels, used by the code), service/win/vfosvc_msg.mc (the Event Log
 * message file, same ids and severities) and docs/vfosvc.md (the table
 * administrators read). Arguments: the .mc path and the .md path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vsvc_events.h"

static const char *mc_path;
static const char *doc_path;

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;
    if (f == NULL)
        fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = calloc(1, (size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return buf;
}

static const char *severity_of(enum vsvc_level level)
{
    switch (level) {
    case VSVC_LOG_INFO:
        return "Informational";
    case VSVC_LOG_WARNING:
        return "Warning";
    case VSVC_LOG_ERROR:
        return "Error";
    default:
        return "none";
    }
}

static void message_file_matches_the_code(void **state)
{
    char *mc = slurp(mc_path);
    int ev, blocks = 0;
    const char *p = mc;
    (void)state;

    while ((p = strstr(p, "MessageId=")) != NULL) {
        int id;
        char sev[32], sym[64];
        assert_int_equal(sscanf(p, "MessageId=%d Severity=%31s Facility=Service SymbolicName=%63s",
                                &id, sev, sym),
                         3);
        assert_true(id > 0 && id < VSVC_EV_COUNT);
        assert_string_equal(sev, severity_of(vsvc_event_level((enum vsvc_event)id)));
        assert_string_equal(sym + 4, vsvc_event_name((enum vsvc_event)id));
        blocks++;
        p++;
    }
    assert_int_equal(blocks, VSVC_EV_COUNT - 1); /* every event but DEBUG */
    for (ev = 1; ev < VSVC_EV_COUNT; ev++)
        assert_int_not_equal(vsvc_event_level((enum vsvc_event)ev), VSVC_LOG_DEBUG);
    free(mc);
}

static void documentation_lists_every_event(void **state)
{
    char *doc = slurp(doc_path);
    char row[96];
    int ev;
    (void)state;

    for (ev = 1; ev < VSVC_EV_COUNT; ev++) {
        snprintf(row, sizeof(row), "| %d | %s | %s |", ev, vsvc_event_name((enum vsvc_event)ev),
                 severity_of(vsvc_event_level((enum vsvc_event)ev)));
        if (strstr(doc, row) == NULL)
            fail_msg("docs/vfosvc.md has no row starting \"%s\"", row);
    }
    free(doc);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(message_file_matches_the_code),
        cmocka_unit_test(documentation_lists_every_event),
    };
    if (argc != 3) {
        fprintf(stderr, "usage: %s vfosvc_msg.mc vfosvc.md\n", argv[0]);
        return 2;
    }
    mc_path = argv[1];
    doc_path = argv[2];
    return cmocka_run_group_tests(tests, NULL, NULL);
}
