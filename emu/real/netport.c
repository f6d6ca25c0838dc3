/*
 * netport.c - a Linux interface on an emulated switch through AF_PACKET
 * (netport.h).
 */
#include "netport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <linux/ethtool.h>
#include <linux/if_packet.h>
#include <linux/net_tstamp.h>
#include <linux/sockios.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "evq.h"

#define ETH_MAX_FRAME 1518 /* 1514 + a VLAN tag */

struct emu_netport {
    emu_runtime *rt;
    char ifname[IFNAMSIZ];
    int fd, quit_fd;
    int txfd;     /* sends only (protocol 0: receives nothing), its own error queue */
    bool ts_seen; /* the driver has time-stamped a frame: it does so for every one it queues */
    emu_port *port;
    pthread_t thread;
    bool running;
    evq q;
    emu_netport_stats st;
};

static int ifreq_ioctl(const char *ifname, unsigned long req, struct ifreq *ifr)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -1;
    snprintf(ifr->ifr_name, IFNAMSIZ, "%s", ifname);
    int r = ioctl(s, req, ifr);
    close(s);
    return r;
}

int emu_netif_mac(const char *ifname, uint8_t mac[6])
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    if (ifreq_ioctl(ifname, SIOCGIFHWADDR, &ifr))
        return -1;
    memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
    return 0;
}

int emu_netif_carrier(const char *ifname, bool *up)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    if (ifreq_ioctl(ifname, SIOCGIFFLAGS, &ifr))
        return -1;
    *up = (ifr.ifr_flags & IFF_RUNNING) != 0;
    return 0;
}

/* GRO would hand the socket merged segments no wire ever carried. */
static void gro_off(const char *ifname)
{
    struct ethtool_value ev = { ETHTOOL_SGRO, 0 };
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_data = (char *)&ev;
    (void)ifreq_ioctl(ifname, SIOCETHTOOL, &ifr);
}

static int bring_up(const char *ifname)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    if (ifreq_ioctl(ifname, SIOCGIFFLAGS, &ifr))
        return -1;
    if (ifr.ifr_flags & IFF_UP)
        return 0;
    ifr.ifr_flags |= IFF_UP;
    return ifreq_ioctl(ifname, SIOCSIFFLAGS, &ifr);
}

/* Platform work: one received frame into the switch. */
static void to_switch(void *ctx, const void *frame, size_t len)
{
    emu_netport *np = ctx;
    emu_port_send(np->port, frame, len);
}

/* Errors with which the kernel refused a frame it did not send: the
 * interface is not running (going down, being ejected: __dev_direct_xmit
 * checks that and the carrier), its queue is stopped or the socket's send
 * buffer is full. The sender keeps the frame. Anything else (a frame the
 * interface can never carry) is dropped and counted. */
static bool refused(int e)
{
    return e == ENOBUFS || e == EAGAIN || e == EWOULDBLOCK || e == ENETDOWN || e == ENXIO ||
           e == ENODEV;
}

/* Whether the driver queued the frame just sent to its device: its
 * software transmit time stamp (skb_tx_timestamp, which a driver calls
 * when it hands the frame to the hardware, in the same call) is on the
 * error queue when send() returns. A driver may also take a frame and
 * drop it (e1000e does while it is being removed: __E1000_DOWN is set
 * before the interface is closed), which only the missing stamp shows.
 * Required only once the driver has stamped a frame. */
static bool tx_confirmed(emu_netport *np)
{
    bool stamped = false;
    for (;;) {
        char ctrl[256];
        struct msghdr m;
        memset(&m, 0, sizeof(m));
        m.msg_control = ctrl;
        m.msg_controllen = sizeof(ctrl);
        if (recvmsg(np->txfd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
            break;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
            if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_TX_TIMESTAMP)
                continue;
            const struct sock_extended_err *ee = (const void *)CMSG_DATA(c);
            if (ee->ee_origin == SO_EE_ORIGIN_TIMESTAMPING && ee->ee_info == SCM_TSTAMP_SND)
                stamped = true;
        }
    }
    if (stamped)
        np->ts_seen = true;
    return stamped || !np->ts_seen;
}

/* The switch delivers a frame to the interface. With PACKET_QDISC_BYPASS
 * the frame goes straight to the driver's transmit routine, so a send that
 * returns success was taken by the device, and one the device did not take
 * fails here; through the qdisc a frame sent while the kernel is taking the
 * interface down is dropped silently (noop qdisc) and the send succeeds. */
static bool from_switch(void *ctx, const uint8_t *frame, size_t len, unsigned from_port)
{
    emu_netport *np = ctx;
    (void)from_port;
    ssize_t n = send(np->txfd, frame, len, MSG_DONTWAIT);
    if (n == (ssize_t)len) {
        if (!tx_confirmed(np)) {
            __atomic_add_fetch(&np->st.tx_unconfirmed, 1, __ATOMIC_RELAXED);
            return false;
        }
        __atomic_add_fetch(&np->st.tx_frames, 1, __ATOMIC_RELAXED);
        return true;
    }
    if (n < 0 && refused(errno)) {
        __atomic_add_fetch(&np->st.tx_refused, 1, __ATOMIC_RELAXED);
        return false;
    }
    __atomic_add_fetch(&np->st.tx_errors, 1, __ATOMIC_RELAXED);
    return true;
}

static void *rx_main(void *arg)
{
    emu_netport *np = arg;
    uint8_t buf[65536];
    struct pollfd fds[2] = { { np->fd, POLLIN, 0 }, { np->quit_fd, POLLIN, 0 } };
    for (;;) {
        if (poll(fds, 2, -1) < 0 && errno != EINTR)
            break;
        if (fds[1].revents)
            break;
        if (!(fds[0].revents & POLLIN)) {
            if (fds[0].revents & (POLLERR | POLLHUP | POLLNVAL))
                usleep(10000); /* the interface went away; removal follows */
            continue;
        }
        struct sockaddr_ll from;
        socklen_t fl = sizeof(from);
        ssize_t n = recvfrom(np->fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
        if (n <= 0 || from.sll_pkttype == PACKET_OUTGOING)
            continue;
        if (n > ETH_MAX_FRAME) {
            __atomic_add_fetch(&np->st.rx_oversize, 1, __ATOMIC_RELAXED);
            continue;
        }
        __atomic_add_fetch(&np->st.rx_frames, 1, __ATOMIC_RELAXED);
        evq_push(&np->q, buf, (size_t)n);
    }
    return NULL;
}

emu_netport *emu_netport_open(emu_runtime *rt, const char *ifname, emu_port *port, char *err,
                              size_t errlen)
{
    emu_netport *np = calloc(1, sizeof(*np));
    if (!np) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    np->rt = rt;
    np->port = port;
    np->fd = np->quit_fd = np->txfd = -1;
    snprintf(np->ifname, sizeof(np->ifname), "%s", ifname);
    unsigned idx = if_nametoindex(ifname);
    if (!idx) {
        snprintf(err, errlen, "%s: no such interface", ifname);
        emu_netport_close(np);
        return NULL;
    }
    if (bring_up(ifname)) {
        snprintf(err, errlen, "bringing %s up: %s", ifname, strerror(errno));
        emu_netport_close(np);
        return NULL;
    }
    gro_off(ifname);
    np->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
    struct sockaddr_ll sll;
    memset(&sll, 0, sizeof(sll));
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = (int)idx;
    if (np->fd < 0 || bind(np->fd, (struct sockaddr *)&sll, sizeof(sll))) {
        snprintf(err, errlen, "AF_PACKET socket on %s: %s (needs root)", ifname, strerror(errno));
        emu_netport_close(np);
        return NULL;
    }
    /* Sends: straight to the driver (PACKET_QDISC_BYPASS), each confirmed
     * by its software transmit time stamp (tx_confirmed). */
    np->txfd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    sll.sll_protocol = 0;
    int one = 1;
    int ts = SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_TSONLY;
    if (np->txfd < 0 || bind(np->txfd, (struct sockaddr *)&sll, sizeof(sll)) ||
        setsockopt(np->txfd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) ||
        setsockopt(np->txfd, SOL_SOCKET, SO_TIMESTAMPING, &ts, sizeof(ts))) {
        snprintf(err, errlen, "AF_PACKET send socket on %s: %s", ifname, strerror(errno));
        emu_netport_close(np);
        return NULL;
    }
    np->quit_fd = eventfd(0, EFD_CLOEXEC);
    evq_init(&np->q, rt, 4096, to_switch, np);
    emu_port_connect_checked(port, from_switch, np);
    np->running = np->quit_fd >= 0 && pthread_create(&np->thread, NULL, rx_main, np) == 0;
    if (!np->running) {
        snprintf(err, errlen, "starting the receive thread failed");
        emu_netport_close(np);
        return NULL;
    }
    return np;
}

void emu_netport_close(emu_netport *np)
{
    if (!np)
        return;
    if (np->port)
        emu_port_connect(np->port, NULL, NULL);
    if (np->running) {
        uint64_t one = 1;
        if (write(np->quit_fd, &one, sizeof(one)) == sizeof(one))
            pthread_join(np->thread, NULL);
        evq_clear(&np->q);
        /* A drain already picked up must finish before np goes. */
        for (int i = 0; i < 1000; i++) {
            pthread_mutex_lock(&np->q.mu);
            bool busy = np->q.scheduled;
            pthread_mutex_unlock(&np->q.mu);
            if (!busy)
                break;
            usleep(1000);
        }
    }
    if (np->fd >= 0)
        close(np->fd);
    if (np->txfd >= 0)
        close(np->txfd);
    if (np->quit_fd >= 0)
        close(np->quit_fd);
    free(np);
}

void emu_netport_get_stats(emu_netport *np, emu_netport_stats *out)
{
    out->rx_frames = __atomic_load_n(&np->st.rx_frames, __ATOMIC_RELAXED);
    out->tx_frames = __atomic_load_n(&np->st.tx_frames, __ATOMIC_RELAXED);
    out->rx_oversize = __atomic_load_n(&np->st.rx_oversize, __ATOMIC_RELAXED);
    out->tx_errors = __atomic_load_n(&np->st.tx_errors, __ATOMIC_RELAXED);
    out->tx_refused = __atomic_load_n(&np->st.tx_refused, __ATOMIC_RELAXED);
    out->tx_unconfirmed = __atomic_load_n(&np->st.tx_unconfirmed, __ATOMIC_RELAXED);
}
