/*
 * services.c - timers, work items and configuration (registry) access.
 */
#include "emu_internal.h"

#include <stdlib.h>
#include <strings.h>

/* ---- timers ---- */

NDIS_STATUS NdisAllocateTimerObject(NDIS_HANDLE NdisHandle,
                                    PNDIS_TIMER_CHARACTERISTICS TimerCharacteristics,
                                    PNDIS_HANDLE pTimerObject)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisAllocateTimerObject", "-"))
        return NDIS_STATUS_FAILURE;
    if (!emu_handle_kind(rt, NdisHandle, EMU_HK_POOL, "NdisAllocateTimerObject"))
        return NDIS_STATUS_FAILURE;
    emu_adapter *ad;
    emu_driver *drv = emu_handle_driver(NdisHandle, &ad);
    if (!drv || !TimerCharacteristics || !TimerCharacteristics->TimerFunction || !pTimerObject ||
        TimerCharacteristics->Header.Type != NDIS_OBJECT_TYPE_TIMER_CHARACTERISTICS)
        return NDIS_STATUS_INVALID_PARAMETER;
    emu_obj *h = emu_obj_peek(NdisHandle);
    emu_lock(rt);
    emu_timer *t = emu_obj_new(rt, sizeof(*t), K_TIMER, drv, h && h->kind == K_ADAPTER ? ad : NULL,
                               TimerCharacteristics->AllocationTag);
    if (t) {
        t->ch = *TimerCharacteristics;
        t->ctx = TimerCharacteristics->FunctionContext;
    }
    emu_unlock(rt);
    if (!t)
        return NDIS_STATUS_RESOURCES;
    *pTimerObject = t;
    return NDIS_STATUS_SUCCESS;
}

/* rt->mu held. The end of a timer DPC (its callback returned, or it had
 * nothing to call): KeFlushQueuedDpcs may return. */
static void timer_dpc_done(emu_runtime *rt)
{
    rt->timer_dpcs--;
    emu_broadcast(rt);
}

/* An expiry fires (its DPC is queued), or a DPC queued earlier by a missed
 * cancel (task->dpc_queued) runs. A timer has one KDPC: an expiry firing
 * while that DPC is still queued queues nothing (KeInsertQueueDpc returns
 * FALSE), so two expiries end in one callback. A driver that counts
 * expiries set against callbacks run waits forever for the one that never
 * comes. */
static void timer_task(emu_runtime *rt, emu_task *task)
{
    emu_timer *t = task->a;
    emu_lock(rt);
    if (task->dpc_queued)
        t->dpcs_pending--;
    else
        rt->timer_dpcs++;
    if (emu_obj_dead(&t->obj) || (t->task != task && !task->dpc_queued)) {
        timer_dpc_done(rt);
        emu_unlock(rt);
        return;
    }
    if (!task->period && t->task == task)
        t->task = NULL;
    if (!task->dpc_queued && (t->dpcs_pending || t->callbacks_queued)) {
        timer_dpc_done(rt); /* joined the DPC already queued */
        emu_unlock(rt);
        return;
    }
    t->callbacks_running++;
    t->callbacks_queued++;
    task->fired = true;
    emu_unlock(rt);
    emu_dpc_latency(rt, rt->cfg.rt_timer_latency_ns);
    emu_lock(rt);
    t->callbacks_queued--;
    bool freed = emu_obj_dead(&t->obj);
    PVOID ctx = t->ctx; /* the DPC reads the context when it runs */
    emu_unlock(rt);
    if (freed) {
        /* NdisFreeTimerObject reported it already (TimerFreeWhileActive);
         * the driver's context may be gone: its function is not called. */
        emu_lock(rt);
        task->fired = false;
        t->callbacks_running--;
        timer_dpc_done(rt);
        emu_unlock(rt);
        return;
    }
    emu_cb_scope s;
    emu_cb_begin(&s, "NdisTimerFunction", t->obj.drv, t->obj.ad, DISPATCH_LEVEL);
    t->ch.TimerFunction(NULL, ctx, NULL, NULL);
    emu_cb_end(&s);
    emu_lock(rt);
    task->fired = false;
    t->callbacks_running--;
    timer_dpc_done(rt);
    emu_unlock(rt);
}

/* rt->mu held. Takes a one-shot timer's expiry out of the queue; true when
 * it was still there. On Windows an expiry that is due may already have its
 * DPC in a processor's queue: NdisCancelTimerObject and NdisSetTimerObject
 * miss it (the cancel returns FALSE) and the callback runs all the same.
 * The deterministic scheduler has due expiries whenever several tasks are
 * due at once; for such an expiry the seed decides, one time in two, that
 * its DPC was already queued (the stricter reading: a driver must handle a
 * cancel that returns FALSE for a timer it just set, waiting for its
 * callback before freeing what the callback uses). That DPC then waits
 * 0-3 ms (the seed's choice) for its processor, a DPC backlog: an expiry of
 * the timer set again meanwhile joins it (timer_task). A timer has one DPC:
 * while it is queued, a later expiry the driver misses only joins it (one
 * callback for both). In the real-time scheduler the threads' timing alone
 * decides. */
static bool timer_dequeue(emu_runtime *rt, emu_timer *t, emu_task *task)
{
    bool due = task && !task->running && !task->period && task->due <= emu_time(rt);
    if (!due || rt->cfg.sched != EMU_SCHED_DETERMINISTIC || !(emu_rand(rt) & 1))
        return emu_task_cancel(rt, task);
    emu_task_cancel(rt, task);
    if (t->dpcs_pending)
        return false; /* its DPC is the one already queued */
    uint64_t backlog_ns = (emu_rand(rt) & 3) * 1000000ull;
    emu_task *dpc = emu_task_post(rt, T_TIMER, backlog_ns, timer_task, t, NULL, 0);
    if (dpc) {
        dpc->dpc_queued = true;
        t->dpcs_pending++;
        rt->timer_dpcs++;
    }
    return false;
}

BOOLEAN NdisSetTimerObject(NDIS_HANDLE TimerObject, LARGE_INTEGER DueTime, LONG MillisecondsPeriod,
                           PVOID FunctionContext)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisSetTimerObject", "due=%lld period=%d", (long long)DueTime.QuadPart,
                   MillisecondsPeriod))
        return FALSE;
    emu_timer *t = (emu_timer *)emu_obj_check(rt, TimerObject, K_TIMER, "NdisSetTimerObject");
    if (!t)
        return FALSE;
    uint64_t delay;
    if (DueTime.QuadPart < 0) {
        delay = (uint64_t)(-DueTime.QuadPart) * 100ull;
    } else {
        LARGE_INTEGER now;
        NdisGetCurrentSystemTime(&now);
        delay =
            DueTime.QuadPart > now.QuadPart ? (uint64_t)(DueTime.QuadPart - now.QuadPart) * 100 : 0;
    }
    emu_lock(rt);
    /* A queued task is unlinked and freed; a running one is marked cancelled
     * (a periodic timer is not re-armed from it). */
    emu_task *old = t->task;
    bool running = old && old->running;
    bool was_queued = timer_dequeue(rt, t, old) || running;
    /* "If this parameter is NULL, NDIS uses the default value that is
     * specified in the NDIS_TIMER_CHARACTERISTICS structure" (not the
     * context of the previous set). */
    t->ctx = FunctionContext ? FunctionContext : t->ch.FunctionContext;
    t->cancelled = false;
    t->task = emu_task_post(rt, T_TIMER, delay, timer_task, t, NULL, 0);
    if (t->task && MillisecondsPeriod > 0)
        t->task->period = (uint64_t)MillisecondsPeriod * 1000000ull;
    emu_unlock(rt);
    return was_queued ? TRUE : FALSE;
}

static bool timer_idle(emu_runtime *rt, void *arg)
{
    (void)rt;
    return ((emu_timer *)arg)->callbacks_running == 0;
}

BOOLEAN NdisCancelTimerObject(NDIS_HANDLE TimerObject)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisCancelTimerObject", "-"))
        return FALSE;
    emu_timer *t = (emu_timer *)emu_obj_check(rt, TimerObject, K_TIMER, "NdisCancelTimerObject");
    if (!t)
        return FALSE;
    emu_lock(rt);
    emu_task *task = t->task;
    bool periodic = task && task->period;
    emu_unlock(rt);
    /* Cancelling a periodic timer waits for a running callback (NDIS
     * flushes the queued DPCs), hence PASSIVE_LEVEL only. */
    if (periodic && emu_self()->irql > PASSIVE_LEVEL) {
        emu_violate(rt, "Irql_Timer_Function", "NdisCancelTimerObject",
                    "cancelling a periodic timer at IRQL %u; that requires PASSIVE_LEVEL",
                    emu_self()->irql);
        return FALSE;
    }
    emu_lock(rt);
    bool cancelled = false, running = false;
    task = t->task;
    if (task) {
        if (task->running) {
            /* Picked by a CPU: its callback runs only if it already passed
             * timer_task's check (which t->task = NULL now fails). Whether
             * it did is this task's own flag: callbacks_running also counts
             * an earlier expiry still in its callback (one that re-armed the
             * timer), and taking that for this one reported a cancelled
             * expiry as still to come (its caller then waited forever for
             * a callback that never ran). */
            task->cancelled = true; /* a running periodic timer is not re-armed */
            running = task->fired;
            cancelled = !running;
        } else {
            cancelled = timer_dequeue(rt, t, task);
        }
        t->task = NULL;
    }
    t->cancelled = true;
    emu_unlock(rt);
    if (periodic && running)
        emu_wait(rt, timer_idle, t, EMU_WAIT_NS);
    return cancelled ? TRUE : FALSE;
}

void NdisFreeTimerObject(NDIS_HANDLE TimerObject)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisFreeTimerObject", "-"))
        return;
    emu_timer *t = (emu_timer *)emu_obj_check(rt, TimerObject, K_TIMER, "NdisFreeTimerObject");
    if (!t)
        return;
    emu_lock(rt);
    /* The stricter reading of NdisCancelTimerObject's remarks ("call it
     * first when halting or unloading to make sure a callback does not
     * touch released resources"): the timer is freed only when it is not
     * set and its callback is not running. A set timer's callback (or one
     * still running) would otherwise run on, or re-arm, freed memory. A
     * callback still returning after the driver cancelled the timer (the
     * cancel returned FALSE and the driver waited for the callback's own
     * signal, as NDIS drivers do) is the one case NDIS offers no wait for,
     * so it is allowed; a re-arm from it makes the timer set again. */
    bool set = t->task && !t->task->cancelled;
    unsigned running = t->cancelled ? 0 : t->callbacks_running;
    /* Fired, its DPC dequeued on another CPU, the driver's function not yet
     * entered: NdisCancelTimerObject returned FALSE for it and the driver
     * must wait for the callback (its own signal) before freeing, or the
     * callback runs on freed context. Found by test_vfo_stress in vfo's old
     * halt (cancel, free, and the control tick ran after the halt). */
    unsigned queued = t->callbacks_queued + t->dpcs_pending;
    if (t->task) {
        if (t->task->running)
            t->task->cancelled = true;
        else
            emu_task_cancel(rt, t->task);
        t->task = NULL;
    }
    emu_obj_kill(rt, &t->obj);
    emu_unlock(rt);
    if (set || running || queued)
        emu_violate(rt, "TimerFreeWhileActive", "NdisFreeTimerObject", "timer %p freed while %s",
                    TimerObject,
                    set      ? "set (its callback is still to run)"
                    : queued ? "its callback is about to run (fired: NdisCancelTimerObject "
                               "returned FALSE, and nothing waited for the callback)"
                             : "its callback runs");
}

/* ---- generic objects ---- */

PNDIS_GENERIC_OBJECT NdisAllocateGenericObject(PDRIVER_OBJECT DriverObject, ULONG Tag, USHORT Size)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisAllocateGenericObject", "drv=%p size=%u", (void *)DriverObject, Size))
        return NULL;
    /* The driver object is DRIVER_OBJECT-first in emu_driver (loader.c);
     * without one the object is charged to the driver in whose callback it
     * was made. */
    emu_driver *drv = DriverObject ? (emu_driver *)DriverObject : emu_self()->cur_drv;
    emu_lock(rt);
    emu_generic *g = emu_obj_new(rt, sizeof(*g) + Size, K_GENERIC, drv, NULL, Tag);
    if (g) {
        EMU_INIT_HEADER(&g->g.Header, NDIS_OBJECT_TYPE_DEFAULT, 1, sizeof(g->g));
        g->g.DriverObject = DriverObject;
        g->g.Caller = g; /* reserved for NDIS: the way back (emu_obj_peek) */
    }
    emu_unlock(rt);
    return g ? &g->g : NULL;
}

void NdisFreeGenericObject(PNDIS_GENERIC_OBJECT NdisObject)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisFreeGenericObject", "%p", (void *)NdisObject))
        return;
    emu_generic *g =
        (emu_generic *)emu_obj_check(rt, NdisObject, K_GENERIC, "NdisFreeGenericObject");
    if (!g)
        return;
    emu_lock(rt);
    emu_obj_kill(rt, &g->obj);
    emu_unlock(rt);
}

/* ---- work items ---- */

NDIS_HANDLE NdisAllocateIoWorkItem(NDIS_HANDLE NdisObjectHandle)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisAllocateIoWorkItem", "-"))
        return NULL;
    emu_obj *ko = emu_handle_kind(rt, NdisObjectHandle, EMU_HK_WORKITEM, "NdisAllocateIoWorkItem");
    if (!ko)
        return NULL;
    if (ko->kind == K_GENERIC && !((emu_generic *)ko)->g.DriverObject) {
        emu_violate(rt, "HandleKind", "NdisAllocateIoWorkItem",
                    "generic object %p has no driver object: NDIS has no device or driver "
                    "object to pass to IoAllocateWorkItem",
                    NdisObjectHandle);
        return NULL;
    }
    emu_adapter *ad;
    emu_driver *drv = emu_handle_driver(NdisObjectHandle, &ad);
    if (!drv)
        return NULL;
    emu_obj *h = emu_obj_peek(NdisObjectHandle);
    emu_lock(rt);
    emu_workitem *w =
        emu_obj_new(rt, sizeof(*w), K_WORKITEM, drv, h && h->kind == K_ADAPTER ? ad : NULL, 0);
    emu_unlock(rt);
    return w;
}

static void workitem_task(emu_runtime *rt, emu_task *task)
{
    emu_workitem *w = task->a;
    NDIS_IO_WORKITEM_ROUTINE fn;
    *(void **)&fn = task->b;
    emu_lock(rt);
    bool live = !emu_obj_dead(&w->obj);
    w->task = NULL;
    emu_unlock(rt);
    if (!live) {
        emu_violate(rt, "HandleAfterClose", "NdisIoWorkItem",
                    "work item was freed while it was still queued");
        return;
    }
    emu_cb_scope s;
    emu_cb_begin(&s, "NdisIoWorkItemRoutine", w->obj.drv, w->obj.ad, PASSIVE_LEVEL);
    fn((PVOID)(uintptr_t)task->u, w);
    emu_cb_end(&s);
}

/* rt->mu held. In a worker queue: its routine has not started. The system
 * dequeues a work item before it runs the routine, so the routine may queue
 * or free its own work item; nothing else may while it is queued (an
 * IO_WORKITEM has one queue link: IoFreeWorkItem "only free a work item that
 * is not currently queued"; queued twice, the link is corrupted). */
static bool workitem_queued(const emu_workitem *w)
{
    return w->task && !w->task->running;
}

void NdisQueueIoWorkItem(NDIS_HANDLE NdisIoWorkItemHandle, NDIS_IO_WORKITEM_ROUTINE Routine,
                         PVOID WorkItemContext)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisQueueIoWorkItem", "-"))
        return;
    emu_workitem *w =
        (emu_workitem *)emu_obj_check(rt, NdisIoWorkItemHandle, K_WORKITEM, "NdisQueueIoWorkItem");
    if (!w || !Routine)
        return;
    void *fp;
    *(NDIS_IO_WORKITEM_ROUTINE *)&fp = Routine;
    emu_lock(rt);
    if (workitem_queued(w)) {
        emu_unlock(rt);
        emu_violate(rt, "WorkItemQueuedTwice", "NdisQueueIoWorkItem",
                    "work item %p queued again before its routine started", NdisIoWorkItemHandle);
        return;
    }
    w->task = emu_task_post(rt, T_WORKITEM, 0, workitem_task, w, fp,
                            (uint64_t)(uintptr_t)WorkItemContext);
    emu_unlock(rt);
}

void NdisFreeIoWorkItem(NDIS_HANDLE NdisIoWorkItemHandle)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisFreeIoWorkItem", "-"))
        return;
    emu_workitem *w =
        (emu_workitem *)emu_obj_check(rt, NdisIoWorkItemHandle, K_WORKITEM, "NdisFreeIoWorkItem");
    if (!w)
        return;
    emu_lock(rt);
    bool queued = workitem_queued(w);
    emu_obj_kill(rt, &w->obj);
    emu_unlock(rt);
    if (queued)
        emu_violate(rt, "WorkItemFreeWhileQueued", "NdisFreeIoWorkItem",
                    "work item %p freed while queued (its routine has not started)",
                    NdisIoWorkItemHandle);
}

/* ---- configuration ---- */

typedef struct emu_config_h {
    emu_obj obj;
    emu_adapter *ad;
    emu_binding *b; /* opened with a binding handle: the protocol's parameters for it */
    NDIS_CONFIGURATION_PARAMETER param;
    WCHAR str[160];
    UCHAR mac[6];
} emu_config_h;

NDIS_STATUS NdisOpenConfigurationEx(PNDIS_CONFIGURATION_OBJECT ConfigObject,
                                    PNDIS_HANDLE ConfigurationHandle)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisOpenConfigurationEx", "-"))
        return NDIS_STATUS_FAILURE;
    if (!ConfigObject || !ConfigurationHandle ||
        ConfigObject->Header.Type != NDIS_OBJECT_TYPE_CONFIGURATION_OBJECT)
        return NDIS_STATUS_INVALID_PARAMETER;
    if (!emu_handle_kind(rt, ConfigObject->NdisHandle, EMU_HK_CONFIG, "NdisOpenConfigurationEx"))
        return NDIS_STATUS_FAILURE;
    emu_adapter *ad;
    emu_driver *drv = emu_handle_driver(ConfigObject->NdisHandle, &ad);
    if (!drv)
        return NDIS_STATUS_INVALID_PARAMETER;
    emu_obj *h = emu_obj_peek(ConfigObject->NdisHandle);
    emu_lock(rt);
    emu_config_h *c =
        emu_obj_new(rt, sizeof(*c), K_CONFIG, drv, h && h->kind == K_ADAPTER ? ad : NULL, 0);
    if (c) {
        c->ad = h && h->kind == K_ADAPTER ? ad : NULL;
        c->b = h && h->kind == K_BINDING ? (emu_binding *)h : NULL;
    }
    emu_unlock(rt);
    if (!c)
        return NDIS_STATUS_RESOURCES;
    *ConfigurationHandle = c;
    return NDIS_STATUS_SUCCESS;
}

void NdisCloseConfiguration(NDIS_HANDLE ConfigurationHandle)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisCloseConfiguration", "-"))
        return;
    emu_config_h *c =
        (emu_config_h *)emu_obj_check(rt, ConfigurationHandle, K_CONFIG, "NdisCloseConfiguration");
    if (!c)
        return;
    emu_lock(rt);
    emu_obj_kill(rt, &c->obj);
    emu_unlock(rt);
}

/* Adapter (device) values first, or with a binding handle the protocol's
 * parameters for that binding; then the driver's description defaults. */
static const char *lookup(emu_config_h *c, const char *key, char *buf, size_t n)
{
    if (c->b) {
        const char *v = emu_binding_param(emu_rt, c->b, key, buf, n);
        if (v)
            return v;
    }
    if (c->ad) {
        for (int i = c->ad->n_reg - 1; i >= 0; i--) {
            if (strcasecmp(c->ad->reg[i].key, key) == 0)
                return c->ad->reg[i].value;
        }
    }
    for (int i = 0; i < c->obj.drv->desc.n_reg; i++) {
        if (strcasecmp(c->obj.drv->desc.reg[i].key, key) == 0)
            return c->obj.drv->desc.reg[i].value;
    }
    return NULL;
}

void NdisReadConfiguration(PNDIS_STATUS Status, PNDIS_CONFIGURATION_PARAMETER *ParameterValue,
                           NDIS_HANDLE ConfigurationHandle, PNDIS_STRING Keyword,
                           NDIS_PARAMETER_TYPE ParameterType)
{
    emu_runtime *rt = emu_rt;
    char key[64];
    emu_wstr_to_ascii(Keyword, key, sizeof(key));
    *Status = NDIS_STATUS_FAILURE;
    if (!emu_enter("NdisReadConfiguration", "%s", key))
        return;
    emu_config_h *c =
        (emu_config_h *)emu_obj_check(rt, ConfigurationHandle, K_CONFIG, "NdisReadConfiguration");
    if (!c)
        return;
    char vbuf[160];
    const char *v = lookup(c, key, vbuf, sizeof(vbuf));
    if (!v)
        return;
    c->param.ParameterType = ParameterType;
    if (ParameterType == NdisParameterInteger || ParameterType == NdisParameterHexInteger) {
        char *end;
        unsigned long x = strtoul(v, &end, ParameterType == NdisParameterHexInteger ? 16 : 10);
        if (*end || end == v) {
            __atomic_add_fetch(&rt->bad_input, 1, __ATOMIC_RELAXED);
            return;
        }
        c->param.ParameterData.IntegerData = (ULONG)x;
    } else if (ParameterType == NdisParameterString) {
        emu_ascii_to_wstr(v, c->str, 160, &c->param.ParameterData.StringData);
    } else if (ParameterType == NdisParameterMultiString) {
        /* REG_MULTI_SZ: each string NUL-terminated, an empty one last;
         * Length counts every character but the final NUL. */
        size_t k = 0, len = strlen(v);
        if (len + 2 > ARRAYSIZE(c->str))
            return;
        for (size_t i = 0; i < len; i++)
            c->str[k++] = v[i] == ',' ? 0 : (WCHAR)(unsigned char)v[i];
        c->str[k++] = 0;
        c->str[k] = 0;
        c->param.ParameterData.StringData.Buffer = c->str;
        c->param.ParameterData.StringData.Length = (USHORT)(k * sizeof(WCHAR));
        c->param.ParameterData.StringData.MaximumLength = (USHORT)((k + 1) * sizeof(WCHAR));
    } else {
        return;
    }
    *ParameterValue = &c->param;
    *Status = NDIS_STATUS_SUCCESS;
}

void NdisWriteConfiguration(PNDIS_STATUS Status, NDIS_HANDLE ConfigurationHandle,
                            PNDIS_STRING Keyword, PNDIS_CONFIGURATION_PARAMETER ParameterValue)
{
    emu_runtime *rt = emu_rt;
    *Status = NDIS_STATUS_FAILURE;
    if (!emu_enter("NdisWriteConfiguration", "-"))
        return;
    emu_config_h *c =
        (emu_config_h *)emu_obj_check(rt, ConfigurationHandle, K_CONFIG, "NdisWriteConfiguration");
    if (!c || !c->ad || c->ad->n_reg >= 32)
        return;
    emu_kv *kv = &c->ad->reg[c->ad->n_reg];
    emu_wstr_to_ascii(Keyword, kv->key, sizeof(kv->key));
    if (ParameterValue->ParameterType == NdisParameterString)
        emu_wstr_to_ascii(&ParameterValue->ParameterData.StringData, kv->value, sizeof(kv->value));
    else
        snprintf(kv->value, sizeof(kv->value), "%u", ParameterValue->ParameterData.IntegerData);
    c->ad->n_reg++;
    *Status = NDIS_STATUS_SUCCESS;
}

void NdisReadNetworkAddress(PNDIS_STATUS Status, PVOID *NetworkAddress, PUINT NetworkAddressLength,
                            NDIS_HANDLE ConfigurationHandle)
{
    emu_runtime *rt = emu_rt;
    *Status = NDIS_STATUS_FAILURE;
    if (!emu_enter("NdisReadNetworkAddress", "-"))
        return;
    emu_config_h *c =
        (emu_config_h *)emu_obj_check(rt, ConfigurationHandle, K_CONFIG, "NdisReadNetworkAddress");
    if (!c)
        return;
    char vbuf[160];
    const char *v = lookup(c, "NetworkAddress", vbuf, sizeof(vbuf));
    if (!v || strlen(v) != 12)
        return;
    for (int i = 0; i < 6; i++) {
        char b[3] = { v[2 * i], v[2 * i + 1], 0 };
        char *end;
        c->mac[i] = (UCHAR)strtoul(b, &end, 16);
        if (*end) {
            __atomic_add_fetch(&rt->bad_input, 1, __ATOMIC_RELAXED);
            return;
        }
    }
    *NetworkAddress = c->mac;
    *NetworkAddressLength = 6;
    *Status = NDIS_STATUS_SUCCESS;
}
