/*
 * emu_checks.h - checks a driver built for ndisemu may call to have the
 * verifier enforce a contract of its own layers. They exist only in
 * libndisemu: a driver calls them through its OS-dependent layer, compiled
 * out of the Windows build (which has no such import).
 */
#ifndef NDISEMU_EMU_CHECKS_H
#define NDISEMU_EMU_CHECKS_H

#include <ndis.h>

/* "Called with this lock held": the calling thread must hold SpinLock
 * (acquired with NdisAcquireSpinLock or NdisDprAcquireSpinLock). If it does
 * not, the run stops with rule LockContract, the call named Contract (for
 * example "vnet tx_done: tx_lock held"). */
void EmuCheckSpinLockHeld(PNDIS_SPIN_LOCK SpinLock, const char *Contract);

#endif
