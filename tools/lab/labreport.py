"""The migration lab's output (tools/lab/lab.py): the side-by-side table,
the per-path throughput series and their gnuplot PNG, the machine."""
import os
import platform
import subprocess

from labnet import taps

BIN_S = 0.25
PORT_ORDER = [p for s in ("a", "b") for p in taps(s)]


def series(records, t0, t1):
    """kbit/s of guest frames entering the switch per port, in BIN_S bins
    from t0 (the start of the traffic) to t1: [[t, port1, port2, ...]]."""
    nbins = max(1, int((t1 - t0) / BIN_S) + 1)
    acc = {p: [0] * nbins for p in PORT_ORDER}
    for t, port, direction, _kind, _detail, length, *_ in records:
        if direction != "in" or port not in acc or not t0 <= t < t1:
            continue
        acc[port][int((t - t0) / BIN_S)] += length
    return [[round(i * BIN_S, 3)] + [round(acc[p][i] * 8 / BIN_S / 1000, 1) for p in PORT_ORDER]
            for i in range(nbins)]


def run_events(run):
    """(seconds after the traffic started, label) of the run's events."""
    t0 = run.get("t_traffic") or 0
    out = []
    for h in run.get("hops", []):
        if h.get("t_unplug"):
            out.append((h["t_unplug"] - t0, f"UNPLUG_PRIMARY {h['src']}"))
        if h["kind"] == "migrate" and h.get("t_resume"):
            out.append((h["t_resume"] - t0, f"RESUME {h['dst']}"))
        elif h["kind"] == "cancel" and h.get("t_resume"):
            out.append((h["t_resume"] - t0, "cancelled"))
        elif h["kind"] == "link":
            out.append((h["t_event"] - t0, "set_link off"))
            out.append((h["t_resume"] - t0, "set_link on"))
        if h.get("t_vf_link_up"):
            out.append((h["t_vf_link_up"] - t0, f"VF link up {h['dst']}"))
    return out


def plot(runs, path, work):
    runs = [r for r in runs if r.get("series")]
    if not runs:
        return None
    script = [f"set terminal pngcairo noenhanced size 1100,{320 * len(runs)} font ',9'",
              f"set output '{path}'", f"set multiplot layout {len(runs)},1",
              "set key outside right", "set grid", "set ylabel 'kbit/s into the switch'"]
    for i, run in enumerate(runs):
        data = os.path.join(work, f"series-{run['stack']}-{run['case']}.dat")
        with open(data, "w") as f:
            for row in run["series"]:
                f.write(" ".join(str(x) for x in row) + "\n")
        roles = run.get("roles", {})
        script.append("unset arrow; unset label")
        for n, (t, label) in enumerate(run_events(run)):
            script.append(f"set arrow from {t:.3f},graph 0 to {t:.3f},graph 1 nohead dt 2 lc rgb 'gray40'")
            script.append(f"set label '{label}' at {t:.3f},graph {0.95 - 0.08 * (n % 4):.2f} "
                          "font ',8' offset 0.3,0")
        script.append(f"set title '{run['stack']}: {run['case']} (guest frames per bridge port)'")
        script.append("set xlabel 'seconds after the traffic started'")
        plots = [f"'{data}' using 1:{c + 2} with steps lw 1.5 title '{roles.get(p, p)} ({p})'"
                 for c, p in enumerate(PORT_ORDER) if p in roles]
        script.append("plot " + ", ".join(plots))
    script.append("unset multiplot")
    gp = os.path.join(work, "lab.gp")
    with open(gp, "w") as f:
        f.write("\n".join(script) + "\n")
    r = subprocess.run(["gnuplot", gp], capture_output=True, text=True)
    if r.returncode != 0:
        print(f"lab: gnuplot failed: {r.stderr.strip()}")
        return None
    return path


def fmt(v, digits=2):
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "NO"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def first_hop(run, kind):
    return next((h for h in run.get("hops", []) if h.get("kind") == kind), {})


ROWS = [
    ("result", lambda r: r.get("result")),
    ("TCG flake retries", lambda r: len(r.get("retries", []))),
    ("UDP guest->peer lost", lambda r: r["udp"].get("guest_to_peer", {}).get("lost")),
    ("  in events / elsewhere", lambda r: "{}/{}".format(
        r["udp"]["guest_to_peer"].get("lost_in_events", "-"),
        r["udp"]["guest_to_peer"].get("lost_elsewhere", "-")) if r["udp"] else None),
    ("  across the eject", lambda r: across_eject(r)),
    ("  longest loss burst", lambda r: r["udp"].get("guest_to_peer", {}).get("burst")),
    ("  longest gap ms", lambda r: r["udp"].get("guest_to_peer", {}).get("gap_ms")),
    ("  duplicates / reorders", lambda r: "{}/{}".format(
        r["udp"].get("guest_to_peer", {}).get("duplicates", "-"),
        r["udp"].get("guest_to_peer", {}).get("reorders", "-")) if r["udp"] else None),
    ("UDP peer->guest lost", lambda r: r["udp"].get("peer_to_guest", {}).get("lost")),
    ("  in events / elsewhere", lambda r: "{}/{}".format(
        r["udp"]["peer_to_guest"].get("lost_in_events", "-"),
        r["udp"]["peer_to_guest"].get("lost_elsewhere", "-")) if r["udp"] else None),
    ("  longest loss burst", lambda r: r["udp"].get("peer_to_guest", {}).get("burst")),
    ("  longest gap ms", lambda r: r["udp"].get("peer_to_guest", {}).get("gap_ms")),
    ("  duplicates / reorders", lambda r: "{}/{}".format(
        r["udp"].get("peer_to_guest", {}).get("duplicates", "-"),
        r["udp"].get("peer_to_guest", {}).get("reorders", "-")) if r["udp"] else None),
    ("TCP survived", lambda r: r["tcp"].get("survived")),
    ("  longest stall s", lambda r: r["tcp"].get("longest_stall_s")),
    ("  in events / elsewhere s", lambda r: "{}/{}".format(
        fmt(r["tcp"].get("longest_stall_in_events_s")),
        fmt(r["tcp"].get("longest_stall_elsewhere_s")))),
    ("  retransmits (iperf3)", lambda r: r["tcp"].get("retransmits")),
    ("  RetransSegs (snmp)", lambda r: r["tcp"].get("retrans_segs")),
    ("guest TCP/IP carrier downs", lambda r: r.get("guest", {}).get("carrier_downs")),
    ("guest if tx_dropped", lambda r: r.get("guest", {}).get("tap_tx_dropped")),
    ("UNPLUG_PRIMARY->eject s", lambda r: first_ev(r).get("wait_unplug_s")),
    ("downtime ms (QEMU)", lambda r: first_ev(r).get("downtime_ms")),
    ("migration total ms", lambda r: first_ev(r).get("total_ms")),
    ("event->VF plugged s", lambda r: first_ev(r).get("vf_plugged_s")),
    ("event->VF link up s", lambda r: first_ev(r).get("vf_link_up_s")),
    ("event->traffic on VF s", lambda r: first_ev(r).get("traffic_on_new_vf_s")),
]


def across_eject(run):
    lost = [h.get("guest_lost_across_eject") for h in run.get("hops", [])]
    lost = [len(x) for x in lost if x is not None]
    return sum(lost) if lost else None


def first_ev(run):
    return run.get("hops", [{}])[0] if run.get("hops") else {}


RATIO_ROWS = {"UDP guest->peer lost", "UDP peer->guest lost", "  longest stall s",
              "  longest gap ms", "  retransmits (iperf3)"}


def table(runs):
    """Rows of figures; per case the vfo and linux columns and linux/vfo."""
    cases = list(dict.fromkeys(r["case"] for r in runs))
    out = []
    for case in cases:
        by = {r["stack"]: r for r in runs if r["case"] == case}
        stacks = [s for s in ("vfo", "linux") if s in by]
        head = f"{'case ' + case:<28}" + "".join(f"{s:>16}" for s in stacks)
        if len(stacks) == 2:
            head += f"{'linux/vfo':>12}"
        out += [head, "-" * len(head)]
        for name, get in ROWS:
            vals = []
            for s in stacks:
                try:
                    vals.append(get(by[s]))
                except (KeyError, TypeError, AttributeError):
                    vals.append(None)
            line = f"{name:<28}" + "".join(f"{fmt(v)[:15]:>16}" for v in vals)
            if len(stacks) == 2 and name in RATIO_ROWS:
                a, b = vals
                if isinstance(a, (int, float)) and isinstance(b, (int, float)):
                    line += f"{(b / a if a else float('inf') if b else 1.0):>12.1f}"
            out.append(line)
        out.append("")
    return "\n".join(out)


def machine():
    def sh(*cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True).stdout.strip()
        except OSError:
            return None

    cpu = None
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), None)
    except OSError:
        pass
    return {"kernel": platform.release(), "cpus": os.cpu_count(), "cpu": cpu,
            "loadavg": os.getloadavg(), "qemu": (sh("qemu-system-x86_64", "--version") or "").split("\n")[0]}
