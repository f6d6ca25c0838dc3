/*
 * minimp_break.h - the contract violations the broken variants of the
 * minimal drivers commit: one per verifier check. 0 = a correct driver.
 * emu/drivers/minimp/CMakeLists.txt and emu/drivers/miniprot/CMakeLists.txt
 * build one variant per code; tests/ndisemu/test_broken.c names the rule
 * and the NDIS call each one must trip.
 */
#ifndef MINIMP_BREAK_H
#define MINIMP_BREAK_H

#define BRK_NONE 0

/* miniport side (minimp) */
#define BRK_SEND_COMPLETE_TWICE       1  /* NblSendCompleteOnce */
#define BRK_INDICATE_WHILE_PAUSED     2  /* PausedNoIndicate: indicates in D3 (Paused) */
#define BRK_OID_COMPLETE_TWICE        3  /* DoubleComplete: NdisMOidRequestComplete twice */
#define BRK_OID_COMPLETE_PENDING      4  /* NdisOidComplete */
#define BRK_PAUSE_RETURNS_FAILURE     5  /* MiniportPause_Return: returns FAILURE */
#define BRK_PAUSE_COMPLETE_UNPENDED   6  /* MiniportPause_Return: NdisMPauseComplete + SUCCESS */
#define BRK_RESTART_COMPLETE_UNPENDED 7  /* DoubleComplete: NdisMRestartComplete + SUCCESS */
#define BRK_RESET_COMPLETE_UNPENDED   8  /* DoubleComplete: NdisMResetComplete + SUCCESS */
#define BRK_PAUSE_WITH_RECEIVES       9  /* PauseWithOutstanding: SUCCESS with receives held */
#define BRK_NEVER_COMPLETE_PAUSE      10 /* OperationNotCompleted */
#define BRK_NO_ATTRIBUTES             11 /* MiniportAttributes */
#define BRK_LEAK_AT_HALT              12 /* LeakAtHalt */
#define BRK_LEAK_AT_UNLOAD            13 /* LeakAtUnload */
#define BRK_CONFIG_IN_DPC             14 /* Irql_Miscellaneous_Function: NdisOpenConfigurationEx */
#define BRK_SLEEP_IN_DPC              15 /* Irql_Miniport_Driver_Function: NdisMSleep */
#define BRK_WAIT_UNDER_LOCK           16 /* Irql_Miscellaneous_Function: NdisWaitEvent */
#define BRK_REGISTER_INTR_UNDER_LOCK  17 /* Irql_Interrupt_Function: NdisMRegisterInterruptEx */
#define BRK_NBL_ALLOC_IN_ISR          18 /* Irql_NetBuffer_Function: NdisAllocateNetBufferList */
#define BRK_DPR_LOCK_AT_PASSIVE       19 /* Irql_Synch_Function: NdisDprAcquireSpinLock */
#define BRK_SG_LIST_AT_PASSIVE        20 /* Irql_Gather_DMA_Function */
#define BRK_LOCK_TWICE                21 /* SpinLock: acquired again by its holder */
#define BRK_RELEASE_NOT_HELD          22 /* SpinLock: released by a non-holder */
#define BRK_RETURN_HOLDING_LOCK       23 /* SpinlockRelease */
#define BRK_RAISE_WITHOUT_LOWER       24 /* IrqlKeRaiseLower2 */
#define BRK_LOWER_ABOVE_CURRENT       25 /* IrqlKeRaiseLower */
#define BRK_STATUS_IN_ISR             26 /* Irql_StatusIndication_Function */
#define BRK_INDICATE_IN_ISR           27 /* Irql_SendRcv_Function */
#define BRK_TIMER_IN_ISR              28 /* Irql_Timer_Function: NdisSetTimerObject at DIRQL */
#define BRK_OID_COMPLETE_RAISED       29 /* Irql_OID_Function: NdisMOidRequestComplete at HIGH */
#define BRK_IGNORE_MAX_NBLS           70 /* ReceiveThrottle: indicates past MaxNblsToIndicate */
#define BRK_DPC_OVER_BUDGET           71 /* DpcWatchdog: a DPC that stalls 150 us */

/* issue 13, classes 5/6/7/9 (codes 80-89) */
#define BRK_TIMER_FREE_WHILE_SET       80 /* TimerFreeWhileActive: NdisFreeTimerObject of a set timer */
#define BRK_LOCK_ORDER                 81 /* LockHierarchy: two locks taken in both orders */
#define BRK_LOCK_CONTRACT              82 /* LockContract: "lock held" callback without it */
#define BRK_DEVICE_OBJECT_KEPT         83 /* DriverUnloadBlocked: control device from DriverEntry */
#define BRK_IRP_PENDING_AT_CLEANUP     84 /* CleanupPendingIrp (miniprot) */
#define BRK_IRP_COMPLETE_CANCELABLE    85 /* CancelRoutineAtCompletion (miniprot) */
#define BRK_DISPATCH_KEEPS_CANCEL_LOCK 86 /* CancelSpinlockRelease (miniprot) */
#define BRK_LSO_COMPLETE_UNSET         87 /* LsoTransmitComplete: large sends completed as sent */
#define BRK_CANCEL_LOCK_NOT_HELD       88 /* CancelSpinLock: released without holding it (miniprot) */
#define BRK_IRP_CANCEL_IGNORED         89 /* CancelledIrpNotCompleted: cancel routine keeps the IRP */

/* kernel services (kernel.c; issue 14, netvmini, codes 120-128) */
#define BRK_LOOKASIDE_NOT_DELETED      120 /* LookasideNotDeleted: never deleted, driver unloads */
#define BRK_DPC_QUEUED_AT_UNLOAD       121 /* DpcQueuedAtUnload: KDPC queued in DriverUnload */
#define BRK_DPC_NOT_INITIALIZED        122 /* DpcNotInitialized: KeInsertQueueDpc, no init */
#define BRK_DPC_REINIT_QUEUED          123 /* DpcReinitializedWhileQueued: KeInitializeDpc again */
#define BRK_LOOKASIDE_USE_AFTER_DELETE 124 /* LookasideUseAfterDelete: allocate after delete */
#define BRK_LOOKASIDE_INIT_TWICE       125 /* LookasideInitTwice: initialized again, not deleted */
#define BRK_LOOKASIDE_NOT_INITIALIZED  126 /* LookasideNotInitialized: delete, never initialized */
#define BRK_FLUSH_DPCS_AT_DISPATCH     127 /* Irql_Miscellaneous_Function: KeFlushQueuedDpcs */
#define BRK_KE_RELEASE_NOT_HELD        128 /* SpinLock: KeReleaseSpinLock of a lock not held */
#define BRK_TIMER_CANCEL_MISSED        129 /* TimerFreeWhileActive: free after a cancel FALSE */
#define BRK_WORKITEM_QUEUED_TWICE      130 /* WorkItemQueuedTwice: queued again, not started */
#define BRK_WORKITEM_FREE_WHILE_QUEUED 131 /* WorkItemFreeWhileQueued: freed in halt, queued */
/* NDIS memory usage rule set (codes 132-134) */
#define BRK_MAP_IO_IN_RESTART       132 /* NdisMMapIoSpace: maps its BAR again in MiniportRestart */
#define BRK_FREE_SHARED_IN_SHUTDOWN 133 /* NdisMFreeSharedMemory: from MiniportShutdownEx */
#define BRK_ALLOC_WITHOUT_TAG       134 /* NdisAllocateMemoryWithTagPriority: Tag 0 */
/* NDIS OidProcessing: a completion status outside NdisOidComplete's lists (135) */
#define BRK_SET_POWER_FAILS 135 /* NdisOidComplete: OID_PNP_SET_POWER DEVICE_FAILED */
/* NDIS IRQL rule set (136) */
#define BRK_IRQL_IN_SEND 136 /* Flags_Irql: KeGetCurrentIrql in MiniportSendNetBufferLists */
/* NDIS Warning rule set (137) */
#define BRK_STALL_TOO_LONG 137 /* NdisStallExecution_Delay: 51 us in the DPC */
/* NDIS DDI usage rule set: Init_* (138) */
#define BRK_LEAK_AT_FAILED_INIT 138 /* LeakAtFailedInit: fails initialize, frees nothing */
/* NDIS Miscellaneous rule set (139; run with a shared memory limit) */
#define BRK_SHARED_FAIL_UNLOGGED 139 /* WriteErrorLog: no entry for a failed allocation */
/* NDIS/WIFI verification (140-142) */
#define BRK_SENDS_HELD          140 /* NdisTimedDataHang: takes sends, never gives them to the device */
#define BRK_OID_NEVER_COMPLETED 141 /* NdisTimedOidComplete: a packet-filter set pended for ever */
#define BRK_ONE_SEND_HELD       142 /* NdisTimedDataSend: keeps its first send, completes the rest */
/* NDIS 6.30 resets (147-149) */
#define BRK_RESET_HOLDS_SENDS 147 /* ResetWithOutstanding: the ring's sends kept across a reset */
#define BRK_RESET_HOLDS_OID   148 /* ResetWithOutstanding: 141's OID, the reset not waiting */
/* a check for hang without a reset handler: registration fails (149) */
#define BRK_HANG_CHECK_WITHOUT_RESET 149
/* MiniportStatusCode: MiniportResetEx indicates NDIS_STATUS_RESET_START */
#define BRK_RESET_SELF_INDICATED 150
/* QueueDpcTargets: NdisMQueueDpcEx with a NULL TargetProcessors */
#define BRK_DPC_WITHOUT_TARGETS 153

/* protocol side (miniprot) */
#define BRK_RETURN_TWICE             41 /* NblReturnOnce */
#define BRK_NO_SOURCE_HANDLE         42 /* NblSourceHandle */
#define BRK_SEND_WHILE_PAUSED        43 /* PausedNoSend */
#define BRK_USE_AFTER_CLOSE          44 /* HandleAfterClose */
#define BRK_CONTEXT_LEAK             45 /* NblContextBalanced */
#define BRK_PAUSE_WITH_OUTSTANDING   46 /* PauseWithOutstanding: binding pause with sends out */
#define BRK_BIND_COMPLETE_TWICE      47 /* DoubleComplete: NdisCompleteBindAdapterEx twice */
#define BRK_UNBIND_COMPLETE_UNPENDED 48 /* DoubleComplete: NdisCompleteUnbindAdapterEx + SUCCESS */
#define BRK_PNP_COMPLETE_UNPENDED    49 /* DoubleComplete: NdisCompleteNetPnPEvent + SUCCESS */
#define BRK_IRP_COMPLETE_TWICE       50 /* DoubleCompletion: IoCompleteRequest twice */
#define BRK_OPEN_UNDER_LOCK          51 /* Irql_Protocol_Driver_Function: NdisOpenAdapterEx */
#define BRK_SEND_DURING_RESET        52 /* ResetQuiet: sends between RESET_START and _END */
/* NdisGetDataBuffer: AlignMultiple 3 (not a power of two) for a received frame */
#define BRK_DATA_BUFFER_BAD_ALIGN 151
/* OpenAdapterOutputs: SelectedMediumIndex on the bind handler's stack, and
 * the bind returns PENDING when the open pends */
#define BRK_OPEN_OUTPUT_ON_STACK 152
/* DispatchLevelFlag: NDIS_SEND_FLAGS_DISPATCH_LEVEL on a send at PASSIVE_LEVEL */
#define BRK_DISPATCH_FLAG_AT_PASSIVE 154
/* SpinLockSafe: IoCompleteRequest while holding a spin lock */
#define BRK_COMPLETE_UNDER_LOCK 155
/* PauseWithOutstanding: NdisCloseAdapterEx with its OID request pending */
#define BRK_CLOSE_WITH_OID 156
/* BindFailedOpen: the bind fails after a successful open, left open */
#define BRK_FAIL_BIND_OPEN 157

/* issue 13, classes 1, 2, 8, 11 (codes 60-69) */
#define BRK_WORKITEM_PROTOCOL_HANDLE 60 /* HandleKind: NdisAllocateIoWorkItem(protocol handle) */
#define BRK_NB_DATA_WITHOUT_MDL      61 /* NblAllocationParameters: NULL MDL, DataLength > 0 */
#define BRK_NBL_CONTEXT_UNALIGNED    62 /* NblAllocationParameters: context not 16-byte multiple */
#define BRK_FAIL_BINDS_COMPLETE      63 /* NetPnPEventGlobal: fails NetEventBindsComplete */
#define BRK_DMA_AFTER_SHUTDOWN       64 /* ShutdownStopsDma: MiniportShutdownEx leaves DMA on */
#define BRK_MEDIA_STATUS_WRONG_ENUM  65 /* OidMediaConnectStatus: answers NDIS_MEDIA_CONNECT_STATE */
#define BRK_REENUMERATE_IN_BIND      66 /* NdisReEnumerateProtocolBindings: in its bind handler */

/* filter side (passflt, codes 90-99) */
#define BRK_FLT_SEND_WHILE_PAUSED     90 /* FilterPausedNoSend: originates a send in FilterDetach */
#define BRK_FLT_INDICATE_WHILE_PAUSED 91 /* FilterPausedNoIndicate: same with a receive */
#define BRK_FLT_PAUSE_WITH_HELD       92 /* FilterPauseWithOutstanding: held receives at pause */
#define BRK_FLT_OID_COMPLETE_TWICE    93 /* FilterOidComplete: NdisFOidRequestComplete twice */
#define BRK_FLT_NO_ATTRIBUTES         94 /* FilterAttributes: attach without NdisFSetAttributes */
#define BRK_FLT_PAUSE_RETURNS_FAILURE 95 /* FilterPause_Return: FilterPause returns FAILURE */
#define BRK_FLT_RETURN_EARLY          96 /* NblReturnOnce: returns down what it indicated up */
#define BRK_FLT_ATTRIBUTES_UNDER_LOCK 97 /* Irql_Filter_Driver_Function: NdisFSetAttributes */

/* intermediate drivers (tests/ndisemu/imdrv) */
#define BRK_IM_ASSOCIATE_OUTSIDE_ENTRY 140 /* IMAssociateMiniport: in ProtocolBindAdapterEx */
#define BRK_IM_NOT_ASSOCIATED          141 /* IMDriver: never NdisIMAssociateMiniport */
#define BRK_IM_NO_IM_FLAG              142 /* IMDriver: no NDIS_INTERMEDIATE_DRIVER flag */
#define BRK_IM_CANCEL_WITHOUT_INIT     143 /* IMCancelInitialize: nothing to cancel */
#define BRK_IM_DEINIT_IN_INIT          144 /* IMDeInitialize: inside MiniportInitializeEx */
#define BRK_IM_INIT_UNDER_LOCK         145 /* Irql_IM_Function: NdisIMInitializeDeviceInstanceEx */
#define BRK_IF_STACK_UNDER_LOCK        146 /* Irql_Interfaces_Function: NdisIfAddIfStackEntry */

#ifndef DRIVER_BREAK
#define DRIVER_BREAK BRK_NONE
#endif
#define BROKEN(x) (DRIVER_BREAK == (x))

#endif /* MINIMP_BREAK_H */
