#!/usr/bin/env python3
"""Writes fuzz_oid's seed corpus (corpus/): the requests a TCP/IP stack
makes of a miniport, as the tcpip stand-in (emu/drivers/tcpip/tcpip_bind.c)
makes them (media query, lookahead, multicast list, packet filter, network
addresses), plus the offload, encapsulation, RSS, statistics, power and
query sequences of the scenarios, in the byte format fuzz_oid.c reads.
Run from this directory; the files are committed."""
import struct, os

OID = dict(MEDIA=0x00010114, LOOKAHEAD=0x0001010F, MCAST=0x01010103, FILTER=0x0001010E,
           ADDRS=0x00010118, OFFLOAD=0xFC01020C, ENCAP=0x0101010A, STATS=0x00020106,
           SUPPORTED=0x00010101, RSS=0x00010204, RSSCAPS=0x00010203, POWER=0xFD010101,
           PM=0xFD010109, CURADDR=0x01010102, OFFCFG=0xFC01020B, INTMOD=0x00010209,
           VLAN=0x0001021C, LINKPARAMS=0x00010208)
QUERY, SET, METHOD, STATS_T = 0, 1, 2, 3

def req(kind, oid, data=b"", buf_len=None, method_id=0):
    if buf_len is None:
        buf_len = len(data)
    out = bytes([kind, 0x80]) + struct.pack("<I", oid)
    out += bytes([buf_len]) if buf_len < 0xFF else b"\xff" + struct.pack("<H", buf_len)
    if kind == METHOD:
        out += bytes([method_id]) + struct.pack("<H", len(data))
    return out + (data if kind in (SET, METHOD) else b"")

def sync(r): return b"\x00" + r
def async_(r): return b"\x02" + r
def later(delay_us, r): return b"\x03" + struct.pack("<H", delay_us) + r
RESTART = b"\x04"
def vf(how=0): return b"\x05" + bytes([how])
def run(us): return b"\x06" + struct.pack("<H", us)
POWER = b"\x07"

mcast = bytes.fromhex("01005e000001") + bytes.fromhex("333300000001")
filt = struct.pack("<I", 0x1 | 0x2 | 0x8)
ip4 = struct.pack("<HI8s", 0, 0x0a000002, b"")
addrs = struct.pack("<iH", 1, 2) + b"\0\0" + struct.pack("<HH", len(ip4), 2) + ip4
offload = struct.pack("<BBH11B", 0x80, 3, 26, 3, 3, 3, 3, 3, 0, 0, 2, 2, 0, 0)
offload += b"\0" + struct.pack("<I", 0) + bytes(6)
encap = struct.pack("<BBH6I", 0xA8, 1, 28, 1, 2, 14, 1, 2, 14)
rss = struct.pack("<BBHHHIHIHI", 0x89, 1, 36, 0, 0, 0x301, 0, 0, 40, 0) + bytes(40)

stack = (sync(req(QUERY, OID["MEDIA"], buf_len=4)) + sync(req(SET, OID["LOOKAHEAD"], struct.pack("<I", 1500)))
         + sync(req(SET, OID["MCAST"], mcast)) + sync(req(SET, OID["FILTER"], filt))
         + sync(req(SET, OID["ADDRS"], addrs)))
seeds = {
    "stack-bind": stack,
    "stack-then-vf": stack + vf(0) + run(2000),
    "vf-then-stack": vf(0) + stack + RESTART,
    "offloads": sync(req(QUERY, OID["OFFCFG"], buf_len=200)) + sync(req(SET, OID["OFFLOAD"], offload))
                + sync(req(SET, OID["ENCAP"], encap)) + vf(0),
    "rss": sync(req(QUERY, OID["RSSCAPS"], buf_len=64)) + sync(req(SET, OID["RSS"], rss)),
    "queries": b"".join(sync(req(QUERY, OID[k], buf_len=n)) for k, n in
                        [("SUPPORTED", 255), ("STATS", 200), ("CURADDR", 6), ("INTMOD", 12),
                         ("VLAN", 4), ("LINKPARAMS", 40)]) + sync(req(STATS_T, OID["STATS"], buf_len=200)),
    "short-buffers": b"".join(sync(req(QUERY, OID[k], buf_len=1)) for k in
                              ["SUPPORTED", "STATS", "CURADDR", "MEDIA", "OFFCFG"]),
    "during-pause": later(1, req(SET, OID["FILTER"], filt)) + later(3, req(SET, OID["MCAST"], mcast))
                    + vf(0) + RESTART + run(100),
    "async-queue": async_(req(SET, OID["MCAST"], mcast)) + async_(req(SET, OID["FILTER"], filt))
                   + async_(req(QUERY, OID["STATS"], buf_len=200)) + run(50),
    "power": stack + POWER + sync(req(SET, OID["FILTER"], filt)) + POWER,
    "pm-method": sync(req(SET, OID["PM"], bytes(16))) + sync(req(METHOD, OID["RSS"], bytes(8), buf_len=16, method_id=1))
                 + sync(req(SET, OID["POWER"], struct.pack("<I", 4))) + sync(req(SET, OID["POWER"], struct.pack("<I", 1))),
    "vf-churn": stack + vf(0) + vf(1) + vf(4) + run(10) + vf(0) + vf(2) + vf(0),
}
os.makedirs("corpus", exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join("corpus", name), "wb") as f:
        f.write(data)
