/* ntintsafe.h: the WDK header of overflow-checked integer helpers (inline
 * there too); include/ddk has the ones Microsoft's samples use. A Windows
 * build (mingw-w64) has the platform's own. */
#if defined(_WIN32)
#include_next <ntintsafe.h>
#else
#ifndef VFO_DDK_NTINTSAFE_H
#define VFO_DDK_NTINTSAFE_H
#include "ddk_wdm.h"

/* *Result is ULONG_ERROR (all ones) and the status STATUS_INTEGER_OVERFLOW
 * (0xC0000095) when the result does not fit. */
static inline NTSTATUS RtlULongAdd(ULONG ulAugend, ULONG ulAddend, ULONG *pulResult)
{
    if (ulAugend + ulAddend >= ulAugend) {
        *pulResult = ulAugend + ulAddend;
        return STATUS_SUCCESS;
    }
    *pulResult = 0xffffffffu;
    return (NTSTATUS)0xC0000095L;
}

static inline NTSTATUS RtlULongMult(ULONG ulMultiplicand, ULONG ulMultiplier, ULONG *pulResult)
{
    ULONGLONG r = (ULONGLONG)ulMultiplicand * ulMultiplier;
    if (r <= 0xffffffffu) {
        *pulResult = (ULONG)r;
        return STATUS_SUCCESS;
    }
    *pulResult = 0xffffffffu;
    return (NTSTATUS)0xC0000095L;
}
#endif /* VFO_DDK_NTINTSAFE_H */
#endif
