/*
 * ndis_im.h - NDIS intermediate (MUX) drivers: the virtual miniport
 * instance calls, the interface stack table entries a MUX driver keeps,
 * and the string helpers ndis.h defines as macros over the Rtl routines.
 * Names, values and prototypes are the WDK's (ndis.h); checked by
 * tools/ddk-conformance.
 */
#ifndef VFO_DDK_NDIS_IM_H
#define VFO_DDK_NDIS_IM_H

#ifndef STATUS_NDIS_INTERFACE_NOT_FOUND
#define STATUS_NDIS_INTERFACE_NOT_FOUND ((NTSTATUS)0xC023002BL)
#endif
#define NDIS_STATUS_INTERFACE_NOT_FOUND ((NDIS_STATUS)STATUS_NDIS_INTERFACE_NOT_FOUND)

#define NdisEqualString(_String1, _String2, _CaseInsensitive) \
    RtlEqualUnicodeString(_String1, _String2, _CaseInsensitive)
#define NdisEqualUnicodeString(_String1, _String2, _CaseInsensitive) \
    RtlEqualUnicodeString(_String1, _String2, _CaseInsensitive)
#define NdisUpcaseUnicodeString(_d, _s) RtlUpcaseUnicodeString(_d, _s, FALSE)

NDIS_EXPORTED_ROUTINE void NdisIMAssociateMiniport(NDIS_HANDLE DriverHandle,
                                                   NDIS_HANDLE ProtocolHandle);
NDIS_EXPORTED_ROUTINE NDIS_STATUS NdisIMInitializeDeviceInstanceEx(NDIS_HANDLE DriverHandle,
                                                                   PNDIS_STRING DriverInstance,
                                                                   NDIS_HANDLE DeviceContext);
NDIS_EXPORTED_ROUTINE NDIS_STATUS NdisIMCancelInitializeDeviceInstance(NDIS_HANDLE DriverHandle,
                                                                       PNDIS_STRING DeviceInstance);
NDIS_EXPORTED_ROUTINE NDIS_STATUS NdisIMDeInitializeDeviceInstance(NDIS_HANDLE NdisMiniportHandle);

NDIS_EXPORTED_ROUTINE NDIS_STATUS NdisIfAddIfStackEntry(NET_IFINDEX HigherLayerIfIndex,
                                                        NET_IFINDEX LowerLayerIfIndex);
NDIS_EXPORTED_ROUTINE void NdisIfDeleteIfStackEntry(NET_IFINDEX HigherLayerIfIndex,
                                                    NET_IFINDEX LowerLayerIfIndex);

#endif /* VFO_DDK_NDIS_IM_H */
