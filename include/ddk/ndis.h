/*
 * ndis.h - clean-room NDIS 6.30 subset for vfo's non-WDK builds.
 *
 * Written from the NDIS reference on learn.microsoft.com (names, constants,
 * structure layouts, function prototypes); nothing here is copied from the
 * WDK or mingw-w64 headers. Two settings:
 *   - Linux (ndisemu): the WDM subset comes from ddk_wdm.h, and every NDIS
 *     function is implemented by the ndisemu runtime;
 *   - mingw-w64: the WDM layer comes from mingw's own <ntddk.h> (put
 *     mingw's include/ddk directory on the system include path, after this
 *     directory) and the NDIS functions import from ndis.sys.
 * Never include mingw's ddk/ndis.h: it is NDIS 5 only.
 *
 * A driver selects its NDIS version the documented way, with NDIS_MINIPORT_DRIVER,
 * NDIS630_MINIPORT / NDIS630 (or older); NDIS_SUPPORT_NDISxxx follow from it as in
 * the WDK. The layouts are those of NDIS 6.30; a newer selection is an error.
 * tools/ddk-conformance checks every name here against a real WDK.
 */
#ifndef VFO_DDK_NDIS_H
#define VFO_DDK_NDIS_H

#if defined(_WIN32)
#include <ntddk.h>
#else
#include "ddk_wdm.h"
#endif

#include "ndis_core.h"
#include "ndis_nbl.h"
#include "ndis_oid.h"
#include "ndis_status_ind.h"
#include "ndis_vmq.h"
#include "ndis_miniport.h"
#include "ndis_protocol.h"
#include "ndis_ext.h"
#include "ndis_layout.h"
#include "ndis_more.h"
#include "ndis_im.h"

#endif /* VFO_DDK_NDIS_H */
