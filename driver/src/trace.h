/*
 * trace.h - vfo.sys's tracing, one macro layer over three back ends:
 *   - WDK builds with VFO_WPP defined (driver/vfo.vcxproj, WppEnabled): WPP
 *     software tracing; the WPP preprocessor scans for VFO_TRACE (configured
 *     in the vcxproj as -func:VFO_TRACE(LEVEL,MSG,...)) and each source file
 *     includes its generated .tmh;
 *   - other Windows builds (mingw-w64, WDK without WPP): DbgPrintEx on the
 *     IHV network component, filtered by level as usual (Kd_IHVNETWORK_Mask);
 *   - ndisemu (Linux): DbgPrint, which ndisemu writes into its trace
 *     (emu_trace: "dbg" lines, with the virtual time and the IRQL).
 * Messages carry no trailing newline; the back end adds it.
 */
#ifndef VFO_TRACE_H
#define VFO_TRACE_H

#define VFO_LVL_ERROR 0
#define VFO_LVL_WARN  1
#define VFO_LVL_INFO  2
#define VFO_LVL_DEBUG 3

#if defined(VFO_WPP)

/* {7B3A7F1E-5C2E-4E6B-9C1D-2F0B6D1C5A71}: vfo's WPP provider. */
#define WPP_CONTROL_GUIDS                                                             \
    WPP_DEFINE_CONTROL_GUID(VfoTraceGuid, (7B3A7F1E, 5C2E, 4E6B, 9C1D, 2F0B6D1C5A71), \
                            WPP_DEFINE_BIT(VFO_TRACE_ALL))
#define WPP_LEVEL_ENABLED(lvl)  WPP_LEVEL_FLAGS_ENABLED(lvl, VFO_TRACE_ALL)
#define WPP_LEVEL_LOGGER(lvl)   WPP_LEVEL_FLAGS_LOGGER(lvl, VFO_TRACE_ALL)
#define VFO_TRACE_INIT(drv, rp) WPP_INIT_TRACING((drv), (rp))
#define VFO_TRACE_CLEANUP(drv)  WPP_CLEANUP(drv)

#elif defined(_WIN32)

#ifndef DPFLTR_IHVNETWORK_ID
#define DPFLTR_IHVNETWORK_ID 80 /* dpfilter.h; mingw-w64 does not ship it */
#endif
#define VFO_TRACE(lvl, fmt, ...) \
    DbgPrintEx(DPFLTR_IHVNETWORK_ID, (lvl), "vfo: " fmt "\n", ##__VA_ARGS__)
#define VFO_TRACE_INIT(drv, rp) ((void)(drv), (void)(rp))
#define VFO_TRACE_CLEANUP(drv)  ((void)(drv))

#else

#define VFO_TRACE(lvl, fmt, ...) ((void)(lvl), DbgPrint("vfo: " fmt, ##__VA_ARGS__))
#define VFO_TRACE_INIT(drv, rp)  ((void)(drv), (void)(rp))
#define VFO_TRACE_CLEANUP(drv)   ((void)(drv))

#endif

/* With WPP these four are WPP functions too (vcxproj: -func:VFO_ERR{LEVEL=0}(MSG,...), ...). */
#if !defined(VFO_WPP)
#define VFO_ERR(fmt, ...)   VFO_TRACE(VFO_LVL_ERROR, fmt, ##__VA_ARGS__)
#define VFO_WARN(fmt, ...)  VFO_TRACE(VFO_LVL_WARN, fmt, ##__VA_ARGS__)
#define VFO_INFO(fmt, ...)  VFO_TRACE(VFO_LVL_INFO, fmt, ##__VA_ARGS__)
#define VFO_DEBUG(fmt, ...) VFO_TRACE(VFO_LVL_DEBUG, fmt, ##__VA_ARGS__)
#endif

#endif /* VFO_TRACE_H */
