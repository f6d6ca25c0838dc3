/*
 * util_win.h - small Windows helpers shared by the vfosvc glue: UTF-8 <->
 * UTF-16, error texts, the monotonic clock, console output, paths.
 */
#ifndef VFOSVC_UTIL_WIN_H
#define VFOSVC_UTIL_WIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "win_compat.h"

#define VFOSVC_NAME_W     L"vfosvc"
#define VFOSVC_DISPLAY_W  L"vfo binding service"
#define VFOSVC_PARAMS_W   L"SYSTEM\\CurrentControlSet\\Services\\vfosvc\\Parameters"
#define VFOSVC_EVENTSRC_W L"SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\vfosvc"
#define VFOSVC_RECORDS_W  L"SOFTWARE\\vfo\\vfosvc\\BindingChanges"

/* UTF-16 -> UTF-8 into out[cap]; false (out = "") when it does not fit. */
bool utf8_from_wide(const wchar_t *in, char *out, size_t cap);
/* UTF-8 -> UTF-16 into out[cap]; false when it does not fit. */
bool wide_from_utf8(const char *in, wchar_t *out, size_t cap);

/* "0x80070005 Access is denied." for a Win32 error or an HRESULT. */
void win_error_text(DWORD code, char *out, size_t cap);

uint64_t mono_ms(void);

/* Prints one UTF-8 line to stdout (console or redirected file). */
void con_line(const char *utf8);
/* Prints a formatted line to stderr. */
void con_err(const char *fmt, ...);

/* Opens the vfosvc service with `access` (NULL on failure, GetLastError()
 * says why); service_close() closes both handles. */
SC_HANDLE service_open(DWORD access, SC_HANDLE *scm);
void service_close(SC_HANDLE scm, SC_HANDLE svc);

/* Full path of vfosvc.exe; false on failure. */
bool exe_path(wchar_t *out, size_t cap);

#endif /* VFOSVC_UTIL_WIN_H */
