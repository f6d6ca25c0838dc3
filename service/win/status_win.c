/*
 * status_win.c - "vfosvc status": gathers the service state, the binding
 * graph (read-only INetCfg session), vfo's pairs and the remembered changes,
 * and prints the portable core's report (vsvc_status.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_win.h"
#include "netcfg_win.h"
#include "store_reg.h"
#include "vfosvc_win.h"
#include "vsvc_status.h"

static const char *state_name(DWORD state)
{
    switch (state) {
    case SERVICE_RUNNING:
        return "running";
    case SERVICE_STOPPED:
        return "stopped";
    case SERVICE_START_PENDING:
        return "starting";
    case SERVICE_STOP_PENDING:
        return "stopping";
    default:
        return "paused or changing state";
    }
}

const char *service_state_text(void)
{
    SC_HANDLE scm, svc = service_open(SERVICE_QUERY_STATUS, &scm);
    SERVICE_STATUS st;
    const char *text = "unknown";

    if (scm == NULL)
        text = "unknown (cannot open the Service Control Manager)";
    else if (svc == NULL)
        text = GetLastError() == ERROR_SERVICE_DOES_NOT_EXIST ? "not installed" : "unknown";
    else if (QueryServiceStatus(svc, &st))
        text = state_name(st.dwCurrentState);
    service_close(scm, svc);
    return text;
}

struct gathered {
    struct vsvc_bg_graph *graph;
    struct vsvc_pairs pairs;
    struct vsvc_store_record records[VSVC_STORE_MAX_RECORDS];
    size_t n_records;
    char graph_error[256];
    char pairs_error[256];
    char records_error[256];
};

static void gather_graph(struct gathered *g)
{
    struct netcfg_win nc;
    char holder[8];
    int rc;

    if (!netcfg_init(&nc)) {
        snprintf(g->graph_error, sizeof(g->graph_error), "out of memory");
        return;
    }
    rc = netcfg_ops.open(&nc, VSVC_BG_READ, 0, holder, sizeof(holder));
    if (rc == VSVC_OK) {
        rc = netcfg_ops.read(&nc, g->graph);
        netcfg_ops.close(&nc, false);
    }
    if (rc != VSVC_OK) {
        snprintf(g->graph_error, sizeof(g->graph_error), "%s (%s)", vsvc_strerror(rc), nc.error);
        vsvc_bg_graph_free(g->graph);
        g->graph = NULL;
    }
    netcfg_fini(&nc);
}

static void gather_pairs(struct gathered *g)
{
    struct vctl ctl;
    int rc;

    if (!vctl_init(&ctl)) {
        snprintf(g->pairs_error, sizeof(g->pairs_error), "out of memory");
        vctl_fini(&ctl);
        return;
    }
    rc = vctl_open(&ctl, g->pairs_error, sizeof(g->pairs_error));
    if (rc == VSVC_OK)
        vctl_query_pairs(&ctl, &g->pairs, g->pairs_error, sizeof(g->pairs_error));
    vctl_fini(&ctl);
}

static void gather_records(struct gathered *g)
{
    struct store_reg store;
    size_t bad = 0;
    DWORD err = store_reg_open(&store, false);

    if (err == ERROR_FILE_NOT_FOUND)
        return; /* nothing was ever changed */
    if (err != ERROR_SUCCESS) {
        win_error_text(err, g->records_error, sizeof(g->records_error));
        return;
    }
    if (store_reg_ops.load(&store, g->records, VSVC_STORE_MAX_RECORDS, &g->n_records, &bad) !=
        VSVC_OK)
        snprintf(g->records_error, sizeof(g->records_error), "%s", store.error);
    else if (bad)
        con_err("vfosvc: %lu unusable value(s) under the record key were skipped",
                (unsigned long)bad);
    store_reg_close(&store);
}

static void emit(void *ctx, const char *line)
{
    (void)ctx;
    con_line(line);
}

int cmd_status(void)
{
    struct gathered *g = calloc(1, sizeof(*g));
    struct vsvc_status_input in;
    HRESULT hr = CoInitializeEx(NULL, COINIT_APARTMENTTHREADED);

    if (g == NULL || FAILED(hr) || (g->graph = vsvc_bg_graph_new()) == NULL) {
        con_err("vfosvc: cannot start (out of memory or COM unavailable)");
        free(g);
        return 1;
    }
    gather_graph(g);
    gather_pairs(g);
    gather_records(g);
    memset(&in, 0, sizeof(in));
    in.service_state = service_state_text();
    in.pairs = &g->pairs;
    in.pairs_error = g->pairs.valid ? NULL : g->pairs_error;
    in.graph = g->graph;
    in.graph_error = g->graph_error;
    in.records = g->records;
    in.n_records = g->n_records;
    in.records_error = g->records_error[0] ? g->records_error : NULL;
    vsvc_status_report(&in, emit, NULL);
    vsvc_bg_graph_free(g->graph);
    free(g);
    CoUninitialize();
    return 0;
}
