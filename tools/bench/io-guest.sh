# SPDX-License-Identifier: GPL-2.0-only
# Guest half of tools/bench/io, installed as /tests/iobench.sh in the benchmark's own
# initramfs and sourced by the lab guest's /init for kvmbox.test=iobench (busybox ash:
# no exit, every name starts with io_). It runs /bin/iobench (tools/bench/iobench.c) and
# prints one KVMBOX-IO-<NAME>: line per figure for the harness.
#
# Kernel command line:
#   kvmbox.io.secs=N       seconds per measurement
#   kvmbox.io.blk=QD,QD    disk: 4 KiB random reads at the first queue depth, then 1 MiB
#                          sequential reads at the second, O_DIRECT on /dev/vda
#   kvmbox.io.net=IP/LEN,HOST,PORT   network: take IP/LEN on the only NIC, then send
#                          TCP to HOST:PORT

io_arg() {
	for io_a in $(cat /proc/cmdline); do
		case "$io_a" in
		"kvmbox.io.$1="*) echo "${io_a#*=}" ;;
		esac
	done
}

# io_irqs: the guest's interrupt counts of virtio devices, summed over CPUs, one line each.
io_irqs() {
	grep virtio /proc/interrupts | awk '{ n = 0; for (i = 2; i <= NF; i++)
		if ($i ~ /^[0-9]+$/) n += $i; else break; print $NF "=" n }' | tr '\n' ' '
}

io_blk() {
	io_qd_rand="${1%,*}" io_qd_seq="${1#*,}"
	io_i=0
	while [ ! -b /dev/vda ] && [ $io_i -lt 50 ]; do
		usleep 100000
		io_i=$((io_i + 1))
	done
	[ -b /dev/vda ] || { echo "KVMBOX-ERROR: no /dev/vda"; return 1; }
	io_q=/sys/block/vda/queue
	echo "KVMBOX-IO-QUEUE: max_segments=$(cat $io_q/max_segments)" \
		"max_sectors_kb=$(cat $io_q/max_sectors_kb) nr_requests=$(cat $io_q/nr_requests)" \
		"hw_queues=$(ls /sys/block/vda/mq | wc -l) scheduler=$(cat $io_q/scheduler)"
	echo "KVMBOX-IO-IRQS-BEFORE: $(io_irqs)"
	# PHASE: the harness takes KVM's exit counters here and at the figure's line.
	echo "KVMBOX-IO-PHASE: rand"
	echo "KVMBOX-IO-RAND: $(iobench read -p rand -b 4096 -q "$io_qd_rand" -t "$secs" /dev/vda)"
	echo "KVMBOX-IO-IRQS-RAND: $(io_irqs)"
	echo "KVMBOX-IO-PHASE: seq"
	echo "KVMBOX-IO-SEQ: $(iobench read -p seq -b 1048576 -q "$io_qd_seq" -t "$secs" /dev/vda)"
	echo "KVMBOX-IO-IRQS-SEQ: $(io_irqs)"
	sed 's/^/KVMBOX-IO-DISKSTATS: /' /sys/block/vda/stat
}

io_net() {
	io_ip="${1%%,*}" io_rest="${1#*,}"
	io_host="${io_rest%,*}" io_port="${io_rest#*,}"
	io_ifc=
	for io_d in /sys/class/net/*; do
		[ "${io_d##*/}" = lo ] || io_ifc="${io_d##*/}"
	done
	[ -n "$io_ifc" ] || { echo "KVMBOX-ERROR: no network interface"; return 1; }
	ip link set "$io_ifc" up
	ip addr add "$io_ip" dev "$io_ifc"
	io_i=0
	until ping -c 1 -W 1 "$io_host" >/dev/null 2>&1; do
		io_i=$((io_i + 1))
		[ $io_i -ge 60 ] && { echo "KVMBOX-ERROR: no answer from $io_host"; return 1; }
	done
	echo "KVMBOX-IO-NET-FEATURES: $(cat "/sys/class/net/$io_ifc/device/features" 2>/dev/null)"
	echo "KVMBOX-IO-PHASE: tcp"
	echo "KVMBOX-IO-TCP: $(iobench send -t "$secs" "$io_host" "$io_port")"
	echo "KVMBOX-IO-IRQS-TCP: $(io_irqs)"
}

io_main() {
	secs="$(io_arg secs)"
	echo "KVMBOX-IO-CLOCKSOURCE: $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
	io_status=0
	io_v="$(io_arg blk)"
	if [ -n "$io_v" ]; then
		io_blk "$io_v" || io_status=1
	fi
	io_v="$(io_arg net)"
	if [ -n "$io_v" ]; then
		io_net "$io_v" || io_status=1
	fi
	# For the logs: which paravirtual features the guest took (PV EOI, steal time, ...).
	dmesg | grep -iE 'kvm|x2apic|tsc' | sed 's/^/KVMBOX-IO-DMESG: /'
	return $io_status
}

io_main
