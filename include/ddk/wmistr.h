/* wmistr.h: a WDK header name Microsoft's samples include. ndisemu declares
 * nothing from it yet (no WMI, no IoCreateDeviceSecure, no PnP GUIDs). */
