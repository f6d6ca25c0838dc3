/*
 * nu_object.h - the object-header initialisation every emulated-platform
 * driver needs. The WDK has no macro for this (its samples assign Type,
 * Revision and Size one by one), so it lives here with a name of our own,
 * not in include/ddk.
 */
#ifndef NU_OBJECT_H
#define NU_OBJECT_H

#include <ndis.h>

#define NU_INIT_HEADER(h, t, r, s)  \
    do {                            \
        (h)->Type = (UCHAR)(t);     \
        (h)->Revision = (UCHAR)(r); \
        (h)->Size = (USHORT)(s);    \
    } while (0)

#endif
