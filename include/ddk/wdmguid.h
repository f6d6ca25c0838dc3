/* wdmguid.h: a WDK header name Microsoft's samples include. ndisemu declares
 * nothing from it yet (no WMI, no IoCreateDeviceSecure, no PnP GUIDs). */
/* A Windows build (mingw-w64) has the platform's own; this one must not
 * shadow it there. */
#if defined(_WIN32)
#include_next <wdmguid.h>
#endif
