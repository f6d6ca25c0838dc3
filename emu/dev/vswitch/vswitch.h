/*
 * vswitch.h - the host side of the network: a MAC-learning L2 switch that
 * joins the guest's virtio backend (a tap), its VF port(s) on the NIC's
 * embedded switch and the peer hosts, on one or several hosts (ports are
 * named "src-tap", "dst-vf0", ...).
 *
 * The quirks that decide whether a failover loses traffic are modelled:
 *  - VF MAC ownership: when the host assigns the VF its MAC (`ip link set
 *    PF vf N mac M`), the NIC steers frames for M to the VF port only, and
 *    its anti-spoof check drops frames with source M arriving on any other
 *    port, i.e. the guest's own frames on the virtio path. Both last until
 *    the host clears the VF MAC (NetKVM's documentation tells admins to).
 *  - The FDB moves only when told (emu_switch_fdb_set, what a management
 *    layer does) or when a frame from the MAC arrives on another port
 *    (learning, if on). Nothing ages out.
 *  - Optional path flooding: unicast frames for a MAC also go to every other
 *    port whose station has that MAC (tap and VF both get a copy).
 * For tests, a port's egress can drop, duplicate and reorder frames in
 * exactly known numbers.
 *
 * Frames are delivered synchronously, with the switch unlocked, to the rx
 * function the station connected; the frame is valid during the call only.
 * A station must not call back into the switch from its rx function with
 * a lock held that its own send path takes; device models copy and defer.
 */
#ifndef EMU_VSWITCH_H
#define EMU_VSWITCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EMU_SWITCH_MAX_PORTS 32
#define EMU_SWITCH_FDB_SIZE  256

typedef struct emu_switch emu_switch;
typedef struct emu_port emu_port;

/* from_port: emu_port_id() of the port the frame first entered a switch on
 * (kept across cables between switches: the sender's own port). */
typedef void (*emu_port_rx_fn)(void *ctx, const uint8_t *frame, size_t len, unsigned from_port);

typedef struct emu_port_stats {
    uint64_t rx_frames;       /* accepted from the station */
    uint64_t tx_frames;       /* delivered to the station (impairment copies included) */
    uint64_t flooded;         /* of tx_frames: copies from flooding */
    uint64_t drop_down;       /* to or from the port while it was down */
    uint64_t drop_no_station; /* to the port with nothing connected */
    uint64_t drop_spoof;      /* from the station with a MAC the host gave another (VF) port */
    uint64_t drop_hairpin;    /* would have gone back out of the port it came in on */
    uint64_t drop_bad;        /* too short or too long to be an Ethernet frame */
    uint64_t impair_drops, impair_dups, impair_swaps;
} emu_port_stats;

/* Egress impairment: the k-th frame offered to the port (k = 1, 2, ...) is
 * dropped when k % drop_every == 0, sent twice when k % dup_every == 0,
 * held back and sent after frame k + 1 when k % swap_every == 0; each at
 * most *_max times (0: unlimited). A zero period disables that fault. */
typedef struct emu_impair {
    uint32_t drop_every, drop_max;
    uint32_t dup_every, dup_max;
    uint32_t swap_every, swap_max;
} emu_impair;

emu_switch *emu_switch_create(void);
void emu_switch_destroy(emu_switch *sw);

/* Adds a port (up, learning, nothing connected). NULL when the name exists,
 * is too long, or the switch is full. */
emu_port *emu_switch_add_port(emu_switch *sw, const char *name);
emu_port *emu_switch_port(emu_switch *sw, const char *name);
size_t emu_switch_port_count(emu_switch *sw);
emu_port *emu_switch_port_at(emu_switch *sw, size_t i);
const char *emu_port_name(const emu_port *p);
/* A number unique to the port in the process (never reused), tagging paths. */
unsigned emu_port_id(const emu_port *p);

/* Connects the station's receive function (NULL disconnects). */
void emu_port_connect(emu_port *p, emu_port_rx_fn rx, void *ctx);
/* A station whose wire can refuse a frame (a real interface that is going
 * down, or whose queue is full): rx returns false when the frame did not go
 * out. The sender learns it from emu_port_send_checked and may keep the
 * frame and offer it again. */
typedef bool (*emu_port_rx_check_fn)(void *ctx, const uint8_t *frame, size_t len,
                                     unsigned from_port);
void emu_port_connect_checked(emu_port *p, emu_port_rx_check_fn rx, void *ctx);
/* A watcher of every frame the port delivers to its station (after the
 * station has it; same context and rules as the station's rx); NULL stops. */
void emu_port_observe(emu_port *p, emu_port_rx_fn fn, void *ctx);
void emu_port_set_up(emu_port *p, bool up);
bool emu_port_is_up(emu_port *p);
/* The MAC of the station behind the port, for path flooding (NULL clears). */
void emu_port_set_station_mac(emu_port *p, const uint8_t mac[6]);
void emu_port_set_impair(emu_port *p, const emu_impair *imp);
void emu_port_get_stats(emu_port *p, emu_port_stats *out);

/* A frame from the station into the switch. Returns the number of ports it
 * was delivered to. */
unsigned emu_port_send(emu_port *p, const uint8_t *frame, size_t len);
/* emu_port_send, also counting in *refused the deliveries whose station
 * (emu_port_connect_checked) refused the frame; those are not in the result.
 * A frame offered while the sender's own port is down is refused (1): it
 * never left, and the sender may keep it as a NIC without carrier does. */
unsigned emu_port_send_checked(emu_port *p, const uint8_t *frame, size_t len, unsigned *refused);

/* The switch a port belongs to. */
emu_switch *emu_port_switch(const emu_port *p);
/* A cable between ports of two switches: what either receives, the other
 * sends into its switch. */
void emu_port_link(emu_port *a, emu_port *b);

void emu_switch_set_learning(emu_switch *sw, bool on);
/* A configured FDB entry (replaces a learned one). -1 when the table is full. */
int emu_switch_fdb_set(emu_switch *sw, const uint8_t mac[6], emu_port *p);
void emu_switch_fdb_del(emu_switch *sw, const uint8_t mac[6]);
emu_port *emu_switch_fdb_lookup(emu_switch *sw, const uint8_t mac[6]);
/* The host gives the VF behind `p` the MAC `mac` (steering + anti-spoof);
 * NULL or all zeros clears it, as `ip link set PF vf N mac 00:00:00:00:00:00`. */
void emu_switch_set_vf_mac(emu_switch *sw, emu_port *p, const uint8_t mac[6]);
void emu_switch_set_flood_paths(emu_switch *sw, bool on);

/* ---- a fabric: a top-of-rack switch joining one switch per host ----
 * Each host's switch stands for that host's NIC embedded switch and bridge
 * (its VF ports "<host>-vf<N>", the guest's tap "<host>-tap<N>", its uplink
 * "<host>-uplink"); the top-of-rack switch ("tor") has a port "tor-<host>"
 * per host and the peers' ports. So VF MAC steering and anti-spoofing act
 * per host, and the top-of-rack switch learns which host a MAC is on. */
typedef struct emu_fabric emu_fabric;

#define EMU_FABRIC_MAX_HOSTS 8

emu_fabric *emu_fabric_create(void);
void emu_fabric_destroy(emu_fabric *f);
emu_switch *emu_fabric_tor(emu_fabric *f);
/* The host's switch, created and cabled to the top of rack on first use. */
emu_switch *emu_fabric_host(emu_fabric *f, const char *host);
/* A port by name, or by emu_port_id, on any switch of the fabric; NULL if none. */
emu_port *emu_fabric_port(emu_fabric *f, const char *name);
emu_port *emu_fabric_port_by_id(emu_fabric *f, unsigned id);
/* "<host>-<kind><index>" on the host's switch, created on first use. */
emu_port *emu_fabric_host_port(emu_fabric *f, const char *host, const char *kind, unsigned index);
/* Every switch: the top of rack first, then the hosts in creation order. */
size_t emu_fabric_switch_count(emu_fabric *f);
emu_switch *emu_fabric_switch_at(emu_fabric *f, size_t i);
void emu_fabric_set_learning(emu_fabric *f, bool on);
void emu_fabric_set_flood_paths(emu_fabric *f, bool on);

#endif /* EMU_VSWITCH_H */
