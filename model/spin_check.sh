#!/bin/sh
# Exhaustive check of one Promela model with spin (ctest: spin_fo_rundown).
#
#   spin_check.sh <model.pml> <work dir> [spin] [cc]
#
# Generates the verifier (spin -a), compiles pan with the host C compiler and
# runs a full safety search: assertions and invalid end states (deadlocks,
# a detach that never completes). Fails on any error, on a search that did not
# complete (depth or memory limit), and on any unreached statement: the model
# is written so that every statement is reachable, so an unreached one means
# the model no longer exercises what it claims to.
set -eu
model=$1
work=$2
spin=${3:-spin}
cc=${4:-cc}
name=$(basename "$model")

mkdir -p "$work"
cd "$work"
rm -f pan pan.* ./*.trail
cp "$model" "$name"
"$spin" -a "$name"
# MEMLIM caps the search at 1 GiB (the model needs about 0.5 GiB); COLLAPSE
# compresses the stored states.
"$cc" -O2 -w -DMEMLIM=1024 -DCOLLAPSE -o pan pan.c
./pan -m1000000 >pan.out 2>&1 || true
cat pan.out

fail() {
    echo "spin_check: $name: $*" >&2
    if [ -f "$name.trail" ]; then
        echo "spin_check: counterexample ($work/$name.trail):" >&2
        "$spin" -t -p -g -l "$name" 2>&1 | tail -100 >&2
    fi
    exit 1
}

grep -q "errors: 0" pan.out || fail "errors found"
if grep -q "Search not completed" pan.out; then
    fail "search not completed (limit reached)"
fi
unreached=$(awk '/^unreached in/ { u = 1; next } u && /\.pml:[0-9]+/ { print }' pan.out)
[ -z "$unreached" ] || fail "unreached statements:
$unreached"
echo "spin_check: $name: exhaustive search passed"
