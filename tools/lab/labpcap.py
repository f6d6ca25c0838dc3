"""libpcap capture files for the migration lab (tools/lab/lab.py --pcap).

The sniffer (labnet.py) writes one file per bridge port, PORT.pcap, both
directions in it as a capture on that interface would hold them: the
classic libpcap format (what Wireshark and tcpdump read as .pcap), link
type LINKTYPE_ETHERNET (1), little-endian, with nanosecond timestamps
(magic 0xa1b23c4d) since the kernel stamps each frame in nanoseconds
(SO_TIMESTAMPNS). The reader takes both byte orders and both the
microsecond and the nanosecond form. Python's struct only.
"""
import os
import struct

MAGIC_US = 0xA1B2C3D4
MAGIC_NS = 0xA1B23C4D
LINKTYPE_ETHERNET = 1
SNAPLEN = 65600  # more than a 64 KiB GSO frame and its Ethernet header
_GLOBAL = "IHHiIII"  # magic, major, minor, thiszone, sigfigs, snaplen, network
_RECORD = "IIII"  # ts_sec, ts_frac, incl_len, orig_len


class Writer:
    """One capture file; records are appended as they come."""

    def __init__(self, path, snaplen=SNAPLEN, linktype=LINKTYPE_ETHERNET):
        self.snaplen = snaplen
        self.count = 0
        self.f = open(path, "wb")
        self.f.write(struct.pack("<" + _GLOBAL, MAGIC_NS, 2, 4, 0, 0, snaplen, linktype))

    def write(self, sec, nsec, frame, orig_len=None):
        data = bytes(frame[:self.snaplen])
        orig = max(len(frame) if orig_len is None else orig_len, len(data))
        self.f.write(struct.pack("<" + _RECORD, sec, nsec, len(data), orig))
        self.f.write(data)
        self.count += 1

    def close(self):
        self.f.close()


class PortWriters:
    """PORT.pcap per port in a directory, each opened at its first frame."""

    def __init__(self, directory):
        self.dir = directory
        self.writers = {}

    def write(self, port, sec, nsec, frame, orig_len=None):
        w = self.writers.get(port)
        if w is None:
            w = self.writers[port] = Writer(os.path.join(self.dir, f"{port}.pcap"))
        w.write(sec, nsec, frame, orig_len)

    def close(self):
        for w in self.writers.values():
            w.close()
        return {port: os.path.join(self.dir, f"{port}.pcap") for port in self.writers}


def write_ports(frames, directory):
    """frames: (sec, nsec, port, bytes) in capture order. Writes PORT.pcap
    for each port in directory; returns {port: path}."""
    pw = PortWriters(directory)
    for sec, nsec, port, frame in frames:
        pw.write(port, sec, nsec, frame)
    return pw.close()


def read(path):
    """(header, records) of a capture file. header: magic, version,
    snaplen, linktype, nanosecond; records: (sec, nsec, bytes, orig_len)
    with the fraction in nanoseconds whatever the file's resolution."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        raise ValueError(f"{path}: shorter than a pcap header")
    for endian in "<>":
        magic = struct.unpack_from(endian + "I", data)[0]
        if magic in (MAGIC_US, MAGIC_NS):
            break
    else:
        raise ValueError(f"{path}: not a pcap file (magic {data[:4].hex()})")
    _m, major, minor, _zone, _sig, snaplen, linktype = struct.unpack_from(endian + _GLOBAL, data)
    ns = magic == MAGIC_NS
    header = {"magic": magic, "version": (major, minor), "snaplen": snaplen,
              "linktype": linktype, "nanosecond": ns}
    records = []
    off = 24
    rec = struct.calcsize(_RECORD)
    while off < len(data):
        if off + rec > len(data):
            raise ValueError(f"{path}: truncated record header at {off}")
        sec, frac, incl, orig = struct.unpack_from(endian + _RECORD, data, off)
        off += rec
        if off + incl > len(data):
            raise ValueError(f"{path}: truncated record at {off}")
        records.append((sec, frac if ns else frac * 1000, data[off:off + incl], orig))
        off += incl
    return header, records
