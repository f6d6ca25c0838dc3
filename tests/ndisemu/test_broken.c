/*
 * Each deliberately broken driver trips exactly its verifier check: the run
 * stops with one violation, naming the expected rule and the NDIS call (or
 * driver callback) that broke it. The broken variants are built from the
 * minimal drivers' sources (emu/drivers/minimp/minimp_break.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "harness.h"

typedef struct broken_case {
    const char *name; /* broken_mp_<name> or broken_pt_<name> */
    bool protocol;    /* the protocol is the broken one (else the miniport) */
    const char *rule; /* the rule it must trip */
    const char *call; /* the NDIS call or driver callback that trips it */
} broken_case;

/* flt_*: broken_<name>, a filter stacked over the correct drivers. */
static bool is_filter(const broken_case *c)
{
    return strncmp(c->name, "flt_", 4) == 0;
}

static const broken_case k_cases[] = {
    /* NBL ownership, states and completions */
    { "send_complete_twice", false, "NblSendCompleteOnce", "NdisMSendNetBufferListsComplete" },
    { "indicate_while_paused", false, "PausedNoIndicate", "NdisMIndicateReceiveNetBufferLists" },
    { "oid_complete_twice", false, "DoubleComplete", "NdisMOidRequestComplete" },
    { "oid_complete_pending", false, "NdisOidComplete", "NdisMOidRequestComplete" },
    { "pause_returns_failure", false, "MiniportPause_Return", "MiniportPause" },
    { "pause_complete_unpended", false, "MiniportPause_Return", "MiniportPause" },
    { "restart_complete_unpended", false, "DoubleComplete", "MiniportRestart" },
    { "reset_complete_unpended", false, "DoubleComplete", "MiniportResetEx" },
    { "pause_with_receives", false, "PauseWithOutstanding", "MiniportPause" },
    { "never_complete_pause", false, "OperationNotCompleted", "MiniportPause (pending)" },
    { "no_attributes", false, "MiniportAttributes", "MiniportInitializeEx" },
    { "leak_at_halt", false, "LeakAtHalt", "MiniportHaltEx" },
    { "leak_at_unload", false, "LeakAtUnload", "driver unload" },
    { "return_twice", true, "NblReturnOnce", "NdisReturnNetBufferLists" },
    { "no_source_handle", true, "NblSourceHandle", "NdisSendNetBufferLists" },
    { "send_while_paused", true, "PausedNoSend", "NdisSendNetBufferLists" },
    /* sends on while NDIS resets the miniport (h_reset_scenario) */
    { "send_during_reset", true, "ResetQuiet", "NdisSendNetBufferLists" },
    { "reset_holds_sends", false, "ResetWithOutstanding", "NdisMResetComplete" },
    { "reset_self_indicated", false, "MiniportStatusCode", "NdisMIndicateStatusEx" },
    { "dpc_without_targets", false, "QueueDpcTargets", "NdisMQueueDpcEx" },
    { "use_after_close", true, "HandleAfterClose", "NdisOidRequest" },
    { "context_leak", true, "NblContextBalanced", "NdisFreeNetBufferList" },
    { "pause_with_outstanding", true, "PauseWithOutstanding",
      "ProtocolNetPnPEvent(NetEventPause)" },
    { "bind_complete_twice", true, "DoubleComplete", "NdisCompleteBindAdapterEx" },
    { "unbind_complete_unpended", true, "DoubleComplete", "ProtocolUnbindAdapterEx" },
    { "pnp_complete_unpended", true, "DoubleComplete", "ProtocolNetPnPEvent" },
    { "irp_complete_twice", true, "DoubleCompletion", "IoCompleteRequest" },
    /* IRQL: each function against its documented range and rule */
    { "config_in_dpc", false, "Irql_Miscellaneous_Function", "NdisOpenConfigurationEx" },
    { "sleep_in_dpc", false, "Irql_Miniport_Driver_Function", "NdisMSleep" },
    { "wait_under_lock", false, "Irql_Miscellaneous_Function", "NdisWaitEvent" },
    { "register_intr_under_lock", false, "Irql_Interrupt_Function", "NdisMRegisterInterruptEx" },
    { "nbl_alloc_in_isr", false, "Irql_NetBuffer_Function", "NdisAllocateNetBufferList" },
    { "dpr_lock_at_passive", false, "Irql_Synch_Function", "NdisDprAcquireSpinLock" },
    { "sg_list_at_passive", false, "Irql_Gather_DMA_Function", "NdisMAllocateNetBufferSGList" },
    { "status_in_isr", false, "Irql_StatusIndication_Function", "NdisMIndicateStatusEx" },
    { "indicate_in_isr", false, "Irql_SendRcv_Function", "NdisMIndicateReceiveNetBufferLists" },
    { "timer_in_isr", false, "Irql_Timer_Function", "NdisSetTimerObject" },
    { "oid_complete_raised", false, "Irql_OID_Function", "NdisMOidRequestComplete" },
    { "open_under_lock", true, "Irql_Protocol_Driver_Function", "NdisOpenAdapterEx" },
    { "open_output_on_stack", true, "OpenAdapterOutputs", "NdisOpenAdapterEx" },
    { "dispatch_flag_at_passive", true, "DispatchLevelFlag", "NdisSendNetBufferLists" },
    { "complete_under_lock", true, "SpinLockSafe", "IoCompleteRequest" },
    { "close_with_oid", true, "PauseWithOutstanding", "NdisCloseAdapterEx" },
    { "fail_bind_open", true, "BindFailedOpen", "ProtocolBindAdapterEx" },
    { "raise_without_lower", false, "IrqlKeRaiseLower2", "MiniportInterruptDPC" },
    { "lower_above_current", false, "IrqlKeRaiseLower", "KeLowerIrql" },
    /* spin locks */
    /* lock order, lock contracts, timers, IRP cancellation, unload */
    { "lock_order", false, "LockHierarchy", "NdisDprAcquireSpinLock" },
    { "lock_contract", false, "LockContract", "minimp contract (lock a held)" },
    { "timer_free_while_set", false, "TimerFreeWhileActive", "NdisFreeTimerObject" },
    { "timer_cancel_missed", false, "TimerFreeWhileActive", "NdisFreeTimerObject" },
    { "lso_complete_unset", false, "LsoTransmitComplete", "NdisMSendNetBufferListsComplete" },
    { "device_object_kept", false, "DriverUnloadBlocked", "driver unload" },
    { "irp_pending_at_cleanup", true, "CleanupPendingIrp", "IRP_MJ_CLEANUP" },
    { "irp_complete_cancelable", true, "CancelRoutineAtCompletion", "IoCompleteRequest" },
    { "dispatch_keeps_cancel_lock", true, "CancelSpinlockRelease", "DriverDispatch" },
    { "cancel_lock_not_held", true, "CancelSpinLock", "IoReleaseCancelSpinLock" },
    /* its IRP pends (the scenario's first request times out); process exit cancels it */
    { "irp_cancel_ignored", true, "CancelledIrpNotCompleted", "IoCancelIrp" },
    { "lock_twice", false, "SpinLock", "NdisAcquireSpinLock" },
    { "release_not_held", false, "SpinLock", "NdisReleaseSpinLock" },
    { "return_holding_lock", false, "SpinlockRelease", "MiniportInterruptDPC" },
    /* issue 13: handle kinds, NBL/NB allocation, global PnP events, shutdown */
    { "workitem_protocol_handle", true, "HandleKind", "NdisAllocateIoWorkItem" },
    { "nb_data_without_mdl", true, "NblAllocationParameters",
      "NdisAllocateNetBufferAndNetBufferList" },
    { "nbl_context_unaligned", true, "NblAllocationParameters",
      "NdisAllocateNetBufferListContext" },
    { "data_buffer_bad_align", true, "NdisGetDataBuffer", "NdisGetDataBuffer" },
    { "fail_binds_complete", true, "NetPnPEventMustSucceed",
      "ProtocolNetPnPEvent(NetEventBindsComplete)" },
    { "media_status_wrong_enum", false, "OidMediaConnectStatus", "MiniportOidRequest" },
    { "reenumerate_in_bind", true, "NdisReEnumerateProtocolBindings",
      "NdisReEnumerateProtocolBindings" },
    { "dma_after_shutdown", false, "ShutdownStopsDma", "device DMA" },
    /* receive side throttling and the DPC watchdog (bursts: more frames
     * ready in one DPC than MaxNblsToIndicate) */
    { "ignore_max_nbls", false, "ReceiveThrottle", "NdisMIndicateReceiveNetBufferLists" },
    { "dpc_over_budget", false, "DpcWatchdog", "MiniportInterruptDPC" },
    /* kernel services: lookaside lists, KDPCs, executive spin locks (codes 120-128) */
    { "lookaside_not_deleted", false, "LookasideNotDeleted", "driver unload" },
    { "dpc_queued_at_unload", false, "DpcQueuedAtUnload", "driver unload" },
    { "workitem_queued_twice", false, "WorkItemQueuedTwice", "NdisQueueIoWorkItem" },
    { "workitem_free_while_queued", false, "WorkItemFreeWhileQueued", "NdisFreeIoWorkItem" },
    /* memory usage rules: NdisMMapIoSpace only in MiniportInitializeEx, no
     * NdisMFreeSharedMemory in MiniportShutdownEx, every allocation tagged */
    { "map_io_in_restart", false, "NdisMMapIoSpace", "NdisMMapIoSpace" },
    { "free_shared_in_shutdown", false, "NdisMFreeSharedMemory", "NdisMFreeSharedMemory" },
    { "alloc_without_tag", false, "NdisAllocateMemoryWithTagPriority",
      "NdisAllocateMemoryWithTagPriority" },
    /* an OID completed with a status its list does not hold */
    { "set_power_fails", false, "NdisOidComplete", "MiniportOidRequest" },
    /* the IRQL tested in a callback that was told it */
    { "irql_in_send", false, "Flags_Irql", "KeGetCurrentIrql" },
    /* a busy wait past 50 us */
    { "stall_too_long", false, "NdisStallExecution_Delay", "NdisStallExecution" },
    /* a failed initialize that keeps what it allocated */
    { "leak_at_failed_init", false, "LeakAtFailedInit", "MiniportInitializeEx" },
    /* its rings do not fit the shared memory limit (k_small_shared) */
    { "shared_fail_unlogged", false, "WriteErrorLog", "MiniportInitializeEx" },
    /* sends taken and never completed: none for 22 s */
    { "sends_held", false, "NdisTimedDataHang", "MiniportSendNetBufferLists" },
    /* an OID pended and never completed: not within 12 s */
    { "oid_never_completed", false, "NdisTimedOidComplete", "MiniportOidRequest" },
    /* one send kept while the others complete: not within 30 s */
    { "one_send_held", false, "NdisTimedDataSend", "MiniportSendNetBufferLists" },
    { "dpc_not_initialized", false, "DpcNotInitialized", "KeInsertQueueDpc" },
    { "dpc_reinit_queued", false, "DpcReinitializedWhileQueued", "KeInitializeDpc" },
    { "lookaside_use_after_delete", false, "LookasideUseAfterDelete",
      "ExpInterlockedPopEntrySList" },
    { "lookaside_init_twice", false, "LookasideInitTwice", "ExInitializeNPagedLookasideList" },
    { "lookaside_not_initialized", false, "LookasideNotInitialized",
      "ExDeleteNPagedLookasideList" },
    { "flush_dpcs_at_dispatch", false, "Irql_Miscellaneous_Function", "KeFlushQueuedDpcs" },
    { "ke_release_not_held", false, "SpinLock", "KeReleaseSpinLock" },
    /* lightweight filters (passflt variants, the filter scenario) */
    { "flt_send_while_paused", false, "FilterPausedNoSend", "NdisFSendNetBufferLists" },
    { "flt_indicate_while_paused", false, "FilterPausedNoIndicate",
      "NdisFIndicateReceiveNetBufferLists" },
    { "flt_pause_with_held", false, "FilterPauseWithOutstanding", "FilterPause" },
    { "flt_oid_complete_twice", false, "FilterOidComplete", "NdisFOidRequestComplete" },
    { "flt_no_attributes", false, "FilterAttributes", "FilterAttach" },
    { "flt_pause_returns_failure", false, "FilterPause_Return", "FilterPause" },
    { "flt_return_early", false, "NblReturnOnce", "NdisFReturnNetBufferLists" },
    { "flt_attributes_under_lock", false, "Irql_Filter_Driver_Function", "NdisFSetAttributes" },
};

/* Not on the stack: the teardown frees it when an assertion jumps out. */
static harness g_h;
static harness *g_live;

static int teardown(void **state)
{
    (void)state;
    if (g_live) {
        h_finish(g_live);
        g_live = NULL;
    }
    return 0;
}

/* The scenario a case runs: the lifecycle scenario unless its rule needs
 * another (more frames ready in one DPC than MaxNblsToIndicate: the burst
 * scenario; DMA after MiniportShutdownEx: the shutdown scenario). */
static int (*scenario_of(const broken_case *c))(harness *h)
{
    if (strcmp(c->name, "ignore_max_nbls") == 0)
        return h_burst_scenario;
    if (strcmp(c->name, "dma_after_shutdown") == 0 ||
        strcmp(c->name, "free_shared_in_shutdown") == 0)
        return h_shutdown_scenario;
    if (strcmp(c->name, "lso_complete_unset") == 0)
        return h_lso_scenario;
    if (strcmp(c->name, "one_send_held") == 0)
        return h_steady_scenario;
    if (strcmp(c->name, "send_during_reset") == 0 || strcmp(c->name, "reset_holds_sends") == 0 ||
        strcmp(c->name, "reset_self_indicated") == 0)
        return h_reset_scenario;
    if (is_filter(c))
        return h_filter_scenario;
    return h_scenario;
}

/* Shared memory for the minimal miniport's two descriptor rings, not for
 * its receive buffers: its initialize fails for want of memory. */
static const uint64_t k_small_shared = 4096;

static void trips_exactly_its_rule(void **state)
{
    const broken_case *c = *state;
    h_shared_memory_limit = strcmp(c->name, "shared_fail_unlogged") == 0 ? k_small_shared : 0;
    char mp[512], pt[512];
    snprintf(mp, sizeof(mp), "%s", MINIMP_SO);
    snprintf(pt, sizeof(pt), "%s", MINIPROT_SO);
    if (c->protocol)
        snprintf(pt, sizeof(pt), "%s/broken_pt_%s.so", DRIVER_DIR_PT, c->name);
    else
        snprintf(mp, sizeof(mp), "%s/broken_mp_%s.so", DRIVER_DIR_MP, c->name);
    for (uint64_t seed = 1; seed <= 3; seed++) {
        harness *h = &g_h;
        g_live = h;
        char flt[512];
        snprintf(flt, sizeof(flt), "%s/broken_%s.so", DRIVER_DIR_FLT, c->name);
        int err = is_filter(c) ? h_start_filtered(h, EMU_SCHED_DETERMINISTIC, seed, flt, NULL, true)
                               : h_start(h, EMU_SCHED_DETERMINISTIC, seed, mp, pt, true);
        if (err == EMU_OK) {
            scenario_of(c)(h);
            if (h->ctl && !emu_failed(h->rt)) {
                /* The application exits with its requests pending (the I/O
                 * manager cancels them first), or closes its handle. */
                if (strcmp(c->name, "irp_cancel_ignored") == 0)
                    emu_ctl_exit(h->ctl);
                else
                    emu_ctl_close(h->ctl);
                h->ctl = NULL;
            }
            emu_shutdown(h->rt);
        }
        assert_true(emu_failed(h->rt));
        assert_int_equal(emu_violation_count(h->rt), 1);
        const emu_violation *v = emu_violation_get(h->rt, 0);
        if (strcmp(v->rule, c->rule) != 0 || strcmp(v->call, c->call) != 0)
            print_error("broken %s (seed %llu) tripped %s in %s: %s\n", c->name,
                        (unsigned long long)seed, v->rule, v->call, v->detail);
        assert_string_equal(v->rule, c->rule);
        assert_string_equal(v->call, c->call);
        g_live = NULL;
        h_finish(h); /* a stopped run calls no driver code: no IRP_MJ_CLOSE */
    }
}

/* The correct miniport, short of shared memory, fails its initialize with
 * an entry in the event log (WriteErrorLog) and everything freed. */
static void the_correct_miniport_logs_a_failed_allocation(void **state)
{
    (void)state;
    harness *h = &g_h;
    g_live = h;
    h_shared_memory_limit = k_small_shared;
    assert_int_equal(h_start(h, EMU_SCHED_DETERMINISTIC, 1, MINIMP_SO, MINIPROT_SO, true), EMU_OK);
    h_shared_memory_limit = 0;
    assert_int_equal(h_add_nic(h), EMU_ERR_DRIVER);
    assert_false(emu_failed(h->rt));
    emu_error_log_entry e;
    assert_true(emu_error_log_get(h->rt, 0, &e));
    assert_int_equal(e.code, NDIS_ERROR_CODE_OUT_OF_RESOURCES);
    assert_false(emu_error_log_get(h->rt, 1, &e));
    assert_int_equal(emu_shutdown(h->rt), EMU_OK);
    g_live = NULL;
    h_finish(h);
}

static void the_correct_drivers_trip_nothing(void **state)
{
    (void)state;
    assert_int_equal(h_run_clean(EMU_SCHED_DETERMINISTIC, 1, h_scenario), 0);
}

/* The correct miniport completes every send of a steady trickle. */
static void the_correct_miniport_completes_every_send(void **state)
{
    (void)state;
    assert_int_equal(h_run_clean(EMU_SCHED_DETERMINISTIC, 1, h_steady_scenario), 0);
}

/* NDIS resets the correct miniport when its NIC hangs; the correct
 * protocol holds its sends from RESET_START to RESET_END (ResetQuiet), the
 * miniport completes (aborted) what its ring held before the reset ends
 * (ResetWithOutstanding), and every send comes back to the protocol. */
static void the_correct_drivers_ride_out_a_reset(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 3; seed++)
        assert_int_equal(h_run_clean(EMU_SCHED_DETERMINISTIC, seed, h_reset_scenario), 0);
}

/* An OID request left in the miniport over two hang checks (every second
 * here): NDIS resets the miniport. */
static void oid_done(void *ctx, int32_t ntstatus, const void *out, size_t returned)
{
    (void)ntstatus;
    (void)out;
    (void)returned;
    *(bool *)ctx = true;
}

/* Starts broken_mp_<variant> with the correct protocol and sets its packet
 * filter, a request the variant never completes. */
static harness *start_with_stuck_oid(const char *variant, bool *done)
{
    harness *h = &g_h;
    g_live = h;
    char mp[512];
    snprintf(mp, sizeof(mp), "%s/broken_mp_%s.so", DRIVER_DIR_MP, variant);
    assert_int_equal(h_start(h, EMU_SCHED_DETERMINISTIC, 1, mp, MINIPROT_SO, true), EMU_OK);
    assert_int_equal(h_add_nic(h), EMU_OK);
    struct {
        miniprot_oid o;
        uint32_t filter;
    } req = { { NdisRequestSetInformation, OID_GEN_CURRENT_PACKET_FILTER, 0, 4, 4 },
              NDIS_PACKET_TYPE_DIRECTED };
    *done = false;
    assert_int_equal(emu_ctl_ioctl_async(h->ctl, IOCTL_MINIPROT_OID, &req, sizeof(req),
                                         sizeof(miniprot_oid_result) + 4, oid_done, done),
                     EMU_OK);
    return h;
}

/* The reset waits for the request, as an NDIS 6.30 miniport's must (it
 * completes what it held first): no more hang checks, so no second reset,
 * until the request's 12 s run out. */
static void an_overdue_oid_resets_the_miniport(void **state)
{
    (void)state;
    bool done;
    harness *h = start_with_stuck_oid("oid_never_completed", &done);
    emu_counters c;
    assert_int_equal(emu_run_for(h->rt, 7ull * 1000 * 1000 * 1000), EMU_OK);
    emu_get_counters(h->rt, &c);
    assert_false(done);
    assert_int_equal(c.resets, 1);
    assert_false(emu_failed(h->rt));
    emu_run_for(h->rt, 10ull * 1000 * 1000 * 1000);
    assert_true(emu_failed(h->rt));
    assert_string_equal(emu_violation_get(h->rt, 0)->rule, "NdisTimedOidComplete");
    g_live = NULL;
    h_finish(h);
}

/* The same request, and a reset that completes without it: the miniport
 * held it across the reset (ResetWithOutstanding, its OID half; the sends'
 * half is reset_holds_sends in k_cases). */
static void a_reset_must_not_outlive_the_oid(void **state)
{
    (void)state;
    bool done;
    harness *h = start_with_stuck_oid("reset_holds_oid", &done);
    emu_run_for(h->rt, 7ull * 1000 * 1000 * 1000);
    emu_counters c;
    emu_get_counters(h->rt, &c);
    assert_int_equal(c.resets, 1);
    assert_true(emu_failed(h->rt));
    const emu_violation *v = emu_violation_get(h->rt, 0);
    assert_string_equal(v->rule, "ResetWithOutstanding");
    assert_string_equal(v->call, "NdisMResetComplete");
    assert_non_null(strstr(v->detail, "OID 0x1010e"));
    g_live = NULL;
    h_finish(h);
}

/* A miniport with a MiniportCheckForHangEx and no MiniportResetEx: NDIS
 * refuses its registration ("required if you provide
 * CheckForHangHandlerEx"), so its DriverEntry fails and it never loads. */
static void a_hang_check_needs_a_reset_handler(void **state)
{
    (void)state;
    emu_config cfg = { .sched = EMU_SCHED_DETERMINISTIC, .seed = 1 };
    emu_runtime *rt;
    assert_int_equal(emu_create(&cfg, &rt), EMU_OK);
    char mp[512];
    snprintf(mp, sizeof(mp), "%s/broken_mp_hang_check_without_reset.so", DRIVER_DIR_MP);
    char desc[512];
    snprintf(desc, sizeof(desc), "%s/broken_mp_hang_check_without_reset.desc", DRIVER_DIR_MP);
    emu_driver *drv = NULL;
    assert_int_equal(emu_load_driver(rt, mp, desc, &drv), EMU_ERR_LOAD);
    emu_counters c;
    emu_get_counters(rt, &c);
    assert_int_equal(c.bad_input, 1);
    emu_destroy(rt);
}

/* The correct miniport completes large sends with their completion
 * information (LSOv2 Type kept, Reserved zero; LSOv1 TcpPayload). */
static void the_correct_miniport_completes_large_sends(void **state)
{
    (void)state;
    assert_int_equal(h_run_clean(EMU_SCHED_DETERMINISTIC, 1, h_lso_scenario), 0);
}

/* The correct miniport stops its NIC in MiniportShutdownEx: the frames
 * still on the wire then never reach guest memory. */
static void the_correct_miniport_stops_dma_at_shutdown(void **state)
{
    (void)state;
    harness *h = &g_h;
    g_live = h;
    assert_int_equal(h_start(h, EMU_SCHED_DETERMINISTIC, 1, MINIMP_SO, MINIPROT_SO, true), EMU_OK);
    assert_int_equal(h_shutdown_scenario(h), 0);
    assert_false(emu_failed(h->rt));
    g_live = NULL;
    h_finish(h); /* powered off: no halt, no unload */
}

int main(void)
{
    /* After one case per broken variant: the correct drivers, and the rules
     * that need a scenario of their own. */
    static const struct CMUnitTest k_more[] = {
        cmocka_unit_test(the_correct_drivers_trip_nothing),
        cmocka_unit_test(the_correct_miniport_stops_dma_at_shutdown),
        cmocka_unit_test(the_correct_miniport_completes_large_sends),
        cmocka_unit_test(the_correct_miniport_logs_a_failed_allocation),
        cmocka_unit_test(the_correct_miniport_completes_every_send),
        cmocka_unit_test(the_correct_drivers_ride_out_a_reset),
        cmocka_unit_test(an_overdue_oid_resets_the_miniport),
        cmocka_unit_test(a_reset_must_not_outlive_the_oid),
        cmocka_unit_test(a_hang_check_needs_a_reset_handler),
    };
    struct CMUnitTest tests[ARRAYSIZE(k_cases) + ARRAYSIZE(k_more)];
    for (size_t i = 0; i < ARRAYSIZE(k_cases); i++) {
        struct CMUnitTest t = { k_cases[i].name, trips_exactly_its_rule, NULL, teardown,
                                (void *)&k_cases[i] };
        tests[i] = t;
    }
    for (size_t i = 0; i < ARRAYSIZE(k_more); i++)
        tests[ARRAYSIZE(k_cases) + i] = k_more[i];
    return _cmocka_run_group_tests("broken drivers", tests, ARRAYSIZE(tests), NULL, NULL);
}
