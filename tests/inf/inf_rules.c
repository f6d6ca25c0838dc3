/*
 * inf_rules.c - see inf_rules.h. Sources: learn.microsoft.com "Using Dirids"
 * (drivers run from the driver store, DIRID 13; DIRID 13 since Windows 10
 * 1709), "Components and Files Used for Network Component Installation"
 * (packages installed through the network configuration interfaces run from
 * the driver store only from build 25319 on), "INF Manufacturer Section"
 * (TargetOSVersion decorations: the best match is used), "DDInstall.Services
 * Section in a Network INF File" (optional for NetTrans; the AddService name
 * is the component's Ndi\Service), the WDK's NDIS filter INF template
 * (NdisImPlatformBindingOptions under the service key's Parameters), the
 * virtio 1.x specification 4.1.2 (transitional network device: PCI device
 * id 0x1000, subsystem id 1) and InfVerif's rules on unreferenced sections
 * and DestinationDirs entries without a section.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "inf_rules.h"

#define NAME_LEN (2 * INF_FIELD_LEN + 16)

typedef struct os_version {
    unsigned major, minor, build;
} os_version;

static const os_version k_run_from_store = { 10, 0, 16299 }; /* Windows 10 1709 */

static const inf_section *need(const inf_file *f, const char *name)
{
    const inf_section *s = inf_section_find(f, name);
    if (!s)
        fail_msg("section [%s] is missing", name);
    return s;
}

static int os_cmp(os_version a, os_version b)
{
    if (a.major != b.major)
        return a.major < b.major ? -1 : 1;
    if (a.minor != b.minor)
        return a.minor < b.minor ? -1 : 1;
    return a.build < b.build ? -1 : a.build > b.build;
}

/* "NTamd64[.major.minor[.product[.suite[.build]]]]": the first OS it covers. */
static os_version decoration_os(const char *deco)
{
    os_version v = { 0, 0, 0 };
    char field[5][16] = { "", "", "", "", "" };
    unsigned n = 0;
    const char *p = strchr(deco, '.');
    if (strncasecmp(deco, "NTamd64", 7) != 0)
        fail_msg("Models decoration %s is not for x64 (NTamd64)", deco);
    while (p && n < 5) {
        const char *q = strchr(p + 1, '.');
        size_t len = q ? (size_t)(q - p - 1) : strlen(p + 1);
        snprintf(field[n++], sizeof(field[0]), "%.*s", (int)(len < 15 ? len : 15), p + 1);
        p = q;
    }
    v.major = (unsigned)strtoul(field[0], NULL, 10);
    v.minor = (unsigned)strtoul(field[1], NULL, 10);
    v.build = (unsigned)strtoul(field[4], NULL, 10);
    return v;
}

static const inf_line *manufacturer(const inf_file *f)
{
    const inf_section *m = need(f, "Manufacturer");
    assert_int_equal(m->nlines, 1);
    return &m->lines[0];
}

/* The Models section Windows picks on `os`: the decoration with the
 * highest version that is not above it. NULL when none applies. */
static const inf_section *models_for(const inf_file *f, os_version os)
{
    const inf_line *m = manufacturer(f);
    int best = -1;
    os_version best_v = { 0, 0, 0 };
    for (unsigned i = 1; i < m->nfields; i++) {
        os_version v = decoration_os(m->field[i]);
        if (os_cmp(v, os) <= 0 && (best < 0 || os_cmp(v, best_v) > 0)) {
            best = (int)i;
            best_v = v;
        }
    }
    if (best < 0)
        return NULL;
    char name[NAME_LEN];
    snprintf(name, sizeof(name), "%s.%s", m->field[0], m->field[best]);
    return need(f, name);
}

static const inf_section *install_of(const inf_file *f, const char *base, const char *suffix)
{
    char name[NAME_LEN];
    snprintf(name, sizeof(name), "%s.NTamd64%s", base, suffix);
    const inf_section *s = inf_section_find(f, name);
    if (!s) {
        snprintf(name, sizeof(name), "%s.NT%s", base, suffix);
        s = inf_section_find(f, name);
    }
    if (!s) {
        snprintf(name, sizeof(name), "%s%s", base, suffix);
        s = inf_section_find(f, name);
    }
    return s;
}

/* The DIRID a CopyFiles section copies to. */
static unsigned dirid_of(const inf_file *f, const char *copy_section)
{
    const inf_section *dirs = need(f, "DestinationDirs");
    const inf_line *l = inf_key(dirs, copy_section);
    if (!l)
        l = inf_key(dirs, "DefaultDestDir");
    if (!l || !l->nfields)
        fail_msg("no DestinationDirs entry for [%s]", copy_section);
    return (unsigned)strtoul(l->field[0], NULL, 10);
}

/* Does the install section copy `file` to `dirid`? */
static bool copies_to(const inf_file *f, const inf_section *inst, const char *file, unsigned dirid)
{
    const inf_line *cf = inf_key(inst, "CopyFiles");
    for (unsigned i = 0; cf && i < cf->nfields; i++) {
        const inf_section *s = need(f, cf->field[i]);
        for (unsigned k = 0; k < s->nlines; k++)
            if (strcasecmp(s->lines[k].field[0], file) == 0 &&
                (dirid == 0 || dirid_of(f, cf->field[i]) == dirid))
                return true;
    }
    return false;
}

/* Every DIRID the install section copies to, and every service binary's,
 * must be `want` (or, for want == 12, anything but 13: DIRID 13 is unknown
 * before Windows 10 1709). A service binary must be a file the section
 * copies there. */
static void check_dirids(const inf_file *f, const inf_section *inst, unsigned want)
{
    const inf_line *cf = inf_key(inst, "CopyFiles");
    for (unsigned i = 0; cf && i < cf->nfields; i++) {
        unsigned d = dirid_of(f, cf->field[i]);
        if (want == 13 ? d != 13 : d == 13)
            fail_msg("[%s] copies [%s] to DIRID %u on a system that %s", inst->name, cf->field[i],
                     d,
                     want == 13 ? "runs drivers from the driver store (DIRID 13)"
                                : "does not know DIRID 13");
    }
    const inf_section *svcs = install_of(f, inst->name, ".Services");
    for (unsigned i = 0; svcs && i < svcs->nlines; i++) {
        const inf_line *as = &svcs->lines[i];
        if (strcasecmp(as->key, "AddService") != 0 || as->nfields < 3)
            continue;
        const inf_line *bin = inf_key(need(f, as->field[2]), "ServiceBinary");
        unsigned d;
        char file[INF_FIELD_LEN];
        if (!bin || sscanf(bin->field[0], "%%%u%%\\%159[^ ]", &d, file) != 2)
            fail_msg("[%s]: ServiceBinary is not %%DIRID%%\\file", as->field[2]);
        if (want == 13 ? d != 13 : d == 13)
            fail_msg("[%s]: service %s runs %s from DIRID %u", as->field[2], as->field[0], file, d);
        if (!copies_to(f, inst, file, d))
            fail_msg("[%s]: service %s runs %s from DIRID %u, where [%s] copies no such file",
                     as->field[2], as->field[0], file, d, inst->name);
    }
}

static void check_models_dirids(const inf_file *f, const inf_section *models, unsigned want)
{
    for (unsigned i = 0; i < models->nlines; i++) {
        const inf_section *inst = install_of(f, models->lines[i].field[0], "");
        if (!inst)
            fail_msg("[%s]: no install section %s", models->name, models->lines[i].field[0]);
        check_dirids(f, inst, want);
    }
}

/* Rule: on Windows 10 1709 and later a driver runs from the driver store:
 * every file to DIRID 13, every service binary from %13%. A Models section
 * for older systems may use DIRID 12 but must not use 13. */
void driver_store_dirid(void **state)
{
    (void)state;
    const inf_file *infs[] = { &g_vfo, &g_prot };
    for (size_t n = 0; n < 2; n++) {
        const inf_file *f = infs[n];
        const inf_section *modern = models_for(f, k_run_from_store);
        assert_non_null(modern);
        check_models_dirids(f, modern, 13);
        const inf_line *m = manufacturer(f);
        for (unsigned i = 1; i < m->nfields; i++) {
            if (os_cmp(decoration_os(m->field[i]), k_run_from_store) >= 0)
                continue;
            char name[NAME_LEN];
            snprintf(name, sizeof(name), "%s.%s", m->field[0], m->field[i]);
            check_models_dirids(f, need(f, name), 12);
        }
    }
}

static bool installs_service(const inf_file *f, const char *svc)
{
    for (unsigned i = 0; i < f->nsections; i++) {
        const inf_section *s = &f->sections[i];
        for (unsigned k = 0; k < s->nlines; k++)
            if (strcasecmp(s->lines[k].key, "AddService") == 0 &&
                strcasecmp(s->lines[k].field[0], svc) == 0)
                return true;
    }
    return false;
}

static bool copies_anywhere(const inf_file *f, const char *file)
{
    for (unsigned i = 0; i < f->nsections; i++) {
        const inf_section *s = &f->sections[i];
        if (!inf_key(s, "CopyFiles"))
            continue;
        if (copies_to(f, s, file, 0))
            return true;
    }
    return false;
}

/* The Ndi\Service value of the component's AddReg sections. */
static const char *ndi_service(const inf_file *f, const inf_section *inst)
{
    const inf_line *ar = inf_key(inst, "AddReg");
    for (unsigned i = 0; ar && i < ar->nfields; i++) {
        const inf_section *s = need(f, ar->field[i]);
        for (unsigned k = 0; k < s->nlines; k++) {
            const inf_line *l = &s->lines[k];
            if (!l->key[0] && l->nfields >= 5 && strcasecmp(l->field[1], "Ndi") == 0 &&
                strcasecmp(l->field[2], "Service") == 0)
                return l->field[4];
        }
    }
    return NULL;
}

/* Rule: vfo.sys is one image with one service. Only vfo.inf copies it and
 * adds the service "vfo"; vfoprot.inf names that service as its Ndi\Service
 * and installs neither (a second AddService rewrites the service's image
 * path, and two copies can leave two versions). */
void one_binary_one_service(void **state)
{
    (void)state;
    assert_true(installs_service(&g_vfo, "vfo"));
    assert_true(copies_anywhere(&g_vfo, "vfo.sys"));
    if (installs_service(&g_prot, "vfo"))
        fail_msg("vfoprot.inf adds the service vfo a second time");
    if (copies_anywhere(&g_prot, "vfo.sys"))
        fail_msg("vfoprot.inf copies vfo.sys a second time");
    const inf_section *models = models_for(&g_prot, k_run_from_store);
    assert_non_null(models);
    const char *svc = ndi_service(&g_prot, install_of(&g_prot, models->lines[0].field[0], ""));
    assert_non_null(svc);
    assert_string_equal(svc, "vfo");
    /* vfoprot.inf installs nothing a user-mode tool installs again either. */
    for (unsigned i = 0; i < g_prot.nsections; i++)
        if (inf_key(&g_prot.sections[i], "CopyFiles") || inf_key(&g_prot.sections[i], "AddService"))
            fail_msg("vfoprot.inf [%s] copies files or adds a service", g_prot.sections[i].name);
}

/* Where "HKR, <subkey>, NdisImPlatformBindingOptions" is written, if at all. */
static const inf_line *find_reg(const inf_file *f, const char *value, const char **section)
{
    for (unsigned i = 0; i < f->nsections; i++) {
        const inf_section *s = &f->sections[i];
        for (unsigned k = 0; k < s->nlines; k++) {
            const inf_line *l = &s->lines[k];
            if (!l->key[0] && l->nfields >= 3 && strcasecmp(l->field[2], value) == 0) {
                *section = s->name;
                return l;
            }
        }
    }
    return NULL;
}

/* Rule: NDIS reads NdisImPlatformBindingOptions from the Parameters key of
 * the protocol's service (HKR of a service-install section's AddReg), never
 * from the component's Ndi key. */
void im_platform_binding_options(void **state)
{
    (void)state;
    const char *where = NULL;
    if (find_reg(&g_prot, "NdisImPlatformBindingOptions", &where))
        fail_msg("vfoprot.inf writes NdisImPlatformBindingOptions in [%s]: not the service key",
                 where);
    const inf_line *l = find_reg(&g_vfo, "NdisImPlatformBindingOptions", &where);
    assert_non_null(l);
    if (strcasecmp(l->field[1], "Parameters") != 0)
        fail_msg("NdisImPlatformBindingOptions is under '%s', not the service's Parameters",
                 l->field[1]);
    /* [where] is an AddReg of the service-install section of "vfo". */
    const inf_section *svc = need(&g_vfo, "vfo.service");
    const inf_line *ar = inf_key(svc, "AddReg");
    bool found = false;
    for (unsigned i = 0; ar && i < ar->nfields; i++)
        found |= strcasecmp(ar->field[i], where) == 0;
    if (!found)
        fail_msg("[%s] is not an AddReg of the vfo service-install section", where);
    assert_true(l->nfields >= 5);
    assert_string_equal(l->field[3], "0x00010001"); /* REG_DWORD */
    assert_string_equal(l->field[4], "0");          /* NDIS's default: not on team members */
}

/* Rule: the transitional virtio-net device (PCI 1AF4:1000, subsystem 0001,
 * what QEMU shows unless disable-legacy=on) is matched by every Models
 * section, beside the modern 1AF4:1041. */
void transitional_device(void **state)
{
    (void)state;
    const inf_line *m = manufacturer(&g_vfo);
    for (unsigned d = 1; d < m->nfields; d++) {
        char name[NAME_LEN];
        bool modern = false, transitional = false;
        snprintf(name, sizeof(name), "%s.%s", m->field[0], m->field[d]);
        const inf_section *models = need(&g_vfo, name);
        for (unsigned i = 0; i < models->nlines; i++) {
            modern |= strcasecmp(models->lines[i].field[1], "PCI\\VEN_1AF4&DEV_1041") == 0;
            transitional |= strcasecmp(models->lines[i].field[1], "PCI\\VEN_1AF4&DEV_1000") == 0;
        }
        if (!modern || !transitional)
            fail_msg("[%s] does not match %s", name,
                     modern ? "the transitional PCI\\VEN_1AF4&DEV_1000"
                            : "the modern PCI\\VEN_1AF4&DEV_1041");
    }
}

/* ---- InfVerif: every section is referenced ------------------------------ */

#define MAX_SECTIONS 128

typedef struct refs {
    const inf_file *f;
    bool used[MAX_SECTIONS];
} refs;

static void mark(refs *r, const char *name);

static void mark_fields(refs *r, const inf_section *s, const char *key, unsigned from,
                        unsigned step)
{
    for (unsigned i = 0; i < s->nlines; i++) {
        const inf_line *l = &s->lines[i];
        if (strcasecmp(l->key, key) != 0)
            continue;
        for (unsigned k = from; k < l->nfields; k += step)
            if (l->field[k][0])
                mark(r, l->field[k]);
    }
}

static void mark(refs *r, const char *name)
{
    for (unsigned i = 0; i < r->f->nsections && i < MAX_SECTIONS; i++) {
        const inf_section *s = &r->f->sections[i];
        if (strcasecmp(s->name, name) != 0 || r->used[i])
            continue;
        r->used[i] = true;
        mark_fields(r, s, "AddReg", 0, 1);
        mark_fields(r, s, "CopyFiles", 0, 1);
        mark_fields(r, s, "AddService", 2, 1); /* service-install and event-log sections */
        static const char *const suffixes[] = { ".HW", ".Services" };
        for (size_t k = 0; k < 2; k++) {
            char sub[NAME_LEN];
            snprintf(sub, sizeof(sub), "%s%s", s->name, suffixes[k]);
            mark(r, sub);
        }
    }
}

void every_section_referenced(void **state)
{
    (void)state;
    static const char *const roots[] = { "Version",          "Manufacturer",     "Strings",
                                         "SourceDisksNames", "SourceDisksFiles", "DestinationDirs",
                                         "ControlFlags" };
    const inf_file *infs[] = { &g_vfo, &g_prot };
    for (size_t n = 0; n < 2; n++) {
        refs r = { .f = infs[n] };
        assert_true(r.f->nsections <= MAX_SECTIONS);
        for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++)
            mark(&r, roots[i]);
        const inf_line *m = manufacturer(r.f);
        for (unsigned d = 1; d < m->nfields; d++) {
            char name[NAME_LEN];
            snprintf(name, sizeof(name), "%s.%s", m->field[0], m->field[d]);
            mark(&r, name);
            const inf_section *models = need(r.f, name);
            for (unsigned i = 0; i < models->nlines; i++) {
                const char *base = models->lines[i].field[0];
                const inf_section *inst = install_of(r.f, base, "");
                if (inst)
                    mark(&r, inst->name);
            }
        }
        /* DestinationDirs names only CopyFiles sections that exist. */
        const inf_section *dirs = need(r.f, "DestinationDirs");
        for (unsigned i = 0; i < dirs->nlines; i++)
            if (strcasecmp(dirs->lines[i].key, "DefaultDestDir") != 0 &&
                !inf_section_find(r.f, dirs->lines[i].key))
                fail_msg("%s: [DestinationDirs] names missing section [%s]",
                         n ? "vfoprot.inf" : "vfo.inf", dirs->lines[i].key);
        for (unsigned i = 0; i < r.f->nsections; i++)
            if (!r.used[i])
                fail_msg("%s: section [%s] is not referenced", n ? "vfoprot.inf" : "vfo.inf",
                         r.f->sections[i].name);
    }
}
