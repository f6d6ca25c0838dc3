/*
 * test_inf.c - inf/vfo.inf and inf/vfoprot.inf against the INF rules vfo
 * relies on, and against what the driver itself declares (driver/vfo.desc,
 * the facts ndisemu runs it with). Sources of the rules: learn.microsoft.com,
 * "Installation Requirements for Network Adapters", "DDInstall Section in a
 * Network INF File", "Specifying Binding Interfaces", "INF Version Section",
 * "INF AddService Directive", "Standardized INF Keywords for Network Devices"
 * and "Keywords for ... Checksum/LSO Offload".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "inf_parse.h"
#include "inf_rules.h"

inf_file g_vfo, g_prot;

static const inf_section *must_section(const inf_file *f, const char *name)
{
    const inf_section *s = inf_section_find(f, name);
    if (!s)
        fail_msg("section [%s] is missing", name);
    return s;
}

static const char *must_value(const inf_section *s, const char *key)
{
    const inf_line *l = inf_key(s, key);
    if (!l || !l->nfields)
        fail_msg("[%s] has no %s entry", s->name, key);
    return l->field[0];
}

/* The AddReg line "HKR, subkey, value, ..." of any section in the list; NULL if none. */
static const inf_line *reg_value(const inf_file *f, const char *sections, const char *subkey,
                                 const char *value)
{
    char list[512], *save = NULL;
    snprintf(list, sizeof(list), "%s", sections);
    for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        const inf_section *s = must_section(f, tok);
        for (unsigned i = 0; i < s->nlines; i++) {
            const inf_line *l = &s->lines[i];
            if (l->key[0] || l->nfields < 3 || strcasecmp(l->field[0], "HKR") != 0)
                continue;
            if (strcasecmp(l->field[1], subkey) == 0 && strcasecmp(l->field[2], value) == 0)
                return l;
        }
    }
    return NULL;
}

/* The data of a REG_SZ / REG_DWORD line (the 5th field). */
static const char *reg_data(const inf_line *l)
{
    return l && l->nfields >= 5 ? l->field[4] : NULL;
}

/* The install section a Models entry names, with the .NT decoration NT
 * setup looks for first. */
static const inf_section *install_section(const inf_file *f, const char *base)
{
    char name[INF_FIELD_LEN + 16];
    snprintf(name, sizeof(name), "%s.NTamd64", base);
    const inf_section *s = inf_section_find(f, name);
    if (!s) {
        snprintf(name, sizeof(name), "%s.NT", base);
        s = inf_section_find(f, name);
    }
    return s ? s : inf_section_find(f, base);
}

/* The single Models entry of each INF (both install one thing). */
static const inf_line *model_entry(const inf_file *f)
{
    const inf_section *m = must_section(f, "Manufacturer");
    assert_int_equal(m->nlines, 1);
    const inf_line *mf = &m->lines[0];
    assert_true(mf->nfields >= 2);
    char name[2 * INF_FIELD_LEN + 2];
    snprintf(name, sizeof(name), "%s.%s", mf->field[0], mf->field[1]);
    const inf_section *models = must_section(f, name);
    assert_true(models->nlines >= 1);
    assert_true(models->lines[0].nfields >= 2);
    return &models->lines[0];
}

static const char *install_name(const inf_file *f)
{
    return model_entry(f)->field[0];
}

/* ---- [Version] ----------------------------------------------------------- */

static void check_version(const inf_file *f, const char *cls, const char *guid)
{
    const inf_section *v = must_section(f, "Version");
    assert_string_equal(must_value(v, "Signature"), "$WINDOWS NT$");
    assert_string_equal(must_value(v, "Class"), cls);
    assert_true(strcasecmp(must_value(v, "ClassGUID"), guid) == 0);
    assert_non_null(inf_string(f, "Provider"));
    assert_non_null(inf_key(v, "CatalogFile"));
    assert_string_equal(must_value(v, "PnpLockdown"), "1");
    /* DriverVer = mm/dd/yyyy,w.x.y.z */
    const inf_line *dv = inf_key(v, "DriverVer");
    assert_non_null(dv);
    assert_int_equal(dv->nfields, 2);
    unsigned m, d, y, a, b, c, e;
    assert_int_equal(sscanf(dv->field[0], "%u/%u/%u", &m, &d, &y), 3);
    assert_true(m >= 1 && m <= 12 && d >= 1 && d <= 31 && y >= 2012);
    assert_int_equal(sscanf(dv->field[1], "%u.%u.%u.%u", &a, &b, &c, &e), 4);
}

static void version_sections(void **state)
{
    (void)state;
    check_version(&g_vfo, "Net", "{4d36e972-e325-11ce-bfc1-08002be10318}");
    check_version(&g_prot, "NetTrans", "{4d36e975-e325-11ce-bfc1-08002be10318}");
}

/* ---- Manufacturer, Models, DDInstall -------------------------------------- */

static unsigned long characteristics(const inf_file *f)
{
    const inf_section *inst = install_section(f, install_name(f));
    assert_non_null(inst);
    return strtoul(must_value(inst, "Characteristics"), NULL, 0);
}

static void models_and_install(void **state)
{
    (void)state;
    /* vfo.inf: a PnP PCI adapter, NT 6.2+ x64 (hardware ids: transitional_device). */
    const inf_line *m = model_entry(&g_vfo);
    assert_string_equal(m->field[1], "PCI\\VEN_1AF4&DEV_1041");
    unsigned long ch = characteristics(&g_vfo);
    unsigned kinds = !!(ch & 0x1) + !!(ch & 0x2) + !!(ch & 0x4);
    assert_int_equal(kinds, 1); /* NCF_VIRTUAL/SOFTWARE_ENUMERATED/PHYSICAL exclusive */
    assert_true(ch & 0x4);      /* NCF_PHYSICAL: a PCI function */
    const inf_section *inst = install_section(&g_vfo, install_name(&g_vfo));
    assert_string_equal(must_value(inst, "BusType"), "5"); /* physical => BusType (PCIBus) */
    /* PnP adapters are excluded from manual selection. */
    assert_string_equal(must_value(must_section(&g_vfo, "ControlFlags"), "ExcludeFromSelect"), "*");

    /* vfoprot.inf: the NetTrans component "vfoprot"; the adapter-only flags are not for it. */
    m = model_entry(&g_prot);
    assert_string_equal(m->field[1], "vfoprot");
    ch = characteristics(&g_prot);
    assert_int_equal(ch & 0x7, 0);
}

/* ---- services ------------------------------------------------------------- */

static const inf_line *add_service(const inf_file *f, const char *svc)
{
    char name[INF_FIELD_LEN + 16];
    snprintf(name, sizeof(name), "%s.Services", install_section(f, install_name(f))->name);
    const inf_section *s = must_section(f, name);
    for (unsigned i = 0; i < s->nlines; i++)
        if (strcasecmp(s->lines[i].key, "AddService") == 0 &&
            strcasecmp(s->lines[i].field[0], svc) == 0)
            return &s->lines[i];
    return NULL;
}

static void check_service_section(const inf_file *f, const inf_line *as, const char *type)
{
    assert_true(as->nfields >= 3);
    const inf_section *s = must_section(f, as->field[2]);
    assert_string_equal(must_value(s, "ServiceType"), type);
    assert_non_null(inf_key(s, "StartType"));
    assert_non_null(inf_key(s, "ErrorControl"));
    assert_non_null(inf_key(s, "ServiceBinary"));
}

static void services(void **state)
{
    (void)state;
    /* The adapter's own service carries SPSVCINST_ASSOCSERVICE (0x2). */
    const inf_line *as = add_service(&g_vfo, "vfo");
    assert_non_null(as);
    assert_int_equal(strtoul(as->field[1], NULL, 0) & 0x2, 0x2);
    check_service_section(&g_vfo, as, "1");
    /* vfoprot's services: one_binary_one_service. */
}

/* ---- Ndi: service and binding interfaces ---------------------------------- */

/* The add-registry sections of the install section, comma separated. */
static const char *addreg_of(const inf_file *f)
{
    static char list[512];
    const inf_line *l = inf_key(install_section(f, install_name(f)), "AddReg");
    assert_non_null(l);
    list[0] = 0;
    for (unsigned i = 0; i < l->nfields; i++) {
        strncat(list, l->field[i], sizeof(list) - strlen(list) - 2);
        strcat(list, ",");
    }
    return list;
}

static bool in_list(const char *v, const char *const *allowed)
{
    for (; *allowed; allowed++)
        if (strcasecmp(v, *allowed) == 0)
            return true;
    return false;
}

static void binding_interfaces(void **state)
{
    (void)state;
    static const char *const upper_ok[] = { "ndis5",     "ndisatm",       "ndiswan",
                                            "ndiscowan", "noupper",       "ndis5_atalk",
                                            "ndis5_dlc", "ndis5_ip",      "ndis5_ipx",
                                            "ndis5_nbf", "ndis5_streams", NULL };
    static const char *const lower_ok[] = { "ethernet", "atm",       "tokenring", "serial",
                                            "fddi",     "baseband",  "broadband", "arcnet",
                                            "isdn",     "localtalk", "wan",       NULL };
    char regs[256];
    snprintf(regs, sizeof(regs), "%s", addreg_of(&g_vfo));
    const char *up = reg_data(reg_value(&g_vfo, regs, "Ndi\\Interfaces", "UpperRange"));
    const char *low = reg_data(reg_value(&g_vfo, regs, "Ndi\\Interfaces", "LowerRange"));
    assert_non_null(up);
    assert_non_null(low);
    assert_true(in_list(up, upper_ok));
    assert_true(in_list(low, lower_ok));
    assert_string_equal(up, "ndis5");
    assert_string_equal(low, "ethernet");
    /* The Ndi key names the service NDIS loads for the component. */
    assert_string_equal(reg_data(reg_value(&g_vfo, regs, "Ndi", "Service")), "vfo");

    snprintf(regs, sizeof(regs), "%s", addreg_of(&g_prot));
    assert_string_equal(reg_data(reg_value(&g_prot, regs, "Ndi\\Interfaces", "UpperRange")),
                        "noupper");
    assert_string_equal(reg_data(reg_value(&g_prot, regs, "Ndi\\Interfaces", "LowerRange")),
                        "ndis5,ndisvf");
    /* The protocol's Name in vfo.sys is the service name here. */
    assert_string_equal(reg_data(reg_value(&g_prot, regs, "Ndi", "Service")), "vfo");
}

/* ---- standardized keywords ---------------------------------------------- */

static void interface_keywords(void **state)
{
    (void)state;
    char regs[256];
    snprintf(regs, sizeof(regs), "%s", addreg_of(&g_vfo));
    struct {
        const char *name, *value;
    } kw[] = { { "*IfType", "6" }, { "*MediaType", "0" }, { "*PhysicalMediaType", "14" } };
    for (size_t i = 0; i < 3; i++) {
        const inf_line *l = reg_value(&g_vfo, regs, "", kw[i].name);
        assert_non_null(l);
        assert_string_equal(l->field[3], "0x00010001"); /* REG_DWORD */
        assert_string_equal(reg_data(l), kw[i].value);
    }
}

typedef struct param_rule {
    const char *keyword;
    const char *values; /* the standard's allowed values, comma separated; NULL = any */
} param_rule;

static bool value_allowed(const char *v, const char *allowed)
{
    char list[128], *save = NULL;
    if (!allowed)
        return true;
    snprintf(list, sizeof(list), "%s", allowed);
    for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save))
        if (strcmp(t, v) == 0)
            return true;
    return false;
}

/* Every Ndi\params entry: ParamDesc, a known Type and a Default that its
 * enum lists or its range holds; standardized keywords only use values the
 * standard defines. */
static void check_param(const inf_file *f, const char *regs, const char *name, const char *allowed)
{
    char key[160], enumkey[176];
    snprintf(key, sizeof(key), "Ndi\\params\\%s", name);
    snprintf(enumkey, sizeof(enumkey), "%s\\enum", key);
    const char *type = reg_data(reg_value(f, regs, key, "Type"));
    const char *def = reg_data(reg_value(f, regs, key, "Default"));
    if (!type || !def || !reg_value(f, regs, key, "ParamDesc"))
        fail_msg("%s: ParamDesc, Type and Default are required", name);
    if (strcmp(type, "enum") == 0) {
        if (!reg_value(f, regs, enumkey, def))
            fail_msg("%s: default %s is not one of its enum values", name, def);
        const inf_section *s = must_section(f, "vfo.params.reg");
        for (unsigned i = 0; i < s->nlines; i++) {
            const inf_line *l = &s->lines[i];
            if (l->nfields >= 3 && strcasecmp(l->field[1], enumkey) == 0 &&
                !value_allowed(l->field[2], allowed))
                fail_msg("%s: value %s is not a standard value", name, l->field[2]);
        }
    } else if (strcmp(type, "int") == 0) {
        const char *min = reg_data(reg_value(f, regs, key, "Min"));
        const char *max = reg_data(reg_value(f, regs, key, "Max"));
        assert_non_null(min);
        assert_non_null(max);
        assert_true(atol(min) <= atol(def) && atol(def) <= atol(max));
    } else if (strcmp(type, "edit") != 0) {
        fail_msg("%s: unknown Type %s", name, type);
    }
}

static void advanced_properties(void **state)
{
    (void)state;
    static const param_rule rules[] = {
        { "*JumboPacket", "1514,4088,9014" },
        { "*IPChecksumOffloadIPv4", "0,1,2,3" },
        { "*TCPChecksumOffloadIPv4", "0,1,2,3" },
        { "*UDPChecksumOffloadIPv4", "0,1,2,3" },
        { "*TCPChecksumOffloadIPv6", "0,1,2,3" },
        { "*UDPChecksumOffloadIPv6", "0,1,2,3" },
        { "*LsoV2IPv4", "0,1" },
        { "*LsoV2IPv6", "0,1" },
        { "NetworkAddress", NULL },
        { "Failover", "0,1" },
        { "AnnounceCount", NULL },
        { "RxQueueSize", "128,256,512,1024" },
        { "TxQueueSize", "128,256,512,1024" },
    };
    char regs[256];
    snprintf(regs, sizeof(regs), "%s", addreg_of(&g_vfo));
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
        check_param(&g_vfo, regs, rules[i].keyword, rules[i].values);
}

/* ---- strings and files ---------------------------------------------------- */

static void check_copyfiles(const inf_file *f)
{
    const inf_section *inst = install_section(f, install_name(f));
    const inf_section *dirs = must_section(f, "DestinationDirs");
    if (!inf_key(inst, "CopyFiles"))
        return; /* nothing to copy: no source disks needed */
    const inf_section *disk = must_section(f, "SourceDisksFiles");
    must_section(f, "SourceDisksNames");
    const inf_line *cf = inf_key(inst, "CopyFiles");
    for (unsigned i = 0; cf && i < cf->nfields; i++) {
        const inf_section *s = must_section(f, cf->field[i]);
        assert_true(inf_key(dirs, cf->field[i]) || inf_key(dirs, "DefaultDestDir"));
        for (unsigned k = 0; k < s->nlines; k++)
            if (!inf_key(disk, s->lines[k].field[0]))
                fail_msg("%s is copied but not in [SourceDisksFiles]", s->lines[k].field[0]);
    }
}

static void strings_and_files(void **state)
{
    (void)state;
    assert_string_equal(g_vfo.error, "");
    assert_string_equal(g_prot.error, "");
    const char *u = inf_undefined_string(&g_vfo);
    if (u)
        fail_msg("vfo.inf uses undefined string %%%s%%", u);
    u = inf_undefined_string(&g_prot);
    if (u)
        fail_msg("vfoprot.inf uses undefined string %%%s%%", u);
    check_copyfiles(&g_vfo);
    check_copyfiles(&g_prot);
}

/* ---- the INFs say what the driver says (driver/vfo.desc) ------------------ */

static void desc_value(const char *section, const char *key, char *out, size_t cap)
{
    FILE *f = fopen(VFO_DESC, "r");
    char line[256], cur[64] = "";
    assert_non_null(f);
    out[0] = 0;
    while (fgets(line, sizeof(line), f)) {
        char k[64], v[160];
        if (line[0] == '#')
            continue;
        if (sscanf(line, " [%63[^]]]", cur) == 1)
            continue;
        if (sscanf(line, " %63[^= ] = %159s", k, v) == 2 && strcmp(cur, section) == 0 &&
            strcmp(k, key) == 0 && !out[0])
            snprintf(out, cap, "%s", v);
    }
    fclose(f);
}

/* Every value of a key in a vfo.desc section (keys may repeat). */
static unsigned desc_values(const char *section, const char *key, char out[][160], unsigned max)
{
    FILE *f = fopen(VFO_DESC, "r");
    char line[256], cur[64] = "";
    unsigned n = 0;
    assert_non_null(f);
    while (fgets(line, sizeof(line), f)) {
        char k[64], v[160];
        if (line[0] == '#')
            continue;
        if (sscanf(line, " [%63[^]]]", cur) == 1)
            continue;
        if (sscanf(line, " %63[^= ] = %159s", k, v) == 2 && strcmp(cur, section) == 0 &&
            strcmp(k, key) == 0 && n < max)
            snprintf(out[n++], 160, "%s", v);
    }
    fclose(f);
    return n;
}

static bool model_has_id(const inf_section *models, const char *id)
{
    for (unsigned i = 0; i < models->nlines; i++)
        if (models->lines[i].nfields >= 2 && strcasecmp(models->lines[i].field[1], id) == 0)
            return true;
    return false;
}

static void matches_driver(void **state)
{
    (void)state;
    char v[160], regs[256];
    desc_value("", "service", v, sizeof(v));
    assert_string_equal(v, "vfo");
    snprintf(regs, sizeof(regs), "%s", addreg_of(&g_vfo));
    desc_value("miniport", "upper", v, sizeof(v));
    assert_string_equal(v, reg_data(reg_value(&g_vfo, regs, "Ndi\\Interfaces", "UpperRange")));
    desc_value("miniport", "lower", v, sizeof(v));
    assert_string_equal(v, reg_data(reg_value(&g_vfo, regs, "Ndi\\Interfaces", "LowerRange")));
    /* The hardware ids ndisemu matches are those of every Models section. */
    char ids[8][160];
    unsigned n = desc_values("miniport", "pnpid", ids, 8);
    const inf_section *mf = must_section(&g_vfo, "Manufacturer");
    for (unsigned d = 1; d < mf->lines[0].nfields; d++) {
        char name[2 * INF_FIELD_LEN + 2];
        snprintf(name, sizeof(name), "%s.%s", mf->lines[0].field[0], mf->lines[0].field[d]);
        const inf_section *models = must_section(&g_vfo, name);
        assert_int_equal(models->nlines, n);
        for (unsigned i = 0; i < n; i++)
            if (!model_has_id(models, ids[i]))
                fail_msg("[%s] lacks %s, which driver/vfo.desc lists", name, ids[i]);
    }
    /* The protocol registered as "vfo" binds where vfoprot's LowerRange says. */
    snprintf(regs, sizeof(regs), "%s", addreg_of(&g_prot));
    desc_value("protocol vfo", "lower", v, sizeof(v));
    assert_string_equal(v, reg_data(reg_value(&g_prot, regs, "Ndi\\Interfaces", "LowerRange")));
}

static int load(void **state)
{
    (void)state;
    if (inf_load(VFO_INF, &g_vfo) != 0 || inf_load(VFOPROT_INF, &g_prot) != 0)
        return -1;
    return 0;
}

static int unload(void **state)
{
    (void)state;
    inf_free(&g_vfo);
    inf_free(&g_prot);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(version_sections),
        cmocka_unit_test(models_and_install),
        cmocka_unit_test(services),
        cmocka_unit_test(binding_interfaces),
        cmocka_unit_test(interface_keywords),
        cmocka_unit_test(advanced_properties),
        cmocka_unit_test(strings_and_files),
        cmocka_unit_test(matches_driver),
        cmocka_unit_test(driver_store_dirid),
        cmocka_unit_test(one_binary_one_service),
        cmocka_unit_test(im_platform_binding_options),
        cmocka_unit_test(transitional_device),
        cmocka_unit_test(every_section_referenced),
    };
    return cmocka_run_group_tests(tests, load, unload);
}
