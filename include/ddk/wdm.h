/* wdm.h: the WDK header name Windows drivers include; include/ddk declares its
 * names in ddk_wdm.h and ddk_io.h. */
#include "ddk_wdm.h"
