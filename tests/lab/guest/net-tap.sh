# SPDX-License-Identifier: GPL-2.0-only
# Guest half of the tap test in tests/lab/t-virtio-net.sh: two guests on one bridge in
# the lab machine, with static addresses, ping each other and fetch a few megabytes from
# each other's web server (big enough for segmentation offloads). Each tells the other
# when it is done and stays up until the other is, so that neither leaves early.
# Kernel command line: kvmbox.net.mac=MAC, kvmbox.net.ip=ADDR/LEN, kvmbox.net.peer=ADDR.
# Sourced by /init: no exit.

. /tests/net-lib.sh

net_tap_main() {
	mac="$(net_arg mac)" addr="$(net_arg ip)" peer="$(net_arg peer)"
	ifc="$(net_iface_of "$mac")"
	[ -n "$ifc" ] || { echo "KVMBOX-ERROR: no interface with MAC $mac"; return 1; }
	# Serve first: once we have an address the peer may ask at once.
	net_serve 80
	ip link set lo up
	ip link set "$ifc" up
	ip addr add "$addr" dev "$ifc"
	# The peer may still be booting, slowly on a busy lab: try for up to ten minutes.
	i=0
	until ping -c 1 -W 2 "$peer" >/dev/null 2>&1; do
		i=$((i + 1))
		if [ "$i" -ge 300 ]; then
			echo "KVMBOX-NET-PING: no answer from $peer"
			net_report "$ifc"
			return 1
		fi
	done
	echo "KVMBOX-NET-PING: $(ping -c 5 -i 0.2 -W 10 "$peer" | grep -o '[0-9]* packets received')"
	if net_fetch "http://$peer/big" /tmp/big; then
		echo "KVMBOX-NET-FETCH-SHA: $(sha256sum </tmp/big | cut -d' ' -f1)"
		echo "KVMBOX-NET-EXPECT-SHA: $(sha256sum </www/big | cut -d' ' -f1)"
	else
		echo "KVMBOX-NET-FETCH-SHA: failed"
	fi
	net_fetch "http://$peer/cgi-bin/done" /dev/null 30 ||
		echo "KVMBOX-NET-INFO: could not tell $peer we are done"
	if net_wait_file /tmp/net-done 600; then
		echo "KVMBOX-NET-PEER: done"
		sleep 2 # its last request is still on its way back
	else
		echo "KVMBOX-NET-PEER: never said it was done"
	fi
	net_report "$ifc"
	return 0
}

net_tap_main
