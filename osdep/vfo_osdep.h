/*
 * vfo_osdep.h - the few OS/compiler services lib/ may use directly.
 *
 * lib/ never includes an OS header (DESIGN.md, Layers). What it cannot get
 * through an ops struct because it is needed on hot paths, atomics and
 * memory barriers, comes from this header, which maps each operation to the
 * compiler's primitives:
 *   - GCC and clang (Linux, ndisemu, mingw-w64): the __atomic builtins;
 *   - MSVC (WDK release build): the _Interlocked intrinsics, which are what
 *     the kernel's InterlockedXxx macros expand to.
 * All read-modify-write operations are sequentially consistent, as the
 * Windows Interlocked functions are. vfo_mb is a full fence; vfo_rmb and
 * vfo_wmb order only loads against loads and stores against stores.
 */
#ifndef VFO_OSDEP_H
#define VFO_OSDEP_H

#include <stdint.h>

typedef struct vfo_atomic32 {
    volatile int32_t v;
} vfo_atomic32;

typedef struct vfo_atomic64 {
    volatile int64_t v;
} vfo_atomic64;

#if defined(_MSC_VER) && !defined(__clang__)

#include <intrin.h>

static __forceinline int32_t vfo_atomic32_load(const vfo_atomic32 *a)
{
    return _InterlockedOr((volatile long *)&((vfo_atomic32 *)a)->v, 0);
}
static __forceinline void vfo_atomic32_store(vfo_atomic32 *a, int32_t x)
{
    _InterlockedExchange((volatile long *)&a->v, x);
}
/* Returns the new value, like InterlockedIncrement. */
static __forceinline int32_t vfo_atomic32_inc(vfo_atomic32 *a)
{
    return _InterlockedIncrement((volatile long *)&a->v);
}
static __forceinline int32_t vfo_atomic32_dec(vfo_atomic32 *a)
{
    return _InterlockedDecrement((volatile long *)&a->v);
}
/* Returns the new value. */
static __forceinline int32_t vfo_atomic32_add(vfo_atomic32 *a, int32_t x)
{
    return _InterlockedExchangeAdd((volatile long *)&a->v, x) + x;
}
static __forceinline int32_t vfo_atomic32_xchg(vfo_atomic32 *a, int32_t x)
{
    return _InterlockedExchange((volatile long *)&a->v, x);
}
/* Stores x if the value equals expected; returns the value seen before. */
static __forceinline int32_t vfo_atomic32_cas(vfo_atomic32 *a, int32_t expected, int32_t x)
{
    return _InterlockedCompareExchange((volatile long *)&a->v, x, expected);
}
static __forceinline int64_t vfo_atomic64_load(const vfo_atomic64 *a)
{
    return _InterlockedOr64(&((vfo_atomic64 *)a)->v, 0);
}
static __forceinline void vfo_atomic64_store(vfo_atomic64 *a, int64_t x)
{
    _InterlockedExchange64(&a->v, x);
}
static __forceinline int64_t vfo_atomic64_add(vfo_atomic64 *a, int64_t x)
{
    return _InterlockedExchangeAdd64(&a->v, x) + x;
}
static __forceinline int64_t vfo_atomic64_cas(vfo_atomic64 *a, int64_t expected, int64_t x)
{
    return _InterlockedCompareExchange64(&a->v, x, expected);
}
static __forceinline void vfo_mb(void)
{
    _ReadWriteBarrier();
    __faststorefence();
}
/* Load-load and store-store ordering for memory shared with a device or
 * another CPU (virtqueues). x64 keeps both orders itself, so only the
 * compiler must be stopped; ARM64 needs a data memory barrier. */
static __forceinline void vfo_rmb(void)
{
#if defined(_M_ARM64)
    __dmb(_ARM64_BARRIER_ISHLD);
#else
    _ReadWriteBarrier();
#endif
}
static __forceinline void vfo_wmb(void)
{
#if defined(_M_ARM64)
    __dmb(_ARM64_BARRIER_ISHST);
#else
    _ReadWriteBarrier();
#endif
}
#define VFO_LIKELY(x)   (x)
#define VFO_UNLIKELY(x) (x)

#elif defined(__GNUC__) || defined(__clang__)

#define VFO_SEQ         __ATOMIC_SEQ_CST

static inline int32_t vfo_atomic32_load(const vfo_atomic32 *a)
{
    return __atomic_load_n(&a->v, VFO_SEQ);
}
static inline void vfo_atomic32_store(vfo_atomic32 *a, int32_t x)
{
    __atomic_store_n(&a->v, x, VFO_SEQ);
}
static inline int32_t vfo_atomic32_inc(vfo_atomic32 *a)
{
    return __atomic_add_fetch(&a->v, 1, VFO_SEQ);
}
static inline int32_t vfo_atomic32_dec(vfo_atomic32 *a)
{
    return __atomic_sub_fetch(&a->v, 1, VFO_SEQ);
}
static inline int32_t vfo_atomic32_add(vfo_atomic32 *a, int32_t x)
{
    return __atomic_add_fetch(&a->v, x, VFO_SEQ);
}
static inline int32_t vfo_atomic32_xchg(vfo_atomic32 *a, int32_t x)
{
    return __atomic_exchange_n(&a->v, x, VFO_SEQ);
}
static inline int32_t vfo_atomic32_cas(vfo_atomic32 *a, int32_t expected, int32_t x)
{
    __atomic_compare_exchange_n(&a->v, &expected, x, 0, VFO_SEQ, VFO_SEQ);
    return expected;
}
static inline int64_t vfo_atomic64_load(const vfo_atomic64 *a)
{
    return __atomic_load_n(&a->v, VFO_SEQ);
}
static inline void vfo_atomic64_store(vfo_atomic64 *a, int64_t x)
{
    __atomic_store_n(&a->v, x, VFO_SEQ);
}
static inline int64_t vfo_atomic64_add(vfo_atomic64 *a, int64_t x)
{
    return __atomic_add_fetch(&a->v, x, VFO_SEQ);
}
static inline int64_t vfo_atomic64_cas(vfo_atomic64 *a, int64_t expected, int64_t x)
{
    __atomic_compare_exchange_n(&a->v, &expected, x, 0, VFO_SEQ, VFO_SEQ);
    return expected;
}
static inline void vfo_mb(void)
{
    __atomic_thread_fence(VFO_SEQ);
}
/* Load-load (acquire fence) and store-store (release fence) ordering for
 * memory shared with a device or another CPU (virtqueues): free on x86,
 * one dmb on ARM64, unlike the full fence of vfo_mb. */
static inline void vfo_rmb(void)
{
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
}
static inline void vfo_wmb(void)
{
    __atomic_thread_fence(__ATOMIC_RELEASE);
}
#define VFO_LIKELY(x)   __builtin_expect(!!(x), 1)
#define VFO_UNLIKELY(x) __builtin_expect(!!(x), 0)

#else
#error "vfo_osdep.h: no atomics for this compiler"
#endif

#endif /* VFO_OSDEP_H */
