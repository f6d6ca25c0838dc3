/* Tunables, defaults and ranges (vsvc_config.h). */
#include <string.h>

#include "vsvc_config.h"

struct config_entry {
    const char *name;
    size_t offset;          /* of the uint32_t field in struct vsvc_config */
    uint32_t scale;         /* registry unit -> milliseconds (1 for counts) */
    uint32_t min, max, def; /* in the registry unit */
};

#define FIELD(f) offsetof(struct vsvc_config, f)

/* The safety-net interval is slow on purpose: events drive the service; the
 * timer only catches what an event could have missed. The grace period
 * covers a VF that re-appears before vfo has bound it again. */
static const struct config_entry entries[] = {
    { "ReconcileIntervalSeconds", FIELD(reconcile_interval_ms), 1000, 10, 86400, 300 },
    { "DebounceMilliseconds", FIELD(debounce_ms), 1, 0, 10000, 250 },
    { "RestoreGraceSeconds", FIELD(restore_grace_ms), 1000, 1, 3600, 30 },
    { "LockTimeoutMilliseconds", FIELD(lock_timeout_ms), 1, 100, 60000, 2000 },
    { "LockAttempts", FIELD(lock_attempts), 1, 1, 20, 3 },
    { "RetrySeconds", FIELD(retry_ms), 1000, 1, 3600, 10 },
};

#define N_ENTRIES (sizeof(entries) / sizeof(entries[0]))

const char *vsvc_config_name(size_t i)
{
    return i < N_ENTRIES ? entries[i].name : NULL;
}

static uint32_t *field_of(struct vsvc_config *cfg, const struct config_entry *e)
{
    return (uint32_t *)((char *)cfg + e->offset);
}

void vsvc_config_default(struct vsvc_config *cfg)
{
    size_t i;
    for (i = 0; i < N_ENTRIES; i++)
        *field_of(cfg, &entries[i]) = entries[i].def * entries[i].scale;
}

int vsvc_config_set(struct vsvc_config *cfg, const char *name, uint32_t value)
{
    size_t i;
    for (i = 0; i < N_ENTRIES; i++) {
        if (strcmp(entries[i].name, name) != 0)
            continue;
        if (value < entries[i].min || value > entries[i].max)
            return VSVC_E_INVAL;
        *field_of(cfg, &entries[i]) = value * entries[i].scale;
        return VSVC_OK;
    }
    return VSVC_E_NOTFOUND;
}
