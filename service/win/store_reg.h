/*
 * store_reg.h - the policy's persistent store in the registry:
 * HKLM\SOFTWARE\vfo\vfosvc\BindingChanges, one REG_DWORD per record, named
 * "{ADAPTER-GUID}|component>path", value 1 = was enabled, 0 = was disabled.
 * Outside the service key on purpose: deleting the service must not delete
 * changes that could not be restored yet.
 */
#ifndef VFOSVC_STORE_REG_H
#define VFOSVC_STORE_REG_H

#include "util_win.h"
#include "vsvc_store.h"

struct store_reg {
    HKEY key;
    char error[160];
};

/* create: make the key when missing (the service); otherwise a missing key
 * is ERROR_FILE_NOT_FOUND (status only reads). */
DWORD store_reg_open(struct store_reg *s, bool create);
void store_reg_close(struct store_reg *s);
/* Deletes the key if it holds no record; ERROR_DIR_NOT_EMPTY otherwise. */
DWORD store_reg_delete_if_empty(void);
extern const struct vsvc_store_ops store_reg_ops;

#endif /* VFOSVC_STORE_REG_H */
