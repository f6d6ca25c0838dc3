/*
 * plot.c - traffic per path over time with the events marked, drawn by
 * gnuplot (Debian gnuplot-nox) from the 10 ms samples of the guest-facing
 * ports (world.c): frames from the guest (out) and to it (in), summed over
 * VF ports and virtio taps.
 */
#include "report.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Frames per second in each series between two samples. */
static void rates(const port_sample *a, const port_sample *b, double out[PATH_SERIES])
{
    double secs = (double)(b->t_ns - a->t_ns) / 1e9;
    for (int i = 0; i < PATH_SERIES; i++)
        out[i] = secs > 0 ? (double)(b->frames[i] - a->frames[i]) / secs : 0;
}

static int write_data(world *w, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    /* 50 ms buckets: 10 ms ones alias with the 1 ms send ticks. */
    for (size_t i = 5; i < w->n_samples; i += 5) {
        double r[PATH_SERIES];
        rates(&w->samples[i - 5], &w->samples[i], r);
        fprintf(f, "%.3f %.1f %.1f %.1f %.1f\n", (double)w->samples[i].t_ns / 1e6, r[PATH_OUT_VF],
                r[PATH_OUT_TAP], r[PATH_IN_VF], r[PATH_IN_TAP]);
    }
    return fclose(f);
}

static bool marked(const emu_hv_event *e)
{
    return strcmp(e->kind, "UNPLUG_PRIMARY") == 0 || strcmp(e->kind, "DEVICE_DELETED") == 0 ||
           strcmp(e->kind, "STOP") == 0 || strcmp(e->kind, "RESUME") == 0 ||
           strcmp(e->kind, "DEVICE_ADDED") == 0 || strcmp(e->kind, "MARK") == 0 ||
           strcmp(e->kind, "VF_LINK") == 0 || strcmp(e->kind, "VF_RESET") == 0 ||
           strcmp(e->kind, "VF_CARRIER") == 0;
}

/* The VFs' link-down windows (VF_CARRIER down to up) as shaded bands. */
static void shade_carrier_down(FILE *f, const emu_hv_event *ev, size_t n, double end_ms)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(ev[i].kind, "VF_CARRIER") != 0 || strncmp(ev[i].detail, "down", 4) != 0)
            continue;
        double to = end_ms;
        for (size_t k = i + 1; k < n; k++) {
            if (strcmp(ev[k].kind, "VF_CARRIER") == 0 &&
                strcmp(ev[k].subject, ev[i].subject) == 0) {
                to = (double)ev[k].t_ns / 1e6;
                break;
            }
        }
        fprintf(f,
                "set object rect from %.3f, graph 0 to %.3f, graph 1 behind fc rgb '#ffe0e0' "
                "fs solid noborder\n",
                (double)ev[i].t_ns / 1e6, to);
    }
}

static int write_script(world *w, const char *title, const char *data, const char *png,
                        const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "set terminal pngcairo size 1200,600 noenhanced\n");
    fprintf(f, "set output '%s'\nset title '%s'\n", png, title);
    fprintf(f, "set xlabel 'virtual time (ms)'\nset ylabel 'frames/s'\nset key outside\n");
    const emu_hv_event *ev;
    size_t n = emu_hv_events(w->hv, &ev);
    unsigned k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!marked(&ev[i]))
            continue;
        double x = (double)ev[i].t_ns / 1e6;
        fprintf(f, "set arrow from %.3f, graph 0 to %.3f, graph 1 nohead dt 2 lc rgb 'gray'\n", x,
                x);
        k++;
        bool carrier = strcmp(ev[i].kind, "VF_CARRIER") == 0;
        const char *how = !carrier ? "" : strncmp(ev[i].detail, "up", 2) == 0 ? " up" : " down";
        fprintf(f, "set label %u '%s %s%s' at %.3f, graph %.2f rotate by 90 font ',8'\n", k,
                ev[i].kind, ev[i].subject, how, x, 0.55 + 0.1 * (k % 4));
    }
    shade_carrier_down(f, ev, n, (double)w->end_ns / 1e6);
    fprintf(f,
            "plot '%s' u 1:2 w l t 'guest->peer via VF', '' u 1:3 w l t 'guest->peer via virtio', "
            "'' u 1:4 w l t 'peer->guest via VF', '' u 1:5 w l t 'peer->guest via virtio'\n",
            data);
    return fclose(f);
}

int report_plot(world *w, const char *title, const char *png)
{
    char dir[] = "/tmp/vfo-emu-plot-XXXXXX";
    if (!mkdtemp(dir))
        return -1;
    char data[64], script[64];
    snprintf(data, sizeof(data), "%s/data", dir);
    snprintf(script, sizeof(script), "%s/plot.gp", dir);
    int err = write_data(w, data) || write_script(w, title, data, png, script) ? -1 : 0;
    if (!err) {
        pid_t pid = fork();
        if (pid == 0) {
            execlp("gnuplot", "gnuplot", script, (char *)NULL);
            _exit(127);
        }
        int status = 0;
        err = pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
                      WEXITSTATUS(status) != 0
                  ? -1
                  : 0;
    }
    unlink(data);
    unlink(script);
    rmdir(dir);
    return err;
}
