/* The registry store (store_reg.h). */
#include <stdio.h>
#include <string.h>

#include "store_reg.h"

/* "{GUID}|path" + NUL, in UTF-16. */
#define VALUE_NAME_LEN (VSVC_ID_LEN + VSVC_PATH_LEN + 2)

DWORD store_reg_open(struct store_reg *s, bool create)
{
    s->error[0] = '\0';
    s->key = NULL;
    if (!create)
        return (DWORD)RegOpenKeyExW(HKEY_LOCAL_MACHINE, VFOSVC_RECORDS_W, 0, KEY_QUERY_VALUE,
                                    &s->key);
    return (DWORD)RegCreateKeyExW(HKEY_LOCAL_MACHINE, VFOSVC_RECORDS_W, 0, NULL, 0,
                                  KEY_QUERY_VALUE | KEY_SET_VALUE, NULL, &s->key, NULL);
}

void store_reg_close(struct store_reg *s)
{
    if (s->key != NULL)
        RegCloseKey(s->key);
    s->key = NULL;
}

DWORD store_reg_delete_if_empty(void)
{
    HKEY key;
    DWORD values = 0;
    LSTATUS rc = RegOpenKeyExW(HKEY_LOCAL_MACHINE, VFOSVC_RECORDS_W, 0, KEY_QUERY_VALUE, &key);
    if (rc == ERROR_FILE_NOT_FOUND)
        return ERROR_SUCCESS;
    if (rc != ERROR_SUCCESS)
        return (DWORD)rc;
    rc = RegQueryInfoKeyW(key, NULL, NULL, NULL, NULL, NULL, NULL, &values, NULL, NULL, NULL, NULL);
    RegCloseKey(key);
    if (rc != ERROR_SUCCESS)
        return (DWORD)rc;
    if (values != 0)
        return ERROR_DIR_NOT_EMPTY;
    return (DWORD)RegDeleteKeyW(HKEY_LOCAL_MACHINE, VFOSVC_RECORDS_W);
}

static int fail(struct store_reg *s, const char *what, LSTATUS rc)
{
    char text[128];
    win_error_text((DWORD)rc, text, sizeof(text));
    snprintf(s->error, sizeof(s->error), "%s: %s", what, text);
    return VSVC_E_IO;
}

static bool value_name(const char *adapter_id, const char *path, wchar_t *out)
{
    char name[VALUE_NAME_LEN];
    if ((size_t)snprintf(name, sizeof(name), "%s|%s", adapter_id, path) >= sizeof(name))
        return false;
    return wide_from_utf8(name, out, VALUE_NAME_LEN);
}

/* "{GUID}|path" -> record; false for anything else. The policy validates the
 * id and path themselves. */
static bool parse_record(const wchar_t *name, DWORD type, DWORD data, DWORD size,
                         struct vsvc_store_record *r)
{
    char utf8[VALUE_NAME_LEN];
    const char *bar;
    if (type != REG_DWORD || size != sizeof(DWORD) || data > 1)
        return false;
    if (!utf8_from_wide(name, utf8, sizeof(utf8)))
        return false;
    bar = strchr(utf8, '|');
    if (bar == NULL || (size_t)(bar - utf8) >= sizeof(r->adapter_id))
        return false;
    memset(r, 0, sizeof(*r));
    memcpy(r->adapter_id, utf8, (size_t)(bar - utf8));
    if (vsvc_copy(r->path, sizeof(r->path), bar + 1) != VSVC_OK)
        return false;
    r->was_enabled = data == 1;
    return true;
}

static int reg_load(void *ctx, struct vsvc_store_record *out, size_t cap, size_t *count,
                    size_t *bad)
{
    struct store_reg *s = ctx;
    DWORD i;

    *count = 0;
    *bad = 0;
    for (i = 0;; i++) {
        wchar_t name[VALUE_NAME_LEN];
        DWORD name_len = VALUE_NAME_LEN, type = 0, data = 0, size = sizeof(data);
        LSTATUS rc = RegEnumValueW(s->key, i, name, &name_len, NULL, &type, (BYTE *)&data, &size);
        if (rc == ERROR_NO_MORE_ITEMS)
            return VSVC_OK;
        if (rc == ERROR_MORE_DATA) { /* a name or value too long to be ours */
            (*bad)++;
            continue;
        }
        if (rc != ERROR_SUCCESS)
            return fail(s, "RegEnumValueW", rc);
        if (*count == cap)
            return VSVC_E_FULL;
        if (parse_record(name, type, data, size, &out[*count]))
            (*count)++;
        else
            (*bad)++;
    }
}

static int reg_put(void *ctx, const struct vsvc_store_record *r)
{
    struct store_reg *s = ctx;
    wchar_t name[VALUE_NAME_LEN];
    DWORD data = r->was_enabled ? 1 : 0;
    LSTATUS rc;

    if (!value_name(r->adapter_id, r->path, name))
        return VSVC_E_INVAL;
    rc = RegSetValueExW(s->key, name, 0, REG_DWORD, (const BYTE *)&data, sizeof(data));
    if (rc != ERROR_SUCCESS)
        return fail(s, "RegSetValueExW", rc);
    /* The record must survive a power loss before the binding changes. */
    rc = RegFlushKey(s->key);
    if (rc != ERROR_SUCCESS)
        return fail(s, "RegFlushKey", rc);
    return VSVC_OK;
}

static int reg_remove(void *ctx, const char *adapter_id, const char *path)
{
    struct store_reg *s = ctx;
    wchar_t name[VALUE_NAME_LEN];
    LSTATUS rc;

    if (!value_name(adapter_id, path, name))
        return VSVC_E_INVAL;
    rc = RegDeleteValueW(s->key, name);
    if (rc != ERROR_SUCCESS && rc != ERROR_FILE_NOT_FOUND)
        return fail(s, "RegDeleteValueW", rc);
    return VSVC_OK;
}

static const char *reg_last_error(void *ctx)
{
    struct store_reg *s = ctx;
    return s->error;
}

const struct vsvc_store_ops store_reg_ops = {
    .load = reg_load,
    .put = reg_put,
    .remove = reg_remove,
    .last_error = reg_last_error,
};
