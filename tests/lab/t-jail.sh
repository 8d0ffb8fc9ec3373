# SPDX-License-Identifier: GPL-2.0-only
# --jail (guest half: tests/lab/guest/jail.sh). One boot: kvmbox as root with --jail DIR
# --jail-uid/--jail-gid 4242, a virtio-blk disk and a user-mode NIC with a hostfwd port.
# While the guest waits, the test looks at the jailed process from outside: its
# credentials and capabilities (/proc/PID/status), its mounts, and its root
# (/proc/PID/root): a host file that this script reads at its path must not be there.
# Then it lets the guest power off through the hostfwd port and checks that the disk
# write reached the host's image and that DIR is as empty as before.

JAIL_UID=4242
JAIL_HTTP_PORT=18090 # the lab's web server on 127.0.0.1, for the guest's download
JAIL_FWD_PORT=18091  # hostfwd 127.0.0.1:18091 -> the guest's port 8080
JAIL_TMP="$LAB_RUN_TMP/jail"

# jail_child_of PID: the PID of PID's child (the jailed kvmbox under kvmbox's own).
jail_child_of() {
	local s
	for s in /proc/[0-9]*/status; do
		if [ "$(sed -n 's/^PPid:[[:space:]]*//p' "$s" 2>/dev/null)" = "$1" ]; then
			s="${s#/proc/}"
			echo "${s%/status}"
			return 0
		fi
	done
	return 1
}

# jail_ns PID: for each namespace kind, "KIND same" or "KIND new" against this shell's.
jail_ns() {
	local ns
	for ns in mnt pid net ipc uts; do
		if [ "$(readlink "/proc/$1/ns/$ns")" = "$(readlink "/proc/self/ns/$ns")" ]; then
			echo "$ns same"
		else
			echo "$ns new"
		fi
	done
}

# What the jailed process looks like from outside, into $JAIL_TMP/*.
jail_inspect() {
	local outer="$1" pid
	pid="$(jail_child_of "$outer")" || { echo "no jailed child of $outer" >"$JAIL_TMP/inspect"; return; }
	{
		echo "pid $pid"
		cat "/proc/$pid/status"
	} >"$JAIL_TMP/status"
	jail_ns "$pid" >"$JAIL_TMP/ns"
	ls -A "/proc/$pid/root/" >"$JAIL_TMP/root-list" 2>&1
	ls -A "/proc/$pid/root/dev/" >"$JAIL_TMP/dev-list" 2>&1
	awk '{ print $5 }' "/proc/$pid/mountinfo" | sort >"$JAIL_TMP/mounts" 2>&1
	# The same host file through this script's root and through the jailed process's.
	cat "/proc/self/root$JAIL_TMP/secret" >"$JAIL_TMP/secret-outside" 2>&1
	cat "/proc/$pid/root$JAIL_TMP/secret" >"$JAIL_TMP/secret-inside" 2>&1
	echo "rc=$?" >>"$JAIL_TMP/secret-inside"
	cat "/proc/$pid/root/etc/passwd" >"$JAIL_TMP/passwd-inside" 2>&1
	echo "rc=$?" >>"$JAIL_TMP/passwd-inside"
	ls -A "$JAIL_TMP/root" >"$JAIL_TMP/dir-outside" 2>&1
	echo inspected >"$JAIL_TMP/inspect"
}

# Once the guest serves, look at the jail, then end the guest through hostfwd.
jail_drive() {
	local outer="$1" i
	for ((i = 0; i < LAB_BOOT_TIMEOUT; i++)); do
		kill -0 "$outer" 2>/dev/null || return 0
		if grep -q "KVMBOX-JAIL-SERVING" "$BOOT_LOG"; then
			[ -f "$JAIL_TMP/inspect" ] || jail_inspect "$outer"
			timeout 10 busybox wget -q -O - "http://127.0.0.1:$JAIL_FWD_PORT/cgi-bin/done" \
				>"$JAIL_TMP/hostfwd" 2>&1 && return 0
		fi
		sleep 1
	done
}

jail_cmdline() {
	echo "$(guest_cmdline jail) kvmbox.net.http=$JAIL_HTTP_PORT" \
		"kvmbox.modules=virtio_pci,virtio_blk,virtio_net"
}

jail_boot() {
	local httpd outer args
	mkdir -p "$LAB_LOGS"
	BOOT_LOG="$LAB_LOGS/jail.log"
	echo "$BOOT_LOG" >"$LAB_TEST_LOGREF"
	if [ -f "$JAIL_TMP/rc" ]; then
		read -r BOOT_RC <"$JAIL_TMP/rc"
		return 0
	fi
	mkdir -p "$JAIL_TMP/root" "$JAIL_TMP/www"
	echo "kvmbox-jail-secret" >"$JAIL_TMP/secret"
	chmod 644 "$JAIL_TMP/secret"
	truncate -s 16M "$JAIL_TMP/disk.img"
	chown "$JAIL_UID:$JAIL_UID" "$JAIL_TMP/disk.img"
	head -c 262144 /dev/urandom >"$JAIL_TMP/www/blob"
	ip link set lo up
	busybox httpd -f -p "127.0.0.1:$JAIL_HTTP_PORT" -h "$JAIL_TMP/www" &
	httpd=$!
	args=(run --kernel "$LAB_KERNEL" --initrd "$LAB_INITRD" -v --cpus 2 --memory 256M
		--jail "$JAIL_TMP/root" --jail-uid "$JAIL_UID" --jail-gid "$JAIL_UID"
		--disk "$JAIL_TMP/disk.img,serial=kvmbox-jail"
		--net "user,hostfwd=tcp:127.0.0.1:$JAIL_FWD_PORT-:8080"
		--cmdline "$(jail_cmdline)")
	{
		printf '# %s' "$KVMBOX"
		printf ' %q' "${args[@]}"
		echo
	} >"$BOOT_LOG"
	"$KVMBOX" "${args[@]}" </dev/null >>"$BOOT_LOG" 2>&1 &
	outer=$!
	jail_drive "$outer"
	# The guest has had its time; a kvmbox still running is a failure, not a hang.
	timeout "$LAB_BOOT_TIMEOUT" tail --pid="$outer" -f /dev/null || kill -9 "$outer"
	wait "$outer"
	BOOT_RC=$?
	kill "$httpd" 2>/dev/null
	wait "$httpd" 2>/dev/null
	echo "# exit status $BOOT_RC" >>"$BOOT_LOG"
	echo "$BOOT_RC" >"$JAIL_TMP/rc"
}

test_jailed_guest_boots_and_exits_0() {
	jail_boot
	guest_expect_end poweroff
	[ "$BOOT_RC" = 0 ] || fail "the jailed guest powered off, kvmbox exited $BOOT_RC"
	grep -q "jail: running in $JAIL_TMP/root as uid $JAIL_UID gid $JAIL_UID" "$BOOT_LOG" ||
		fail "no 'jail: running in' line: did kvmbox enter the jail?"
}

test_jailed_guest_disk_write_fsync_read() {
	jail_boot
	local v marker
	v="$(guest_value JAIL-DISK)"
	[ "$v" = ok ] || fail "guest disk check: ${v:-no result line}"
	marker="$(guest_value JAIL-WROTE)"
	[ -n "$marker" ] || fail "the guest wrote no marker"
	# Through the bind mount into the host's file: at byte 1 MiB of the image.
	[ "$(dd if="$JAIL_TMP/disk.img" bs=512 skip=2048 count=1 2>/dev/null | tr -d '\0')" = "$marker" ] ||
		fail "the guest's marker is not in the host's image"
}

test_jailed_guest_user_network() {
	jail_boot
	local v
	v="$(guest_value JAIL-NET)"
	[ "$v" = ok ] || fail "guest network check: ${v:-no result line}"
	[ "$(guest_value JAIL-SHA)" = "$(sha256sum <"$JAIL_TMP/www/blob" | cut -d' ' -f1)" ] ||
		fail "the download through 10.0.2.2 differs from the lab's file"
	guest_has_line "KVMBOX-JAIL-HOSTFWD: reached" || fail "hostfwd did not reach the jailed guest"
}

test_jailed_process_is_unprivileged() {
	jail_boot
	[ -f "$JAIL_TMP/status" ] || fail "the jailed process was not inspected: $(cat "$JAIL_TMP/inspect" 2>/dev/null)"
	local f want
	f="$JAIL_TMP/status"
	for want in "Uid:	$JAIL_UID	$JAIL_UID	$JAIL_UID	$JAIL_UID" \
		"Gid:	$JAIL_UID	$JAIL_UID	$JAIL_UID	$JAIL_UID" \
		"CapInh:	0000000000000000" "CapPrm:	0000000000000000" \
		"CapEff:	0000000000000000" "CapBnd:	0000000000000000" \
		"CapAmb:	0000000000000000" "NoNewPrivs:	1"; do
		grep -qxF "$want" "$f" || fail "status lacks '$want': $(grep -E "^${want%%:*}:" "$f")"
	done
	grep -qE '^Groups:[[:space:]]*$' "$f" || fail "supplementary groups left: $(grep Groups "$f")"
	# PID 1 of its own PID namespace.
	grep -qE '^NSpid:[[:space:]]+[0-9]+[[:space:]]+1$' "$f" ||
		fail "not PID 1 of a new PID namespace: $(grep NSpid "$f")"
}

test_jail_root_holds_only_the_vm_files() {
	jail_boot
	[ -f "$JAIL_TMP/root-list" ] || fail "the jailed process was not inspected"
	[ "$(tr '\n' ' ' <"$JAIL_TMP/root-list")" = "dev disk0 initrd kernel " ] ||
		fail "the jail's root holds: $(tr '\n' ' ' <"$JAIL_TMP/root-list")"
	[ "$(tr '\n' ' ' <"$JAIL_TMP/dev-list")" = "kvm " ] ||
		fail "the jail's /dev holds: $(tr '\n' ' ' <"$JAIL_TMP/dev-list")"
	# Its mount namespace: the root and the three bind mounts, no trace of the old root.
	[ "$(tr '\n' ' ' <"$JAIL_TMP/mounts")" = "/ /disk0 /initrd /kernel " ] ||
		fail "the jail's mounts: $(tr '\n' ' ' <"$JAIL_TMP/mounts")"
}

test_jail_cannot_open_host_files() {
	jail_boot
	[ -f "$JAIL_TMP/secret-inside" ] || fail "the jailed process was not inspected"
	# The control: the file is there and readable, at that path, from outside.
	grep -qx "kvmbox-jail-secret" "$JAIL_TMP/secret-outside" ||
		fail "control: cannot read the host file from outside: $(cat "$JAIL_TMP/secret-outside")"
	if grep -q "kvmbox-jail-secret" "$JAIL_TMP/secret-inside"; then
		fail "the host file $JAIL_TMP/secret is readable in the jail's root"
	fi
	grep -q "No such file" "$JAIL_TMP/secret-inside" ||
		fail "the host file in the jail: $(tr '\n' ' ' <"$JAIL_TMP/secret-inside")"
	grep -q "No such file" "$JAIL_TMP/passwd-inside" || fail "/etc/passwd exists in the jail"
}

test_jail_leaves_dir_empty() {
	jail_boot
	[ "$(cat "$JAIL_TMP/dir-outside" 2>/dev/null)" = "" ] ||
		fail "DIR seen from outside while the guest ran: $(cat "$JAIL_TMP/dir-outside")"
	[ -z "$(ls -A "$JAIL_TMP/root")" ] || fail "DIR is not empty after kvmbox: $(ls -A "$JAIL_TMP/root")"
	! grep -q " $JAIL_TMP/root " /proc/self/mountinfo || fail "a mount is left on DIR"
}

# A second boot: a guest that stays up (no disk, no network: the guest half fails those
# checks fast, then serves and waits) in a cgroup v2 with limits and with --jail-netns;
# SIGTERM to kvmbox's own process must reach the jailed one, whose status comes back as
# 128 + 15.
JAIL_CG="$LAB_RUN_TMP/jail-cg"

jail_cgroup_setup() {
	mkdir -p "$JAIL_CG"
	mountpoint -q "$JAIL_CG" || mount -t cgroup2 none "$JAIL_CG" || return 1
	echo "+cpu +memory" >"$JAIL_CG/cgroup.subtree_control" || return 1
	mkdir -p "$JAIL_CG/kvmbox"
}

jail_term_boot() {
	local outer pid i
	BOOT_LOG="$LAB_LOGS/jail-term.log"
	echo "$BOOT_LOG" >"$LAB_TEST_LOGREF"
	if [ -f "$JAIL_TMP/term-rc" ]; then
		read -r BOOT_RC <"$JAIL_TMP/term-rc"
		return 0
	fi
	mkdir -p "$JAIL_TMP/term-root"
	if ! jail_cgroup_setup; then
		umount "$JAIL_CG" 2>/dev/null
		skip "no cgroup v2 with cpu and memory in this lab"
	fi
	"$KVMBOX" run --kernel "$LAB_KERNEL" --initrd "$LAB_INITRD" --memory 256M \
		--jail "$JAIL_TMP/term-root" --jail-uid "$JAIL_UID" --jail-gid "$JAIL_UID" \
		--jail-cgroup "$JAIL_CG/kvmbox" --jail-cpus 1 --jail-memory 512M --jail-netns \
		--cmdline "$(guest_cmdline jail)" </dev/null >"$BOOT_LOG" 2>&1 &
	outer=$!
	for ((i = 0; i < LAB_BOOT_TIMEOUT; i++)); do
		grep -q "KVMBOX-JAIL-SERVING" "$BOOT_LOG" && break
		kill -0 "$outer" 2>/dev/null || break
		sleep 1
	done
	if pid="$(jail_child_of "$outer")"; then
		jail_ns "$pid" >"$JAIL_TMP/term-ns"
		cat "/proc/$pid/cgroup" >"$JAIL_TMP/term-cgroup"
		cat "$JAIL_CG/kvmbox/cpu.max" "$JAIL_CG/kvmbox/memory.max" >"$JAIL_TMP/term-limits"
	fi
	kill -TERM "$outer"
	timeout 60 tail --pid="$outer" -f /dev/null || kill -9 "$outer"
	wait "$outer"
	BOOT_RC=$?
	echo "# exit status $BOOT_RC" >>"$BOOT_LOG"
	echo "$BOOT_RC" >"$JAIL_TMP/term-rc"
	# The run's temporary folder is removed after the tests: no mount may stay in it.
	rmdir "$JAIL_CG/kvmbox"
	umount "$JAIL_CG"
}

test_jail_sigterm_is_forwarded() {
	jail_term_boot
	guest_has_line "KVMBOX-JAIL-SERVING: 8080" || fail "the guest did not get to its wait"
	[ "$BOOT_RC" = 143 ] || fail "SIGTERM to kvmbox: exit $BOOT_RC, expected 143"
	[ -z "$(ls -A "$JAIL_TMP/term-root")" ] || fail "DIR is not empty after SIGTERM"
}

test_jail_cgroup_and_limits() {
	jail_term_boot
	[ -f "$JAIL_TMP/term-cgroup" ] || fail "the jailed process was not found"
	grep -qx "0::/kvmbox" "$JAIL_TMP/term-cgroup" ||
		fail "the jailed process is in $(cat "$JAIL_TMP/term-cgroup")"
	[ "$(tr '\n' ' ' <"$JAIL_TMP/term-limits")" = "100000 100000 536870912 " ] ||
		fail "cpu.max, memory.max: $(tr '\n' ' ' <"$JAIL_TMP/term-limits")"
}

test_jail_namespaces() {
	jail_boot
	[ -f "$JAIL_TMP/ns" ] || fail "the jailed process was not inspected"
	[ "$(tr '\n' ' ' <"$JAIL_TMP/ns")" = "mnt new pid new net same ipc new uts new " ] ||
		fail "without --jail-netns: $(tr '\n' ' ' <"$JAIL_TMP/ns")"
	jail_term_boot
	[ "$(tr '\n' ' ' <"$JAIL_TMP/term-ns" 2>/dev/null)" = "mnt new pid new net new ipc new uts new " ] ||
		fail "with --jail-netns: $(tr '\n' ' ' <"$JAIL_TMP/term-ns" 2>/dev/null)"
}
