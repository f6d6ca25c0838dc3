# The migration lab's part of the guest's /init (sourced by guest-init.sh
# under vfo.mode=lab; never returns: it powers the guest off). The host
# (tools/lab/lab.py) migrates the guest while it runs traffic and reads the
# "@@" lines from whichever QEMU's console the guest is on:
#   @@NET dev          the interface TCP/IP uses is up with vfo.ip
#   @@TRAFFIC secs     the streams started (the host may migrate now)
#   @@LINKS n=c ...    every change of an interface's carrier (polled 10/s;
#                      vf= is the e1000e's: "-" while there is none)
#   @@UDP_OUT/@@UDP_IN udpseq's sender and receiver summaries
#   @@IPERF rc / @@IPERF_SUM   the TCP stream's exit status and summary
#   @@TCP key=value    /proc/net/snmp deltas, the carrier-down count and
#                      the tx_dropped count of the interface TCP/IP uses
#   @@RESULT DONE|FAIL why
# Stacks: vfo (vfo-real already runs; its helpers wait_for/finish come
# from guest-init.sh) or linux (virtio_net + net_failover: the failover
# master is the interface with lower_* links).
ip_addr=$(arg vfo.ip)
peer=$(arg vfo.peer)
rate=$(arg vfo.rate)
: "${ip_addr:=198.18.0.2/24}" "${peer:=198.18.0.1}" "${rate:=200}"
udp_out_port=7001 # guest -> peer
udp_in_port=7002  # peer -> guest

lab_finish() {
    [ -n "$watch_pid" ] && kill "$watch_pid" 2>/dev/null
    case "$1" in
    FAIL*)
        for i in /sys/class/net/*; do
            echo "@@DIAG ${i##*/} $(cat "$i/operstate" "$i/carrier" "$i/device/vendor" 2>/dev/null | tr '\n' ' ')$(ls -d "$i"/lower_* "$i"/upper_* "$i"/master 2>/dev/null | tr '\n' ' ')"
        done
        echo "@@DIAG modules $(cut -d' ' -f1 /proc/modules | tr '\n' ' ')"
        dmesg | tail -n 30 | sed 's/^/@@DIAG /'
        ;;
    esac
    if [ "$stack" = vfo ]; then
        finish "$1"
    fi
    echo "@@RESULT $1"
    poweroff -f
}

# Carrier of every interface, printed on change; vf= is the e1000e (PCI
# vendor 0x8086) whatever name it got on this host.
watch_links() {
    local prev now i n c v vf
    prev=
    t_prev=$(udpseq now)
    while :; do
        t_poll=$(udpseq now)
        now=
        vf=-
        for i in /sys/class/net/*; do
            n=${i##*/}
            [ "$n" = lo ] && continue
            c=x
            v=
            [ -r "$i/carrier" ] && read -r c < "$i/carrier"
            [ -r "$i/device/vendor" ] && read -r v < "$i/device/vendor"
            [ "$v" = 0x8086 ] && vf=$c
            now="$now $n=$c"
        done
        now="$now vf=$vf"
        # The guest's clock (udpseq now: CLOCK_REALTIME): the host places
        # the change against its own captures (udpseq's datagrams carry the
        # same clock), not against when the line crossed the serial port.
        # since= is the previous poll: a change happened in [since, t].
        [ "$now" != "$prev" ] && echo "@@LINKS t=$(udpseq now) since=$t_prev$now"
        prev=$now
        t_prev=$t_poll
        sleep 0.1
    done
}

linux_master() {
    local d
    for d in /sys/class/net/*/lower_*; do
        [ -e "$d" ] || continue
        d=${d%/lower_*}
        echo "${d##*/}"
        return 0
    done
    return 1
}

# The failover master exists and its primary (the e1000e) is enslaved
# with carrier: net_failover then transmits on the primary.
linux_primary_up() {
    local d v c
    for d in /sys/class/net/"$1"/lower_*; do
        v=
        c=
        [ -r "$d/device/vendor" ] && read -r v < "$d/device/vendor"
        [ -r "$d/carrier" ] && read -r c < "$d/carrier"
        [ "$v" = 0x8086 ] && [ "$c" = 1 ] && return 0
    done
    return 1
}

snmp_tcp() { awk '/^Tcp: [0-9]/ {print "out=" $12, "retrans=" $13}' /proc/net/snmp; }

if [ "$stack" = vfo ]; then
    dev=vfo0
    # TCP/IP is on vfo0 only; eth0 (the e1000e, vfo's VF wire) is up for
    # vfo-real's AF_PACKET socket. Without these the kernel would also
    # take the peer's frames straight from eth0 (a second path around vfo:
    # every datagram twice) and answer ARP there.
    echo 1 > /proc/sys/net/ipv4/conf/all/rp_filter
    echo 1 > /proc/sys/net/ipv4/conf/all/arp_ignore
    wait_for state active 90 || lab_finish "FAIL vfo did not pair with the failover primary"
    wait_for tx_on_primary 1 30 || lab_finish "FAIL transmit never moved onto the VF"
    # vfo0's queue is the TAP into vfo-real, a hop Windows does not have
    # (TCP/IP hands its frames to NDIS): with the default 500 the guest
    # kernel dropped hundreds of frames there whenever vfo-real was starved
    # on a loaded machine, before vfo ever saw them (tx_dropped).
    echo 10000 > /sys/class/net/vfo0/tx_queue_len
else
    i=0
    # The master opens its slaves when it is opened itself.
    until dev=$(linux_master) && ip link set "$dev" up && linux_primary_up "$dev"; do
        i=$((i + 1))
        [ $i -gt 600 ] && lab_finish "FAIL no net_failover master with an enslaved primary"
        sleep 0.1
    done
fi
watch_links &
watch_pid=$!
ip link set "$dev" up
ip addr add "$ip_addr" dev "$dev"
echo "@@NET $dev"
ping -c 2 -W 3 "$peer" > /dev/null 2>&1 || ping -c 2 -W 3 "$peer" > /dev/null 2>&1 ||
    lab_finish "FAIL the peer $peer does not answer"
read -r downs0 < "/sys/class/net/$dev/carrier_down_count"
read -r drops0 < "/sys/class/net/$dev/statistics/tx_dropped"
tcp0=$(snmp_tcp)

udpseq recv $udp_in_port $((secs + 10)) > /run/udp-in.log 2>&1 &
recv_pid=$!
i=0
until grep -q listening /run/udp-in.log 2>/dev/null; do
    i=$((i + 1))
    [ $i -gt 300 ] && lab_finish "FAIL udpseq recv did not start"
    sleep 0.05
done
echo "@@TRAFFIC $secs"
iperf3 -c "$peer" -p "$port" -t "$secs" -i 1 -f k > /run/iperf.log 2>&1 &
iperf_pid=$!
udpseq send "$peer" $udp_out_port "$rate" "$secs" > /run/udp-out.log 2>&1
wait $iperf_pid
iperf_rc=$?
iperf_pid=
wait $recv_pid
read -r downs1 < "/sys/class/net/$dev/carrier_down_count"
read -r drops1 < "/sys/class/net/$dev/statistics/tx_dropped"
tcp1=$(snmp_tcp)

echo "@@UDP_OUT $(cat /run/udp-out.log)"
echo "@@UDP_IN $(tail -n 1 /run/udp-in.log)"
echo "@@IPERF $iperf_rc"
grep -E "sender|receiver|error" /run/iperf.log | sed 's/^/@@IPERF_SUM /'
echo "@@TCP dev=$dev carrier_downs=$((downs1 - downs0)) tx_dropped=$((drops1 - drops0)) before: $tcp0 after: $tcp1"
[ "$stack" = vfo ] && counters lab
lab_finish DONE
