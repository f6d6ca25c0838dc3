#!/bin/sh
# Instructions per NBL on the VF path, per component, from callgrind.
#   bench/vfpath_bench/callgrind.sh [build dir] [case ...]
# (default build/host; cases as vfpath_bench --case, default tx/64/1/1
# tx/64/32/1 rx/64/1/1 rx/64/32/1). For each case runs vfpath_bench --path a
# and --path b in-process under callgrind, collecting only inside the
# measured function (the stand-in's send loop pt_burst_io for tx, the VF
# miniport's DPC mp_sink_dpc for rx: everything of the indication and the
# returns runs inside it), with the verifier's per-call checks off (as the
# timed figures), divides by the NBLs that went through it and groups the
# self cost of every function by the source directory it was compiled from.
# TOP=N also lists the N functions whose cost grew most from (a) to (b).
set -eu
build=${1:-build/host}
[ $# -gt 0 ] && shift
cases=${*:-tx/64/1/1 tx/64/32/1 rx/64/1/1 rx/64/32/1}
bench="$build/bench/vfpath_bench/vfpath_bench"
[ -x "$bench" ] || { echo "callgrind.sh: build $bench first" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind is not installed" >&2; exit 1; }
frames=${FRAMES:-20000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for c in $cases; do
    case $c in tx/*) fn=pt_burst_io ;; *) fn=mp_sink_dpc ;; esac
    for p in a b; do
        valgrind --tool=callgrind --callgrind-out-file="$tmp/$p.out" --collect-atstart=no \
            --toggle-collect="$fn" "$bench" --case "$c" --path "$p" --frames "$frames" \
            >"$tmp/$p.txt" 2>"$tmp/$p.err" || { cat "$tmp/$p.err" >&2; exit 1; }
        callgrind_annotate --auto=no --inclusive=no --threshold=100 "$tmp/$p.out" >"$tmp/$p.ann"
    done
    python3 - "$c" "$tmp" <<'PY'
import os, re, sys
case, tmp = sys.argv[1], sys.argv[2]
groups = [("vfo glue (driver/)", "/driver/"), ("lib/failover", "/lib/failover/"),
          ("lib/vnet + lib/virtio", "/lib/v"), ("ndisemu (emu/ndisemu)", "/emu/ndisemu/"),
          ("VF miniport (sink_mp)", "/emu/drivers/minimp/"),
          ("TCP/IP stand-in (miniprot)", "/emu/drivers/miniprot/"),
          ("ndisutil", "/emu/drivers/ndisutil/")]
fns = {"a": {}, "b": {}}
def load(p):
    n = int(re.search(r"with the warm-up (\d+)", open(f"{tmp}/{p}.txt").read()).group(1))
    per = {g: 0 for g, _ in groups}
    per["libc + ld.so (mutex, TLS, memset)"] = 0
    total = 0
    for line in open(f"{tmp}/{p}.ann"):
        m = re.match(r"\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(\S.*)$", line)
        if not m or ":" not in m.group(2):
            continue
        ir = int(m.group(1).replace(",", ""))
        where = m.group(2)
        if where.startswith("PROGRAM TOTALS"):
            continue
        total += ir
        fn = where.split(" [")[0].split(":")[-1]
        fns[p][fn] = fns[p].get(fn, 0) + ir
        for g, key in groups:
            if key in "/" + where.split(":")[0]:
                per[g] += ir
                break
        else:
            per["libc + ld.so (mutex, TLS, memset)"] += ir
    return n, per, total
na, pa, ta = load("a")
nb, pb, tb = load("b")
print(f"\n{case}: Ir per NBL (callgrind, self cost grouped by source; {na} / {nb} NBLs)")
print(f"{'component':30s} {'(a)':>9s} {'(b)':>9s} {'(b)-(a)':>9s}")
for g in list(pa):
    a, b = pa[g] / na, pb[g] / nb
    if a or b:
        print(f"{g:30s} {a:9.0f} {b:9.0f} {b - a:9.0f}")
print(f"{'total':30s} {ta / na:9.0f} {tb / nb:9.0f} {tb / nb - ta / na:9.0f}")
top = int(os.environ.get("TOP", "0"))
if top:
    d = {f: fns["b"].get(f, 0) / nb - fns["a"].get(f, 0) / na for f in set(fns["a"]) | set(fns["b"])}
    print(f"  the {top} functions that grew most, Ir per NBL (b)-(a):")
    for f in sorted(d, key=d.get, reverse=True)[:top]:
        print(f"    {d[f]:7.0f}  {f}")
PY
done
