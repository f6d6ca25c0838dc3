/*
 * vq_bench - single-thread round trip of buffers through a lib/virtio split
 * virtqueue to the emu/dev virtio device model and back.
 *
 * Each buffer is two device-readable segments (a 12-byte header and a
 * 64-byte payload, like a small virtio-net transmit). Per batch the driver
 * adds `batch` buffers, kicks once (EVENT_IDX decides whether the notify
 * register is written; the device then runs the queue right from the notify
 * hook), and takes every used buffer back with callbacks disabled, as a
 * DPC draining a queue does. The device pops, walks the chain (translating
 * each address) and pushes each buffer without touching the payload.
 *
 * Prints ns per buffer and buffers per second for direct and indirect
 * descriptors at ring sizes 256 and 1024. Wall-clock figures are reported,
 * never checked. For instruction counts run one configuration under
 * callgrind with --toggle-collect=run_batches and divide by the total the
 * last line prints (see README, Performance).
 *
 * Usage: vq_bench [--buffers N] [--batch N] [--ring 256|1024] [--mode direct|indirect]
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime under -std=c11 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "vio_harness.h"

#define HEADER_LEN  12u
#define PAYLOAD_LEN 64u

typedef struct bench {
    vio_harness *h;
    vio_dev *dev;
    vio_vq *vq;
    vio_dma payload;
    vio_add_mode mode;
    uint16_t ring;
    uint32_t batch;
    int *tokens;
} bench;

/* Every buffer run_batches moved, warm-up included: divide callgrind's
 * instruction count for run_batches by this. */
static uint64_t total_moved;

static void die(const char *what, vio_status st)
{
    fprintf(stderr, "vq_bench: %s failed: %s\n", what, vio_status_name(st));
    exit(1);
}

static void bench_up(bench *b, uint16_t ring, vio_add_mode mode, uint32_t batch)
{
    vh_params p = { .num_queues = 1, .queue_size = ring, .process_on_notify = true };
    vio_vq_params qp = { .index = 0, .msix_vector = 0, .indirect_max = 4 };
    uint64_t features = VIO_FEATURE(VIO_F_EVENT_IDX) | VIO_FEATURE(VIO_F_INDIRECT_DESC);
    vio_status st;

    memset(b, 0, sizeof(*b));
    b->ring = ring;
    b->mode = mode;
    b->batch = batch;
    b->h = vh_create(&p);
    if (!b->h)
        die("vh_create", VIO_E_NOMEM);
    st = vh_driver_init(b->h, features, &b->dev);
    if (st != VIO_OK)
        die("driver init", st);
    st = vio_vq_create(b->dev, &qp, &b->vq);
    if (st != VIO_OK)
        die("vio_vq_create", st);
    st = vio_dev_driver_ok(b->dev);
    if (st != VIO_OK)
        die("driver ok", st);
    if (!vh_dma_alloc(b->h, (size_t)ring * (HEADER_LEN + PAYLOAD_LEN), &b->payload))
        die("payload allocation", VIO_E_NOMEM);
    b->tokens = calloc(ring, sizeof(int));
    vio_vq_disable_cb(b->vq);
}

static void bench_down(bench *b)
{
    vio_dev_reset(b->dev);
    while (vio_vq_detach_unused(b->vq))
        ;
    vio_vq_destroy(b->vq);
    vio_dev_destroy(b->dev);
    vh_dma_free(b->h, &b->payload);
    if (!vh_destroy(b->h))
        fprintf(stderr, "vq_bench: harness reported a leak or corruption\n");
    free(b->tokens);
}

/* The measured loop. Not inlined, so callgrind can count exactly it. */
__attribute__((noinline)) static uint64_t run_batches(bench *b, uint64_t batches)
{
    uint64_t done = 0, n;
    uint32_t i;

    for (n = 0; n < batches; n++) {
        for (i = 0; i < b->batch; i++) {
            uint64_t at = b->payload.pa + (uint64_t)i * (HEADER_LEN + PAYLOAD_LEN);
            vio_sg sg[2] = { { at, HEADER_LEN }, { at + HEADER_LEN, PAYLOAD_LEN } };
            vio_status st = vio_vq_add(b->vq, sg, 2, 0, &b->tokens[i], b->mode);
            if (st != VIO_OK)
                die("vio_vq_add", st);
        }
        vio_vq_kick(b->vq);
        for (;;) {
            void *token;
            uint32_t len;
            vio_status st = vio_vq_get_used(b->vq, &token, &len);
            if (st == VIO_E_EMPTY)
                break;
            if (st != VIO_OK)
                die("vio_vq_get_used", st);
            done++;
        }
    }
    total_moved += done;
    return done;
}

static void run_config(uint16_t ring, vio_add_mode mode, uint32_t batch, uint64_t buffers)
{
    uint64_t batches = (buffers + batch - 1) / batch;
    uint64_t done;
    double t0, ns;
    bench b;

    bench_up(&b, ring, mode, batch);
    run_batches(&b, batches / 10 + 1); /* warm caches and branch predictors */
    t0 = bench_now_ns();
    done = run_batches(&b, batches);
    ns = bench_now_ns() - t0;
    if (done != batches * batch) {
        fprintf(stderr, "vq_bench: %llu buffers came back, expected %llu\n",
                (unsigned long long)done, (unsigned long long)(batches * batch));
        exit(1);
    }
    printf("%5u  %-8s  %5u  %10.1f  %12.2f M\n", ring,
           mode == VIO_ADD_INDIRECT ? "indirect" : "direct", batch, ns / (double)done,
           (double)done / ns * 1e3);
    bench_down(&b);
}

int main(int argc, char **argv)
{
    const uint16_t rings[] = { 256, 1024 };
    const vio_add_mode modes[] = { VIO_ADD_DIRECT, VIO_ADD_INDIRECT };
    uint64_t buffers = 4000000;
    uint32_t batch = 32;
    int only_ring = 0, only_mode = -1;
    unsigned r, m;
    int i;

    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--buffers") && i + 1 < argc)
            buffers = bench_parse_count("vq_bench", argv[++i]);
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc)
            batch = (uint32_t)bench_parse_count("vq_bench", argv[++i]);
        else if (!strcmp(argv[i], "--ring") && i + 1 < argc)
            only_ring = (int)bench_parse_count("vq_bench", argv[++i]);
        else if (!strcmp(argv[i], "--mode") && i + 1 < argc)
            only_mode = !strcmp(argv[++i], "indirect") ? 1 : 0;
        else {
            fprintf(stderr, "usage: vq_bench [--buffers N] [--batch N] [--ring 256|1024] "
                            "[--mode direct|indirect]\n");
            return 2;
        }
    }
    if (batch > 256 || (only_ring && only_ring != 256 && only_ring != 1024)) {
        fprintf(stderr, "vq_bench: batch must be <= 256 and ring 256 or 1024\n");
        return 2;
    }
    printf("vq_bench: %llu buffers per row; each 2 device-readable segments (%u + %u bytes)\n",
           (unsigned long long)buffers, HEADER_LEN, PAYLOAD_LEN);
    printf(" ring  mode      batch   ns/buffer     buffers/s\n");
    for (r = 0; r < 2; r++) {
        if (only_ring && only_ring != rings[r])
            continue;
        for (m = 0; m < 2; m++)
            if (only_mode < 0 || only_mode == (int)m)
                run_config(rings[r], modes[m], batch, buffers);
    }
    printf("run_batches moved %llu buffers in total (warm-up included)\n",
           (unsigned long long)total_moved);
    return 0;
}
