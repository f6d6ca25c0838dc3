/* Small Windows helpers (util_win.h). */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "util_win.h"

/* {CAC88484-7515-4C03-82E6-71A87ABAC361} */
const GUID VFOSVC_GUID_DEVINTERFACE_NET = {
    0xcac88484, 0x7515, 0x4c03, { 0x82, 0xe6, 0x71, 0xa8, 0x7a, 0xba, 0xc3, 0x61 }
};

bool utf8_from_wide(const wchar_t *in, char *out, size_t cap)
{
    int n;
    if (cap == 0 || cap > INT_MAX)
        return false;
    n = WideCharToMultiByte(CP_UTF8, 0, in, -1, out, (int)cap, NULL, NULL);
    if (n <= 0) {
        out[0] = '\0';
        return false;
    }
    return true;
}

bool wide_from_utf8(const char *in, wchar_t *out, size_t cap)
{
    int n;
    if (cap == 0 || cap > INT_MAX)
        return false;
    n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, in, -1, out, (int)cap);
    if (n <= 0) {
        out[0] = L'\0';
        return false;
    }
    return true;
}

void win_error_text(DWORD code, char *out, size_t cap)
{
    wchar_t msg[256];
    char text[512];
    DWORD n = FormatMessageW(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL, code,
                             0, msg, sizeof(msg) / sizeof(msg[0]), NULL);
    /* System messages end with CR LF. */
    while (n > 0 && (msg[n - 1] == L'\n' || msg[n - 1] == L'\r' || msg[n - 1] == L' '))
        msg[--n] = L'\0';
    if (n == 0 || !utf8_from_wide(msg, text, sizeof(text)))
        snprintf(out, cap, "0x%08lx", (unsigned long)code);
    else
        snprintf(out, cap, "0x%08lx %s", (unsigned long)code, text);
}

uint64_t mono_ms(void)
{
    return GetTickCount64();
}

void con_line(const char *utf8)
{
    HANDLE out = GetStdHandle(STD_OUTPUT_HANDLE);
    DWORD mode, written;
    wchar_t wide[1024];

    if (out == NULL || out == INVALID_HANDLE_VALUE)
        return;
    if (GetConsoleMode(out, &mode) && wide_from_utf8(utf8, wide, sizeof(wide) / sizeof(wide[0]))) {
        WriteConsoleW(out, wide, (DWORD)wcslen(wide), &written, NULL);
        WriteConsoleW(out, L"\r\n", 2, &written, NULL);
        return;
    }
    /* Redirected: UTF-8 bytes as they are. */
    WriteFile(out, utf8, (DWORD)strlen(utf8), &written, NULL);
    WriteFile(out, "\r\n", 2, &written, NULL);
}

void con_err(const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    fputs(buf, stderr);
    fputs("\n", stderr);
}

SC_HANDLE service_open(DWORD access, SC_HANDLE *scm)
{
    *scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
    return *scm ? OpenServiceW(*scm, VFOSVC_NAME_W, access) : NULL;
}

void service_close(SC_HANDLE scm, SC_HANDLE svc)
{
    DWORD err = GetLastError(); /* callers report it after closing */
    if (svc != NULL)
        CloseServiceHandle(svc);
    if (scm != NULL)
        CloseServiceHandle(scm);
    SetLastError(err);
}

bool exe_path(wchar_t *out, size_t cap)
{
    DWORD n = GetModuleFileNameW(NULL, out, (DWORD)cap);
    return n > 0 && n < cap;
}
