"""Measurements of one lab run (tools/lab/lab.py) from what the host saw:
the switch's per-port frame records (labnet sniffer), QMP events and
query-migrate, the peer's udpseq/iperf3 output, and the guest's "@@" lines
(with the host's time of arrival on the serial console)."""
import bisect
import re

from labnet import taps

UDPSEQ_KEYS = ("sent", "send_errors", "unique", "duplicates", "reorders", "highest", "burst",
               "gap_ms", "malformed", "missing", "rate", "t0")


def parse_udpseq(text):
    """udpseq's summary ("udpseq: key=value ...") as a dict of numbers."""
    out = {}
    for key, value in re.findall(r"(\w+)=(\S+)", text or ""):
        if key not in UDPSEQ_KEYS:
            continue
        try:
            out[key] = float(value) if "." in value else int(value)
        except ValueError:
            out[key] = value
    return out


def udp_direction(sender, receiver):
    """Loss, longest loss burst and gap, duplicates, reorders of one stream."""
    sent = sender.get("sent")
    unique = receiver.get("unique")
    lost = sent - unique if sent is not None and unique is not None else None
    return {"sent": sent, "received": unique, "lost": lost, "t0": sender.get("t0"),
            "rate": sender.get("rate"),
            "send_errors": sender.get("send_errors"), "burst": receiver.get("burst"),
            "gap_ms": receiver.get("gap_ms"), "duplicates": receiver.get("duplicates"),
            "reorders": receiver.get("reorders"), "missing": receiver.get("missing")}


def port_roles(hops):
    """TAP port -> "<host>-virtio" / "<host>-VF" labels (a set is reused by
    host C after A quit, so the label names every host on it)."""
    users = {}
    for h in hops:
        users.setdefault(h["src_set"], []).append(h["src"])
        users.setdefault(h["dst_set"], []).append(h["dst"])
    roles = {}
    for s, hosts in users.items():
        names = "/".join(dict.fromkeys(hosts))
        v, e = taps(s)
        roles[v] = f"{names}-virtio"
        roles[e] = f"{names}-VF"
    return roles


def guest_sends(records, kinds=("udp", "tcp")):
    """Frames the guest sent into the switch: (time, port, kind, detail)."""
    return [(r[0], r[1], r[3], r[4]) for r in records if r[2] == "in" and r[3] in kinds]


def tcp_gaps(records, t_from, t_to):
    """Every interval without a TCP data segment from the guest entering the
    switch (any port) within [t_from, t_to], longest first: [(seconds, start)]."""
    times = [t for t, _, kind, n in guest_sends(records, ("tcp",)) if n > 0 and t_from <= t <= t_to]
    gaps, prev = [], t_from
    for t in times + [t_to]:
        gaps.append((t - prev, prev))
        prev = t
    return sorted(gaps, reverse=True)


def clock_offset(records, ports, t_from, t_to):
    """host clock - guest clock, from the guest's udpseq datagrams entering
    the switch by ports within [t_from, t_to] (each carries the guest's
    CLOCK_REALTIME): the smallest difference, i.e. up to the shortest
    guest-to-switch latency."""
    diffs = [r[0] - r[6] for r in records if len(r) > 6 and r[2] == "in" and r[1] in ports
             and t_from <= r[0] <= t_to]
    return min(diffs) if diffs else None


def console_offset(console, t_from, t_to):
    """host - guest clock from the @@LINKS lines that arrived within
    [t_from, t_to]: a line arrives after the guest stamped it."""
    diffs = []
    for t_line, line in console:
        if line and line.startswith("@@LINKS t=") and t_from <= t_line <= t_to:
            try:
                diffs.append(t_line - float(line.split()[1][2:]))
            except ValueError:
                pass
    return min(diffs) if diffs else None


def min_known(*values):
    known = [v for v in values if v is not None]
    return min(known) if known else None


def link_times(console, t_after, offset):
    """From the guest's @@LINKS lines (stamped with the guest's clock, put
    on the host's with offset; without one, the time the line arrived):
    when a VF (the e1000e) appeared after t_after and when its carrier
    came up: (plugged, link up no earlier than, link up no later than)."""
    plugged = link_up = since = None
    for t_line, line in console:
        if line is None or not line.startswith("@@LINKS"):
            continue
        kv = dict(p.split("=", 1) for p in line.split()[1:] if "=" in p)
        try:
            t = float(kv["t"]) + offset if offset is not None else t_line
        except (KeyError, ValueError):
            t = t_line
        if t < t_after:
            continue
        vf = kv.get("vf", "-")
        if vf != "-" and plugged is None:
            plugged = t
        if vf == "1":
            link_up = t
            try:
                since = float(kv["since"]) + offset if offset is not None else t
            except (KeyError, ValueError):
                since = t
            break
    return plugged, since, link_up


def port_counts(records, ports, t_from, t_to, offset):
    """How many of the guest's udpseq datagrams sent within [t_from, t_to)
    (the guest's stamp put on the host's clock: under load vfo-real's path
    delayed frames by seconds, so the switch's time would mislead) entered
    the switch by each port."""
    counts = {p: 0 for p in ports}
    for r in records:
        if r[2] == "in" and r[3] == "udp" and len(r) > 6 and r[1] in counts:
            if t_from <= r[6] + offset < t_to:
                counts[r[1]] += 1
    return counts


def path_order(records, port_v, port_e, t_from, t_to):
    """The guest's datagrams after an event by port, in sequence order:
    how many went by virtio before the first one on the new VF, the first
    on the VF, and how many by virtio after it (numbered higher: a switch
    back). Sequence order, not time: under load a datagram waited in the
    guest for seconds before vfo chose its path."""
    seqs = [(r[4], r[1]) for r in records if r[2] == "in" and r[3] == "udp"
            and t_from <= r[0] < t_to and r[1] in (port_v, port_e)]
    first_vf = min((q for q, p in seqs if p == port_e), default=None)
    before = sum(1 for q, p in seqs if p == port_v and (first_vf is None or q < first_vf))
    after = sum(1 for q, p in seqs if p == port_v and first_vf is not None and q > first_vf)
    on_vf = sum(1 for q, p in seqs if p == port_e)
    return {"virtio_before_vf": before, "first_vf_seq": first_vf, "vf": on_vf,
            "virtio_after_first_vf": after}


def measure_hop(hop, records, consoles, t_traffic_end, guest_missing=None):
    """The figures of one migration (or cancel, or link flap) event; the
    next event (or the end of the traffic) ends its windows."""
    m = dict(hop)
    events = hop.get("src_events", [])
    t_unplug = next((e["t"] for e in events if e["event"] == "UNPLUG_PRIMARY"), None)
    t_active = None
    if t_unplug is not None:
        t_active = next((e["t"] for e in events if e["event"] == "MIGRATION" and e["t"] >= t_unplug
                         and e["data"]["status"] not in ("setup", "wait-unplug")), None)
    m["t_unplug"] = t_unplug
    if hop.get("kind") == "migrate":
        m["guest_lost_after_switch"] = None  # set once the VF's link time is known
    m["wait_unplug_s"] = t_active - t_unplug if t_unplug and t_active else None
    t_resume = hop.get("t_resume")
    dst_v, dst_e = taps(hop["dst_set"])
    if t_unplug or hop.get("t_event"):
        t0 = t_unplug or hop["t_event"]
        m["src_clock_offset_s"] = clock_offset(records, taps(hop["src_set"]), t0 - 30, t0)
    t_ref = t_resume if t_resume else hop.get("t_event")
    if t_ref is None:
        return m
    console = consoles.get(hop["dst"], [])
    # Per host (the guest's clock jumps at a migration by about the stop),
    # from both upper bounds: the datagrams (their latency through vfo-real
    # under load reached a second) and the console lines stamped t=.
    offset = min_known(clock_offset(records, (dst_v, dst_e), t_ref, t_traffic_end),
                       console_offset(consoles.get(hop["dst"], []), t_ref, t_traffic_end))
    m["clock_offset_s"] = offset
    plugged, link_since, link_up = link_times(console, t_ref, offset)
    m["vf_plugged_s"] = plugged - t_ref if plugged else None
    m["vf_link_up_s"] = link_up - t_ref if link_up else None
    first_vf = next((t for t, port, _, _ in guest_sends(records) if t >= t_ref and port == dst_e), None)
    m["traffic_on_new_vf_s"] = first_vf - t_ref if first_vf else None
    if link_up:
        # The guest polls the carrier: it came up within [link_since, link_up].
        m["vf_link_up_window_s"] = link_up - link_since
        off = offset or 0.0
        m["udp_ports_vf_down"] = port_counts(records, (dst_v, dst_e), t_ref, link_since, off)
        m["udp_ports_vf_up"] = port_counts(records, (dst_v, dst_e), link_up + 1.0, t_traffic_end,
                                           off)
        m["path_order"] = path_order(records, dst_v, dst_e, t_ref, t_traffic_end)
        if hop.get("kind") == "migrate":
            # The event: from the switch to virtio to 2 s after the new VF's
            # link came up (losses later are the loaded machine's, reported
            # as "elsewhere").
            m["guest_lost_after_switch"] = losses_after_switch(
                m, records, guest_missing or [], min(link_up + 2.0, t_traffic_end))
        if m.get("t_unplug") is not None:
            m["guest_lost_across_eject"] = losses_across_eject(
                records, guest_missing or [], m["t_unplug"] - 1.0,
                min(link_up + 2.0, t_traffic_end))
        m["t_vf_link_up"] = link_up
    return m


def missing_seqs(missing):
    """udpseq's "a-b,c-d" missing ranges as a list of numbers."""
    out = []
    for rng in (missing or "-").split(","):
        if "-" in rng and rng != "-":
            a, b = rng.split("-")
            out += range(int(a), int(b) + 1)
    return out


def losses_after_switch(hop, records, missing, t_end):
    """The guest's lost datagrams numbered after the first one that entered
    the switch by the source's virtio port once QEMU asked for the unplug
    (vfo's switch to virtio): frames on the new path must never be lost."""
    src_v, _ = taps(hop["src_set"])
    t_unplug = hop.get("t_unplug")
    if t_unplug is None:
        return None
    first = next((r[4] for r in records if r[3] == "udp" and r[2] == "in" and r[1] == src_v
                  and r[0] >= t_unplug), None)
    if first is None:
        return None
    last = max((r[4] for r in records if r[3] == "udp" and r[2] == "in" and r[0] <= t_end),
               default=first)
    return [s for s in missing if first < s <= last]


def losses_across_eject(records, missing, t_from, t_to):
    """The guest's lost datagrams whose neighbours in sequence (the highest
    received below, the lowest received above) both entered the switch
    within [t_from, t_to] (from a second before UNPLUG_PRIMARY to two
    seconds after the new VF's link came up): the loss the eject caused,
    placed by the switch's clock and the sequence, not by send times (under
    load a datagram waited in the guest for seconds before it was sent)."""
    first_in = {}
    for r in records:
        if r[2] == "in" and r[3] == "udp" and r[4] not in first_in:
            first_in[r[4]] = r[0]
    seqs = sorted(first_in)
    out = []
    for s in missing:
        i = bisect.bisect_left(seqs, s)
        if i == 0 or i == len(seqs):
            continue
        if t_from <= first_in[seqs[i - 1]] and first_in[seqs[i]] <= t_to:
            out.append(s)
    return out


def check_vfo(run):
    """The assertions the CI lab test makes about a vfo run (figures are
    reported, never asserted): a list of failures."""
    fails = []

    def need(cond, what):
        if not cond:
            fails.append(what)

    g = run.get("guest", {})
    need(run.get("result") == "DONE", f"guest result: {run.get('result')}")
    need(run["tcp"].get("survived"), "the TCP connection did not survive the migration")
    out = run["udp"]["guest_to_peer"]
    need(out.get("send_errors") == 0, f"udpseq in the guest: {out.get('send_errors')} send errors")
    # Nothing the guest sent is lost across the eject: what vfo handed to
    # the VF that eth0 no longer took waited in the VF's ring and was re-sent
    # on virtio at the removal (docs/results.md: "The eject"); what it sent
    # on virtio from its switch on arrived.
    for h in run["hops"]:
        if h.get("kind") == "migrate":
            lost = h.get("guest_lost_across_eject")
            need(lost == [],
                 f"hop {h['src']}->{h['dst']}: guest datagrams lost across the eject: {lost} "
                 f"(the guest kernel dropped {g.get('tap_tx_dropped')} at vfo0 in the whole run)")
    need(g.get("vfo_exit") == "0", f"vfo-real exit status {g.get('vfo_exit')} (verifier or teardown)")
    need(g.get("verifier_clean"), "vfo-real did not report a clean verifier")
    need(g.get("carrier_downs") == 0,
         f"the guest's TCP/IP saw vfo's link go down {g.get('carrier_downs')} time(s)")
    for h in run["hops"]:
        if h.get("kind") != "migrate":
            continue
        if h.get("udp_ports_vf_down") is None:
            fails.append(f"hop {h['src']}->{h['dst']}: the new VF's link never came up")
            continue
        order = h.get("path_order", {})
        need(order.get("virtio_before_vf", 0) > 0 and order.get("vf", 0) > 0
             and order.get("virtio_after_first_vf") == 0,
             f"hop {h['src']}->{h['dst']}: the guest's UDP after RESUME by sequence: {order} "
             "(want virtio first, then only the new VF)")
    return fails


def check_any(run):
    """What both guests must do (CI): finish, keep the TCP connection."""
    fails = []
    if run.get("result") != "DONE":
        fails.append(f"guest result: {run.get('result')}")
    if not run["tcp"].get("survived"):
        fails.append("the TCP connection did not survive the migration")
    return fails


def event_windows(run):
    """Each event's window: from a second before it to two seconds after
    the VF's link was back."""
    windows = []
    for h in run.get("hops", []):
        start = (h.get("t_unplug") or h.get("t_event") or 0) - 1.0
        end = (h.get("t_vf_link_up") or h.get("t_resume") or start) + 2.0
        windows.append((start, end))
    return windows


def split_stalls(run, gaps):
    """The longest TCP stall (gaps: tcp_gaps) that overlaps an event window
    and the longest that does not (the loaded machine, not failover)."""
    windows = event_windows(run)
    inside = [g for g, at in gaps if any(at < b and at + g > a for a, b in windows)]
    outside = [g for g, at in gaps if not any(at < b and at + g > a for a, b in windows)]
    run["tcp"]["longest_stall_in_events_s"] = max(inside, default=0.0)
    run["tcp"]["longest_stall_elsewhere_s"] = max(outside, default=0.0)


def split_losses(run):
    """Each direction's lost datagrams, placed in time by their send time
    (the peer's clock is the host's; the guest's is put on it with the
    offset measured from its datagrams): how many fell within an event
    window (event_windows) and how many elsewhere (the loaded machine, not
    failover)."""
    windows = event_windows(run)
    hops = run.get("hops", [])
    offset = hops[0].get("src_clock_offset_s") if hops else None
    for key, sender_offset in (("guest_to_peer", offset), ("peer_to_guest", 0.0)):
        d = run["udp"].get(key, {})
        t0, rate = d.get("t0"), d.get("rate")
        if not t0 or not rate or sender_offset is None:
            continue
        inside = outside = 0
        for seq in missing_seqs(d.get("missing")):
            t = t0 + sender_offset + seq / rate
            if any(a <= t <= b for a, b in windows):
                inside += 1
            else:
                outside += 1
        d["lost_in_events"], d["lost_elsewhere"] = inside, outside
