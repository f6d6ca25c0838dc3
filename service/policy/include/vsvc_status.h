/*
 * vsvc_status.h - the text of "vfosvc status": what vfo paired, what the
 * bindings of each paired VF are, what the service changed and remembers.
 * Portable so its content is tested; the glue only prints the lines.
 */
#ifndef VSVC_STATUS_H
#define VSVC_STATUS_H

#include "vsvc_bg.h"
#include "vsvc_pairs.h"
#include "vsvc_store.h"

struct vsvc_status_input {
    const char *service_state; /* "running", "stopped", "not installed", ... */
    const struct vsvc_pairs *pairs;
    const char *pairs_error;           /* why pairs is not valid; NULL when it is */
    const struct vsvc_bg_graph *graph; /* NULL when it could not be read */
    const char *graph_error;
    const struct vsvc_store_record *records;
    size_t n_records;
    const char *records_error; /* NULL when the store was read */
};

typedef void (*vsvc_emit_fn)(void *ctx, const char *line);

/* Emits the report one line at a time (no trailing newline). */
void vsvc_status_report(const struct vsvc_status_input *in, vsvc_emit_fn emit, void *ctx);

#endif /* VSVC_STATUS_H */
