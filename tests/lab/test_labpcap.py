#!/usr/bin/env python3
"""The lab's pcap files (tools/lab/labpcap.py, lab.py --pcap), without root
or QEMU: captures written from synthetic frames are read back (header,
record count, bytes, timestamps, lengths); the sniffer (labnet.sniff) is
run over a socket stand-in, with and without a pcap directory, and must
write the same JSON either way plus one whole-frame PORT.pcap per TAP port;
where Wireshark's tshark is installed (scripts/deps.txt) it must read the
files as Ethernet with the same frames and times."""
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools", "lab"))

import labnet  # noqa: E402
import labpcap  # noqa: E402


def ether(dst, src, ethertype, payload):
    return bytes(dst) + bytes(src) + struct.pack("!H", ethertype) + payload


MAC_G = bytes.fromhex("525400123456")
MAC_P = bytes.fromhex("525400990001")


def udpseq_frame(seq, size=80):
    """An IPv4 UDP datagram of the lab's guest->peer stream."""
    payload = b"VFOS" + struct.pack("!III", seq, 1, 2) + bytes(size)
    udp = struct.pack("!HHHH", 40000, labnet.UDP_OUT_PORT, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                     socket.inet_aton("198.18.0.2"), socket.inet_aton("198.18.0.1"))
    return ether(MAC_P, MAC_G, 0x0800, ip + udp)


# (sec, nsec, port, frame): both directions of two ports, a short ARP, a
# jumbo and a 64 KiB GSO-sized frame, nanosecond times.
FRAMES = [
    (1765000000, 1, "lta-v", ether(b"\xff" * 6, MAC_G, 0x0806, bytes(28))),
    (1765000000, 999999999, "lta-e", udpseq_frame(1)),
    (1765000001, 500, "lta-v", udpseq_frame(2)),
    (1765000001, 123456789, "lta-e", ether(MAC_G, MAC_P, 0x0800, bytes(9000))),
    (1765000002, 0, "lta-v", ether(MAC_P, MAC_G, 0x0800, bytes(65536))),
    (1765000003, 42, "ltb-e", udpseq_frame(3, 1400)),
]


class PcapFiles(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="labpcap.")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def test_written_and_read_back(self):
        paths = labpcap.write_ports(FRAMES, self.dir)
        self.assertEqual(sorted(paths), ["lta-e", "lta-v", "ltb-e"])
        for port, path in paths.items():
            self.assertEqual(os.path.basename(path), f"{port}.pcap")
            header, records = labpcap.read(path)
            self.assertEqual(header["magic"], labpcap.MAGIC_NS)
            self.assertEqual(header["version"], (2, 4))
            self.assertEqual(header["linktype"], labpcap.LINKTYPE_ETHERNET)
            self.assertTrue(header["nanosecond"])
            want = [(s, n, f, len(f)) for s, n, p, f in FRAMES if p == port]
            self.assertEqual(len(records), len(want))
            self.assertEqual(records, want)
        # The raw layout: a 24-byte header, then 16 bytes and the frame each.
        with open(paths["ltb-e"], "rb") as f:
            raw = f.read()
        self.assertEqual(raw[:4], struct.pack("<I", 0xA1B23C4D))
        self.assertEqual(len(raw), 24 + 16 + len(FRAMES[5][3]))

    def test_snaplen_truncates_and_keeps_the_length(self):
        path = os.path.join(self.dir, "x.pcap")
        w = labpcap.Writer(path, snaplen=100)
        w.write(1, 2, bytes(range(256)) * 4)
        w.close()
        header, records = labpcap.read(path)
        self.assertEqual(header["snaplen"], 100)
        self.assertEqual(records, [(1, 2, (bytes(range(256)) * 4)[:100], 1024)])

    def test_reads_microsecond_big_endian_files(self):
        path = os.path.join(self.dir, "us.pcap")
        frame = udpseq_frame(7)
        with open(path, "wb") as f:
            f.write(struct.pack(">IHHiIII", labpcap.MAGIC_US, 2, 4, 0, 0, 65535, 1))
            f.write(struct.pack(">IIII", 10, 250, len(frame), len(frame)) + frame)
        header, records = labpcap.read(path)
        self.assertFalse(header["nanosecond"])
        self.assertEqual(records, [(10, 250000, frame, len(frame))])

    def test_rejects_what_is_not_a_capture(self):
        path = os.path.join(self.dir, "bad.pcap")
        with open(path, "wb") as f:
            f.write(b"{\"not\": \"pcap\"} padding padding")
        with self.assertRaises(ValueError):
            labpcap.read(path)
        labpcap.write_ports(FRAMES[:1], self.dir)
        with open(os.path.join(self.dir, "lta-v.pcap"), "ab") as f:
            f.write(struct.pack("<IIII", 1, 1, 500, 500) + bytes(10))  # cut short
        with self.assertRaises(ValueError):
            labpcap.read(os.path.join(self.dir, "lta-v.pcap"))

    @unittest.skipUnless(shutil.which("tshark"), "tshark not installed")
    def test_wireshark_reads_them(self):
        paths = labpcap.write_ports(FRAMES, self.dir)
        for port, path in paths.items():
            r = subprocess.run(["tshark", "-n", "-r", path, "-T", "fields", "-e", "frame.len",
                                "-e", "frame.cap_len", "-e", "frame.time_epoch", "-e",
                                "eth.src"], capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            rows = [line.split("\t") for line in r.stdout.splitlines()]
            want = [(s, n, f) for s, n, p, f in FRAMES if p == port]
            self.assertEqual(len(rows), len(want))
            for row, (s, n, f) in zip(rows, want):
                self.assertEqual(int(row[0]), len(f))
                self.assertEqual(int(row[1]), len(f))
                self.assertEqual(row[2].split(".")[0], str(s))
                self.assertEqual(row[2].split(".")[1][:9].ljust(9, "0"), f"{n:09d}")
                self.assertEqual(row[3].replace(":", ""), f[6:12].hex())


class FakePacketSocket:
    """AF_PACKET as the sniffer uses it: recvmsg gives a frame (cut to the
    buffer), its SO_TIMESTAMPNS and (ifname, proto, pkttype, ...); when
    the frames run out it sends the SIGTERM the lab would."""

    frames = []

    def __init__(self, *args):
        self.left = list(FakePacketSocket.frames)

    def setsockopt(self, *args):
        pass

    def settimeout(self, t):
        pass

    def recvmsg(self, bufsize, ancbufsize):
        if not self.left:
            os.kill(os.getpid(), signal.SIGTERM)
            raise socket.timeout()
        sec, nsec, port, outgoing, frame = self.left.pop(0)
        anc = [(socket.SOL_SOCKET, labnet.SO_TIMESTAMPNS, struct.pack("qq", sec, nsec))]
        pkttype = labnet.PACKET_OUTGOING if outgoing else 0
        return frame[:bufsize], anc, 0, (port, labnet.ETH_P_ALL, pkttype, 1, b"")


class Sniffer(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="labsniff.")
        FakePacketSocket.frames = [(s, n, p, i % 2 == 1, f) for i, (s, n, p, f) in
                                   enumerate(FRAMES)]
        # Not a TAP port of a guest: never recorded.
        FakePacketSocket.frames.insert(2, (1765000001, 0, "lt-peer", False, udpseq_frame(9)))
        self.saved = (labnet.socket.socket, signal.getsignal(signal.SIGTERM))
        labnet.socket.socket = FakePacketSocket

    def tearDown(self):
        labnet.socket.socket = self.saved[0]
        signal.signal(signal.SIGTERM, self.saved[1])
        shutil.rmtree(self.dir)

    def sniff(self, name, pcap_dir):
        out = os.path.join(self.dir, name)
        labnet.sniff(out, pcap_dir)
        with open(out) as f:
            return json.load(f)

    def test_pcap_per_port_and_the_same_json(self):
        plain = self.sniff("plain.json", None)
        self.assertEqual([f for f in os.listdir(self.dir) if f.endswith(".pcap")], [])
        pdir = os.path.join(self.dir, "pcap")
        os.mkdir(pdir)
        with_pcap = self.sniff("pcap.json", pdir)
        self.assertEqual(plain, with_pcap)  # --pcap changes no measurement
        self.assertEqual(len(plain), len(FRAMES))
        self.assertEqual(max(r[5] for r in plain), labnet.RECORD_BYTES)
        self.assertEqual([r[3] for r in plain if r[3] == "udp"], ["udp"] * 3)
        self.assertEqual(sorted(os.listdir(pdir)), ["lta-e.pcap", "lta-v.pcap", "ltb-e.pcap"])
        for port in ("lta-e", "lta-v", "ltb-e"):
            header, records = labpcap.read(os.path.join(pdir, f"{port}.pcap"))
            self.assertEqual(header["linktype"], labpcap.LINKTYPE_ETHERNET)
            want = [(s, n, f, len(f)) for s, n, p, f in FRAMES if p == port]
            self.assertEqual(records, want)
            # The JSON's times are the same stamps.
            times = [r[0] for r in plain if r[1] == port]
            self.assertEqual(times, [round(s + n / 1e9, 6) for s, n, _f, _l in want])


if __name__ == "__main__":
    unittest.main(verbosity=2)
