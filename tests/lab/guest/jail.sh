# SPDX-License-Identifier: GPL-2.0-only
# Guest half of tests/lab/t-jail.sh: a guest whose kvmbox runs in --jail uses its disk
# (a marker written with fsync, read back from the disk) and user networking (DHCP, a
# download from the lab's loopback), then serves on port 8080 and waits until the lab,
# having looked at the jailed kvmbox from outside, fetches /cgi-bin/done through hostfwd.
# Kernel command line: kvmbox.net.http=PORT (the lab's server).
# Sourced by /init: no exit, and every name starts with jail_.

# shellcheck source=tests/lab/guest/blk-lib.sh
. /tests/blk-lib.sh
# shellcheck source=tests/lab/guest/net-lib.sh
. /tests/net-lib.sh

jail_disk() {
	jail_dev="$(blk_disk kvmbox-jail)" || { echo "no disk with serial kvmbox-jail"; return; }
	jail_marker="kvmbox-jail-$(cat /proc/sys/kernel/random/uuid)"
	echo "$jail_marker" >/tmp/jail-m
	dd if=/tmp/jail-m of="$jail_dev" bs=512 seek=2048 conv=sync,fsync 2>/dev/null ||
		{ echo "write failed"; return; }
	blk_drop_caches
	jail_got="$(dd if="$jail_dev" bs=512 skip=2048 count=1 2>/dev/null | tr -d '\0')"
	[ "$jail_got" = "$jail_marker" ] || { echo "read back '$jail_got'"; return; }
	echo ok
}

jail_net() {
	jail_ifc="$(net_iface_of 52:54:00:12:34:56)"
	[ -n "$jail_ifc" ] || { echo "no NIC"; return; }
	ip link set lo up
	ip link set "$jail_ifc" up
	net_dhcp_script
	udhcpc -i "$jail_ifc" -s /tmp/net-dhcp.sh -n -q -t 5 -T 2 >/dev/null 2>&1 ||
		{ echo "no DHCP lease"; return; }
	net_fetch "http://10.0.2.2:$(net_arg http)/blob" /tmp/blob || { echo "download failed"; return; }
	echo ok
}

jail_main() {
	echo "KVMBOX-JAIL-DISK: $(jail_disk | tail -n1)"
	[ -f /tmp/jail-m ] && echo "KVMBOX-JAIL-WROTE: $(cat /tmp/jail-m)"
	echo "KVMBOX-JAIL-NET: $(jail_net | tail -n1)"
	[ -f /tmp/blob ] && echo "KVMBOX-JAIL-SHA: $(sha256sum </tmp/blob | cut -d' ' -f1)"
	net_serve 8080
	echo "KVMBOX-JAIL-SERVING: 8080"
	if net_wait_file /tmp/net-done 600; then
		echo "KVMBOX-JAIL-HOSTFWD: reached"
		sleep 1 # the reply is still on its way out
	else
		echo "KVMBOX-JAIL-HOSTFWD: nobody came"
	fi
}

jail_main
