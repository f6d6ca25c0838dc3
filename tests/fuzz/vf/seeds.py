#!/usr/bin/env python3
"""Writes fuzz_vf's seed corpus (corpus/): recipe frames for the hostile VF
(emu/drivers/minimp/minimp_hostile.c) in the byte format fuzz_vf.c reads:
the malformed receive shapes and status indications of issue 17, plus
pauses and removals around them."""
import os, struct
def recipe(flags=0, mdls=0, off=0, length=0, info=(0, 0, 0, 0), code=0, size=0, sbytes=b""):
    r = bytes([flags, mdls]) + struct.pack("<HH4H", off, length, *info) + bytes([code, size]) + sbytes
    return r + bytes(48 - len(r))
def send(r, extra=0): return bytes([0, extra]) + r
IDLE = b"\x04"
def vf(how): return bytes([5, how])
VFO_PAUSE = b"\x06"
def traffic(n, l): return bytes([7, n, l])
seeds = {
    "plain": send(recipe()) + traffic(3, 20) + IDLE,
    "many-mdls": send(recipe(1, 255)) + send(recipe(3, 200, 1500, 500)) + IDLE,
    "zero-length": send(recipe(2, 0, 14, 0)) + send(recipe(3, 7, 2048, 0)) + IDLE,
    "offset-tail": send(recipe(3, 16, 2000, 48)) + IDLE,
    "bogus-info": send(recipe(4, info=(0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF))) + send(recipe(7, 3, 1, 9, (0x1234, 0x8000, 0x0fff, 1))) + IDLE,
    "link-short": send(recipe(8, code=0, size=4, sbytes=b"\x01\x02\x03\x04")) + send(recipe(8, code=0, size=0)) + IDLE,
    "link-down": send(recipe(8, code=0, size=63, sbytes=bytes([0x80, 1, 0x28, 0]) + bytes(4) + struct.pack("<I", 2))) + IDLE + traffic(2, 10) + IDLE,
    "offload-config": send(recipe(8, code=1, size=0)) + IDLE + send(recipe(8, code=5, size=12, sbytes=bytes(12))) + IDLE,
    "unknown-codes": send(recipe(8, code=3)) + send(recipe(8, code=7, size=20)) + IDLE,
    "pause-remove": send(recipe(15, 100, 30, 200, (3, 4, 5, 6), 0, 8)) + vf(2) + send(recipe(1, 50)) + VFO_PAUSE + vf(1) + vf(1) + send(recipe(2)) + IDLE,
}
os.makedirs("corpus", exist_ok=True)
for n, d in seeds.items():
    open(os.path.join("corpus", n), "wb").write(d)
