# SPDX-License-Identifier: GPL-2.0-only
# Helpers for the guest halves of tests/lab/t-virtio-net.sh (net-user.sh, net-tap.sh).
# Sourced by /init (busybox ash), so: no exit, and every name starts with net_.

# net_arg NAME: the value of kvmbox.net.NAME= on the kernel command line.
net_arg() {
	for net_a in $(cat /proc/cmdline); do
		case "$net_a" in
		"kvmbox.net.$1="*) echo "${net_a#*=}" ;;
		esac
	done
}

# net_ifaces: every interface but lo, as NAME=MAC, in name order.
net_ifaces() {
	for net_d in /sys/class/net/*; do
		[ "${net_d##*/}" = lo ] && continue
		echo "${net_d##*/}=$(cat "$net_d/address")"
	done
}

# net_iface_of MAC: the interface that has MAC.
net_iface_of() {
	net_ifaces | sed -n "s/=$1\$//p" | head -n1
}

# net_report IFACE: what the driver negotiated and counted, for the logs.
net_report() {
	net_dev="$(readlink -f "/sys/class/net/$1/device")"
	echo "KVMBOX-NET-FEATURES: $1 $(cat "$net_dev/features" 2>/dev/null)"
	echo "KVMBOX-NET-STATS: $1 rx=$(cat "/sys/class/net/$1/statistics/rx_packets")" \
		"tx=$(cat "/sys/class/net/$1/statistics/tx_packets")" \
		"rx_errors=$(cat "/sys/class/net/$1/statistics/rx_errors")" \
		"rx_dropped=$(cat "/sys/class/net/$1/statistics/rx_dropped")"
}

# net_wait_file FILE SECS: wait until FILE exists; false on timeout.
net_wait_file() {
	net_i=0
	while [ ! -e "$1" ]; do
		[ "$net_i" -ge "$2" ] && return 1
		sleep 1
		net_i=$((net_i + 1))
	done
	return 0
}

# net_serve PORT: a web server on PORT with /big (deterministic, a few MB, so that
# segmentation offloads get used) and /cgi-bin/done, which drops /tmp/net-done.
net_serve() {
	mkdir -p /www/cgi-bin
	seq 1 400000 >/www/big
	echo "kvmbox-net-ok" >/www/index.html
	cat >/www/cgi-bin/done <<'EOF'
#!/bin/sh
: >/tmp/net-done
printf 'Content-Type: text/plain\r\n\r\nkvmbox-net-ok\n'
EOF
	chmod 755 /www/cgi-bin/done
	httpd -p "$1" -h /www
}

# net_fetch URL FILE [TRIES]: wget with a timeout and a few tries (the peer may be
# late). Not wget -T: busybox 1.35's wget crashes with it.
net_fetch() {
	net_i=0
	while [ "$net_i" -lt "${3:-5}" ]; do
		timeout 30 wget -q -O "$2" "$1" && return 0
		sleep 2
		net_i=$((net_i + 1))
	done
	return 1
}

# What udhcpc runs on its events: configure the interface from the lease.
net_dhcp_script() {
	cat >/tmp/net-dhcp.sh <<'EOF'
#!/bin/sh
case "$1" in
deconfig)
	ip addr flush dev "$interface"
	ip link set "$interface" up
	;;
bound | renew)
	ip addr flush dev "$interface"
	ip addr add "$ip/${mask:-24}" dev "$interface"
	for r in $router; do
		ip route add default via "$r" dev "$interface"
		break
	done
	: >/etc/resolv.conf
	for d in $dns; do echo "nameserver $d" >>/etc/resolv.conf; done
	echo "$ip ${router%% *} ${dns%% *}" >/tmp/net-lease
	;;
esac
EOF
	chmod 755 /tmp/net-dhcp.sh
}
