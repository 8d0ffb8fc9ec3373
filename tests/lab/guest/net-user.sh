# SPDX-License-Identifier: GPL-2.0-only
# Guest half of the user-networking tests in tests/lab/t-virtio-net.sh: DHCP from the
# user-mode stack, a download from the lab machine's loopback through 10.0.2.2, and a
# web server that the lab reaches through a hostfwd port.
# Kernel command line: kvmbox.net.mac=MAC (the NIC to use), kvmbox.net.http=PORT (the
# lab's server), kvmbox.net.serve=PORT (ours, the hostfwd target).
# Sourced by /init: no exit.

. /tests/net-lib.sh

net_user_main() {
	mac="$(net_arg mac)" http="$(net_arg http)" serve="$(net_arg serve)"
	for i in $(net_ifaces); do
		echo "KVMBOX-NET-IFACE: $i"
	done
	ifc="$(net_iface_of "$mac")"
	[ -n "$ifc" ] || { echo "KVMBOX-ERROR: no interface with MAC $mac"; return 1; }
	ip link set lo up
	ip link set "$ifc" up
	net_dhcp_script
	if ! udhcpc -i "$ifc" -s /tmp/net-dhcp.sh -n -q -t 5 -T 2 >/dev/null 2>&1; then
		echo "KVMBOX-ERROR: no DHCP lease on $ifc"
		net_report "$ifc"
		return 1
	fi
	read -r ip router dns </tmp/net-lease
	echo "KVMBOX-NET-IP: $ip"
	echo "KVMBOX-NET-ROUTER: $router"
	echo "KVMBOX-NET-DNS: $dns"
	if net_fetch "http://10.0.2.2:$http/blob" /tmp/blob; then
		echo "KVMBOX-NET-FETCH-SHA: $(sha256sum </tmp/blob | cut -d' ' -f1)"
	else
		echo "KVMBOX-NET-FETCH-SHA: failed"
	fi
	net_serve "$serve"
	echo "KVMBOX-NET-SERVING: $serve"
	if net_wait_file /tmp/net-done 600; then
		echo "KVMBOX-NET-HOSTFWD: reached"
		sleep 1 # the reply is still on its way out
	else
		echo "KVMBOX-NET-HOSTFWD: nobody came"
	fi
	net_report "$ifc"
	net_rebind "$ifc" || return 1
	ifc="$(net_iface_of "$mac")"
	ip link set "$ifc" up
	udhcpc -i "$ifc" -s /tmp/net-dhcp.sh -n -q -t 5 -T 2 >/dev/null 2>&1 ||
		echo "KVMBOX-ERROR: no DHCP lease after the reset"
	if net_fetch "http://10.0.2.2:$http/blob" /tmp/blob; then
		echo "KVMBOX-NET-REBIND-SHA: $(sha256sum </tmp/blob | cut -d' ' -f1)"
	else
		echo "KVMBOX-NET-REBIND-SHA: failed"
	fi
	return 0
}

# net_rebind IFACE: unbind the driver (it resets the device: status 0) and bind it again.
net_rebind() {
	dev="$(basename "$(readlink -f "/sys/class/net/$1/device")")"
	echo "$dev" >/sys/bus/virtio/drivers/virtio_net/unbind || return 1
	echo "$dev" >/sys/bus/virtio/drivers/virtio_net/bind || return 1
	echo "KVMBOX-NET-REBIND: $dev"
}

net_user_main
