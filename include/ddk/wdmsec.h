/* wdmsec.h: IoCreateDeviceSecure (the WDK's wdmsec.lib routine, its
 * name a macro for WdmlibIoCreateDeviceSecure). */
/* A Windows build (mingw-w64) has the platform's own; this one must not
 * shadow it there. */
#if defined(_WIN32)
#include_next <wdmsec.h>
#else
#ifndef VFO_DDK_WDMSEC_H
#define VFO_DDK_WDMSEC_H
#include <wdm.h>

#undef IoCreateDeviceSecure
#define IoCreateDeviceSecure WdmlibIoCreateDeviceSecure
NTSTATUS WdmlibIoCreateDeviceSecure(PDRIVER_OBJECT DriverObject, ULONG DeviceExtensionSize,
                                    PUNICODE_STRING DeviceName, DEVICE_TYPE DeviceType,
                                    ULONG DeviceCharacteristics, BOOLEAN Exclusive,
                                    PCUNICODE_STRING DefaultSDDLString, LPCGUID DeviceClassGuid,
                                    PDEVICE_OBJECT *DeviceObject);
#endif
#endif
