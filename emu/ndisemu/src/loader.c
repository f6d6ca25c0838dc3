/*
 * loader.c - loading driver shared objects, their description files, and
 * DriverEntry / unload.
 *
 * Description file (one per driver, INF-like):
 *   service = minimp
 *   [miniport]
 *   upper = ndis5          # Ndi\Interfaces UpperRange
 *   lower = ethernet       # Ndi\Interfaces LowerRange
 *   pnpid = PCI\VEN_1AF4&DEV_7FFF
 *   [protocol MINIPROT]    # the Name passed to NdisRegisterProtocolDriver
 *   lower = ndis5
 *   upper = noupper
 *   [filter]               # a lightweight filter (NdisFRegisterFilterDriver)
 *   class = scheduler      # FilterClass (stack order)
 *   type = modifying       # FilterType: modifying | monitoring
 *   runtype = optional     # FilterRunType: mandatory | optional
 *   media = ethernet       # FilterMediaTypes (comma list)
 *   [registry]             # default configuration (NdisReadConfiguration)
 *   Keyword = value
 */
#include "emu_internal.h"

#include <ctype.h>
#include <dlfcn.h>
#include <stdlib.h>

void emu_wstr_to_ascii(const UNICODE_STRING *s, char *out, size_t n)
{
    size_t k = 0;
    if (s && s->Buffer) {
        for (size_t i = 0; i < s->Length / 2 && k + 1 < n; i++)
            out[k++] = s->Buffer[i] < 128 ? (char)s->Buffer[i] : '?';
    }
    out[k] = 0;
}

void emu_ascii_to_wstr(const char *s, WCHAR *buf, size_t cap, UNICODE_STRING *out)
{
    size_t n = 0;
    while (s[n] && n + 1 < cap) {
        buf[n] = (WCHAR)(unsigned char)s[n];
        n++;
    }
    buf[n] = 0;
    out->Buffer = buf;
    out->Length = (USHORT)(n * 2);
    out->MaximumLength = (USHORT)(cap * 2);
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = 0;
    return s;
}

static void parse_ranges(const char *v, emu_range_set *r)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", v);
    r->n = 0;
    for (char *tok = strtok(buf, ","); tok && r->n < 8; tok = strtok(NULL, ",")) {
        snprintf(r->names[r->n], sizeof(r->names[0]), "%s", trim(tok));
        r->n++;
    }
}

/* One key of a [filter] section; false for an unknown key or value. */
static bool parse_filter_key(emu_desc *d, const char *k, const char *v)
{
    if (strcmp(k, "class") == 0) {
        snprintf(d->filter_class, sizeof(d->filter_class), "%s", v);
    } else if (strcmp(k, "type") == 0) {
        if (strcmp(v, "monitoring") != 0 && strcmp(v, "modifying") != 0)
            return false;
        d->filter_monitoring = strcmp(v, "monitoring") == 0;
    } else if (strcmp(k, "runtype") == 0) {
        if (strcmp(v, "mandatory") != 0 && strcmp(v, "optional") != 0)
            return false;
        d->filter_optional = strcmp(v, "optional") == 0;
    } else if (strcmp(k, "media") == 0) {
        parse_ranges(v, &d->filter_media);
    } else {
        return false;
    }
    return true;
}

int emu_desc_parse(const char *path, emu_desc *d, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot open description file %s", path);
        return EMU_ERR_LOAD;
    }
    memset(d, 0, sizeof(*d));
    enum { S_TOP, S_MP, S_PROT, S_REG, S_FILTER } sec = S_TOP;
    char line[512];
    int lineno = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        char *h = strchr(line, '#');
        if (h)
            *h = 0;
        char *s = trim(line);
        if (!*s)
            continue;
        if (*s == '[') {
            char *e = strchr(s, ']');
            if (!e)
                goto bad;
            *e = 0;
            s = trim(s + 1);
            if (strcmp(s, "miniport") == 0) {
                sec = S_MP;
                d->has_miniport = true;
            } else if (strncmp(s, "protocol", 8) == 0 && d->n_prot < 4) {
                sec = S_PROT;
                snprintf(d->prot[d->n_prot].name, sizeof(d->prot[0].name), "%s", trim(s + 8));
                d->n_prot++;
            } else if (strcmp(s, "registry") == 0) {
                sec = S_REG;
            } else if (strcmp(s, "filter") == 0) {
                sec = S_FILTER;
                d->has_filter = true;
                snprintf(d->filter_class, sizeof(d->filter_class), "custom");
            } else {
                goto bad;
            }
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq)
            goto bad;
        *eq = 0;
        char *k = trim(s), *v = trim(eq + 1);
        if (sec == S_TOP && strcmp(k, "service") == 0) {
            snprintf(d->service, sizeof(d->service), "%s", v);
        } else if (sec == S_MP && strcmp(k, "upper") == 0) {
            parse_ranges(v, &d->mp_upper);
        } else if (sec == S_MP && strcmp(k, "lower") == 0) {
            parse_ranges(v, &d->mp_lower);
        } else if (sec == S_MP && strcmp(k, "pnpid") == 0 && d->n_pnpids < 8) {
            snprintf(d->pnpids[d->n_pnpids++], sizeof(d->pnpids[0]), "%s", v);
        } else if (sec == S_PROT && strcmp(k, "lower") == 0) {
            parse_ranges(v, &d->prot[d->n_prot - 1].lower);
        } else if (sec == S_PROT && strcmp(k, "upper") == 0) {
            parse_ranges(v, &d->prot[d->n_prot - 1].upper);
        } else if (sec == S_FILTER && parse_filter_key(d, k, v)) {
            /* taken */
        } else if (sec == S_REG && d->n_reg < 32) {
            snprintf(d->reg[d->n_reg].key, sizeof(d->reg[0].key), "%s", k);
            snprintf(d->reg[d->n_reg].value, sizeof(d->reg[0].value), "%s", v);
            d->n_reg++;
        } else {
            goto bad;
        }
    }
    fclose(f);
    if (!d->service[0]) {
        snprintf(err, errlen, "%s: no 'service =' line", path);
        return EMU_ERR_LOAD;
    }
    return EMU_OK;
bad:
    snprintf(err, errlen, "%s:%d: cannot parse this line", path, lineno);
    fclose(f);
    return EMU_ERR_LOAD;
}

void emu_loader_close(void *dl)
{
    dlclose(dl);
}

static int driver_entry_op(emu_runtime *rt, void *arg)
{
    emu_driver *drv = arg;
    emu_cb_scope s;
    emu_cb_begin(&s, "DriverEntry", drv, NULL, PASSIVE_LEVEL);
    NTSTATUS st = drv->entry(&drv->drvobj, &drv->regpath);
    emu_cb_end(&s);
    if (emu_stopped(rt))
        return EMU_ERR_STOPPED;
    if (!NT_SUCCESS(st)) {
        emu_lock(rt);
        drv->unloaded = true;
        emu_unlock(rt);
        return EMU_ERR_LOAD;
    }
    emu_io_driver_entry_done(rt, drv);
    return EMU_OK;
}

int emu_load_driver(emu_runtime *rt, const char *so_path, const char *desc_path, emu_driver **out)
{
    if (!so_path)
        return EMU_ERR_INVAL;
    char dpath[512], err[512];
    if (!desc_path) {
        snprintf(dpath, sizeof(dpath), "%s", so_path);
        char *dot = strrchr(dpath, '.');
        char *slash = strrchr(dpath, '/');
        if (dot && (!slash || dot > slash))
            *dot = 0;
        strncat(dpath, ".desc", sizeof(dpath) - strlen(dpath) - 1);
        desc_path = dpath;
    }
    emu_driver *drv = calloc(1, sizeof(*drv));
    if (!drv)
        return EMU_ERR_NOMEM;
    if (emu_desc_parse(desc_path, &drv->desc, err, sizeof(err)) != EMU_OK) {
        FILE *f = rt->cfg.report ? rt->cfg.report : stderr;
        fprintf(f, "ndisemu: %s\n", err);
        free(drv);
        return EMU_ERR_LOAD;
    }
    drv->dl = dlopen(so_path, RTLD_NOW | RTLD_LOCAL);
    if (!drv->dl) {
        FILE *f = rt->cfg.report ? rt->cfg.report : stderr;
        fprintf(f, "ndisemu: dlopen %s: %s\n", so_path, dlerror());
        free(drv);
        return EMU_ERR_LOAD;
    }
    emu_driver_entry_fn *entry;
    *(void **)&entry = dlsym(drv->dl, "DriverEntry");
    if (!entry) {
        dlclose(drv->dl);
        free(drv);
        return EMU_ERR_LOAD;
    }
    drv->magic = EMU_MAGIC;
    drv->rt = rt;
    drv->drvobj.Type = 4;
    drv->drvobj.Size = (CSHORT)sizeof(DRIVER_OBJECT);
    char reg[160];
    snprintf(reg, sizeof(reg), "\\Registry\\Machine\\System\\CurrentControlSet\\Services\\%s",
             drv->desc.service);
    emu_ascii_to_wstr(reg, drv->regpath_buf, 128, &drv->regpath);
    emu_ascii_to_wstr(drv->desc.service, drv->regpath_buf + 100, 28, &drv->drvobj.DriverName);
    emu_lock(rt);
    drv->next = rt->drivers;
    rt->drivers = drv;
    emu_unlock(rt);

    drv->entry = entry;
    /* DriverEntry runs like any PnP-manager work: serialized with the
     * adapter and binding operations already queued. */
    int st = emu_pnp_run(rt, driver_entry_op, drv);
    if (st != EMU_OK)
        return st;
    if (out)
        *out = drv;
    return EMU_OK;
}

static bool driver_has_adapters(emu_runtime *rt, emu_driver *drv)
{
    for (emu_adapter *ad = rt->adapters; ad; ad = ad->next) {
        if (ad->drv == drv && ad->state != AD_HALTED)
            return true;
    }
    return false;
}

static int unload_op(emu_runtime *rt, void *arg)
{
    emu_driver *drv = arg;
    emu_cb_scope s;
    /* Checked again here, the PnP operations being serialized: a device
     * arrival queued before this unload may have started an adapter of the
     * driver since emu_unload_driver looked. The system never unloads a
     * driver under its device. */
    emu_lock(rt);
    bool busy = driver_has_adapters(rt, drv);
    emu_unlock(rt);
    if (busy)
        return EMU_ERR_BUSY;
    if (drv->mp && !emu_obj_dead(&drv->mp->obj) && drv->mp->ch.UnloadHandler) {
        emu_cb_begin(&s, "MiniportDriverUnload", drv, NULL, PASSIVE_LEVEL);
        drv->mp->ch.UnloadHandler(&drv->drvobj);
        emu_cb_end(&s);
    } else if (drv->drvobj.DriverUnload) {
        emu_cb_begin(&s, "DriverUnload", drv, NULL, PASSIVE_LEVEL);
        drv->drvobj.DriverUnload(&drv->drvobj);
        emu_cb_end(&s);
    }
    if (emu_stopped(rt))
        return EMU_ERR_STOPPED;
    emu_lock(rt);
    drv->unloaded = true;
    emu_unlock(rt);
    bool registered = (drv->mp && !emu_obj_dead(&drv->mp->obj));
    for (emu_protocol *p = emu_protocols_head(rt); p; p = p->next)
        registered |= p->drv == drv && !emu_obj_dead(&p->obj);
    emu_lock(rt);
    registered |= emu_driver_has_filter(rt, drv);
    emu_unlock(rt);
    if (registered) {
        emu_violate(rt, "LeakAtUnload", "unload",
                    "%s: unloaded without deregistering its miniport, protocol or filter driver",
                    drv->desc.service);
        return EMU_ERR_STOPPED;
    }
    if (!emu_kernel_unload_check(rt, drv) ||
        !emu_leak_check(rt, drv, NULL, "LeakAtUnload", "driver unload"))
        return EMU_ERR_STOPPED;
    return EMU_OK;
}

int emu_unload_driver(emu_runtime *rt, emu_driver *drv)
{
    if (!drv || drv->magic != EMU_MAGIC || drv->unloaded)
        return EMU_ERR_INVAL;
    emu_lock(rt);
    bool busy = driver_has_adapters(rt, drv) || emu_driver_unload_blocker(rt, drv);
    emu_unlock(rt);
    if (busy)
        return EMU_ERR_BUSY;
    return emu_pnp_run(rt, unload_op, drv);
}

/* rt->mu held. The I/O manager's unload rule for a PnP (miniport) driver:
 * the system unloads it when its last device is removed, and only if no
 * device object of it is left ("Unloading a Miniport Driver"); a control
 * device (NdisRegisterDeviceEx) that outlives the adapters keeps it loaded,
 * so an update or an uninstall waits for a reboot. A protocol-only driver is
 * a legacy driver: its service stop calls Unload, which deletes its device. */
int emu_driver_unload_blocker(emu_runtime *rt, const emu_driver *drv)
{
    if (!drv->mp || emu_obj_dead(&drv->mp->obj))
        return EMU_UNLOAD_OK;
    return emu_ctldev_unload_blocker(rt, drv);
}
