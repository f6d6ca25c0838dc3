/*
 * fabric.c - a top-of-rack switch and one switch per host (vswitch.h).
 * Built and changed from the top level or platform work only.
 */
#include "vswitch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct emu_fabric {
    emu_switch *tor;
    emu_switch *host[EMU_FABRIC_MAX_HOSTS];
    char name[EMU_FABRIC_MAX_HOSTS][16];
    size_t n;
    bool learning, flood;
};

emu_fabric *emu_fabric_create(void)
{
    emu_fabric *f = calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    f->tor = emu_switch_create();
    if (!f->tor) {
        free(f);
        return NULL;
    }
    f->learning = true;
    return f;
}

void emu_fabric_destroy(emu_fabric *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++)
        emu_switch_destroy(f->host[i]);
    emu_switch_destroy(f->tor);
    free(f);
}

emu_switch *emu_fabric_tor(emu_fabric *f)
{
    return f->tor;
}

emu_switch *emu_fabric_host(emu_fabric *f, const char *host)
{
    for (size_t i = 0; i < f->n; i++) {
        if (strcmp(f->name[i], host) == 0)
            return f->host[i];
    }
    if (f->n == EMU_FABRIC_MAX_HOSTS || strlen(host) >= sizeof(f->name[0]))
        return NULL;
    emu_switch *sw = emu_switch_create();
    if (!sw)
        return NULL;
    char up[40], down[40];
    snprintf(up, sizeof(up), "%s-uplink", host);
    snprintf(down, sizeof(down), "tor-%s", host);
    emu_port *a = emu_switch_add_port(sw, up), *b = emu_switch_add_port(f->tor, down);
    if (!a || !b) {
        emu_switch_destroy(sw);
        return NULL;
    }
    emu_port_link(a, b);
    emu_switch_set_learning(sw, f->learning);
    emu_switch_set_flood_paths(sw, f->flood);
    snprintf(f->name[f->n], sizeof(f->name[0]), "%s", host);
    f->host[f->n++] = sw;
    return sw;
}

emu_port *emu_fabric_port(emu_fabric *f, const char *name)
{
    emu_port *p = emu_switch_port(f->tor, name);
    for (size_t i = 0; !p && i < f->n; i++)
        p = emu_switch_port(f->host[i], name);
    return p;
}

emu_port *emu_fabric_port_by_id(emu_fabric *f, unsigned id)
{
    for (size_t i = 0; i < emu_fabric_switch_count(f); i++) {
        emu_switch *sw = emu_fabric_switch_at(f, i);
        for (size_t k = 0; k < emu_switch_port_count(sw); k++) {
            emu_port *p = emu_switch_port_at(sw, k);
            if (emu_port_id(p) == id)
                return p;
        }
    }
    return NULL;
}

emu_port *emu_fabric_host_port(emu_fabric *f, const char *host, const char *kind, unsigned index)
{
    emu_switch *sw = emu_fabric_host(f, host);
    if (!sw)
        return NULL;
    char name[40];
    snprintf(name, sizeof(name), "%s-%s%u", host, kind, index);
    emu_port *p = emu_switch_port(sw, name);
    return p ? p : emu_switch_add_port(sw, name);
}

size_t emu_fabric_switch_count(emu_fabric *f)
{
    return f->n + 1;
}

emu_switch *emu_fabric_switch_at(emu_fabric *f, size_t i)
{
    return i == 0 ? f->tor : i <= f->n ? f->host[i - 1] : NULL;
}

void emu_fabric_set_learning(emu_fabric *f, bool on)
{
    f->learning = on;
    for (size_t i = 0; i < emu_fabric_switch_count(f); i++)
        emu_switch_set_learning(emu_fabric_switch_at(f, i), on);
}

void emu_fabric_set_flood_paths(emu_fabric *f, bool on)
{
    f->flood = on;
    for (size_t i = 0; i < emu_fabric_switch_count(f); i++)
        emu_switch_set_flood_paths(emu_fabric_switch_at(f, i), on);
}
