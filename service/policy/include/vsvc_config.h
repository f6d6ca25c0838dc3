/*
 * vsvc_config.h - the service's tunables, their defaults and their legal
 * ranges. On Windows they are DWORD values under
 * HKLM\SYSTEM\CurrentControlSet\Services\vfosvc\Parameters, named as below.
 */
#ifndef VSVC_CONFIG_H
#define VSVC_CONFIG_H

#include "vsvc_common.h"

struct vsvc_config {
    uint32_t reconcile_interval_ms; /* safety-net reconcile period */
    uint32_t debounce_ms;           /* coalesce bursts of device events */
    uint32_t restore_grace_ms;      /* how long a VF may stay unpaired before restore */
    uint32_t lock_timeout_ms;       /* wait for the write lock, per attempt */
    uint32_t lock_attempts;         /* attempts per reconcile */
    uint32_t retry_ms;              /* reconcile again this soon after a failure */
};

void vsvc_config_default(struct vsvc_config *cfg);

/* Sets one value by its registry name ("RestoreGraceSeconds", ...), in the
 * unit the name says. VSVC_E_NOTFOUND for an unknown name, VSVC_E_INVAL when
 * out of range (the setting is then unchanged). */
int vsvc_config_set(struct vsvc_config *cfg, const char *name, uint32_t value);

/* The i-th registry name, for a back end that reads them all; NULL past the end. */
const char *vsvc_config_name(size_t i);

#endif /* VSVC_CONFIG_H */
