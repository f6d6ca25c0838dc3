#!/usr/bin/env python3
"""The migration lab (docs/results.md): real QEMU failover migrations of
the lab guest, vfo (vfo.so in ndisemu on QEMU's virtio-net and e1000e, the
guest kernel's TCP/IP above it) side by side with the guest kernel's own
virtio_net + net_failover, on the same host, with the same traffic and the
same measurements.

Host side (root; tools/lab/labnet.py): a switch namespace with a Linux
bridge, each QEMU's virtio-net (failover=on) and e1000e (failover_pair_id)
as TAP ports on it, a peer namespace with the iperf3 server and udpseq.
Source and destination QEMU run the same command line (+ -incoming) and are
driven over QMP. The guest (tools/lab/guest-lab.sh) runs a UDP stream both
ways and an iperf3 TCP stream to the peer while the host:
  migrate   migrates it A -> B (UNPLUG_PRIMARY, wait-unplug, the guest's
            eject, RESUME on B, the e1000e re-plugged there)
  cancel    starts a migration and cancels it as soon as QEMU asks the
            guest to unplug the primary (the VF comes back on A)
  abc       migrates it A -> B -> C
  link      turns the VF's link off for a few seconds and on again (set_link)

Usage: lab.py --build BUILD [--cases migrate,cancel,abc,link] [--stacks vfo,linux]
              [--secs N] [--rate N] [--json FILE] [--plot FILE] [--pcap] [--ci] [-q]
Exit status: 0 ok, 1 a failure (with --ci: an assertion), 77 skipped (not
root or a prerequisite missing; as root a missing prerequisite fails).
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import labmeasure  # noqa: E402
import labnet  # noqa: E402
import labreport  # noqa: E402
from labqemu import Qemu, QmpError  # noqa: E402

BOOT_TIMEOUT = 300  # TCG on a loaded shared machine: the boot alone took up to 42 s
FLAKE_RE = re.compile(r"Oops|general protection fault|Kernel panic|BUG: |RIP: 0010")
CASE_SECS = {"migrate": 22, "cancel": 20, "abc": 36, "link": 22}
LEAD_S = 5.0  # traffic before the first event
HOSTS = "ABC"


class Flake(Exception):
    """The TCG migration flake: the destination guest crashed after resume."""


class LabFailure(Exception):
    pass


def missing_prerequisites():
    missing = []
    for prog, pkg in (("qemu-system-x86_64", "qemu-system-x86"), ("iperf3", "iperf3"),
                      ("ip", "iproute2"), ("gnuplot", "gnuplot-nox")):
        if not shutil.which(prog):
            missing.append(f"{prog} (Debian package {pkg})")
    if not os.path.exists("/bin/busybox"):
        missing.append("/bin/busybox (Debian package busybox-static)")
    r = subprocess.run([os.path.join(HERE, "guest-kernel.sh"), "path"], capture_output=True)
    if r.returncode != 0:
        missing.append("the guest kernel package (scripts/deps.sh as root fetches it)")
    return missing


class Peer:
    """The peer host's programs (in the peer namespace)."""

    def __init__(self, work, udpseq):
        self.work = work
        self.udpseq = udpseq
        self.procs = {}

    def start(self, name, *cmd):
        out = open(os.path.join(self.work, f"peer-{name}.out"), "w")
        self.procs[name] = (subprocess.Popen(["ip", "netns", "exec", labnet.NS_PEER] + list(cmd),
                                             stdout=out, stderr=subprocess.STDOUT), out)

    def stop(self, name, sig=signal.SIGTERM, timeout=10):
        if name not in self.procs:
            return ""
        p, out = self.procs.pop(name)
        if p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        out.close()
        with open(out.name) as f:
            return f.read()

    def stop_all(self):
        for name in list(self.procs):
            self.stop(name, signal.SIGKILL, 5)


class Run:
    """One attempt of one case with one guest stack."""

    def __init__(self, a, stack, case, work):
        self.a, self.stack, self.case, self.work = a, stack, case, work
        self.secs = a.secs or CASE_SECS[case]
        self.image = os.path.join(a.lab, "image")
        self.udpseq = os.path.join(a.build, "tools", "lab", "udpseq")
        self.peer = Peer(work, self.udpseq)
        self.qemus = []  # running
        self.all_qemus = []  # their consoles, for the results
        self.hops = []
        self.sniffer = None

    def log(self, msg):
        if not self.a.quiet:
            print(f"lab: [{self.stack}/{self.case}] {msg}", flush=True)

    def echo(self, name, line):
        if self.a.verbose or (not self.a.quiet and (line.startswith("@@") or FLAKE_RE.search(line))):
            print(f"  {name}| {line}", flush=True)

    def append(self):
        return (f"console=ttyS0 quiet ipv6.disable=1 hugepages=16 panic=-1 vfo.mode=lab "
                f"vfo.stack={self.stack} vfo.secs={self.secs} vfo.rate={self.a.rate} "
                f"vfo.ip={labnet.GUEST_IP}/{labnet.PREFIX} vfo.peer={labnet.PEER_IP} "
                f"vfo.port={labnet.IPERF_PORT}")

    def qemu(self, host, tap_set, incoming=None):
        q = Qemu(host, self.image, self.work, tap_set, self.append(), incoming, self.echo)
        self.qemus.append(q)
        self.all_qemus.append(q)
        q.connect()
        return q

    def line(self, q, prefix, timeout, start=0):
        got = q.wait_line(lambda l: l.startswith(prefix), timeout, start)
        if got is None:
            self.check_flake(q, f"no '{prefix}' from {q.name} in {timeout} s (console: {q.tail()})")
        return got

    def check_flake(self, q, why):
        """Raises Flake when the guest crashed on a destination after
        RESUME, LabFailure otherwise: a retry never hides a driver's failure."""
        resumed = [h for h in self.hops if h.get("dst") == q.name and h.get("t_resume")]
        if resumed:
            t = resumed[-1]["t_resume"]
            crash = [l for tl, l in q.lines if l and tl >= t and FLAKE_RE.search(l)]
            if crash:
                raise Flake(f"{q.name} crashed after RESUME: {crash[0]}")
        raise LabFailure(why)

    # ------------------------------------------------------------ events

    def migrate(self, src, dst_host, dst_set):
        sock = os.path.join(self.work, f"migrate-{dst_host}.sock")
        if os.path.exists(sock):
            os.unlink(sock)
        dst = self.qemu(dst_host, dst_set, incoming=f"unix:{sock}")
        hop = {"kind": "migrate", "src": src.name, "dst": dst_host, "src_set": src.tap_set,
               "dst_set": dst_set}
        self.log(f"migrate {src.name} -> {dst_host}")
        n_src, n_dst = len(src.qmp.events), len(dst.qmp.events)
        hop["t_event"] = time.time()
        src.qmp.command("migrate", {"uri": f"unix:{sock}"})
        done = src.qmp.wait_event(lambda e: e["event"] == "MIGRATION" and e["data"]["status"] in
                                  ("completed", "failed", "cancelled"), 180, n_src)
        hop["src_events"] = [{"event": e["event"], "t": e["t"], "data": e.get("data", {})}
                             for e in src.qmp.events[n_src:]]
        if done is None or done["data"]["status"] != "completed":
            raise LabFailure(f"migration {src.name} -> {dst_host}: "
                             f"{done['data']['status'] if done else 'no end in 180 s'}")
        resume = dst.qmp.wait_event(lambda e: e["event"] == "RESUME", 60, n_dst)
        if resume is None:
            raise LabFailure(f"{dst_host} never resumed")
        hop["t_resume"] = resume["t"]
        info = src.qmp.command("query-migrate")
        hop["downtime_ms"] = info.get("downtime")
        hop["total_ms"] = info.get("total-time")
        hop["dst_events"] = [{"event": e["event"], "t": e["t"], "data": e.get("data", {})}
                             for e in dst.qmp.events[n_dst:]]
        self.log(f"{dst_host} resumed: downtime {hop['downtime_ms']} ms, total {hop['total_ms']} ms")
        src.stop()
        self.qemus.remove(src)
        self.hops.append(hop)
        return dst

    def cancel(self, src, dst_host, dst_set):
        sock = os.path.join(self.work, f"migrate-{dst_host}.sock")
        if os.path.exists(sock):
            os.unlink(sock)
        dst = self.qemu(dst_host, dst_set, incoming=f"unix:{sock}")
        hop = {"kind": "cancel", "src": src.name, "dst": src.name, "src_set": src.tap_set,
               "dst_set": src.tap_set}
        n_src = len(src.qmp.events)
        hop["t_event"] = time.time()
        src.qmp.command("migrate", {"uri": f"unix:{sock}"})
        unplug = src.qmp.wait_event(lambda e: e["event"] == "UNPLUG_PRIMARY", 60, n_src)
        if unplug is None:
            raise LabFailure("no UNPLUG_PRIMARY from the source")
        src.qmp.command("migrate_cancel")
        self.log("migrate_cancel sent on UNPLUG_PRIMARY")
        end = src.qmp.wait_event(lambda e: e["event"] == "MIGRATION" and e["data"]["status"] in
                                 ("cancelled", "completed", "failed"), 60, n_src)
        hop["src_events"] = [{"event": e["event"], "t": e["t"], "data": e.get("data", {})}
                             for e in src.qmp.events[n_src:]]
        hop["end_status"] = end["data"]["status"] if end else None
        hop["cancelled_in"] = [e["data"]["status"] for e in hop["src_events"]
                               if e["event"] == "MIGRATION"]
        if hop["end_status"] != "cancelled":
            raise LabFailure(f"cancelled migration ended {hop['end_status']}")
        hop["t_resume"] = end["t"]  # the guest never stopped; measured from the cancel
        dst.stop()
        self.qemus.remove(dst)
        self.hops.append(hop)
        return src

    def link_flap(self, q, down_s=4.0):
        hop = {"kind": "link", "src": q.name, "dst": q.name, "src_set": q.tap_set,
               "dst_set": q.tap_set, "t_event": time.time()}
        q.qmp.command("set_link", {"name": "hostdev0", "up": False})
        self.log(f"set_link hostdev0 off for {down_s} s")
        time.sleep(down_s)  # the scenario's length, not a wait for an event
        hop["t_resume"] = time.time()
        q.qmp.command("set_link", {"name": "hostdev0", "up": True})
        self.log("set_link hostdev0 on")
        self.hops.append(hop)
        return q

    def wait_vf_up(self, q, t_after, timeout=60):
        """When the guest first saw a VF with carrier after t_after."""
        deadline = time.monotonic() + timeout
        i = 0
        while True:
            got = q.wait_line(lambda l: l.startswith("@@LINKS") and " vf=1" in l,
                              max(0.0, deadline - time.monotonic()), i)
            if got is None:
                return None
            if got[0] >= t_after:
                return got[0]
            i = got[2] + 1

    # ------------------------------------------------------------ the run

    def execute(self):
        labnet.setup()
        sniff_out = os.path.join(self.work, "frames.json")
        # --pcap: the sniffer also writes each port's frames to WORK/PORT.pcap.
        self.sniffer = subprocess.Popen(["ip", "netns", "exec", labnet.NS_SW, sys.executable,
                                         os.path.join(HERE, "labnet.py"), "sniff", sniff_out] +
                                        ([self.work] if self.a.pcap else []),
                                        stdout=subprocess.PIPE, text=True)
        if "ready" not in self.sniffer.stdout.readline():
            raise LabFailure("the switch sniffer did not start")
        self.peer.start("iperf3", "iperf3", "-s", "-p", str(labnet.IPERF_PORT))
        t0 = time.time()
        q = self.qemu("A", "a")
        self.log(f"booting A ({self.stack})")
        got = self.line(q, "@@NET", BOOT_TIMEOUT)
        self.log(f"A's network up after {got[0] - t0:.1f} s")
        self.peer.start("udp-in", self.udpseq, "recv", str(labnet.UDP_OUT_PORT), "600",
                        os.path.join(self.work, "peer-udp-arrivals.log"))
        got = self.line(q, "@@TRAFFIC", 120)
        t_traffic = got[0]
        self.peer.start("udp-out", self.udpseq, "send", labnet.GUEST_IP, str(labnet.UDP_IN_PORT),
                        str(self.a.rate), str(self.secs))
        self.sleep_until(t_traffic + LEAD_S)
        if self.case == "migrate":
            q = self.migrate(q, "B", "b")
        elif self.case == "abc":
            q = self.migrate(q, "B", "b")
            up = self.wait_vf_up(q, self.hops[-1]["t_resume"])
            self.sleep_until((up or time.time()) + LEAD_S)
            q = self.migrate(q, "C", "a")
        elif self.case == "cancel":
            q = self.cancel(q, "B", "b")
        elif self.case == "link":
            q = self.link_flap(q)
        got = self.line(q, "@@RESULT", self.secs + 240)
        t_end = t_traffic + self.secs
        self.t_traffic, self.t_end = t_traffic, t_end
        self.final = q
        self.wait_line_end(q)
        return got[1].split(" ", 1)[1]

    def sleep_until(self, t):
        while time.time() < t:
            time.sleep(max(0.0, min(0.1, t - time.time())))

    def wait_line_end(self, q):
        q.wait_line(lambda l: False, 20)  # until QEMU's output ends (poweroff)

    def collect(self, result):
        """Stops the peer and the sniffer; the run's measurements."""
        peer_udp_in = labmeasure.parse_udpseq(self.peer.stop("udp-in"))
        peer_udp_out = labmeasure.parse_udpseq(self.peer.stop("udp-out", timeout=60))
        self.peer.stop("iperf3")
        records = []
        if self.sniffer:
            self.sniffer.send_signal(signal.SIGTERM)
            self.sniffer.wait(timeout=60)
            with open(os.path.join(self.work, "frames.json")) as f:
                records = json.load(f)
            self.sniffer = None
        consoles = {q.name: q.lines for q in self.all_qemus}
        allc = [x for q in self.all_qemus for x in q.lines]
        g = {}
        for t, line in allc:
            if not line:
                continue
            if line.startswith("@@UDP_OUT "):
                g["udp_out"] = labmeasure.parse_udpseq(line)
            elif line.startswith("@@UDP_IN "):
                g["udp_in"] = labmeasure.parse_udpseq(line)
            elif line.startswith("@@IPERF "):
                g["iperf_rc"] = line.split()[1]
            elif line.startswith("@@IPERF_SUM ") and "sender" in line:
                m = re.search(r"sec\s+\S+ \S+\s+\S+ \S+/sec\s+(\d+)\s+sender", line)
                g["iperf_retr"] = int(m.group(1)) if m else None
                g["iperf_sender"] = line[12:].strip()
            elif line.startswith("@@IPERF_SUM ") and "receiver" in line:
                g["iperf_receiver"] = line[12:].strip()
            elif line.startswith("@@TCP "):
                kv = dict(re.findall(r"(\w+)=(\S+)", line))
                g["carrier_downs"] = int(kv.get("carrier_downs", -1))
                g["tap_tx_dropped"] = int(kv.get("tx_dropped", -1))
                nums = re.findall(r"retrans=(\d+)", line)
                if len(nums) == 2:
                    g["tcp_retrans_segs"] = int(nums[1]) - int(nums[0])
            elif line.startswith("@@VFO_EXIT "):
                g["vfo_exit"] = line.split()[1]
            elif "verifier clean" in line:
                g["verifier_clean"] = True
        out = labmeasure.udp_direction(g.get("udp_out", {}), peer_udp_in)
        guest_missing = labmeasure.missing_seqs(out.get("missing"))
        gaps = labmeasure.tcp_gaps(records, self.t_traffic + 1, self.t_end - 1)
        stall, at = gaps[0] if gaps and gaps[0][0] > 0 else (0.0, None)
        run = {
            "stack": self.stack, "case": self.case, "result": result, "secs": self.secs,
            "rate": self.a.rate, "guest": g, "t_traffic": self.t_traffic,
            "udp": {"guest_to_peer": out,
                    "peer_to_guest": labmeasure.udp_direction(peer_udp_out, g.get("udp_in", {}))},
            "tcp": {"survived": g.get("iperf_rc") == "0" and "iperf_receiver" in g,
                    "longest_stall_s": stall,
                    "stall_at_s": at - self.t_traffic if at else None,
                    "retransmits": g.get("iperf_retr"),
                    "retrans_segs": g.get("tcp_retrans_segs"),
                    "sender": g.get("iperf_sender"), "receiver": g.get("iperf_receiver")},
            "hops": [labmeasure.measure_hop(h, records, consoles, self.hop_end(i),
                                            guest_missing) for i, h in enumerate(self.hops)],
            "roles": labmeasure.port_roles(self.hops or [{"src": "A", "dst": "A", "src_set": "a",
                                                          "dst_set": "a"}]),
            "ports": labnet.port_counters(),
        }
        labmeasure.split_losses(run)
        labmeasure.split_stalls(run, gaps)
        run["series"] = labreport.series(records, self.t_traffic, self.t_end + 3)
        return run

    def hop_end(self, i):
        """Where event i's windows end: a second before the next event, or
        the end of the traffic."""
        if i + 1 < len(self.hops):
            return self.hops[i + 1]["t_event"] - 1.0
        return self.t_end

    def cleanup(self):
        for q in list(self.qemus):
            try:
                q.stop()
            except OSError:
                pass
        self.peer.stop_all()
        if self.sniffer:
            self.sniffer.kill()
            self.sniffer.wait()
        labnet.teardown()


def attempt(a, stack, case, n):
    work = os.path.join(a.lab, f"{stack}-{case}-{n}")
    os.makedirs(work, exist_ok=True)
    r = Run(a, stack, case, work)
    try:
        result = r.execute()
        run = r.collect(result)
        run["work"] = work
        if a.pcap:
            run["pcaps"] = sorted(os.path.join(work, f) for f in os.listdir(work)
                                  if f.endswith(".pcap"))
        return run
    finally:
        r.cleanup()


def run_case(a, stack, case):
    """One case with one stack; the TCG flake is retried once, and counted."""
    retries = []
    for n in (1, 2):
        try:
            run = attempt(a, stack, case, n)
            run["retries"] = retries
            return run
        except Flake as e:
            retries.append(str(e))
            print(f"lab: [{stack}/{case}] TCG flake (attempt {n}): {e}", flush=True)
        except (LabFailure, QmpError) as e:
            return {"stack": stack, "case": case, "result": f"FAIL {e}", "retries": retries,
                    "udp": {}, "tcp": {}, "hops": [], "guest": {}}
        except Exception as e:  # a bug of the lab itself: say so, run the other cases
            traceback.print_exc()
            return {"stack": stack, "case": case, "result": f"FAIL lab error {e!r}",
                    "retries": retries, "udp": {}, "tcp": {}, "hops": [], "guest": {}}
    return {"stack": stack, "case": case, "result": "FAIL the TCG flake twice", "retries": retries,
            "udp": {}, "tcp": {}, "hops": [], "guest": {}}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--build", required=True)
    ap.add_argument("--lab", help="work directory (default BUILD/lab/mig)")
    ap.add_argument("--cases", default="migrate")
    ap.add_argument("--stacks", default="vfo,linux")
    ap.add_argument("--secs", type=int, help="traffic seconds (default per case)")
    ap.add_argument("--rate", type=int, default=200, help="UDP datagrams/s each way")
    ap.add_argument("--json", help="write the results as JSON here ('-': stdout)")
    ap.add_argument("--plot", help="PNG path (default LAB/lab.png)")
    ap.add_argument("--pcap", action="store_true",
                    help="write each bridge port's frames to RUN_DIR/PORT.pcap (libpcap)")
    ap.add_argument("--ci", action="store_true", help="assert (tests/lab)")
    ap.add_argument("-q", "--quiet", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true", help="echo the guest consoles")
    a = ap.parse_args()
    t_start = time.monotonic()
    missing = missing_prerequisites()
    if os.geteuid() != 0:
        print("lab: needs root (network namespaces, TAP ports); skipped"
              + (f"; also missing: {'; '.join(missing)}" if missing else ""))
        return 77
    if missing:
        print("lab: missing: " + "; ".join(missing))
        return 1
    a.build = os.path.abspath(a.build)
    a.lab = os.path.abspath(a.lab or os.path.join(a.build, "lab", "mig"))
    os.makedirs(a.lab, exist_ok=True)
    subprocess.run([os.path.join(HERE, "mkinitramfs.sh"), a.build, os.path.join(a.lab, "image")],
                   check=True)

    def on_signal(sig, _frame):
        raise SystemExit(128 + sig)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    runs = []
    try:
        for case in a.cases.split(","):
            for stack in a.stacks.split(","):
                runs.append(run_case(a, stack, case))
    finally:
        labnet.teardown()
    report = {"runs": runs, "wall_s": round(time.monotonic() - t_start, 1),
              "machine": labreport.machine()}
    plot = a.plot or os.path.join(a.lab, "lab.png")
    labreport.plot(runs, plot, a.lab)
    fails = []
    if a.ci:
        for run in runs:
            check = labmeasure.check_vfo if run["stack"] == "vfo" else labmeasure.check_any
            fails += [f"{run['stack']}/{run['case']}: {f}" for f in
                      (check(run) if run.get("tcp") else [run.get("result")])]
    if a.json:
        text = json.dumps({**report, "failures": fails}, indent=1, default=str)
        if a.json == "-":
            print(text)
        else:
            with open(a.json, "w") as f:
                f.write(text)
    if a.json != "-":
        print(labreport.table(runs))
        print(f"lab: plot {plot}")
        for run in runs:
            if run.get("pcaps"):
                print(f"lab: pcaps {run['stack']}/{run['case']}: {' '.join(run['pcaps'])}")
        print(f"lab: {len(runs)} run(s), retries {sum(len(r['retries']) for r in runs)}, "
              f"{report['wall_s']} s wall")
    for f in fails:
        print(f"lab: FAIL: {f}")
    bad = [r for r in runs if r.get("result") != "DONE"]
    return 1 if fails or bad else 0


if __name__ == "__main__":
    sys.exit(main())
