/*
 * vnet_bench - single-thread frame rates through lib/vnet to the emu/dev
 * virtio-net model and back, on the test platform (guest memory, OS and
 * host ops of tests/support/vio_harness).
 *
 * Transmit: per batch the driver queues `batch` frames with vnet_tx, kicks
 * once (the device runs the queue from the notify hook: pops, checks the
 * header, hands each frame to a backend that only counts it, returns the
 * buffer), then completes them with vnet_tx_reap and its tx_done callback,
 * as the TX DPC does. 64-byte frames are one mapped segment (copied next
 * to the header: one descriptor), 1500-byte frames one segment (header +
 * data: two descriptors), 64 KiB TSO sends sixteen 4 KiB segments with a
 * TSO4 offload request (one indirect table); the device gathers such a
 * frame into one buffer before handing it over.
 *
 * Receive: per batch the "wire" hands `batch` frames to the device
 * (emu_vnet_receive: filter, header, copy into a 2 KiB mergeable buffer,
 * return it), then the driver takes each with vnet_rx_next and gives it
 * back with vnet_rx_return, and kicks once, as the RX DPC does with
 * interrupts off.
 *
 * Prints ns per frame and frames per second. Wall-clock figures are
 * reported, never checked. For instruction counts run one case under
 * callgrind with --toggle-collect=run_batches and divide by the count the
 * last line prints (see README, Performance).
 *
 * Usage: vnet_bench [--frames N] [--batch N] [--case tx64|tx1500|tso64k|rx64|rx1500]
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime under -std=c11 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "vio_harness.h"
#include "virtio_net_dev.h"
#include "vnet.h"

#define TSO_LEN   65536u
#define TSO_SEGS  16u
#define MAX_BATCH 128u

typedef enum bench_case { TX64, TX1500, TSO64K, RX64, RX1500, CASE_COUNT } bench_case;

static const struct {
    const char *name;
    uint32_t len;
    bool rx;
} cases[CASE_COUNT] = {
    [TX64] = { "tx64", 64, false },          [TX1500] = { "tx1500", 1500, false },
    [TSO64K] = { "tso64k", TSO_LEN, false }, [RX64] = { "rx64", 64, true },
    [RX1500] = { "rx1500", 1500, true },
};

typedef struct bench {
    vio_harness *h;
    emu_vnet *dev;
    vnet *n;
    vio_dma payload;
    bench_case which;
    uint32_t batch;
    uint64_t sunk, completed;
    uint8_t frame[1500];
} bench;

/* Every frame run_batches moved, warm-up included: divide callgrind's
 * instruction count for run_batches by this. */
static uint64_t total_moved;

static void die(const char *what, const char *why)
{
    fprintf(stderr, "vnet_bench: %s failed: %s\n", what, why);
    exit(1);
}

static void sink(void *ctx, emu_vnet *dev, const uint8_t *frame, size_t len,
                 const emu_vnet_meta *meta)
{
    bench *b = ctx;

    (void)dev;
    (void)frame;
    (void)len;
    (void)meta;
    b->sunk++;
}

static const emu_vnet_backend sink_backend = { .transmit = sink };

static void tx_done(void *ctx, void *cookie, vnet_status status)
{
    bench *b = ctx;

    (void)cookie;
    (void)status;
    b->completed++;
}

static const vnet_callbacks callbacks = { .tx_done = tx_done };

static emu_vdev *make_device(void *ctx, const emu_vdev_host_ops *host, void *host_ctx,
                             uint16_t vectors)
{
    static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
    bench *b = ctx;
    emu_vnet_params p = { .host = host, .host_ctx = host_ctx, .msix_vectors = vectors };

    p.features = EMU_VNET_FEATURES_ALL;
    memcpy(p.mac, mac, 6);
    b->dev = emu_vnet_create(&p);
    return b->dev ? emu_vnet_vdev(b->dev) : NULL;
}

static void bench_up(bench *b, bench_case which, uint32_t batch)
{
    vh_params hp = { .num_queues = 3, .process_on_notify = true, .make_device = make_device };
    vnet_status st;

    memset(b, 0, sizeof(*b));
    b->which = which;
    b->batch = batch;
    hp.make_ctx = b;
    b->h = vh_create(&hp);
    if (!b->h)
        die("vh_create", "no memory");
    emu_vnet_set_backend(b->dev, &sink_backend, b);
    st = vnet_create(&b->h->ops, b->h, NULL, &callbacks, b, &b->n);
    if (st == VNET_OK)
        st = vnet_start(b->n);
    if (st != VNET_OK)
        die("vnet start", vnet_status_name(st));
    if (!vh_dma_alloc(b->h, (size_t)MAX_BATCH * TSO_LEN, &b->payload))
        die("payload allocation", "no memory");
    memset(b->frame, 0xFF, 6); /* broadcast: passes any filter */
    memcpy(b->frame + 6, "\x02\x00\x00\x00\x00\x01\x88\xb5", 8);
    memcpy(b->payload.va, b->frame, 14);
    vnet_tx_disable_intr(b->n);
    vnet_rx_disable_intr(b->n);
}

static void bench_down(bench *b)
{
    vnet_destroy(b->n);
    vh_dma_free(b->h, &b->payload);
    if (!vh_destroy(b->h))
        fprintf(stderr, "vnet_bench: harness reported a leak or corruption\n");
    emu_vnet_destroy(b->dev);
}

static void send_one(bench *b, uint32_t i)
{
    static const vnet_tx_offload tso = {
        .flags = VNET_TXO_TSO4, .csum_start = 34, .csum_offset = 16, .mss = 1448, .hdr_len = 54
    };
    uint64_t pa = b->payload.pa + (uint64_t)i * TSO_LEN;
    uint8_t *va = (uint8_t *)b->payload.va + (size_t)i * TSO_LEN;
    vnet_tx_seg segs[TSO_SEGS];
    const vnet_tx_offload *off = NULL;
    uint16_t n = 1, k;
    vnet_status st;

    segs[0] = (vnet_tx_seg){ pa, va, cases[b->which].len };
    if (b->which == TSO64K) {
        for (k = 0; k < TSO_SEGS; k++)
            segs[k] = (vnet_tx_seg){ pa + k * 4096u, va + k * 4096u, 4096 };
        n = TSO_SEGS;
        off = &tso;
    }
    st = vnet_tx(b->n, segs, n, off, b);
    if (st != VNET_OK)
        die("vnet_tx", vnet_status_name(st));
}

static uint64_t tx_batch(bench *b)
{
    uint64_t before = b->completed;
    uint32_t i;

    for (i = 0; i < b->batch; i++)
        send_one(b, i);
    vnet_tx_kick(b->n);
    vnet_tx_reap(b->n, b->batch);
    return b->completed - before;
}

static uint64_t rx_batch(bench *b)
{
    uint32_t len = cases[b->which].len, i;
    uint64_t got = 0;
    vnet_rx_frame f;

    for (i = 0; i < b->batch; i++)
        if (emu_vnet_receive(b->dev, b->frame, len, NULL) != EMU_VNET_RX_DELIVERED)
            die("emu_vnet_receive", "frame not delivered");
    while (vnet_rx_next(b->n, &f) == VNET_OK) {
        vnet_rx_return(b->n, f.handle);
        got++;
    }
    vnet_rx_kick(b->n);
    return got;
}

/* The measured loop. Not inlined, so callgrind can count exactly it. */
__attribute__((noinline)) static uint64_t run_batches(bench *b, uint64_t batches)
{
    uint64_t done = 0, n;

    for (n = 0; n < batches; n++)
        done += cases[b->which].rx ? rx_batch(b) : tx_batch(b);
    total_moved += done;
    return done;
}

static void run_case(bench_case which, uint32_t batch, uint64_t frames)
{
    uint64_t batches = (frames + batch - 1) / batch, done;
    double t0, ns;
    bench *b = malloc(sizeof(*b));

    if (!b)
        die("malloc", "no memory");
    bench_up(b, which, batch);
    run_batches(b, batches / 10 + 1); /* warm caches and branch predictors */
    t0 = bench_now_ns();
    done = run_batches(b, batches);
    ns = bench_now_ns() - t0;
    if (done != batches * batch)
        die(cases[which].name, "frames went missing");
    printf("%-7s  %5u  %7u  %10.1f  %10.2f M  %8.2f\n", cases[which].name, cases[which].len, batch,
           ns / (double)done, (double)done / ns * 1e3, (double)done * cases[which].len * 8 / ns);
    bench_down(b);
    free(b);
}

static int parse_case(const char *s)
{
    int c;

    for (c = 0; c < CASE_COUNT; c++)
        if (!strcmp(s, cases[c].name))
            return c;
    fprintf(stderr, "vnet_bench: unknown case %s\n", s);
    exit(2);
}

int main(int argc, char **argv)
{
    uint64_t frames = 2000000;
    uint32_t batch = 32;
    int only = -1, c, i;

    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--frames") && i + 1 < argc)
            frames = bench_parse_count("vnet_bench", argv[++i]);
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc)
            batch = (uint32_t)bench_parse_count("vnet_bench", argv[++i]);
        else if (!strcmp(argv[i], "--case") && i + 1 < argc)
            only = parse_case(argv[++i]);
        else {
            fprintf(stderr, "usage: vnet_bench [--frames N] [--batch N] "
                            "[--case tx64|tx1500|tso64k|rx64|rx1500]\n");
            return 2;
        }
    }
    if (batch > MAX_BATCH) {
        fprintf(stderr, "vnet_bench: batch must be <= %u\n", MAX_BATCH);
        return 2;
    }
    printf("vnet_bench: %llu frames per row (TSO rows: a tenth), batch %u\n",
           (unsigned long long)frames, batch);
    printf("case      bytes    batch    ns/frame    frames/s    Gbit/s\n");
    for (c = 0; c < CASE_COUNT; c++)
        if (only < 0 || only == c)
            run_case((bench_case)c, batch, c == TSO64K && only < 0 ? frames / 10 : frames);
    printf("run_batches moved %llu frames in total (warm-up included)\n",
           (unsigned long long)total_moved);
    return 0;
}
