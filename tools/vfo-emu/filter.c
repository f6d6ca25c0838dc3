/*
 * filter.c - a lightweight filter (passflt) stacked over chosen guest
 * adapters: vfo's miniport, the VF's, or both (docs/scenarios.md, "Filters").
 *
 *   filter over=hostdev0,standby0 hold=5ms pend-oid=3ms fail-attach=on
 *          runtype=optional|mandatory bypass-receive=on       (before boot)
 *   filter attach hostdev0 | filter detach hostdev0           (after boot)
 *
 * The filter's settings become its description's [registry] values; its
 * binding paths are off by default and on over the adapters named, for
 * every instance of a primary (its VF on either host).
 *
 * over=* stacks it over every guest Ethernet miniport ("vfo-emu run
 * --filter-over '*'" does that in a scenario with no filter of its own).
 *
 * With "vfo-emu run --filter SO:DESC" another filter sits there instead
 * (Microsoft's filter sample, `make mssamples`): loaded with its own
 * description, only over= applies, and two more commands talk to the
 * sample's control device:
 *   filter restart [ID]    IOCTL_FILTER_RESTART_ONE_INSTANCE (NdisFRestartFilter)
 *                          on the module over ID, or on every module
 *   filter.modules         how many IOCTL_FILTER_ENUMERATE_ALL_INSTANCES lists
 */
#include "filter.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cond.h"
#include "passflt.h"

#define PASSFLT_SERVICE "passflt"

/* Microsoft's filter sample's user interface (its filteruser.h):
 * CTL_CODE(FILE_DEVICE_PHYSICAL_NETCARD (0x17), function, METHOD_BUFFERED,
 * FILE_ANY_ACCESS) on \Device\NDISLWF. Its IOCTL_FILTER_RESTART_ALL
 * (function 0) does nothing (its dispatch case is empty): restart each
 * instance instead. The enumeration is USHORT byte length + UTF-16 module
 * name, repeated; RESTART_ONE_INSTANCE takes a name as listed. */
#define MSFLT_DEVICE        "\\Device\\NDISLWF"
#define MSFLT_IOCTL(fn)     ((0x17u << 16) | ((uint32_t)(fn) << 2))
#define MSFLT_RESTART_ONE   MSFLT_IOCTL(1)
#define MSFLT_ENUMERATE_ALL MSFLT_IOCTL(2)
#define MSFLT_MAX_MODULES   16

static const char *service_of(const world *w)
{
    return w->ext_filter.path.so[0] ? w->ext_filter.service : PASSFLT_SERVICE;
}

int filter_external(world *w, const char *spec)
{
    world_ext_filter *x = &w->ext_filter;
    const char *colon = strchr(spec, ':');
    if (!colon || colon == spec || !colon[1])
        return -1;
    snprintf(x->path.so, sizeof(x->path.so), "%.*s", (int)(colon - spec), spec);
    snprintf(x->path.desc, sizeof(x->path.desc), "%s", colon + 1);
    FILE *fp = fopen(x->path.desc, "r");
    if (!fp)
        return -1;
    char line[256];
    x->service[0] = '\0';
    while (!x->service[0] && fgets(line, sizeof(line), fp)) {
        char name[64];
        if (sscanf(line, " service = %63s", name) == 1)
            snprintf(x->service, sizeof(x->service), "%s", name);
    }
    fclose(fp);
    return x->service[0] ? 0 : -1;
}

static bool on_off(const char *s, bool *out)
{
    if (!strcmp(s, "on") || !strcmp(s, "yes")) {
        *out = true;
        return true;
    }
    if (!strcmp(s, "off") || !strcmp(s, "no")) {
        *out = false;
        return true;
    }
    return false;
}

static bool ms_of(const char *s, uint32_t *ms)
{
    uint64_t ns;
    if (!scn_duration(s, &ns) || ns % 1000000 || ns / 1000000 > 60000)
        return false;
    *ms = (uint32_t)(ns / 1000000);
    return true;
}

int filter_option(world *w, const scn_cmd *c)
{
    world_filter *f = &w->filter;
    memset(f, 0, sizeof(*f));
    f->enabled = true;
    snprintf(f->runtype, sizeof(f->runtype), "optional");
    for (unsigned i = 1; i < c->argc; i++) {
        const char *v;
        if ((v = scn_kv(c->argv[i], "over"))) {
            snprintf(f->over, sizeof(f->over), "%s", v);
        } else if (w->ext_filter.path.so[0]) {
            return -1; /* the rest are passflt's settings */
        } else if ((v = scn_kv(c->argv[i], "hold"))) {
            if (!ms_of(v, &f->hold_ms))
                return -1;
        } else if ((v = scn_kv(c->argv[i], "pend-oid"))) {
            if (!ms_of(v, &f->pend_oid_ms))
                return -1;
        } else if ((v = scn_kv(c->argv[i], "fail-attach"))) {
            if (!on_off(v, &f->fail_attach))
                return -1;
        } else if ((v = scn_kv(c->argv[i], "bypass-receive"))) {
            if (!on_off(v, &f->bypass_receive))
                return -1;
        } else if ((v = scn_kv(c->argv[i], "runtype"))) {
            if (strcmp(v, "optional") && strcmp(v, "mandatory"))
                return -1;
            snprintf(f->runtype, sizeof(f->runtype), "%s", v);
        } else {
            return -1;
        }
    }
    return 0;
}

/* The path over every instance an adapter id stands for: the id itself (a
 * standby) and a primary's VF on either host. */
static int set_paths(world *w, const char *id, bool enable)
{
    static const char *const suffix[] = { "", ".src", ".dst" };
    int result = 0;
    for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
        char inst[96];
        snprintf(inst, sizeof(inst), "%s%s", id, suffix[i]);
        int err = emu_filter_set_path(w->rt, service_of(w), inst, enable);
        /* an optional filter that fails to attach is left out: NDIS tells
         * no one, the subjects show it */
        if (err && err != EMU_ERR_DRIVER)
            result = -1;
    }
    return result;
}

static int write_desc(const world_filter *f, char *path, size_t len)
{
    snprintf(path, len, "/tmp/vfo-emu-%s-%d.desc", PASSFLT_SERVICE, (int)getpid());
    FILE *fp = fopen(path, "w");
    if (!fp)
        return -1;
    fprintf(fp,
            "service = %s\n[filter]\nclass = custom\ntype = modifying\nruntype = %s\n"
            "media = ethernet\n[registry]\nHoldNblMs = %u\nPendOidMs = %u\nFailAttach = %d\n"
            "BypassReceive = %d\n",
            PASSFLT_SERVICE, f->runtype, f->hold_ms, f->pend_oid_ms, f->fail_attach,
            f->bypass_receive);
    return fclose(fp) ? -1 : 0;
}

int filter_boot(world *w)
{
    world_filter *f = &w->filter;
    if (!f->enabled)
        return 0;
    const world_ext_filter *x = &w->ext_filter;
    char desc[256];
    if (!x->path.so[0] && write_desc(f, desc, sizeof(desc)))
        return EMU_ERR_LOAD;
    /* paths first: the filter attaches as the adapters arrive; over=*:
     * over every instance */
    bool all = strcmp(f->over, "*") == 0;
    int err = emu_filter_set_path(w->rt, service_of(w), "*", all);
    char list[sizeof(f->over)];
    snprintf(list, sizeof(list), "%s", f->over);
    for (char *tok = all ? NULL : strtok(list, ","); !err && tok; tok = strtok(NULL, ","))
        err = set_paths(w, tok, true);
    const char *so = x->path.so[0] ? x->path.so : VFO_EMU_PASSFLT_SO;
    if (!err)
        err = emu_load_driver(w->rt, so, x->path.so[0] ? x->path.desc : desc, &f->drv);
    if (!x->path.so[0])
        unlink(desc);
    if (err && w->out)
        fprintf(w->out, "vfo-emu: cannot load the filter %s: %s\n", so, emu_strerror(err));
    return err;
}

/* The sample's modules, as its control device lists them (ASCII). */
static int ms_modules(world *w, char names[MSFLT_MAX_MODULES][80], unsigned *n)
{
    emu_ctl *c;
    if (emu_ctl_open(w->rt, MSFLT_DEVICE, &c))
        return -1;
    uint8_t buf[2048];
    size_t ret = 0;
    int32_t nt = -1;
    int err = emu_ctl_ioctl(c, MSFLT_ENUMERATE_ALL, NULL, 0, buf, sizeof(buf), &ret, &nt);
    emu_ctl_close(c);
    if (err || nt)
        return -1;
    *n = 0;
    for (size_t off = 0; off + 2 <= ret && *n < MSFLT_MAX_MODULES;) {
        uint16_t len;
        memcpy(&len, buf + off, 2);
        off += 2;
        if (off + len > ret || len % 2)
            return -1;
        char *name = names[(*n)++];
        size_t k = 0;
        for (size_t i = 0; i < len / 2u && k + 1 < 80; i++)
            name[k++] = (char)buf[off + 2 * i];
        name[k] = '\0';
        off += len;
    }
    return 0;
}

/* "filter restart [ID]": NdisFRestartFilter through the sample's control
 * device, on the module over ID's current instance or on every module.
 * ndisemu names a module "{<service>-<adapter id, 8 hex digits>}". */
static int ms_restart(world *w, const char *id)
{
    char names[MSFLT_MAX_MODULES][80], want[96] = "";
    unsigned n = 0;
    if (ms_modules(w, names, &n) || n == 0)
        return -1;
    if (id) {
        const char *inst = emu_hv_instance(w->hv, id);
        emu_adapter *ad = emu_find_adapter(w->rt, inst ? inst : id);
        if (!ad)
            return -1;
        snprintf(want, sizeof(want), "{%s-%08x}", service_of(w), emu_adapter_id(ad));
    }
    emu_ctl *c;
    if (emu_ctl_open(w->rt, MSFLT_DEVICE, &c))
        return -1;
    unsigned done = 0;
    int result = 0;
    for (unsigned i = 0; i < n && !result; i++) {
        if (id && strcasecmp(names[i], want))
            continue;
        uint16_t in[80];
        size_t len = strlen(names[i]);
        for (size_t k = 0; k < len; k++)
            in[k] = (uint8_t)names[i][k];
        size_t ret;
        int32_t nt = -1;
        if (emu_ctl_ioctl(c, MSFLT_RESTART_ONE, in, 2 * len, NULL, 0, &ret, &nt) || nt)
            result = -1;
        done++;
    }
    emu_ctl_close(c);
    return result || done == 0 ? -1 : 0;
}

int filter_cmd(world *w, const scn_cmd *c)
{
    if (!w->filter.drv)
        return -1;
    if (!strcmp(c->argv[1], "restart") && c->argc <= 3 && w->ext_filter.path.so[0]) {
        if (ms_restart(w, c->argc == 3 ? c->argv[2] : NULL))
            return -1;
        emu_hv_note(w->hv, "GUEST", c->argc == 3 ? c->argv[2] : "all", "filter restart");
        return 0;
    }
    if (c->argc != 3)
        return -1;
    bool attach = !strcmp(c->argv[1], "attach");
    if (!attach && strcmp(c->argv[1], "detach"))
        return -1;
    if (set_paths(w, c->argv[2], attach))
        return -1;
    emu_hv_note(w->hv, "GUEST", c->argv[2], attach ? "filter attach" : "filter detach");
    return 0;
}

static int stats(world *w, passflt_stats *out)
{
    emu_ctl *c;
    if (emu_ctl_open(w->rt, PASSFLT_DEVICE, &c))
        return -1;
    int32_t nt;
    size_t ret;
    int err = emu_ctl_ioctl(c, IOCTL_PASSFLT_STATS, NULL, 0, out, sizeof(*out), &ret, &nt);
    emu_ctl_close(c);
    return err || nt || ret != sizeof(*out) ? -1 : 0;
}

void filter_check_stacked(world *w)
{
    passflt_stats s;
    if (!w->filter.drv || stats(w, &s)) {
        world_fail(w, 0, "--filter-over: the filter's counters could not be read");
        return;
    }
    fprintf(w->out,
            "filter %s over %s: %llu attach(es), %llu pause(s), %u module(s) now; "
            "tx %llu, rx %llu passed; %llu OID(s)\n",
            service_of(w), w->filter.over, s.attaches, s.pauses, s.modules, s.tx_passed,
            s.rx_passed, s.oids);
    if (s.attaches == 0)
        world_fail(w, 0, "--filter-over: the filter never attached");
}

/* filter.<field>: the filter's counters; filter.over.<id>: attached or
 * detached over that adapter (its current instance). */
int filter_subject(world *w, char p[4][64], unsigned n, cval *v, char *err, size_t errlen)
{
    if (!w->filter.drv) {
        snprintf(err, errlen, "no filter in this scenario");
        return -1;
    }
    if (n == 3 && !strcmp(p[1], "over")) {
        const char *inst = emu_hv_instance(w->hv, p[2]);
        emu_adapter *ad = emu_find_adapter(w->rt, inst ? inst : p[2]);
        const char *names[8];
        int k = ad ? emu_filter_stack(w->rt, ad, names, 8) : 0;
        bool on = false;
        for (int i = 0; i < k; i++)
            on |= !strcmp(names[i], service_of(w));
        cond_set_word(v, on ? "attached" : "detached");
        return 0;
    }
    if (w->ext_filter.path.so[0]) {
        char names[MSFLT_MAX_MODULES][80];
        unsigned k = 0;
        if (n != 2 || strcmp(p[1], "modules") || ms_modules(w, names, &k)) {
            snprintf(err, errlen,
                     "another filter (--filter): only filter.modules, filter.over.<id>");
            return -1;
        }
        cond_set_num(v, k);
        return 0;
    }
    passflt_stats s;
    if (n != 2 || stats(w, &s)) {
        snprintf(err, errlen, "unknown filter subject");
        return -1;
    }
    static const struct {
        const char *name;
        size_t off;
    } k_fields[] = {
#define F(x) { #x, offsetof(passflt_stats, x) }
        F(attaches),    F(attach_failures), F(detaches),  F(pauses),     F(restarts),
        F(tx_passed),   F(tx_held),         F(rx_passed), F(rx_held),    F(oids),
        F(oids_pended), F(status),          F(net_pnp),   F(device_pnp),
#undef F
    };
    if (!strcmp(p[1], "modules")) {
        cond_set_num(v, s.modules);
        return 0;
    }
    for (size_t i = 0; i < sizeof(k_fields) / sizeof(k_fields[0]); i++) {
        if (!strcmp(p[1], k_fields[i].name)) {
            unsigned long long x;
            memcpy(&x, (const char *)&s + k_fields[i].off, sizeof(x));
            cond_set_num(v, x);
            return 0;
        }
    }
    snprintf(err, errlen, "unknown filter field '%s'", p[1]);
    return -1;
}
