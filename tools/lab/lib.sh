# SPDX-License-Identifier: GPL-2.0-only
# Shared helpers for the nested lab scripts. Source it; do not run it.
#
# The lab's own state lives under build/lab/ of the repository so that it is
# cached between runs and removed by deleting one folder.

# Repository root, found from this file's location so that callers may run
# from any directory.
LAB_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LAB_DIR="$LAB_REPO_ROOT/build/lab"
LAB_KERNEL_DIR="$LAB_DIR/kernel"

lab_die() {
	echo "${LAB_PROG:-lab}: error: $*" >&2
	exit 1
}

lab_log() {
	echo "${LAB_PROG:-lab}: $*" >&2
}

# lab_need_packages PKG...: install the Debian packages that are missing.
# A fresh CI machine has none of them, and the project must install what it
# needs itself. apt-get update runs only when an install is really needed,
# so the common (all present) case costs one dpkg-query.
lab_need_packages() {
	local missing=() p
	for p in "$@"; do
		if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
			missing+=("$p")
		fi
	done
	[ "${#missing[@]}" -eq 0 ] && return 0
	command -v apt-get >/dev/null || lab_die "missing packages (${missing[*]}) and no apt-get to install them"
	[ "$(id -u)" -eq 0 ] || lab_die "missing packages (${missing[*]}); run as root or install them"
	lab_log "installing ${missing[*]}"
	# Non-interactive (CI has no stdin), and apt's chatter kept in a log
	# that the error message points to.
	export DEBIAN_FRONTEND=noninteractive
	local log="$LAB_DIR/logs/apt.log"
	mkdir -p "$LAB_DIR/logs"
	apt-get update >"$log" 2>&1 || lab_die "apt-get update failed (see $log)"
	apt-get install -y --no-install-recommends "${missing[@]}" >>"$log" 2>&1 ||
		lab_die "apt-get install ${missing[*]} failed (see $log)"
}

# The packages every lab script may rely on.
lab_need_base_packages() {
	lab_need_packages qemu-system-x86 busybox-static cpio kmod
}

# lab_kernel_version: print the version of the unpacked lab kernel, or fail.
lab_kernel_version() {
	[ -s "$LAB_KERNEL_DIR/VERSION" ] || lab_die "no lab kernel; run tools/lab/fetch-kernel"
	cat "$LAB_KERNEL_DIR/VERSION"
}

# The KVM device the probes look at: KVMBOX_DEV_KVM hides or replaces /dev/kvm,
# as it does for kvmbox itself (tests use it to act out a host without KVM).
lab_kvm_dev() {
	echo "${KVMBOX_DEV_KVM:-/dev/kvm}"
}

# lab_host_kind: which of the three kinds of host this is, by probing, never by
# assuming (see ../shared/LAB-NOTES.md section 0):
#   hardware  a usable KVM device and VT-x/AMD-V (vmx or svm) on the CPU: Linux
#             guests run here directly
#   emulated  a usable KVM device without vmx/svm: a software KVM that emulates
#             guest ring 0, fine for tiny test guests, hours for a Linux boot
#   none      no usable KVM device: everything that needs KVM runs in the lab
lab_host_kind() {
	local dev
	dev="$(lab_kvm_dev)"
	if [ ! -c "$dev" ] || ! (exec 3<>"$dev") 2>/dev/null; then
		echo none
	elif grep -qE '\b(vmx|svm)\b' /proc/cpuinfo; then
		echo hardware
	else
		echo emulated
	fi
}

# lab_host_kind_line: one line for logs saying what the probe found and what follows.
lab_host_kind_line() {
	case "$(lab_host_kind)" in
	hardware) echo "host: hardware KVM ($(lab_kvm_dev), vmx/svm): guests and Linux run directly" ;;
	emulated) echo "host: ring-0-emulating KVM ($(lab_kvm_dev), no vmx/svm): tiny guests run directly, Linux in the nested lab" ;;
	*) echo "host: no usable KVM ($(lab_kvm_dev)): every guest runs in the nested lab" ;;
	esac
}

# lab_has_fast_kvm: true when this machine's KVM runs guest kernels at hardware
# speed, so that the lab is not needed.
lab_has_fast_kvm() {
	[ "$(lab_host_kind)" = hardware ]
}

# lab_kvm_usable: true when tiny test guests can run directly on this machine.
lab_kvm_usable() {
	[ "$(lab_host_kind)" != none ]
}
