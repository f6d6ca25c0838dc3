"""The migration lab's host network (tools/lab/lab.py): two network
namespaces, always torn down.

  vfolab-sw    a Linux bridge br0 standing in for the host switch; the
               guests' NICs are TAP ports on it: set "a" (lta-v virtio-net,
               lta-e e1000e) and set "b" (ltb-v, ltb-e); source and
               destination QEMU each take one set, so both paths of both
               hosts reach the same L2 and a TCP connection can survive a
               path change; QEMU runs inside this namespace
  vfolab-peer  the peer host (198.18.0.1/24 on peer0, a veth to br0): the
               iperf3 server and udpseq

Addresses come from 198.18.0.0/15 (benchmarking) and live inside the
namespaces only. The sniffer (`labnet.py sniff OUT`, run inside vfolab-sw)
records every frame crossing a TAP port with the kernel's timestamp: which
port, which direction (in = from the guest into the switch, out = from the
switch to the guest), its length, and for the lab's streams the UDP
sequence number or the TCP payload length. With a pcap directory
(`labnet.py sniff OUT DIR`, lab.py --pcap) it also writes every frame it
records, whole, to DIR/PORT.pcap (tools/lab/labpcap.py); the JSON stays
what it is without it (lengths as read into 2048 bytes).
"""
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time

import labpcap

NS_SW = "vfolab-sw"
NS_PEER = "vfolab-peer"
PEER_IP = "198.18.0.1"
GUEST_IP = "198.18.0.2"
PREFIX = 24
TAP_SETS = ("a", "b")
UDP_OUT_PORT = 7001  # guest -> peer (tools/lab/guest-lab.sh)
UDP_IN_PORT = 7002  # peer -> guest
IPERF_PORT = 5201


def taps(tap_set):
    """The TAP names of one set: (virtio-net's, the e1000e's)."""
    return f"lt{tap_set}-v", f"lt{tap_set}-e"


def run(*cmd, check=True):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {r.stderr.strip() or r.returncode}")
    return r


def in_ns(ns, *cmd, check=True):
    return run("ip", "netns", "exec", ns, *cmd, check=check)


def teardown():
    """Removes both namespaces and everything in them (also what a crashed
    earlier run left)."""
    for ns in (NS_SW, NS_PEER):
        if os.path.exists(f"/run/netns/{ns}"):
            for s in TAP_SETS:
                for t in taps(s):
                    in_ns(ns, "ip", "link", "del", t, check=False)
            run("ip", "netns", "del", ns, check=False)


def setup():
    teardown()
    run("ip", "netns", "add", NS_SW)
    run("ip", "netns", "add", NS_PEER)
    for ns in (NS_SW, NS_PEER):
        # No IPv6: no router solicitations or MLD reports in the counts.
        in_ns(ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
        in_ns(ns, "sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1")
        in_ns(ns, "ip", "link", "set", "lo", "up")
    in_ns(NS_SW, "ip", "link", "add", "br0", "type", "bridge", "stp_state", "0")
    for s in TAP_SETS:
        for t in taps(s):
            in_ns(NS_SW, "ip", "tuntap", "add", "dev", t, "mode", "tap")
            in_ns(NS_SW, "ip", "link", "set", t, "master", "br0", "up")
    in_ns(NS_SW, "ip", "link", "add", "lt-peer", "type", "veth", "peer", "name", "peer0",
          "netns", NS_PEER)
    in_ns(NS_SW, "ip", "link", "set", "lt-peer", "master", "br0", "up")
    in_ns(NS_SW, "ip", "link", "set", "br0", "up")
    in_ns(NS_PEER, "ip", "addr", "add", f"{PEER_IP}/{PREFIX}", "dev", "peer0")
    in_ns(NS_PEER, "ip", "link", "set", "peer0", "up")


def port_counters():
    """Per-port packet counters of the switch (`ip -s link`), for the record."""
    r = in_ns(NS_SW, "ip", "-s", "-j", "link", "show", check=False)
    out = {}
    try:
        for link in json.loads(r.stdout or "[]"):
            st = link.get("stats64") or link.get("stats") or {}
            out[link["ifname"]] = {"rx_packets": st.get("rx", {}).get("packets"),
                                   "tx_packets": st.get("tx", {}).get("packets")}
    except (ValueError, KeyError):
        pass
    return out


# ---------------------------------------------------------------- sniffer

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)


def classify(frame):
    """(kind, detail[, sender's clock]) of one frame: ("udp", seq,
    sender's CLOCK_REALTIME) for a udpseq datagram, ("tcp", payload length)
    for the iperf3 stream, ("arp", 0), ("other", 0)."""
    if len(frame) < 14:
        return "other", 0
    ethertype = struct.unpack_from("!H", frame, 12)[0]
    if ethertype == 0x0806:
        return "arp", 0
    if ethertype != 0x0800 or len(frame) < 34:
        return "other", 0
    ihl = (frame[14] & 0x0F) * 4
    total = struct.unpack_from("!H", frame, 16)[0]
    proto = frame[23]
    l4 = 14 + ihl
    if proto == 17 and len(frame) >= l4 + 24:
        dport = struct.unpack_from("!H", frame, l4 + 2)[0]
        payload = frame[l4 + 8:l4 + 24]
        if dport in (UDP_OUT_PORT, UDP_IN_PORT) and payload[:4] == b"VFOS":
            seq, hi, lo = struct.unpack_from("!III", payload, 4)
            return "udp", seq, ((hi << 32) | lo) / 1e9
        return "other", 0
    if proto == 6 and len(frame) >= l4 + 20:
        sport, dport = struct.unpack_from("!HH", frame, l4)
        if IPERF_PORT in (sport, dport):
            doff = (frame[l4 + 12] >> 4) * 4
            return "tcp", max(0, total - ihl - doff)
    return "other", 0


RECORD_BYTES = 2048  # what the JSON's lengths were always read into


def sniff(out_path, pcap_dir=None):
    """Records frames on the TAP ports until SIGTERM, then writes them as
    JSON: [time, port, "in"|"out", kind, detail, length(, the sender's
    timestamp for udpseq datagrams)] each. With pcap_dir, also each frame
    whole to pcap_dir/PORT.pcap."""
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    s.settimeout(0.2)
    records = []
    pcaps = labpcap.PortWriters(pcap_dir) if pcap_dir else None
    bufsize = labpcap.SNAPLEN if pcaps else RECORD_BYTES
    print("sniffer: ready", flush=True)
    while not stop:
        try:
            frame, anc, _flags, addr = s.recvmsg(bufsize, 64)
        except socket.timeout:
            continue
        except InterruptedError:
            continue
        port = addr[0]
        if not port.startswith("lt") or port == "lt-peer":
            continue
        now = time.time_ns()
        sec, nsec = now // 1000000000, now % 1000000000
        for level, typ, data in anc:
            if level == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS and len(data) >= 16:
                sec, nsec = struct.unpack_from("qq", data)
        t = sec + nsec / 1e9
        if pcaps:
            pcaps.write(port, sec, nsec, frame)
            frame = frame[:RECORD_BYTES]
        direction = "out" if addr[2] == PACKET_OUTGOING else "in"
        c = classify(frame)
        records.append([round(t, 6), port, direction, c[0], c[1], len(frame)] +
                       ([round(c[2], 6)] if len(c) > 2 else []))
    if pcaps:
        pcaps.close()
    with open(out_path, "w") as f:
        json.dump(records, f)


if __name__ == "__main__":
    if len(sys.argv) in (3, 4) and sys.argv[1] == "sniff":
        sniff(sys.argv[2], sys.argv[3] if len(sys.argv) == 4 else None)
    else:
        print("usage: labnet.py sniff OUT.json [PCAP_DIR] (inside the switch namespace)",
              file=sys.stderr)
        sys.exit(2)
