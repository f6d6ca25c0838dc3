#!/bin/busybox sh
# /init of the lab guest (tools/lab/mkinitramfs.sh). Kernel command line:
#   vfo.mode=test   the real-device test (tools/lab/realdev-test.py drives
#                   QEMU from the host): pairs, traffic on the VF, set_link
#                   off (virtio), on (VF again), malformed input from the
#                   virtio function (a used index that jumps, a used id out
#                   of range, configuration that cannot be read: SIGUSR1 to
#                   vfo-real), device_del (surprise removal);
#                   prints "@@" lines the host reads; powers off
#   vfo.mode=shell  vfo-real in the background, then a shell on the console
#   vfo.port=N      the host's TCP sink port (QEMU user networking: 10.0.2.2)
#   vfo.secs=N      length of each traffic phase in seconds (default 4)
#   vfo.range=ndis5|ndisvf   the VF miniport's UpperRange
#   vfo.mode=lab    the migration lab (tools/lab/lab.py): network up on
#                   vfo.ip, then a UDP stream both ways (udpseq) and an
#                   iperf3 TCP stream to vfo.peer for vfo.secs seconds while
#                   the host migrates the guest; the results as "@@" lines
#   vfo.stack=vfo|linux      lab mode: vfo in ndisemu (the default) or the
#                   guest kernel's own virtio_net + net_failover
#   vfo.ip=A/N vfo.peer=A    lab mode: the guest's and the peer's addresses
#   vfo.rate=N      lab mode: UDP datagrams per second each way
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /run
export PATH=/bin LD_LIBRARY_PATH=/lib/vfo

arg() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
mode=$(arg vfo.mode); port=$(arg vfo.port); secs=$(arg vfo.secs); range=$(arg vfo.range)
stack=$(arg vfo.stack)
: "${mode:=shell}" "${port:=5201}" "${secs:=4}" "${range:=ndis5}" "${stack:=vfo}"

list=/lib/modules/load.list
[ "$stack" = linux ] && list=/lib/modules/load-linux.list
for m in $(cat $list); do
    opts=
    # MSI, not MSI-X: with QEMU 7.2's e1000e in MSI-X mode the guest driver
    # never hears of a link change (no LSC interrupt on the "other" vector;
    # its watchdog only polls the link while an LSC says it changed).
    [ "$m" = e1000e.ko ] && opts=IntMode=1
    insmod "/lib/modules/$m" $opts || echo "@@ERROR insmod $m"
done
ip link set lo up

[ "$mode" = lab ] && [ "$stack" = linux ] && . /lab-init.sh

status=/run/vfo-real.status
: > /run/vfo-real.log # before tail -f looks for it
vfo-real --lib-dir /lib/vfo --vf-range "$range" --status "$status" > /run/vfo-real.log 2>&1 &
vfo_pid=$!
tail -f /run/vfo-real.log &
tail_pid=$!

get() { sed -n "s/^$1=//p" "$status" 2>/dev/null; }
# wait_for KEY VALUE SECONDS: until vfo's counters file says so
wait_for() {
    i=0
    while [ "$(get "$1")" != "$2" ]; do
        i=$((i + 1))
        [ $i -gt $(($3 * 10)) ] && return 1
        kill -0 $vfo_pid 2>/dev/null || return 1
        sleep 0.1
    done
    return 0
}
# wait_at_least KEY N SECONDS: until vfo's counter KEY reaches N
wait_at_least() {
    i=0
    while [ "$(get "$1")" -lt "$2" ] 2>/dev/null || [ -z "$(get "$1")" ]; do
        i=$((i + 1))
        [ $i -gt $(($3 * 10)) ] && return 1
        kill -0 $vfo_pid 2>/dev/null || return 1
        sleep 0.1
    done
    return 0
}
counters() { echo "@@COUNTERS $1 $(tr '\n' ' ' < "$status")"; }
finish() {
    case "$1" in
    FAIL*) for i in /sys/class/net/*; do echo "@@DIAG ${i##*/} carrier $(cat $i/carrier 2>/dev/null) operstate $(cat $i/operstate)"; done
           cat /proc/interrupts | grep -v " 0 " ;;
    esac
    kill $iperf_pid 2>/dev/null
    kill -TERM $vfo_pid 2>/dev/null
    wait $vfo_pid
    rc=$?
    sleep 1 # tail prints vfo-real's last lines (the verifier's verdict)
    kill $tail_pid 2>/dev/null
    echo "@@VFO_EXIT $rc"
    echo "@@RESULT $1"
    poweroff -f
}

[ "$mode" = lab ] && . /lab-init.sh

if [ "$mode" != test ]; then
    wait_for state active 60 && ip addr add 10.0.2.15/24 dev vfo0 && ip route add default via 10.0.2.2
    exec setsid cttyhack sh
fi

iperf_pid=
wait_for state active 60 || finish "FAIL vfo did not pair with the failover primary"
wait_for tx_on_primary 1 10 || finish "FAIL transmit never moved onto the VF"
ip addr add 10.0.2.15/24 dev vfo0
ip route add default via 10.0.2.2
counters paired
echo "@@PHASE vf"
ping -c 3 -W 2 10.0.2.2 > /run/ping1.log 2>&1 && echo "@@PING vf ok" || echo "@@PING vf FAIL"
cat /run/ping1.log
# One TCP connection through all three phases.
iperf3 -c 10.0.2.2 -p "$port" -t $((secs * 3 + 8)) -i 1 -f k > /run/iperf.log 2>&1 &
iperf_pid=$!
sleep "$secs"
counters vf
echo "@@QMP set_link off"
wait_for tx_on_primary 0 20 || finish "FAIL transmit stayed on the VF after its link went down"
echo "@@PHASE virtio"
ping -c 3 -W 2 10.0.2.2 > /run/ping2.log 2>&1 && echo "@@PING virtio ok" || echo "@@PING virtio FAIL"
sleep "$secs"
counters virtio
echo "@@QMP set_link on"
wait_for tx_on_primary 1 30 || finish "FAIL transmit did not return to the VF"
echo "@@PHASE vf-again"
sleep "$secs"
counters vf-again
wait $iperf_pid
iperf_rc=$?
iperf_pid=
cat /run/iperf.log
echo "@@IPERF $iperf_rc"
# Malformed input from the real device (vfo-real makes it on SIGUSR1, as
# /run/vfo-real.fault names): vfo must notice, say so, count it on its
# control device and recover. The ring faults need the guest quiet: QEMU
# must not publish the next used index first.
fault() { echo "$1" > /run/vfo-real.fault; kill -USR1 $vfo_pid; }
sleep 1
echo "@@PHASE fault"
fault used-jump # the receive ring's used index jumps
wait_at_least device_resets 1 20 || finish "FAIL vfo did not reset the device after the used index jumped"
sleep 2.5 # vfo-real shows the driver's messages 2 s after a fault
wait_for tx_on_primary 1 20 || finish "FAIL transmit did not return to the VF after the fault"
ping -c 3 -W 2 10.0.2.2 > /run/ping4.log 2>&1 && echo "@@PING fault ok" || echo "@@PING fault FAIL"
sleep 0.5
counters fault
sleep 1
echo "@@PHASE fault-id"
fault used-id # a used entry names descriptor 9999
wait_at_least device_resets 2 20 || finish "FAIL vfo did not reset the device after a used id out of range"
sleep 2.5
ping -c 3 -W 2 10.0.2.2 > /run/ping5.log 2>&1 && echo "@@PING fault-id ok" || echo "@@PING fault-id FAIL"
sleep 0.5
counters fault-id
echo "@@PHASE fault-config"
fault config-churn # config_generation never settles: the next change cannot be read
sleep 0.5
echo "@@QMP set_link net0 off"
wait_at_least err_config_read 1 20 || finish "FAIL vfo read the configuration through a churning generation"
fault config-ok
echo "@@QMP set_link net0 on"
sleep 1
ping -c 3 -W 2 10.0.2.2 > /run/ping6.log 2>&1 && echo "@@PING fault-config ok" || echo "@@PING fault-config FAIL"
sleep 0.5
counters fault-config
# QEMU unplugs the primary (device_del): the guest kernel ejects it without
# asking user space, the interface vanishes: a surprise removal for vfo.
echo "@@QMP device_del"
wait_for state absent 30 || finish "FAIL vfo kept the VF after QEMU unplugged it"
echo "@@PHASE unplugged"
ping -c 3 -W 2 10.0.2.2 > /run/ping3.log 2>&1 && echo "@@PING unplugged ok" || echo "@@PING unplugged FAIL"
sleep 0.5 # vfo-real rewrites the counters file every 300 ms
counters unplugged
finish DONE
