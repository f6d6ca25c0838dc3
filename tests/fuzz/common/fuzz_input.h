/*
 * fuzz_input.h - reading a fuzz input as a little-endian byte stream; past
 * its end every read gives 0, so any input is a complete program.
 */
#ifndef FUZZ_INPUT_H
#define FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* libFuzzer's entry point (replay_main.c calls it in ordinary builds). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fz_input {
    const uint8_t *p;
    size_t n, pos;
} fz_input;

static inline int fz_more(const fz_input *in)
{
    return in->pos < in->n;
}
static inline uint8_t fz_u8(fz_input *in)
{
    return in->pos < in->n ? in->p[in->pos++] : 0;
}
static inline uint16_t fz_u16(fz_input *in)
{
    return (uint16_t)(fz_u8(in) | fz_u8(in) << 8);
}
static inline uint32_t fz_u32(fz_input *in)
{
    return (uint32_t)fz_u16(in) | (uint32_t)fz_u16(in) << 16;
}
/* Up to len bytes into out (the rest zero); returns how many were read. */
static inline size_t fz_bytes(fz_input *in, void *out, size_t len)
{
    size_t avail = in->n - in->pos, k = len < avail ? len : avail;
    memcpy(out, in->p + in->pos, k);
    memset((uint8_t *)out + k, 0, len - k);
    in->pos += k;
    return k;
}

#endif
