# SPDX-License-Identifier: GPL-2.0-only
# Helpers of the control API's lab tests (t-api*.sh): one kvmbox --api-sock
# in the background with a guest console that stays open, requests on its socket, and
# the snapshot round trip's steps. Sourced by the test files.

API_DIR="$LAB_RUN_TMP/api"
API_CLIENT=tests/api/fc_client.py

# api_call METHOD PATH [JSON]: "STATUS BODY" of one request on $API_SOCK.
api_call() {
	python3 "$API_CLIENT" "$API_SOCK" "$@"
}

# api_expect STATUS METHOD PATH [JSON]: the call answers STATUS.
api_expect() {
	local want="$1" got
	shift
	got="$(api_call "$@")" || fail "$1 $2: the client failed"
	[ "${got%% *}" = "$want" ] || fail "$1 $2: got '$got', expected $want"
}

# api_spawn NAME [ARGS...]: starts kvmbox --api-sock (and ARGS) in the background with
# a guest console that stays open (for action=shell), output in $LAB_LOGS/NAME.log. Sets
# API_PID, API_SOCK, BOOT_LOG. Does not wait for the socket (api_launch does).
api_spawn() {
	mkdir -p "$API_DIR" "$LAB_LOGS"
	API_SOCK="$API_DIR/$1.sock"
	BOOT_LOG="$LAB_LOGS/$1.log"
	echo "$BOOT_LOG" >"$LAB_TEST_LOGREF"
	rm -f "$API_SOCK" "$API_DIR/$1.in"
	# A FIFO this shell holds open: the guest's console input never ends.
	mkfifo "$API_DIR/$1.in"
	exec 3<>"$API_DIR/$1.in"
	"$KVMBOX" --api-sock "$API_SOCK" --id "$@" <&3 >"$BOOT_LOG" 2>&1 &
	API_PID=$!
	# A test that fails halfway must not leave kvmbox running: it would hold its tap or
	# drive and take L1's CPU from the tests after it.
	trap 'kill -KILL "$API_PID" 2>/dev/null' EXIT
}

# api_launch NAME [ARGS...]: api_spawn, then waits until GET / answers.
api_launch() {
	api_spawn "$@"
	python3 "$API_CLIENT" "$API_SOCK" --wait 30 || fail "no API on $API_SOCK within 30 s"
}

# api_configure ACTION [NIC [EXTRA-ARGS]]: the Go SDK's order of calls, the root drive
# last; with NIC, a network interface on that tap; EXTRA-ARGS for the kernel.
api_configure() {
	local cmdline
	cmdline="$(guest_cmdline info "$1") ${3:-}"
	[ -f "$API_DIR/root.img" ] || truncate -s 16M "$API_DIR/root.img"
	api_expect 200 GET /machine-config
	api_expect 204 PUT /machine-config '{"vcpu_count": 2, "mem_size_mib": 512, "smt": false}'
	api_expect 204 PUT /boot-source '{"kernel_image_path": "'"$LAB_KERNEL"'", "initrd_path": "'"$LAB_INITRD"'",
		"boot_args": "'"$cmdline"' pci=off"}'
	if [ -n "${2:-}" ]; then
		api_expect 204 PUT /network-interfaces/1 '{"iface_id": "1", "host_dev_name": "'"$2"'",
			"guest_mac": "02:fc:00:00:00:01"}'
	fi
	api_expect 204 PUT /drives/rootfs '{"drive_id": "rootfs", "path_on_host": "'"$API_DIR/root.img"'",
		"is_root_device": true, "is_read_only": false}'
	api_expect 204 PUT /actions '{"action_type": "InstanceStart"}'
}

# api_wait_exit: the process's exit status into API_RC (124 after the boot timeout).
api_wait_exit() {
	local i
	for ((i = 0; i < LAB_BOOT_TIMEOUT; i++)); do
		kill -0 "$API_PID" 2>/dev/null || break
		sleep 1
	done
	if kill -0 "$API_PID" 2>/dev/null; then
		kill -KILL "$API_PID"
		fail "kvmbox still running after ${LAB_BOOT_TIMEOUT}s"
	fi
	API_RC=0
	wait "$API_PID" || API_RC=$?
	[ ! -e "$API_SOCK" ] || fail "$API_SOCK left behind after exit"
}

# api_wait_line TEXT: the guest printed TEXT (a whole line) within the boot timeout.
api_wait_line() {
	local i
	for ((i = 0; i < LAB_BOOT_TIMEOUT; i++)); do
		guest_has_line "$1" && return 0
		kill -0 "$API_PID" 2>/dev/null || fail "kvmbox ended before the guest printed '$1'"
		sleep 1
	done
	fail "the guest did not print '$1' within ${LAB_BOOT_TIMEOUT}s"
}

# api_seccomp TASK-NAME: the Seccomp: field (0 none, 2 filtered) of kvmbox's thread of
# that name (the API's is "api"), or "none" without one.
api_seccomp() {
	local t
	for t in /proc/"$API_PID"/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = "$1" ] || continue
		awk '/^Seccomp:/ { print $2 }' "$t/status"
		return
	done
	echo none
}

# api_expect_seccomp WANT: the main and API threads' Seccomp: fields are WANT.
api_expect_seccomp() {
	local main api
	main="$(awk '/^Seccomp:/ { print $2 }' /proc/"$API_PID"/status)"
	api="$(api_seccomp api)"
	[ "$main" = "$1" ] && [ "$api" = "$1" ] ||
		fail "Seccomp: of the main thread '$main', of the API thread '$api'; expected $1"
}

# snap_ask KEY COMMAND: runs COMMAND in the guest's shell, prints its KVMBOX-KEY value.
snap_ask() {
	local i v
	echo "echo KVMBOX-$1: \$($2)" >&3
	for ((i = 0; i < 30; i++)); do
		v="$(guest_value "$1")"
		[ -n "$v" ] && break
		sleep 1
	done
	echo "$v"
}

# snap_take STATE MEM: pause, snapshot, and kill -9 the process (as a host would lose it).
snap_take() {
	api_expect 204 PATCH /vm '{"state": "Paused"}'
	rm -f "$1" "$2"
	api_expect 204 PUT /snapshot/create '{"snapshot_path": "'"$1"'", "mem_file_path": "'"$2"'"}'
	kill -KILL "$API_PID"
	wait "$API_PID" 2>/dev/null || true
	rm -f "$API_SOCK"
}

# snap_load_expect STATUS FAULT STATE MEM [MORE-JSON]: PUT /snapshot/load answers STATUS
# (with FAULT in the body for a 400).
snap_load_expect() {
	local got
	got="$(api_call PUT /snapshot/load '{"snapshot_path": "'"$3"'",
		"mem_backend": {"backend_type": "File", "backend_path": "'"$4"'"}'"${5:-}"'}')"
	[[ "$got" == "$1"* && "$got" == *"$2"* ]] || fail "load of $3, $4: '$got', expected $1 '$2'"
}

