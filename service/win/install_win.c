/*
 * install_win.c - "vfosvc install" and "vfosvc uninstall" (docs/vfosvc.md).
 *
 * install: INF present? -> Event Log source -> service -> stage the INF ->
 * vfoprot through INetCfgClassSetup -> start. uninstall: stop -> restore
 * every remembered binding (the portable policy's restore_all) -> refuse
 * without --force if an adapter with remembered changes is absent -> remove
 * vfoprot -> delete the service -> clean up.
 *
 * Staging an INF into the driver store needs SetupCopyOEMInfW (setupapi).
 * vfosvc links only ole32, uuid, cfgmgr32 and advapi32, so this one-off
 * admin step loads setupapi.dll from System32 at run time; the service
 * itself never does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "evlog_win.h"
#include "netcfg_win.h"
#include "store_reg.h"
#include "vfosvc_win.h"
#include "vsvc_policy.h"

#define STOP_WAIT_MS     30000
#define INSTALL_LOCK_MS  10000
#define SPOST_PATH_STYLE 1 /* SPOST_PATH: the INF's own directory holds its files */

static void say_error(const char *what, DWORD err)
{
    char text[256];
    win_error_text(err, text, sizeof(text));
    con_err("vfosvc: %s: %s", what, text);
}

/* The INF named on the command line, or vfoprot.inf next to vfosvc.exe. */
static bool find_inf(const struct vsvc_cli *cli, const wchar_t *exe, wchar_t *inf, size_t cap)
{
    wchar_t given[VSVC_CLI_PATH_LEN];
    wchar_t *slash;

    if (cli->inf_path[0] != '\0') {
        if (!wide_from_utf8(cli->inf_path, given, VSVC_CLI_PATH_LEN) ||
            GetFullPathNameW(given, (DWORD)cap, inf, NULL) == 0)
            return false;
    } else {
        if (wcslen(exe) + 16 > cap)
            return false;
        wcscpy(inf, exe);
        slash = wcsrchr(inf, L'\\');
        wcscpy(slash ? slash + 1 : inf, L"vfoprot.inf");
    }
    return GetFileAttributesW(inf) != INVALID_FILE_ATTRIBUTES;
}

static DWORD configure_service(SC_HANDLE svc)
{
    SERVICE_DESCRIPTIONW desc = { (LPWSTR)L"Keeps every protocol but vfo's off the SR-IOV VFs vfo "
                                          L"has paired, so traffic survives live migration." };
    SC_ACTION actions[3] = { { SC_ACTION_RESTART, 5000 },
                             { SC_ACTION_RESTART, 5000 },
                             { SC_ACTION_RESTART, 5000 } };
    SERVICE_FAILURE_ACTIONSW failure = { 86400, NULL, NULL, 3, actions };

    if (!ChangeServiceConfig2W(svc, SERVICE_CONFIG_DESCRIPTION, &desc) ||
        !ChangeServiceConfig2W(svc, SERVICE_CONFIG_FAILURE_ACTIONS, &failure))
        return GetLastError();
    return ERROR_SUCCESS;
}

/* Creates the service, or updates it when it exists (an earlier install,
 * possibly from another directory). */
static DWORD register_service(const wchar_t *exe)
{
    wchar_t command[MAX_PATH + 16];
    SC_HANDLE scm, svc;
    DWORD err = ERROR_SUCCESS;

    if (wcslen(exe) + 8 > MAX_PATH + 16)
        return ERROR_FILENAME_EXCED_RANGE;
    wcscpy(command, L"\"");
    wcscat(command, exe);
    wcscat(command, L"\" run");
    scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CREATE_SERVICE);
    if (scm == NULL)
        return GetLastError();
    svc = CreateServiceW(scm, VFOSVC_NAME_W, VFOSVC_DISPLAY_W, SERVICE_ALL_ACCESS,
                         SERVICE_WIN32_OWN_PROCESS, SERVICE_AUTO_START, SERVICE_ERROR_NORMAL,
                         command, NULL, NULL, NULL, NULL, NULL);
    if (svc == NULL && GetLastError() == ERROR_SERVICE_EXISTS) {
        svc = OpenServiceW(scm, VFOSVC_NAME_W, SERVICE_ALL_ACCESS);
        if (svc != NULL && !ChangeServiceConfigW(svc, SERVICE_WIN32_OWN_PROCESS, SERVICE_AUTO_START,
                                                 SERVICE_ERROR_NORMAL, command, NULL, NULL, NULL,
                                                 NULL, NULL, VFOSVC_DISPLAY_W))
            err = GetLastError();
    }
    if (svc == NULL)
        err = GetLastError();
    else if (err == ERROR_SUCCESS)
        err = configure_service(svc);
    if (svc != NULL)
        CloseServiceHandle(svc);
    CloseServiceHandle(scm);
    return err;
}

typedef BOOL(WINAPI *copy_oem_inf_fn)(PCWSTR, PCWSTR, DWORD, DWORD, PWSTR, DWORD, PDWORD, PWSTR *);

static DWORD stage_inf(const wchar_t *inf, char *oem, size_t oem_cap)
{
    HMODULE setupapi = LoadLibraryExW(L"setupapi.dll", NULL, LOAD_LIBRARY_SEARCH_SYSTEM32);
    copy_oem_inf_fn copy;
    wchar_t staged[MAX_PATH];
    DWORD err = ERROR_SUCCESS;

    if (setupapi == NULL)
        return GetLastError();
    copy = (copy_oem_inf_fn)(void (*)(void))GetProcAddress(setupapi, "SetupCopyOEMInfW");
    if (copy == NULL)
        err = GetLastError();
    else if (!copy(inf, NULL, SPOST_PATH_STYLE, 0, staged, MAX_PATH, NULL, NULL))
        err = GetLastError();
    else
        utf8_from_wide(staged, oem, oem_cap);
    FreeLibrary(setupapi);
    return err;
}

/* One write session around a vfoprot install or removal. */
static int change_vfoprot(struct evlog *log, bool install)
{
    struct netcfg_win nc;
    char holder[128] = "";
    bool changed = false;
    int rc, close_rc;

    if (!netcfg_init(&nc))
        return VSVC_E_NOMEM;
    rc = netcfg_ops.open(&nc, VSVC_BG_WRITE, INSTALL_LOCK_MS, holder, sizeof(holder));
    if (rc == VSVC_E_BUSY) {
        con_err("vfosvc: the network configuration is locked by '%s'; close it and retry",
                holder[0] ? holder : "another program");
        netcfg_fini(&nc);
        return rc;
    }
    if (rc == VSVC_OK) {
        rc = install ? netcfg_install_vfoprot(&nc, &changed) : netcfg_remove_vfoprot(&nc, &changed);
        close_rc = netcfg_ops.close(&nc, rc == VSVC_OK);
        if (rc == VSVC_OK)
            rc = close_rc;
    }
    if (rc < 0)
        con_err("vfosvc: %s vfoprot failed: %s", install ? "installing" : "removing", nc.error);
    else if (changed)
        evlog_say(log, install ? VSVC_EV_VFOPROT_INSTALLED : VSVC_EV_VFOPROT_REMOVED,
                  "The vfoprot protocol was %s%s", install ? "installed" : "removed",
                  rc == VSVC_OK_REBOOT ? "; Windows needs a reboot to finish" : "");
    else
        con_line(install ? "vfoprot was already installed" : "vfoprot was not installed");
    netcfg_fini(&nc);
    return rc;
}

static DWORD start_service(void)
{
    SC_HANDLE scm, svc = service_open(SERVICE_START, &scm);
    DWORD err = ERROR_SUCCESS;

    if (svc == NULL)
        err = GetLastError();
    else if (!StartServiceW(svc, 0, NULL) && GetLastError() != ERROR_SERVICE_ALREADY_RUNNING)
        err = GetLastError();
    service_close(scm, svc);
    return err;
}

/* vfoprot's Ndi\Service is the kernel service "vfo", which only vfo.inf
 * installs (vfoprot.inf carries no binary and no service, docs/install.md):
 * the protocol component cannot come first. */
static bool vfo_service_installed(void)
{
    SC_HANDLE scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
    SC_HANDLE svc = scm ? OpenServiceW(scm, L"vfo", SERVICE_QUERY_CONFIG) : NULL;
    bool found = svc != NULL;
    service_close(scm, svc);
    return found;
}

int cmd_install(const struct vsvc_cli *cli)
{
    wchar_t exe[MAX_PATH], inf[MAX_PATH];
    char oem[MAX_PATH] = "", inf_utf8[MAX_PATH * 3];
    struct evlog log;
    DWORD err;
    int rc;

    if (!exe_path(exe, MAX_PATH)) {
        say_error("cannot locate vfosvc.exe", GetLastError());
        return 1;
    }
    if (!find_inf(cli, exe, inf, MAX_PATH)) {
        utf8_from_wide(inf, inf_utf8, sizeof(inf_utf8));
        con_err("vfosvc: vfoprot.inf not found at '%s'; pass --inf PATH",
                cli->inf_path[0] ? cli->inf_path : inf_utf8);
        return 1;
    }
    if (!vfo_service_installed()) {
        con_err("vfosvc: the vfo driver service is not installed; install vfo.inf first "
                "(pnputil /add-driver vfo.inf /install)");
        return 1;
    }
    if ((err = evlog_register_source(exe)) != ERROR_SUCCESS) {
        say_error("registering the Event Log source", err);
        return 1;
    }
    if ((err = register_service(exe)) != ERROR_SUCCESS) {
        say_error("registering the vfosvc service", err);
        return 1;
    }
    if ((err = stage_inf(inf, oem, sizeof(oem))) != ERROR_SUCCESS) {
        say_error("staging vfoprot.inf into the driver store (SetupCopyOEMInfW)", err);
        return 1;
    }
    if (FAILED(CoInitializeEx(NULL, COINIT_APARTMENTTHREADED))) {
        con_err("vfosvc: COM is not available");
        return 1;
    }
    evlog_open(&log, true);
    rc = change_vfoprot(&log, true);
    evlog_close(&log);
    CoUninitialize();
    if (rc < 0)
        return 1;
    if ((err = start_service()) != ERROR_SUCCESS) {
        say_error("starting the vfosvc service", err);
        return 1;
    }
    snprintf(inf_utf8, sizeof(inf_utf8), "vfosvc installed and started (vfoprot.inf staged as %s)",
             oem);
    con_line(inf_utf8);
    return 0;
}

/* Stops the service and waits (bounded); true when it was running. */
static bool stop_service(void)
{
    SC_HANDLE scm, svc = service_open(SERVICE_STOP | SERVICE_QUERY_STATUS, &scm);
    SERVICE_STATUS st;
    bool was_running = false;
    ULONGLONG until = GetTickCount64() + STOP_WAIT_MS;

    if (svc != NULL && ControlService(svc, SERVICE_CONTROL_STOP, &st)) {
        was_running = true;
        while (QueryServiceStatus(svc, &st) && st.dwCurrentState != SERVICE_STOPPED &&
               GetTickCount64() < until)
            Sleep(200);
    }
    service_close(scm, svc);
    return was_running;
}

/* Restores every remembered change; returns the records left behind. */
static int restore_bindings(struct evlog *log, uint32_t *leftovers)
{
    struct netcfg_win nc;
    struct store_reg store;
    struct vsvc_policy_env env;
    struct vsvc_reconcile_result res;
    struct vsvc_policy *p = NULL;
    DWORD err = store_reg_open(&store, false);
    int rc = VSVC_E_NOMEM;

    *leftovers = 0;
    if (err == ERROR_FILE_NOT_FOUND)
        return VSVC_OK; /* never changed anything */
    if (err != ERROR_SUCCESS) {
        say_error("opening the remembered binding changes", err);
        return VSVC_E_IO;
    }
    if (netcfg_init(&nc)) {
        env.bg = &netcfg_ops;
        env.bg_ctx = &nc;
        env.store = &store_reg_ops;
        env.store_ctx = &store;
        env.log = &evlog_ops;
        env.log_ctx = log;
        p = vsvc_policy_new(NULL, &env);
    }
    if (p != NULL && (rc = vsvc_policy_start(p)) == VSVC_OK) {
        rc = vsvc_policy_restore_all(p, mono_ms(), &res);
        *leftovers = res.leftovers;
    }
    vsvc_policy_free(p);
    netcfg_fini(&nc);
    store_reg_close(&store);
    return rc;
}

static DWORD delete_service(void)
{
    SC_HANDLE scm, svc = service_open(DELETE, &scm);
    DWORD err = ERROR_SUCCESS;

    if (svc == NULL)
        err = GetLastError() == ERROR_SERVICE_DOES_NOT_EXIST ? ERROR_SUCCESS : GetLastError();
    else if (!DeleteService(svc) && GetLastError() != ERROR_SERVICE_MARKED_FOR_DELETE)
        err = GetLastError();
    service_close(scm, svc);
    return err;
}

int cmd_uninstall(const struct vsvc_cli *cli)
{
    struct evlog log;
    uint32_t leftovers = 0;
    bool was_running;
    DWORD err;
    int rc;

    if (FAILED(CoInitializeEx(NULL, COINIT_APARTMENTTHREADED))) {
        con_err("vfosvc: COM is not available");
        return 1;
    }
    evlog_open(&log, true);
    was_running = stop_service();
    rc = restore_bindings(&log, &leftovers);
    if (rc < 0 || (leftovers > 0 && !cli->force)) {
        if (rc >= 0)
            con_err("vfosvc: %lu remembered change(s) belong to adapters that are not present "
                    "(listed above); plug them back and run uninstall again, or use --force "
                    "to keep the records for a later install",
                    (unsigned long)leftovers);
        if (was_running)
            start_service();
        evlog_close(&log);
        CoUninitialize();
        return 1;
    }
    rc = change_vfoprot(&log, false);
    evlog_close(&log);
    CoUninitialize();
    if (rc < 0)
        return 1;
    if ((err = delete_service()) != ERROR_SUCCESS) {
        say_error("deleting the vfosvc service", err);
        return 1;
    }
    err = store_reg_delete_if_empty();
    if (err == ERROR_DIR_NOT_EMPTY)
        con_line("remembered changes of absent adapters are kept under "
                 "HKLM\\SOFTWARE\\vfo\\vfosvc\\BindingChanges");
    else if (err != ERROR_SUCCESS)
        say_error("deleting the record key", err);
    if ((err = evlog_unregister_source()) != ERROR_SUCCESS)
        say_error("removing the Event Log source", err);
    con_line("vfosvc uninstalled");
    return 0;
}
