/*
 * minimp_break.h - the contract violations the broken variants of the
 * minimal drivers commit, one per verifier rule. 0 = a correct driver.
 */
#ifndef MINIMP_BREAK_H
#define MINIMP_BREAK_H

#define BRK_NONE                  0
#define BRK_SEND_COMPLETE_TWICE   1  /* NblSendCompleteOnce */
#define BRK_INDICATE_WHILE_PAUSED 2  /* PausedNoIndicate */
#define BRK_OID_COMPLETE_TWICE    4  /* DoubleComplete */
#define BRK_OID_COMPLETE_PENDING  5  /* NdisOidComplete */
#define BRK_PAUSE_RETURNS_FAILURE 6  /* MiniportPause_Return */
#define BRK_PASSIVE_CALL_IN_DPC   7  /* Irql_Miniport_Driver_Function */
#define BRK_SLEEP_UNDER_LOCK      8  /* NoWaitAtDispatch */
#define BRK_LOCK_TWICE            9  /* SpinLock */
#define BRK_RETURN_HOLDING_LOCK   10 /* SpinlockRelease */
#define BRK_RAISE_WITHOUT_LOWER   11 /* IrqlRestored */
#define BRK_LEAK_AT_HALT          12 /* LeakAtHalt */
#define BRK_NEVER_COMPLETE_PAUSE  13 /* OperationNotCompleted */
#define BRK_NO_ATTRIBUTES         14 /* MiniportAttributes */
#define BRK_LEAK_AT_UNLOAD        15 /* LeakAtUnload */
/* protocol side (miniprot) */
#define BRK_RETURN_TWICE           21 /* NblReturnOnce */
#define BRK_NO_SOURCE_HANDLE       22 /* NblSourceHandle */
#define BRK_SEND_WHILE_PAUSED      23 /* PausedNoSend */
#define BRK_USE_AFTER_CLOSE        24 /* HandleAfterClose */
#define BRK_CONTEXT_LEAK           25 /* NblContextBalanced */
#define BRK_PAUSE_WITH_OUTSTANDING 26 /* PauseWithOutstanding */

#ifndef DRIVER_BREAK
#define DRIVER_BREAK BRK_NONE
#endif
#define BROKEN(x) (DRIVER_BREAK == (x))

#endif /* MINIMP_BREAK_H */
