/*
 * vfo-emu - runs failover scenarios in ndisemu and shows an emulated live
 * migration.
 *
 *   vfo-emu run FILE [--seed N | --seeds A..B] [--report] [--trace] [--json OUT]
 *                    [--plot OUT.png] [--driver SO[:DESC]] [--filter SO:DESC]
 *                    [--filter-over ID,...|*]
 *   vfo-emu migrate [--seed N] [--json OUT] [--plot OUT.png] [--driver SO[:DESC]]
 *   vfo-emu check FILE...
 *
 * --driver names the virtio-net miniport under test: a path, or "vnetmin"
 * for the minimal test miniport (default: vfo.sys as built in this tree); a
 * scenario may name it too ("driver standby"), the command line wins.
 * --filter puts another lightweight filter (a .so and its description) in
 * place of passflt wherever the scenario stacks one (`make mssamples` runs
 * Microsoft's filter sample over vfo so). --filter-over stacks passflt over
 * the adapters named, "*" for all (vfo's and each VF's), as a scenario's
 * "filter over=..." would, in a scenario that has no filter of its own.
 * Exit status: 0 when every expectation held and the verifier stayed
 * clean, 1 on failures, 2 on usage or file errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"
#include "filter.h"
#include "report.h"
#include "scn.h"
#include "world.h"

typedef struct cli {
    const char *cmd, *file, *json, *plot, *driver, *filter, *filter_over;
    uint64_t seed_lo, seed_hi;
    bool seeds_given, report, trace;
} cli;

static int usage(void)
{
    fprintf(stderr, "usage: vfo-emu run FILE [--seed N | --seeds A..B] [--report] [--trace]\n"
                    "                        [--json OUT] [--plot OUT.png] [--driver SO[:DESC]]\n"
                    "                        [--filter SO:DESC] [--filter-over ID,...|*]\n"
                    "       vfo-emu migrate [--seed N] [--json OUT] [--plot OUT.png] "
                    "[--driver SO[:DESC]]\n"
                    "       vfo-emu check FILE...\n");
    return 2;
}

static bool parse_seeds(const char *s, uint64_t *lo, uint64_t *hi)
{
    char *end;
    *lo = strtoull(s, &end, 10);
    if (end == s)
        return false;
    if (*end == '\0') {
        *hi = *lo;
        return true;
    }
    if (strncmp(end, "..", 2) != 0)
        return false;
    const char *h = end + 2;
    *hi = strtoull(h, &end, 10);
    return end != h && *end == '\0' && *hi >= *lo;
}

static int parse_cli(int argc, char **argv, cli *c)
{
    memset(c, 0, sizeof(*c));
    c->seed_lo = c->seed_hi = 1;
    if (argc < 2)
        return -1;
    c->cmd = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
        if ((!strcmp(a, "--seed") || !strcmp(a, "--seeds")) && next) {
            if (!parse_seeds(next, &c->seed_lo, &c->seed_hi))
                return -1;
            c->seeds_given = true;
            i++;
        } else if (!strcmp(a, "--json") && next) {
            c->json = argv[++i];
        } else if (!strcmp(a, "--plot") && next) {
            c->plot = argv[++i];
        } else if (!strcmp(a, "--driver") && next) {
            c->driver = argv[++i];
        } else if (!strcmp(a, "--filter") && next && strchr(next, ':')) {
            c->filter = argv[++i];
        } else if (!strcmp(a, "--filter-over") && next) {
            c->filter_over = argv[++i];
        } else if (!strcmp(a, "--report")) {
            c->report = true;
        } else if (!strcmp(a, "--trace")) {
            c->trace = true;
        } else if (a[0] != '-' && !c->file) {
            c->file = a;
        } else {
            return -1;
        }
    }
    /* the run's check reads passflt's counters */
    return c->filter && c->filter_over ? -1 : 0;
}

static void apply_driver(world *w, const char *spec)
{
    spec = world_driver_alias(spec);
    const char *colon = strchr(spec, ':');
    size_t n = colon ? (size_t)(colon - spec) : strlen(spec);
    snprintf(w->standby.so, sizeof(w->standby.so), "%.*s", (int)n, spec);
    snprintf(w->standby.desc, sizeof(w->standby.desc), "%s", colon ? colon + 1 : "");
    w->standby_from_cli = true;
}

static void plot_title(const scn_file *f, uint64_t seed, char *out, size_t len)
{
    snprintf(out, len, "%s (seed %llu)", f->name, (unsigned long long)seed);
    for (char *p = out; *p; p++) {
        if (*p == '\'' || *p == '\\')
            *p = ' ';
    }
}

static void outputs(const cli *c, world *w, const scn_file *f, const run_results *r, bool show)
{
    if (show) {
        if (!w->o.progress) /* a progress run printed each event as it came */
            report_timeline(w, stdout);
        report_results(w, r, stdout);
    }
    if (c->json && report_json(w, r, f->name, c->json))
        fprintf(stderr, "vfo-emu: cannot write %s\n", c->json);
    if (c->plot) {
        char title[200];
        plot_title(f, w->o.seed, title, sizeof(title));
        if (report_plot(w, title, c->plot))
            fprintf(stderr, "vfo-emu: gnuplot could not draw %s (Debian: gnuplot-nox)\n", c->plot);
    }
}

/* --filter-over: passflt, passing everything through, stacked over the
 * adapters named ("*": every adapter) from boot, as every real Windows
 * stack has filters over each Ethernet miniport. A scenario that stacks
 * its own filter is not changed behind its back. */
static int apply_filter_over(world *w, const char *over)
{
    if (!over)
        return 0;
    if (w->filter.enabled) {
        fprintf(stdout, "vfo-emu: --filter-over: the scenario stacks its own filter\n");
        return -1;
    }
    w->filter.enabled = true;
    snprintf(w->filter.runtype, sizeof(w->filter.runtype), "optional");
    snprintf(w->filter.over, sizeof(w->filter.over), "%s", over);
    return 0;
}

/* One scenario, one seed. Returns its number of failures. */
static unsigned run_one(const cli *c, const scn_file *f, uint64_t seed, bool progress)
{
    world w;
    world_defaults(&w, stdout);
    w.o.seed = seed;
    w.o.seed_from_cli = c->seeds_given;
    w.o.trace = c->trace;
    w.o.progress = progress;
    if (c->driver)
        apply_driver(&w, c->driver);
    unsigned failures = 1;
    if (c->filter && filter_external(&w, c->filter)) {
        printf("vfo-emu: --filter %s: not a .so and a description with a service name\n",
               c->filter);
        return 1; /* nothing allocated yet */
    }
    if (exec_options(&w, f) == 0 && apply_filter_over(&w, c->filter_over) == 0 &&
        world_create(&w) == EMU_OK) {
        exec_run(&w, f);
        if (c->filter_over && w.booted)
            filter_check_stacked(&w);
        run_results *r = report_collect(&w);
        world_finish(&w);
        failures = w.n_failures;
        outputs(c, &w, f, r, c->report || progress);
        report_free(r);
    } else if (w.n_failures == 0) {
        fprintf(stdout, "vfo-emu: %s: could not build the world\n", f->name);
    }
    printf("%s %s (seed %llu, %.3f s virtual)\n", failures ? "FAIL" : "PASS", f->name,
           (unsigned long long)w.o.seed, (double)w.end_ns / 1e9);
    world_destroy(&w);
    return failures;
}

static int run_file(const cli *c, const char *path, bool progress)
{
    scn_file f;
    char err[256];
    if (scn_load(path, &f, err, sizeof(err))) {
        fprintf(stderr, "vfo-emu: %s\n", err);
        return 2;
    }
    if ((c->json || c->plot) && c->seed_hi != c->seed_lo) {
        fprintf(stderr, "vfo-emu: --json and --plot need a single seed\n");
        scn_free(&f);
        return 2;
    }
    unsigned failed = 0;
    for (uint64_t s = c->seed_lo; s <= c->seed_hi; s++)
        failed += run_one(c, &f, s, progress) != 0;
    if (c->seed_hi > c->seed_lo)
        printf("%s: %u of %llu seeds failed\n", f.name, failed,
               (unsigned long long)(c->seed_hi - c->seed_lo + 1));
    scn_free(&f);
    return failed ? 1 : 0;
}

static int check_files(int argc, char **argv)
{
    int rc = 0;
    for (int i = 2; i < argc; i++) {
        scn_file f;
        char err[256];
        if (scn_load(argv[i], &f, err, sizeof(err))) {
            fprintf(stderr, "%s\n", err);
            rc = 2;
            continue;
        }
        printf("ok %s (%zu commands)\n", argv[i], f.n);
        scn_free(&f);
    }
    return rc;
}

int main(int argc, char **argv)
{
    cli c;
    if (argc >= 2 && !strcmp(argv[1], "check"))
        return argc > 2 ? check_files(argc, argv) : usage();
    if (parse_cli(argc, argv, &c))
        return usage();
    if (!strcmp(c.cmd, "run") && c.file)
        return run_file(&c, c.file, false);
    if (!strcmp(c.cmd, "migrate") && !c.file) {
        printf("vfo-emu: emulated live migration of a guest with a VF (virtual time; "
               "scenario %s)\n",
               VFO_EMU_DEMO);
        return run_file(&c, VFO_EMU_DEMO, true);
    }
    return usage();
}
