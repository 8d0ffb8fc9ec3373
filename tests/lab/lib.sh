# SPDX-License-Identifier: GPL-2.0-only
# Helpers for the lab tests (tests/lab/t-*.sh), sourced by tests/lab/run.
#
# A test file defines functions named test_NAME. Each runs in its own
# subshell, in the repository root, where a real /dev/kvm runs Linux guests
# (inside the nested lab, or directly on a machine with hardware KVM).
# A test passes by returning 0; it ends with `fail REASON` or `skip REASON`.
#
# Variables (all may be set by the caller; run-in-lab passes KVMBOX* and LAB_*):
#   KVMBOX               the VMM under test (default build/kvmbox)
#   LAB_BOOT_TIMEOUT     seconds one guest boot may take (default 300)
#   LAB_KERNEL, LAB_INITRD   the guest kernel and initramfs (from tools/lab)
#   LAB_ARCH             x86 or arm64: the guest's architecture (tests/lab/run --arch)
#   LAB_GUEST_CONSOLE    the guest's serial console device (ttyS0, ttyAMA0 on arm64)

KVMBOX="${KVMBOX:-build/kvmbox}"
LAB_BOOT_TIMEOUT="${LAB_BOOT_TIMEOUT:-300}"
LAB_LOGS="${LAB_LOGS:-build/lab/logs}"

fail() {
	echo "$*"
	exit 1
}

skip() {
	echo "$*"
	exit 77
}

# guest_cmdline TEST [ACTION]: the kernel command line of a test guest.
# panic=-1 turns a guest panic into a quick reboot instead of a hang until
# the timeout; tests tell it from a real reboot by the KVMBOX-END line.
guest_cmdline() {
	echo "console=${LAB_GUEST_CONSOLE:-ttyS0} quiet panic=-1 kvmbox.test=$1 kvmbox.action=${2:-poweroff}"
}

# guest_boot NAME KVMBOX-RUN-OPTIONS...: boot the test guest with
# `$KVMBOX run --kernel K --initrd I OPTIONS...` (without --kernel and --initrd when
# OPTIONS have --firmware, without --kernel when they have their own), with a timeout, output in
# $LAB_LOGS/NAME.log. Sets BOOT_LOG and BOOT_RC (124: timed out).
# Boots with the same options are made once per test run and shared, so
# that several checks of one boot cost one boot.
guest_boot() {
	local name="$1" key cache
	shift
	mkdir -p "$LAB_LOGS"
	key="$(printf '%s\0' "$KVMBOX" "$@" | sha256sum | cut -c1-16)"
	cache="$LAB_RUN_TMP/boot-$key"
	if [ -f "$cache" ]; then
		read -r BOOT_RC BOOT_LOG <"$cache"
	else
		BOOT_LOG="$LAB_LOGS/$name.log"
		# The lab's kernel and initramfs, unless a firmware finds its own.
		local image=(--kernel "$LAB_KERNEL" --initrd "$LAB_INITRD") arg
		for arg in "$@"; do
			[ "$arg" = --firmware ] && image=()
			[ "$arg" = --kernel ] && image=(--initrd "$LAB_INITRD")
		done
		{
			printf '# %s run' "$KVMBOX"
			printf ' %q' "${image[@]}" "$@"
			printf '\n'
		} >"$BOOT_LOG"
		timeout -k 10 "$LAB_BOOT_TIMEOUT" "$KVMBOX" run "${image[@]}" "$@" \
			</dev/null >>"$BOOT_LOG" 2>&1
		BOOT_RC=$?
		echo "# exit status $BOOT_RC" >>"$BOOT_LOG"
		echo "$BOOT_RC $BOOT_LOG" >"$cache"
	fi
	# The runner shows this log's tail if the test fails.
	echo "$BOOT_LOG" >"$LAB_TEST_LOGREF"
	if [ "$BOOT_RC" = 124 ] || [ "$BOOT_RC" = 137 ]; then
		fail "guest did not finish within ${LAB_BOOT_TIMEOUT}s"
	fi
	return 0
}

# guest_value KEY: the value of the last `KVMBOX-KEY: value` line of the
# last boot, without the serial line's CR.
guest_value() {
	# Whole lines only: the guest may be halfway through printing the last one (a rate
	# read as '4194304 34' of '4194304 34.75 30.78'). The echo ends a cut line, which
	# then is the last ($) and skipped; after a whole one it adds an empty last line.
	{ cat "$BOOT_LOG"; echo; } | tr -d '\r' | sed -n "\$!s/^KVMBOX-$1: //p" | tail -n1
}

# guest_expect_ok PREFIX NAME...: each KVMBOX-PREFIX-NAME line of the last boot says ok
# (the guest halves print one per check, or what went wrong).
guest_expect_ok() {
	local prefix="$1" name v
	shift
	for name in "$@"; do
		v="$(guest_value "$prefix-$name")"
		[ "$v" = ok ] || fail "guest check $name: ${v:-no result line}"
	done
}

# guest_has_line TEXT: whether the last boot printed TEXT as a whole line.
guest_has_line() {
	# Not grep -q: with pipefail, its early exit can end tr with SIGPIPE on a long log.
	tr -d '\r' <"$BOOT_LOG" | grep -xF -- "$1" >/dev/null
}

# guest_expect_end ACTION: the guest's init got to its ending, and that
# ending was ACTION (a panic-reboot does not count as a reboot).
guest_expect_end() {
	guest_has_line "KVMBOX-INIT: start" || fail "no 'KVMBOX-INIT: start' line: the guest did not reach /init (exit $BOOT_RC)"
	guest_has_line "KVMBOX-END: $1" || fail "the guest's init did not reach 'KVMBOX-END: $1' (exit $BOOT_RC)"
}
