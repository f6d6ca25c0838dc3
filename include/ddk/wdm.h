/* wdm.h: the WDK header name Windows drivers include; include/ddk declares its
 * names in ddk_wdm.h and ddk_io.h. */
/* A Windows build (mingw-w64) has the platform's own; this one must not
 * shadow it there. */
#if defined(_WIN32)
#include_next <wdm.h>
#else
#include "ddk_wdm.h"
#endif
