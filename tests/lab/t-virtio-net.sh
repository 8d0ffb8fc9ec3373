# SPDX-License-Identifier: GPL-2.0-only
# virtio-net under the stock kernel's virtio_net driver (guest halves:
# tests/lab/guest/net-*.sh). Traffic stays inside the lab machine.
#   user  one guest, two user-mode NICs: DHCP, a download from a web server on the lab's
#         loopback through 10.0.2.2, a hostfwd port into the guest's web server, and the
#         same download again after a device reset (driver unbind/bind)
#   tap   two guests on a bridge of two taps: ping and a few MB each way; the first
#         guest's NIC goes through vhost-net when the lab has /dev/vhost-net
# Each setup boots once per run; the test functions check parts of its result.

NET_HTTP_PORT=18080 # the lab's web server on 127.0.0.1, for the user guest
NET_FWD_PORT=18081  # hostfwd 127.0.0.1:18081 -> the guest's port 8080
NET_MAC0=52:54:00:12:34:56 # the default MAC of the first NIC
NET_MAC1=02:00:00:00:01:02
NET_TAP_MACS=(52:54:00:aa:00:01 52:54:00:aa:00:02)

net_cmdline() {
	echo "$(guest_cmdline "$1") kvmbox.modules=virtio_pci,virtio_net ${*:2}"
}

# net_cached NAME: whether the setup NAME already ran in this run (then BOOT_RC is set).
net_cached() {
	[ -f "$LAB_RUN_TMP/net-$1.rc" ] && read -r BOOT_RC <"$LAB_RUN_TMP/net-$1.rc"
}

# Once the guest serves on its port, fetch through the hostfwd port until it works.
net_hostfwd_client() {
	local pid="$1" out i
	for ((i = 0; i < LAB_BOOT_TIMEOUT; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		if grep -q "KVMBOX-NET-SERVING" "$BOOT_LOG" &&
			out="$(timeout 10 busybox wget -q -O - "http://127.0.0.1:$NET_FWD_PORT/cgi-bin/done")"; then
			echo "$out"
			return 0
		fi
		sleep 1
	done
	echo "no answer through the hostfwd port"
}

net_user_boot() {
	local www="$LAB_RUN_TMP/net-www" httpd pid
	mkdir -p "$LAB_LOGS"
	BOOT_LOG="$LAB_LOGS/net-user.log"
	echo "$BOOT_LOG" >"$LAB_TEST_LOGREF"
	net_cached user && return 0
	ip link set lo up
	mkdir -p "$www"
	head -c 1048576 /dev/urandom >"$www/blob"
	busybox httpd -f -p "127.0.0.1:$NET_HTTP_PORT" -h "$www" &
	httpd=$!
	local args=(run --kernel "$LAB_KERNEL" --initrd "$LAB_INITRD" -v --cpus 2 --memory 256M
		--net "user,hostfwd=tcp:127.0.0.1:$NET_FWD_PORT-:8080"
		--net "user,mac=$NET_MAC1"
		--cmdline "$(net_cmdline net-user kvmbox.net.mac=$NET_MAC0 \
			kvmbox.net.http=$NET_HTTP_PORT kvmbox.net.serve=8080)")
	printf '# %s' "$KVMBOX" >"$BOOT_LOG"
	printf ' %q' "${args[@]}" >>"$BOOT_LOG"
	echo >>"$BOOT_LOG"
	timeout -k 10 "$LAB_BOOT_TIMEOUT" "$KVMBOX" "${args[@]}" </dev/null >>"$BOOT_LOG" 2>&1 &
	pid=$!
	net_hostfwd_client "$pid" >"$LAB_RUN_TMP/net-hostfwd"
	wait "$pid"
	BOOT_RC=$?
	kill "$httpd" 2>/dev/null
	wait "$httpd" 2>/dev/null
	echo "# exit status $BOOT_RC" >>"$BOOT_LOG"
	echo "$BOOT_RC" >"$LAB_RUN_TMP/net-user.rc"
}

test_user_dhcp_gives_10_0_2_15() {
	net_user_boot
	guest_expect_end poweroff
	[ "$(guest_value NET-IP)" = 10.0.2.15 ] || fail "guest address '$(guest_value NET-IP)'"
	[ "$(guest_value NET-ROUTER)" = 10.0.2.2 ] || fail "router '$(guest_value NET-ROUTER)'"
	[ "$(guest_value NET-DNS)" = 10.0.2.3 ] || fail "DNS server '$(guest_value NET-DNS)'"
}

test_user_fetch_from_lab_loopback() {
	net_user_boot
	local want
	want="$(sha256sum <"$LAB_RUN_TMP/net-www/blob" | cut -d' ' -f1)"
	[ "$(guest_value NET-FETCH-SHA)" = "$want" ] ||
		fail "1 MiB download via 10.0.2.2: sha256 '$(guest_value NET-FETCH-SHA)'"
}

test_user_hostfwd_reaches_guest() {
	net_user_boot
	local got
	got="$(cat "$LAB_RUN_TMP/net-hostfwd")"
	[ "$got" = kvmbox-net-ok ] || fail "127.0.0.1:$NET_FWD_PORT gave '$got'"
	[ "$(guest_value NET-HOSTFWD)" = reached ] || fail "the guest's server saw no request"
}

test_user_two_nics_with_their_macs() {
	net_user_boot
	tr -d '\r' <"$BOOT_LOG" | grep "^KVMBOX-NET-IFACE: .*=$NET_MAC0$" >/dev/null ||
		fail "no interface with the default MAC $NET_MAC0"
	tr -d '\r' <"$BOOT_LOG" | grep "^KVMBOX-NET-IFACE: .*=$NET_MAC1$" >/dev/null ||
		fail "no interface with mac=$NET_MAC1"
}

test_user_works_after_device_reset() {
	net_user_boot
	local want
	want="$(sha256sum <"$LAB_RUN_TMP/net-www/blob" | cut -d' ' -f1)"
	[ -n "$(guest_value NET-REBIND)" ] || fail "the guest could not unbind and bind virtio_net"
	[ "$(guest_value NET-REBIND-SHA)" = "$want" ] ||
		fail "download after the reset: sha256 '$(guest_value NET-REBIND-SHA)'"
	! grep -q "needs a reset" "$BOOT_LOG" || fail "the device asked for a reset"
}

test_user_guest_powers_off_cleanly() {
	net_user_boot
	guest_expect_end poweroff
	guest_has_line "KVMBOX-TEST: net-user status=0" || fail "the guest script failed"
	[ "$BOOT_RC" = 0 ] || fail "kvmbox exited $BOOT_RC"
}

# Two taps on a bridge, made fresh (a previous run's leftovers are removed first).
net_bridge() {
	local t
	ip link del kvmbr0 2>/dev/null
	for t in kvmtap0 kvmtap1; do ip link del "$t" 2>/dev/null; done
	ip link add name kvmbr0 type bridge forward_delay 0 || return 1
	for t in kvmtap0 kvmtap1; do
		ip tuntap add dev "$t" mode tap || return 1
		ip link set "$t" master kvmbr0 && ip link set "$t" up || return 1
	done
	ip link set kvmbr0 up
}

# Starts tap guest I in the background; its pid goes to NET_TAP_PIDS[I].
net_tap_start() {
	local i="$1" log="$LAB_LOGS/net-tap$1.log" vhost= args
	[ "$i" = 0 ] && [ -c /dev/vhost-net ] && vhost=,vhost=on
	args=(run --kernel "$LAB_KERNEL" --initrd "$LAB_INITRD" -v --cpus 1 --memory 192M
		--net "tap=kvmtap$i,mac=${NET_TAP_MACS[$i]}$vhost"
		--cmdline "$(net_cmdline net-tap kvmbox.net.mac=${NET_TAP_MACS[$i]} \
			kvmbox.net.ip=10.0.3.$((i + 1))/24 kvmbox.net.peer=10.0.3.$((2 - i)))")
	printf '# %s' "$KVMBOX" >"$log"
	printf ' %q' "${args[@]}" >>"$log"
	echo >>"$log"
	timeout -k 10 "$LAB_BOOT_TIMEOUT" "$KVMBOX" "${args[@]}" </dev/null >>"$log" 2>&1 &
	NET_TAP_PIDS[$i]=$!
}

# Whether tap guest I's kernel died before its /init ran: a triple fault or no
# output. Two L2 guests booting side by side in the TCG lab crash now and then,
# under QEMU as under kvmbox (an L1 kernel panic, "stack guard page was hit", or an
# L2 triple fault early in boot); that is the lab's failure, not the network's.
net_tap_lab_crash() {
	local log="$LAB_LOGS/net-tap$1.log"
	! grep -q 'KVMBOX-INIT: start' "$log" || grep -q 'triple fault' "$log"
}

# One try at the pair. Guest 1 starts once guest 0 runs its /init: booting two
# kernels at the same moment is what crashes the lab (above); after that both
# mostly wait, and the test needs only their networks up together.
net_tap_try() {
	local i waited=0
	net_bridge || fail "cannot set up the bridge and taps (tun and bridge modules?)"
	net_tap_start 0
	while ! grep -q 'KVMBOX-INIT: start' "$LAB_LOGS/net-tap0.log" &&
		kill -0 "${NET_TAP_PIDS[0]}" 2>/dev/null && [ "$waited" -lt "$LAB_BOOT_TIMEOUT" ]; do
		sleep 1
		waited=$((waited + 1))
	done
	net_tap_start 1
	for i in 0 1; do
		wait "${NET_TAP_PIDS[$i]}"
		echo "$?" >"$LAB_RUN_TMP/net-tap$i.rc"
		echo "# exit status $(cat "$LAB_RUN_TMP/net-tap$i.rc")" >>"$LAB_LOGS/net-tap$i.log"
	done
	ip link del kvmbr0 2>/dev/null
	for i in 0 1; do ip link del "kvmtap$i" 2>/dev/null; done
}

net_tap_boot() {
	local i try
	mkdir -p "$LAB_LOGS"
	BOOT_LOG="$LAB_LOGS/net-tap0.log"
	echo "$BOOT_LOG" >"$LAB_TEST_LOGREF"
	net_cached tap && return 0
	for try in 1 2; do
		net_tap_try
		net_tap_lab_crash 0 || net_tap_lab_crash 1 || break
		for i in 0 1; do
			cp "$LAB_LOGS/net-tap$i.log" "$LAB_LOGS/net-tap$i.try$try.log"
		done
		echo "note: a tap guest crashed while booting (lab, not network; logs" \
			"$LAB_LOGS/net-tap*.try$try.log)$([ "$try" = 1 ] && echo '; trying again')" >&2
	done
	cat "$LAB_RUN_TMP/net-tap0.rc" >"$LAB_RUN_TMP/net-tap.rc"
	BOOT_RC="$(cat "$LAB_RUN_TMP/net-tap0.rc")"
}

# net_tap_guest I: look at guest I's log from here on.
net_tap_guest() {
	BOOT_LOG="$LAB_LOGS/net-tap$1.log"
	BOOT_RC="$(cat "$LAB_RUN_TMP/net-tap$1.rc")"
	echo "$BOOT_LOG" >"$LAB_TEST_LOGREF"
}

test_tap_guests_ping_each_other() {
	net_tap_boot
	local i
	for i in 0 1; do
		net_tap_guest "$i"
		[ "$(guest_value NET-PING)" = "5 packets received" ] ||
			fail "guest $i: ping: '$(guest_value NET-PING)'"
	done
}

test_tap_guests_exchange_megabytes() {
	net_tap_boot
	local i
	for i in 0 1; do
		net_tap_guest "$i"
		[ -n "$(guest_value NET-EXPECT-SHA)" ] &&
			[ "$(guest_value NET-FETCH-SHA)" = "$(guest_value NET-EXPECT-SHA)" ] ||
			fail "guest $i: download from its peer: sha256 '$(guest_value NET-FETCH-SHA)'"
	done
}

test_tap_guests_power_off_cleanly() {
	net_tap_boot
	local i
	for i in 0 1; do
		net_tap_guest "$i"
		guest_expect_end poweroff
		guest_has_line "KVMBOX-NET-PEER: done" || fail "guest $i: its peer never said done"
		[ "$BOOT_RC" = 0 ] || fail "guest $i: kvmbox exited $BOOT_RC"
	done
}

test_tap_vhost_net() {
	net_tap_boot
	net_tap_guest 0
	[ -c /dev/vhost-net ] || skip "no /dev/vhost-net in the lab"
	grep -q "vhost-net serves the rings" "$BOOT_LOG" && return 0
	grep -q "vhost-net.* not used" "$BOOT_LOG" &&
		fail "vhost=on fell back to kvmbox's own datapath: $(grep -m1 -o 'virtio-net.* not used' "$BOOT_LOG")"
	fail "no word from virtio-net about vhost-net"
}

# Bad --net options are refused before the guest starts, with exit status 2.
test_bad_options_exit_2() {
	local opt out rc
	for opt in "tap=" "user,bogus=1" "user,hostfwd=tcp::0-:80" "tap=kvmx0,mac=01:00:00:00:00:01" \
		"user,vhost=on"; do
		out="$("$KVMBOX" run --kernel "$LAB_KERNEL" --net "$opt" 2>&1 </dev/null)"
		rc=$?
		[ "$rc" = 2 ] || fail "--net $opt: exit $rc, expected 2 ($out)"
		[ "$(wc -l <<<"$out")" = 1 ] || fail "--net $opt: expected one line, got: $out"
	done
}
