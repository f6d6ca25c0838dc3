/*
 * udpseq - a sequence-stamped UDP stream for the migration lab
 * (tools/lab/lab.py, docs/results.md). It runs in the guest (busybox
 * initramfs: no Python there) and in the host's peer namespace.
 *
 *   udpseq send HOST PORT RATE SECS   RATE datagrams per second for SECS
 *   udpseq recv PORT SECS [LOG]       receive for SECS (or until SIGTERM)
 *   udpseq now                        print CLOCK_REALTIME (the guest's
 *                                     timestamps for its events: busybox's
 *                                     date has no sub-second format)
 *
 * A datagram carries "VFOS", its sequence number and the sender's
 * CLOCK_REALTIME in nanoseconds (big-endian). The sender prints how many it
 * sent; the receiver says when it listens, then prints what arrived: unique, duplicates, reorders
 * (a first arrival lower than one already seen), the highest sequence
 * number, the longest burst of missing numbers, the longest gap between
 * arrivals and the missing ranges; with LOG it writes one line per arrival
 * ("seq arrival-seconds", CLOCK_REALTIME) so the host can place the losses
 * against QEMU's events. Malformed datagrams are counted, never trusted.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { MAX_SEQ = 1 << 20, PAYLOAD = 64, MAX_RANGES_PRINTED = 40 };

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static double now_realtime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int run_sender(const char *host, int port, int rate, double secs)
{
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    if (inet_pton(AF_INET, host, &to.sin_addr) != 1 || rate <= 0 || rate > 100000) {
        fprintf(stderr, "udpseq: bad address %s or rate %d\n", host, rate);
        return 2;
    }
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) {
        perror("udpseq: socket");
        return 2;
    }
    uint8_t buf[PAYLOAD] = { 'V', 'F', 'O', 'S' };
    double start = now_monotonic(), t0 = now_realtime();
    uint32_t seq = 0, send_errors = 0;
    while (!stop_requested && seq < MAX_SEQ) {
        double due = start + (double)seq / rate;
        if (due - start >= secs)
            break;
        double wait = due - now_monotonic();
        if (wait > 0) {
            struct timespec ts = { (time_t)wait, (long)((wait - (time_t)wait) * 1e9) };
            nanosleep(&ts, NULL);
        }
        uint64_t ns = (uint64_t)(now_realtime() * 1e9);
        put_be32(buf + 4, seq);
        put_be32(buf + 8, (uint32_t)(ns >> 32));
        put_be32(buf + 12, (uint32_t)ns);
        /* No route or no neighbour yet (a path switch): counted, the
         * sequence number is spent either way, so the receiver sees a loss. */
        if (sendto(fd, buf, sizeof buf, 0, (struct sockaddr *)&to, sizeof to) < 0)
            send_errors++;
        seq++;
    }
    printf("udpseq: sent=%u send_errors=%u rate=%d t0=%.6f\n", seq, send_errors, rate, t0);
    close(fd);
    return 0;
}

typedef struct receiver {
    uint8_t *count; /* arrivals per sequence number (saturating) */
    uint32_t highest, unique, duplicates, reorders, malformed;
    double last_arrival, longest_gap;
    FILE *log;
} receiver;

static void receive_one(receiver *r, const uint8_t *buf, ssize_t len)
{
    if (len < 16 || memcmp(buf, "VFOS", 4) != 0) {
        r->malformed++;
        return;
    }
    uint32_t seq = get_be32(buf + 4);
    if (seq >= MAX_SEQ) {
        r->malformed++;
        return;
    }
    double t = now_realtime();
    if (r->log)
        fprintf(r->log, "%u %.6f\n", seq, t);
    if (r->count[seq]) {
        r->duplicates++;
    } else {
        if (r->unique && seq < r->highest)
            r->reorders++;
        r->unique++;
    }
    if (r->count[seq] < 255)
        r->count[seq]++;
    if (seq > r->highest || r->unique == 1)
        r->highest = seq > r->highest ? seq : r->highest;
    if (r->last_arrival > 0 && t - r->last_arrival > r->longest_gap)
        r->longest_gap = t - r->last_arrival;
    r->last_arrival = t;
}

static void print_summary(const receiver *r)
{
    uint32_t burst = 0, run = 0, printed = 0;
    char ranges[2048] = "";
    size_t used = 0;
    for (uint32_t s = 0; r->unique && s <= r->highest; s++) {
        if (!r->count[s]) {
            run++;
            burst = run > burst ? run : burst;
            continue;
        }
        if (run && printed < MAX_RANGES_PRINTED && used < sizeof ranges - 32) {
            used += (size_t)snprintf(ranges + used, sizeof ranges - used, "%s%u-%u",
                                     printed ? "," : "", s - run, s - 1);
            printed++;
        }
        run = 0;
    }
    printf("udpseq: unique=%u duplicates=%u reorders=%u highest=%u burst=%u gap_ms=%.1f "
           "malformed=%u missing=%s\n",
           r->unique, r->duplicates, r->reorders, r->unique ? r->highest : 0, burst,
           r->longest_gap * 1e3, r->malformed, printed ? ranges : "-");
    fflush(stdout);
}

static int run_receiver(int port, double secs, const char *log_path)
{
    receiver r = { .count = calloc(MAX_SEQ, 1) };
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    if (!r.count || fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof me) < 0) {
        perror("udpseq: receiver");
        return 2;
    }
    if (log_path && !(r.log = fopen(log_path, "w"))) {
        perror(log_path);
        return 2;
    }
    struct timeval tv = { 0, 200000 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    /* The guest starts its peer's sender only once this is printed: a
     * datagram before the bind would be a loss no path caused. */
    printf("udpseq: listening port=%d\n", port);
    double end = now_monotonic() + secs;
    uint8_t buf[2048];
    while (!stop_requested && now_monotonic() < end) {
        ssize_t len = recv(fd, buf, sizeof buf, 0);
        if (len >= 0)
            receive_one(&r, buf, len);
        else if (errno != EAGAIN && errno != EINTR)
            break;
    }
    print_summary(&r);
    if (r.log)
        fclose(r.log);
    free(r.count);
    close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    struct sigaction sa = { .sa_handler = on_signal };
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 6 && strcmp(argv[1], "send") == 0)
        return run_sender(argv[2], atoi(argv[3]), atoi(argv[4]), atof(argv[5]));
    if (argc == 2 && strcmp(argv[1], "now") == 0) {
        printf("%.6f\n", now_realtime());
        return 0;
    }
    if ((argc == 4 || argc == 5) && strcmp(argv[1], "recv") == 0)
        return run_receiver(atoi(argv[2]), atof(argv[3]), argc == 5 ? argv[4] : NULL);
    fprintf(stderr,
            "usage: udpseq send HOST PORT RATE SECS | udpseq recv PORT SECS [LOG] | udpseq now\n");
    return 2;
}
