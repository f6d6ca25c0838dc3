/*
 * errlog.c - the system event log a miniport writes with
 * NdisWriteErrorLogEntry: each entry is kept (the first EMU_ERROR_LOG_MAX)
 * for tests to read back with emu_error_log_get, and traced.
 */
#include "emu_internal.h"

#include <stdarg.h>

void NdisWriteErrorLogEntry(NDIS_HANDLE NdisAdapterHandle, NDIS_ERROR_CODE ErrorCode,
                            ULONG NumberOfErrorValues, ...)
{
    emu_runtime *rt = emu_rt;
    const char *call = "NdisWriteErrorLogEntry";
    if (!emu_enter(call, "code=%#lx values=%lu", (unsigned long)ErrorCode,
                   (unsigned long)NumberOfErrorValues))
        return;
    emu_adapter *ad = (emu_adapter *)emu_obj_check(rt, NdisAdapterHandle, K_ADAPTER, call);
    if (!ad)
        return;
    emu_error_log_entry e;
    memset(&e, 0, sizeof(e));
    snprintf(e.instance, sizeof(e.instance), "%s", ad->instance);
    e.code = ErrorCode;
    e.n_values = NumberOfErrorValues;
    va_list ap;
    va_start(ap, NumberOfErrorValues);
    for (ULONG i = 0; i < NumberOfErrorValues && i < EMU_ERROR_LOG_VALUES; i++)
        e.values[i] = va_arg(ap, ULONG);
    va_end(ap);
    const char *cb = emu_self()->cb;
    emu_lock(rt);
    if (rt->cnt.error_log_entries < EMU_ERROR_LOG_MAX)
        rt->error_log[rt->cnt.error_log_entries] = e;
    rt->cnt.error_log_entries++;
    if (cb && strcmp(cb, "MiniportInitializeEx") == 0)
        ad->init_error_logged = true;
    emu_unlock(rt);
}

bool emu_error_log_get(emu_runtime *rt, size_t i, emu_error_log_entry *out)
{
    emu_lock(rt);
    bool ok = i < rt->cnt.error_log_entries && i < EMU_ERROR_LOG_MAX;
    if (ok)
        *out = rt->error_log[i];
    emu_unlock(rt);
    return ok;
}
