/*
 * win_compat.h - the Windows headers vfosvc needs, plus what mingw-w64's
 * headers lack, declared from Microsoft's documentation:
 *   - CM_Register_Notification, CM_Unregister_Notification,
 *     CM_MapCrToWin32Err (cfgmgr32.h declares their types but not them;
 *     libcfgmgr32.a exports them);
 *   - GUID_DEVINTERFACE_NET (ndisguid.h, absent from mingw-w64), under our
 *     own name so it can never clash with an SDK definition;
 *   - IOCTL_NDIS_QUERY_GLOBAL_STATS and OID_802_3_CURRENT_ADDRESS (ntddndis.h,
 *     whose mingw copy is not meant for user mode).
 * Everything here is the documented ABI; nothing is guessed.
 */
#ifndef VFOSVC_WIN_COMPAT_H
#define VFOSVC_WIN_COMPAT_H

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef COBJMACROS
#define COBJMACROS
#endif

#include <windows.h>
#include <objbase.h>
#include <cfgmgr32.h>
#include <devguid.h>
#include <netcfgx.h>

#if defined(__MINGW32__)
CMAPI CONFIGRET WINAPI CM_Register_Notification(PCM_NOTIFY_FILTER pFilter, PVOID pContext,
                                                PCM_NOTIFY_CALLBACK pCallback,
                                                PHCMNOTIFICATION pNotifyContext);
CMAPI CONFIGRET WINAPI CM_Unregister_Notification(HCMNOTIFICATION NotifyContext);
CMAPI DWORD WINAPI CM_MapCrToWin32Err(CONFIGRET CmReturnCode, DWORD DefaultErr);
#endif

/* {CAC88484-7515-4C03-82E6-71A87ABAC361}: NDIS registers it for every miniport. */
extern const GUID VFOSVC_GUID_DEVINTERFACE_NET; /* defined in util_win.c */

/* CTL_CODE(FILE_DEVICE_PHYSICAL_NETCARD, 0, METHOD_OUT_DIRECT, FILE_ANY_ACCESS) */
#define VFOSVC_IOCTL_NDIS_QUERY_GLOBAL_STATS 0x00170002u
#define VFOSVC_OID_802_3_CURRENT_ADDRESS     0x01010102u

#endif /* VFOSVC_WIN_COMPAT_H */
