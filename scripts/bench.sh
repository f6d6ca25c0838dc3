#!/bin/sh
# make bench: runs every benchmark under bench/ (built as <build>/bench/<name>/<name>).
# Figures are wall-clock and machine-dependent: they are reported, never asserted.
set -eu
build=${1:-build/host}
found=0
for b in "$build"/bench/*/*_bench; do
    [ -x "$b" ] || continue
    found=1
    printf '\n=== %s\n' "$(basename "$b")"
    "$b"
done
[ "$found" -eq 1 ] || { echo "bench: no benchmarks built under $build/bench" >&2; exit 1; }
