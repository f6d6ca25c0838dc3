#!/usr/bin/env python3
"""The real-device test (docs/realdev.md): vfo.sys in ndisemu inside a QEMU
guest (TCG) drives QEMU's virtio-net and pairs with the e1000e QEMU hot-plugs
as the failover primary; the guest kernel's TCP/IP runs on top through a TAP.

The guest (tools/lab/guest-init.sh, vfo.mode=test) pings the host and runs
one iperf3 TCP stream to the host's iperf3 server (QEMU user networking:
10.0.2.2 is the host's loopback) while this script, asked by "@@QMP" lines on
the serial console, turns the e1000e's link off (traffic must move to virtio)
and on again (back to the VF); then the virtio receive ring's used index is
made to jump, then a used entry names a descriptor out of range (vfo must
notice, count and reset the device each time), then config_generation never
settles while QMP turns virtio's link off (the configuration cannot be read:
counted), and QEMU unplugs the e1000e (a surprise removal). vfo's control-device counters, printed by the
guest at each phase boundary, prove which path carried what.

Exit status: 0 pass, 1 fail, 77 skipped (not root, or the prerequisites are
missing; as root a missing prerequisite is a failure, so CI cannot skip it).
"""
import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MIN_PHASE_PACKETS = 50  # iperf3 sends far more per phase, even under TCG


def missing_prerequisites():
    missing = []
    for prog, pkg in (("qemu-system-x86_64", "qemu-system-x86"), ("iperf3", "iperf3")):
        if not shutil.which(prog):
            missing.append(f"{prog} (Debian package {pkg})")
    if not os.path.exists("/bin/busybox"):
        missing.append("/bin/busybox (Debian package busybox-static)")
    r = subprocess.run([os.path.join(HERE, "guest-kernel.sh"), "path"], capture_output=True,
                       text=True)
    if r.returncode != 0:
        missing.append("the guest kernel package (scripts/deps.sh as root fetches it)")
    return missing


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def qemu_args(lab, route):
    args = []
    with open(os.path.join(HERE, "qemu.args")) as f:
        for line in f:
            for prefix in ("#QEMU ", f"#QEMU-{route} "):
                if line.startswith(prefix):
                    args += line[len(prefix):].split()
    return [a.replace("@LAB@", lab) for a in args]


# The guest kernel's part of each DMA route (qemu.args has QEMU's part):
# uio needs hugepages for physical DMA addresses; VFIO needs the IOMMU on
# (iommu=pt: the guest kernel's own e1000e DMA skips translation).
ROUTE_CMDLINE = {"uio": "hugepages=16", "vfio": "intel_iommu=on iommu=pt"}


class Qmp:
    def __init__(self, path):
        self.path = path
        self.sock = None

    def command(self, execute, arguments=None):
        if self.sock is None:
            self.sock = socket.socket(socket.AF_UNIX)
            self.sock.connect(self.path)
            self.f = self.sock.makefile("rw")
            self.f.readline()  # greeting
            self._call("qmp_capabilities")
        return self._call(execute, arguments)

    def _call(self, execute, arguments=None):
        msg = {"execute": execute}
        if arguments:
            msg["arguments"] = arguments
        self.f.write(json.dumps(msg) + "\n")
        self.f.flush()
        while True:
            reply = json.loads(self.f.readline())
            if "return" in reply or "error" in reply:
                return reply


def parse_counters(line):
    # "@@COUNTERS <phase> key=value ..."
    parts = line.split()
    return parts[1], dict(p.split("=", 1) for p in parts[2:] if "=" in p)


def delta(c, a, b, key):
    return int(c[b][key]) - int(c[a][key])


def check(result, counters, lines, route):
    failures = []
    def need(cond, what):
        if not cond:
            failures.append(what)
    need(any("VIRTIO" in l and f"(route {route}:" in l for l in lines),
         f"vfo-real did not take the {route} route")
    need(result.get("result") == "DONE", f"guest result: {result.get('result')}")
    need(result.get("vfo_exit") == "0", f"vfo-real exit status {result.get('vfo_exit')} "
         "(non-zero: a verifier violation or a failed teardown)")
    need(result.get("iperf") == "0", f"iperf3 exit status {result.get('iperf')}: the TCP "
         "connection did not survive the switches")
    need("@@PING vf ok" in lines, "ping on the VF failed")
    need("@@PING virtio ok" in lines, "ping on virtio failed")
    need(any("verifier clean" in l for l in lines), "vfo-real did not report a clean verifier")
    # The VF's device refuses a doorbell that moves back (a stale tail); a
    # driver that rings it outside its lock makes one now and then.
    bad = [int(m.group(1)) for l in lines
           for m in [re.search(r"VF_STATS .* bad doorbells (\d+);", l)] if m]
    need(bool(bad), "vfo-real printed no VF_STATS with the VF's doorbell count")
    need(not bad or bad[-1] == 0, f"the VF's driver rang {bad[-1] if bad else 0} stale "
         "doorbell(s) (vfdev refused them)")
    phases = ["paired", "vf", "virtio", "vf-again"]
    if not all(p in counters for p in phases):
        failures.append(f"counters missing for phases {[p for p in phases if p not in counters]}")
        return failures
    # VF phase: every frame TCP/IP sent went through the VF.
    need(delta(counters, "paired", "vf", "tx_primary") >= MIN_PHASE_PACKETS,
         "VF phase: too few frames sent on the VF")
    need(delta(counters, "paired", "vf", "tx_standby") == 0,
         "VF phase: frames sent on virtio while the VF was active")
    # Link off: transmit moved to virtio and carried the stream.
    need(delta(counters, "vf", "virtio", "to_standby") >= 1, "no switch to virtio counted")
    need(delta(counters, "vf", "virtio", "tx_standby") >= MIN_PHASE_PACKETS,
         "virtio phase: too few frames sent on virtio")
    need(counters["virtio"]["tx_on_primary"] == "0", "virtio phase: transmit still on the VF")
    # Link on: back to the VF.
    need(delta(counters, "virtio", "vf-again", "to_primary") >= 1, "no switch back to the VF")
    need(delta(counters, "virtio", "vf-again", "tx_primary") >= MIN_PHASE_PACKETS,
         "VF-again phase: too few frames sent on the VF")
    need(counters["vf-again"]["tx_on_primary"] == "1", "VF-again phase: transmit not on the VF")
    need(counters["vf-again"]["verifier_violations"] == "0", "verifier violations counted")
    # Malformed input from the device: each kind noticed (vfo's message),
    # counted on its control device, recovered from (a reset for the rings).
    for phase, before, injected, counter, message in (
            ("fault", "vf-again", "used index", "err_used_idx_jump",
             "receive queue broken: VIO_E_USED_IDX_JUMP"),
            ("fault-id", "fault", "names descriptor", "err_used_id_range",
             "receive queue broken: VIO_E_USED_ID_RANGE"),
            ("fault-config", "fault-id", "config_generation changes", "err_config_read",
             "configuration refresh: VNET_E_CFG_READ")):
        need(any("FAULT" in l and injected in l for l in lines), f"{phase}: no fault was injected")
        need(any("DRIVER" in l and message in l for l in lines),
             f"{phase}: vfo did not say \"{message}\"")
        need(f"@@PING {phase} ok" in lines, f"{phase}: ping after the fault failed")
        if phase in counters and before in counters:
            need(delta(counters, before, phase, counter) >= 1, f"{phase}: {counter} not counted")
            if phase != "fault-config":
                need(delta(counters, before, phase, "device_resets") >= 1,
                     f"{phase}: no device reset counted")
        else:
            failures.append(f"{phase}: counters missing")
    need(any("DRIVER" in l and "recovering the virtio device (reset)" in l for l in lines),
         "vfo did not recover the device after the ring faults")
    if "fault-config" in counters and "unplugged" in counters:
        need(delta(counters, "fault-config", "unplugged", "rx_standby") >= 1,
             "virtio received nothing after its resets")
    # QEMU unplugged the primary: a surprise removal, traffic on virtio.
    if "unplugged" not in counters:
        failures.append("no counters after the primary's unplug")
        return failures
    need(delta(counters, "vf-again", "unplugged", "detaches") >= 1, "no detach counted")
    need(counters["unplugged"]["state"] == "absent", "the pair kept the unplugged VF")
    need(delta(counters, "vf-again", "unplugged", "tx_standby") >= 3,
         "after the unplug: pings not sent on virtio")
    need("@@PING unplugged ok" in lines, "ping after the unplug failed")
    return failures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True, help="host build tree with vfo-real and drivers")
    ap.add_argument("--lab", help="where the guest image goes (default BUILD/lab)")
    ap.add_argument("--secs", type=int, default=4, help="seconds per traffic phase")
    ap.add_argument("--timeout", type=int, default=240)
    ap.add_argument("--range", default="ndis5", choices=["ndis5", "ndisvf"])
    ap.add_argument("--route", default="uio", choices=["uio", "vfio"],
                    help="the DMA route the guest offers (vfo-real picks it by itself)")
    a = ap.parse_args()
    t_start = time.monotonic()

    missing = missing_prerequisites()
    if missing:
        print("realdev: missing: " + "; ".join(missing))
        return 1 if os.geteuid() == 0 else 77
    if os.geteuid() != 0:
        print("realdev: needs root (QEMU's hub, the host-side iperf3 server are fine as any "
              "user, but the guest image is built from the cached kernel package); skipped")
        return 77

    lab = os.path.abspath(a.lab or os.path.join(a.build, "lab"))
    subprocess.run([os.path.join(HERE, "mkinitramfs.sh"), a.build, lab], check=True)
    qmp_path = os.path.join(lab, "qmp.sock")
    if os.path.exists(qmp_path):
        os.unlink(qmp_path)

    port = free_port()
    server = subprocess.Popen(["iperf3", "-s", "-1", "-B", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cmdline = (f"console=ttyS0 quiet ipv6.disable=1 {ROUTE_CMDLINE[a.route]} panic=-1 "
               f"vfo.mode=test "
               f"vfo.port={port} vfo.secs={a.secs} vfo.range={a.range}")
    qemu = subprocess.Popen(["qemu-system-x86_64"] + qemu_args(lab, a.route) + ["-append", cmdline],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            errors="replace")
    timer = threading.Timer(a.timeout, qemu.kill)
    timer.start()
    qmp = Qmp(qmp_path)
    lines, counters, result = [], {}, {}
    t_boot = time.monotonic()
    try:
        for raw in qemu.stdout:
            line = raw.rstrip("\r\n")
            print(line, flush=True)
            lines.append(line)
            if line.startswith("@@QMP set_link "):
                # "@@QMP set_link [DEVICE] on|off" (default: the primary)
                words = line.split()
                dev = words[2] if len(words) > 3 else "hostdev0"
                up = words[-1] == "on"
                reply = qmp.command("set_link", {"name": dev, "up": up})
                print(f"realdev: QMP set_link {dev} {'on' if up else 'off'}: {reply}",
                      flush=True)
                info = qmp.command("human-monitor-command", {"command-line": "info network"})
                print(info.get("return", info), flush=True)
            elif line.startswith("@@QMP device_del"):
                reply = qmp.command("device_del", {"id": "hostdev0"})
                print(f"realdev: QMP device_del hostdev0: {reply}", flush=True)
            elif line.startswith("@@COUNTERS "):
                phase, c = parse_counters(line)
                counters[phase] = c
            elif line.startswith("@@RESULT "):
                result["result"] = line.split(" ", 1)[1]
            elif line.startswith("@@VFO_EXIT "):
                result["vfo_exit"] = line.split()[1]
            elif line.startswith("@@IPERF "):
                result["iperf"] = line.split()[1]
            elif "READY" in line and "t_ready" not in result:
                result["t_ready"] = time.monotonic() - t_boot
    finally:
        timer.cancel()
        qemu.wait()
        server.kill()
        server.wait()
    failures = check(result, counters, lines, a.route)
    wall = time.monotonic() - t_start
    # VFIO: every DMA of the device must go where vfo mapped it; the guest
    # kernel reports what the IOMMU refused (DMAR faults).
    dmar = sum(1 for l in lines if "DMAR: [DMA" in l)
    if a.route == "vfio":
        print(f"realdev: IOMMU faults reported by the guest (DMAR): {dmar}")
        if dmar:
            failures.append(f"the IOMMU refused {dmar} DMA access(es) of the virtio function")
    for f in failures:
        print(f"realdev: FAIL: {f}")
    print(f"realdev: {a.route} route: {'PASS' if not failures else 'FAIL'} in {wall:.1f} s wall "
          f"(guest booted to vfo-real READY in {result.get('t_ready', 0):.1f} s)")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
