#!/usr/bin/env python3
"""Writes fuzz_ctl's seed corpus (corpus/): what vfosvc does with vfo's
control device (docs/vfosvc.md: version, a snapshot of the pairs, a pended
wait for the next change, cancel on exit), an ordinary user refused, and a
handle outliving the device, in the byte format fuzz_ctl.c reads."""
import os, struct
VERSION, PAIRS, WAIT = 0, 1, 2
L0, LREQ, LVER, LWAIT, LPAIRS = 0, 2, 3, 4, 5
def open_(h, admin=True): return bytes([0, h, 1 if admin else 0])
def ioctl(h, code, lin, lout, data=b"", fix=1, async_=False):
    return bytes([3 if async_ else 1, h, code, lin, lout]) + data + bytes([fix])
def close(h, how): return bytes([4, h, how])  # how%3: 0 cancel, 1 close, 2 exit
def vf(): return bytes([5, 0])
def virtio(): return bytes([5, 1])
def run(us): return bytes([5, 2]) + struct.pack("<H", us)
service = (open_(0) + ioctl(0, VERSION, L0, LVER) + ioctl(0, PAIRS, LREQ, LPAIRS)
           + ioctl(0, WAIT, LWAIT, LWAIT, async_=True))
seeds = {
    "service": service + vf() + run(100) + ioctl(0, PAIRS, LREQ, LPAIRS) + close(0, 1),
    "user-refused": open_(1, admin=False) + ioctl(1, PAIRS, LREQ, LPAIRS) + open_(1) + ioctl(1, VERSION, L0, LVER),
    "device-gone": service + virtio() + ioctl(0, PAIRS, LREQ, LPAIRS) + virtio() + open_(1) + ioctl(1, PAIRS, LREQ, LPAIRS),
    "cancel-exit": service + close(0, 0) + ioctl(0, WAIT, LWAIT, LWAIT, async_=True) + close(0, 2),
    "bad-sizes": open_(0) + ioctl(0, PAIRS, 1, LPAIRS) + ioctl(0, PAIRS, LREQ, 6) + ioctl(0, VERSION, LVER, 1) + ioctl(0, WAIT, LWAIT, LWAIT, fix=0),
}
os.makedirs("corpus", exist_ok=True)
for n, d in seeds.items():
    open(os.path.join("corpus", n), "wb").write(d)
