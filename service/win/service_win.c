/*
 * service_win.c - vfosvc's runtime: the Service Control Manager glue and
 * the event loop. The loop only waits and feeds the portable core:
 *   - network adapter interface arrivals/removals (CM_Register_Notification
 *     on GUID_DEVINTERFACE_NET) schedule a debounced reconcile, vfo's
 *     WAIT_CHANGE completions an immediate one (vsvc_sched);
 *   - a reconcile reads vfo's pairs and hands them to vsvc_policy, which
 *     reads and changes the bindings through INetCfg (netcfg_win.c) and
 *     remembers its changes in the registry (store_reg.c);
 *   - the policy's deadlines and the periodic safety net bound the sleep.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_win.h"
#include "evlog_win.h"
#include "netcfg_win.h"
#include "store_reg.h"
#include "vfosvc_win.h"
#include "vsvc_control.h"
#include "vsvc_policy.h"
#include "vsvc_sched.h"

struct runtime {
    struct evlog log;
    struct netcfg_win nc;
    struct store_reg store;
    struct vctl ctl;
    struct vsvc_config cfg;
    struct vsvc_sched sched;
    struct vsvc_policy *policy;
    struct vsvc_pairs *pairs;
    HANDLE stop; /* manual reset: SCM stop/shutdown or Ctrl+C */
    HANDLE wake; /* auto reset: a network interface came or went */
    HCMNOTIFICATION notify;
    struct vsvc_control_note ctl_note; /* what was last logged about the control device */
};

/* Called on a thread-pool thread: only wakes the loop. */
static DWORD CALLBACK on_net_interface(HCMNOTIFICATION h, PVOID ctx, CM_NOTIFY_ACTION action,
                                       PCM_NOTIFY_EVENT_DATA data, DWORD size)
{
    struct runtime *rt = ctx;
    (void)h;
    (void)data;
    (void)size;
    if (action == CM_NOTIFY_ACTION_DEVICEINTERFACEARRIVAL ||
        action == CM_NOTIFY_ACTION_DEVICEINTERFACEREMOVAL)
        SetEvent(rt->wake);
    return ERROR_SUCCESS;
}

static void read_config(struct runtime *rt)
{
    HKEY key;
    size_t i;

    vsvc_config_default(&rt->cfg);
    if (RegOpenKeyExW(HKEY_LOCAL_MACHINE, VFOSVC_PARAMS_W, 0, KEY_QUERY_VALUE, &key) !=
        ERROR_SUCCESS)
        return;
    for (i = 0; vsvc_config_name(i) != NULL; i++) {
        wchar_t name[64];
        DWORD value = 0, type = 0, size = sizeof(value);
        if (!wide_from_utf8(vsvc_config_name(i), name, 64) ||
            RegQueryValueExW(key, name, NULL, &type, (BYTE *)&value, &size) != ERROR_SUCCESS)
            continue;
        if (type != REG_DWORD || vsvc_config_set(&rt->cfg, vsvc_config_name(i), value) != VSVC_OK)
            evlog_say(&rt->log, VSVC_EV_CONFIG_REJECTED,
                      "Parameters value %s (%lu) is not a DWORD in its allowed range; the "
                      "default is used",
                      vsvc_config_name(i), (unsigned long)value);
    }
    RegCloseKey(key);
}

static void register_notifications(struct runtime *rt)
{
    CM_NOTIFY_FILTER filter;
    CONFIGRET cr;

    memset(&filter, 0, sizeof(filter));
    filter.cbSize = sizeof(filter);
    filter.FilterType = CM_NOTIFY_FILTER_TYPE_DEVICEINTERFACE;
    filter.u.DeviceInterface.ClassGuid = VFOSVC_GUID_DEVINTERFACE_NET;
    cr = CM_Register_Notification(&filter, rt, on_net_interface, &rt->notify);
    if (cr != CR_SUCCESS) {
        char text[160];
        win_error_text(CM_MapCrToWin32Err(cr, ERROR_GEN_FAILURE), text, sizeof(text));
        evlog_say(&rt->log, VSVC_EV_BACKEND_FAILED,
                  "CM_Register_Notification(GUID_DEVINTERFACE_NET) failed: %s; vfosvc relies "
                  "on vfo's notifications and the periodic reconcile",
                  text);
        rt->notify = NULL;
    }
}

static void note_control(struct runtime *rt, int rc, const char *why)
{
    vsvc_control_note(&rt->ctl_note, rc, why, &evlog_ops, &rt->log);
}

static void refresh_pairs(struct runtime *rt)
{
    char why[256] = "";
    int rc = vctl_open(&rt->ctl, why, sizeof(why));
    if (rc == VSVC_OK)
        rc = vctl_query_pairs(&rt->ctl, rt->pairs, why, sizeof(why));
    else
        vsvc_pairs_clear(rt->pairs);
    note_control(rt, rc, why);
}

static void reconcile(struct runtime *rt)
{
    struct vsvc_reconcile_result res;
    char why[256] = "";

    refresh_pairs(rt);
    vsvc_policy_reconcile(rt->policy, rt->pairs, mono_ms(), &res);
    vsvc_sched_done(&rt->sched, mono_ms(), res.next_ms);
    if (vctl_arm_wait(&rt->ctl, why, sizeof(why)) != VSVC_OK)
        note_control(rt, VSVC_E_IO, why);
}

static void on_vfo_change(struct runtime *rt)
{
    char why[256] = "";
    bool changed = false;
    int rc = vctl_wait_done(&rt->ctl, &changed, why, sizeof(why));
    if (rc != VSVC_OK)
        note_control(rt, rc, why);
    if (changed)
        vsvc_sched_vfo_change(&rt->sched, mono_ms());
    else if (vctl_arm_wait(&rt->ctl, why, sizeof(why)) != VSVC_OK)
        note_control(rt, VSVC_E_IO, why);
}

/* CoWaitForMultipleHandles rather than WaitForMultipleObjects: this is a
 * single-threaded COM apartment (INetCfg), which must keep pumping COM
 * calls while it waits. */
static DWORD loop(struct runtime *rt)
{
    for (;;) {
        HANDLE handles[3] = { rt->stop, rt->wake, vctl_wait_event(&rt->ctl) };
        DWORD count = rt->ctl.wait_pending ? 3 : 2, index = 0;
        HRESULT hr = CoWaitForMultipleHandles(0, vsvc_sched_wait_ms(&rt->sched, mono_ms()), count,
                                              handles, &index);
        if (hr == S_OK && index == 0)
            return ERROR_SUCCESS;
        if (hr == S_OK && index == 1)
            vsvc_sched_event(&rt->sched, mono_ms());
        else if (hr == S_OK && index == 2)
            on_vfo_change(rt);
        else if (hr != RPC_S_CALLPENDING) /* RPC_S_CALLPENDING: the timeout */
            return (DWORD)hr;
        if (vsvc_sched_due(&rt->sched, mono_ms()))
            reconcile(rt);
    }
}

static DWORD runtime_open(struct runtime *rt, HANDLE stop, bool console)
{
    struct vsvc_policy_env env;
    DWORD err;

    memset(rt, 0, sizeof(*rt));
    rt->stop = stop;
    evlog_open(&rt->log, console);
    read_config(rt);
    rt->wake = CreateEventW(NULL, FALSE, FALSE, NULL);
    rt->pairs = calloc(1, sizeof(*rt->pairs));
    if (rt->wake == NULL || rt->pairs == NULL || !netcfg_init(&rt->nc) || !vctl_init(&rt->ctl))
        return ERROR_NOT_ENOUGH_MEMORY;
    err = store_reg_open(&rt->store, true);
    if (err != ERROR_SUCCESS) {
        char text[160];
        win_error_text(err, text, sizeof(text));
        evlog_say(&rt->log, VSVC_EV_STORE_FAILED,
                  "Cannot open the record key HKLM\\SOFTWARE\\vfo\\vfosvc\\BindingChanges: %s",
                  text);
        return err;
    }
    env.bg = &netcfg_ops;
    env.bg_ctx = &rt->nc;
    env.store = &store_reg_ops;
    env.store_ctx = &rt->store;
    env.log = &evlog_ops;
    env.log_ctx = &rt->log;
    rt->policy = vsvc_policy_new(&rt->cfg, &env);
    if (rt->policy == NULL)
        return ERROR_NOT_ENOUGH_MEMORY;
    /* Without its records the service could strip an adapter for good. */
    if (vsvc_policy_start(rt->policy) != VSVC_OK)
        return ERROR_REGISTRY_CORRUPT;
    register_notifications(rt);
    vsvc_sched_init(&rt->sched, &rt->cfg, mono_ms());
    return ERROR_SUCCESS;
}

static void runtime_close(struct runtime *rt)
{
    if (rt->notify != NULL)
        CM_Unregister_Notification(rt->notify);
    vsvc_policy_free(rt->policy);
    store_reg_close(&rt->store);
    vctl_fini(&rt->ctl);
    netcfg_fini(&rt->nc);
    free(rt->pairs);
    if (rt->wake != NULL)
        CloseHandle(rt->wake);
    evlog_close(&rt->log);
}

/* The whole service lifetime; on_running is called once it is ready. */
static DWORD runtime_run(HANDLE stop, bool console, void (*on_running)(void))
{
    struct runtime *rt = calloc(1, sizeof(*rt));
    const struct vsvc_policy_counters *c;
    DWORD err;
    HRESULT hr = CoInitializeEx(NULL, COINIT_APARTMENTTHREADED);

    if (rt == NULL || FAILED(hr)) {
        free(rt);
        return rt == NULL ? ERROR_NOT_ENOUGH_MEMORY : (DWORD)hr;
    }
    err = runtime_open(rt, stop, console);
    if (err == ERROR_SUCCESS) {
        evlog_say(&rt->log, VSVC_EV_SERVICE_STARTED,
                  "vfosvc started: reconcile every %u s, restore grace %u s, write lock %u x %u "
                  "ms, %lu remembered change(s)",
                  (unsigned)(rt->cfg.reconcile_interval_ms / 1000),
                  (unsigned)(rt->cfg.restore_grace_ms / 1000), (unsigned)rt->cfg.lock_attempts,
                  (unsigned)rt->cfg.lock_timeout_ms,
                  (unsigned long)vsvc_policy_record_count(rt->policy));
        if (on_running != NULL)
            on_running();
        err = loop(rt);
        c = vsvc_policy_counters(rt->policy);
        evlog_say(&rt->log, VSVC_EV_SERVICE_STOPPED,
                  "vfosvc stopped (bindings are left as they are): %llu reconcile(s), %llu "
                  "change(s), %llu restore(s), %llu busy lock(s), %llu error(s)",
                  (unsigned long long)c->reconciles, (unsigned long long)c->changes,
                  (unsigned long long)c->restores, (unsigned long long)c->lock_busy,
                  (unsigned long long)(c->backend_errors + c->apply_errors + c->store_errors));
    }
    runtime_close(rt);
    free(rt);
    CoUninitialize();
    return err;
}

/* ---- Service Control Manager ------------------------------------------ */

static SERVICE_STATUS_HANDLE status_handle;
static SERVICE_STATUS service_status;
static HANDLE service_stop;

static void report_status(DWORD state, DWORD exit_code, DWORD wait_hint)
{
    static DWORD checkpoint = 1;
    service_status.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
    service_status.dwCurrentState = state;
    service_status.dwWin32ExitCode = exit_code;
    service_status.dwWaitHint = wait_hint;
    service_status.dwControlsAccepted =
        state == SERVICE_RUNNING ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN : 0;
    service_status.dwCheckPoint =
        (state == SERVICE_RUNNING || state == SERVICE_STOPPED) ? 0 : checkpoint++;
    SetServiceStatus(status_handle, &service_status);
}

static void report_running(void)
{
    report_status(SERVICE_RUNNING, NO_ERROR, 0);
}

static DWORD WINAPI service_control(DWORD control, DWORD type, LPVOID data, LPVOID ctx)
{
    (void)type;
    (void)data;
    (void)ctx;
    switch (control) {
    case SERVICE_CONTROL_STOP:
    case SERVICE_CONTROL_SHUTDOWN:
        report_status(SERVICE_STOP_PENDING, NO_ERROR, 15000);
        SetEvent(service_stop);
        return NO_ERROR;
    case SERVICE_CONTROL_INTERROGATE:
        return NO_ERROR;
    default:
        return ERROR_CALL_NOT_IMPLEMENTED;
    }
}

static void WINAPI service_main(DWORD argc, LPWSTR *argv)
{
    DWORD err;
    (void)argc;
    (void)argv;
    status_handle = RegisterServiceCtrlHandlerExW(VFOSVC_NAME_W, service_control, NULL);
    if (status_handle == NULL)
        return;
    report_status(SERVICE_START_PENDING, NO_ERROR, 10000);
    service_stop = CreateEventW(NULL, TRUE, FALSE, NULL);
    err = service_stop ? runtime_run(service_stop, false, report_running) : GetLastError();
    report_status(SERVICE_STOPPED, err, 0);
}

int cmd_run_service(void)
{
    SERVICE_TABLE_ENTRYW table[] = { { (LPWSTR)VFOSVC_NAME_W, service_main }, { NULL, NULL } };
    if (StartServiceCtrlDispatcherW(table))
        return 0;
    if (GetLastError() == ERROR_FAILED_SERVICE_CONTROLLER_CONNECT)
        con_err("vfosvc: 'run' is what the Service Control Manager starts; use 'vfosvc console' "
                "to run the loop here");
    else
        con_err("vfosvc: StartServiceCtrlDispatcher failed: %lu", (unsigned long)GetLastError());
    return 1;
}

/* ---- console ----------------------------------------------------------- */

static HANDLE console_stop;

static BOOL WINAPI console_control(DWORD type)
{
    (void)type;
    SetEvent(console_stop);
    return TRUE;
}

int cmd_console(void)
{
    DWORD err;
    console_stop = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (console_stop == NULL)
        return 1;
    SetConsoleCtrlHandler(console_control, TRUE);
    err = runtime_run(console_stop, true, NULL);
    if (err != ERROR_SUCCESS) {
        char text[160];
        win_error_text(err, text, sizeof(text));
        con_err("vfosvc: %s", text);
    }
    CloseHandle(console_stop);
    return err == ERROR_SUCCESS ? 0 : 1;
}
