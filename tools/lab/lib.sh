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
	elif [ "$(uname -m)" = aarch64 ] || grep -qE '\b(vmx|svm)\b' /proc/cpuinfo; then
		# arm64 has no ring-0-emulating KVM: a /dev/kvm there runs guests in EL1.
		echo hardware
	else
		echo emulated
	fi
}

# lab_host_kind_line: one line for logs saying what the probe found and what follows.
lab_host_kind_line() {
	case "$(lab_host_kind)" in
	hardware)
		if [ "$(uname -m)" = aarch64 ]; then
			echo "host: arm64 KVM ($(lab_kvm_dev)): arm64 guests and Linux run directly; x86 guests and labs skip"
		else
			echo "host: hardware KVM ($(lab_kvm_dev), vmx/svm): guests and Linux run directly"
		fi
		;;
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

# ---- Debian's arm64 packages (the arm64 lab and the cross build) ----------------------
# A private apt setup under build/lab/apt-arm64/, as tools/lab/fetch-qemu does for
# bookworm-backports: its own sources (the system's release, its updates and security
# suites, for arm64 only), lists, cache and an empty dpkg status. The system's apt
# configuration and its architectures are left alone (no dpkg --add-architecture);
# packages are only downloaded (apt-get download) and unpacked (dpkg -x), never installed.
LAB_ARM64_APT="$LAB_DIR/apt-arm64"

# lab_kernel_dir [ARCH]: where fetch-kernel unpacks the lab kernel of ARCH (default x86).
lab_kernel_dir() {
	case "${1:-x86}" in
	x86) echo "$LAB_DIR/kernel" ;;
	*) echo "$LAB_DIR/kernel-$1" ;;
	esac
}

# lab_kernel_version_of ARCH: the version of the unpacked lab kernel of ARCH, or fail.
lab_kernel_version_of() {
	local dir
	dir="$(lab_kernel_dir "$1")"
	[ -s "$dir/VERSION" ] || lab_die "no $1 lab kernel; run tools/lab/fetch-kernel --arch $1"
	cat "$dir/VERSION"
}

# What the arm64 lab needs on the host: its L0 QEMU, the image tools, and the cross
# compiler (static guest programs, the cross build of kvmbox). An arm64 host builds
# them with its own compiler and runs the guests without the lab.
lab_need_arm64_packages() {
	if [ "$(uname -m)" = aarch64 ]; then
		lab_need_packages cpio kmod gcc libc6-dev
	else
		lab_need_packages qemu-system-arm cpio kmod gcc-aarch64-linux-gnu libc6-dev-arm64-cross
	fi
}

# lab_arm64_apt_init: write the private apt setup (cheap; no network) and set
# LAB_ARM64_APT_OPTS for apt-get and apt-cache.
lab_arm64_apt_init() {
	local d="$LAB_ARM64_APT" keyring=/usr/share/keyrings/debian-archive-keyring.gpg suite
	local tool
	for tool in apt-get apt-cache dpkg dpkg-deb; do
		command -v "$tool" >/dev/null || lab_die "$tool not found (this needs a Debian system)"
	done
	[ -r "$keyring" ] || lab_die "$keyring missing (install debian-archive-keyring)"
	# The host's release: the arm64 libraries must match the cross toolchain's glibc.
	suite="$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release 2>/dev/null)"
	suite="${suite:-bookworm}"
	mkdir -p "$d/sources.list.d" "$d/preferences.d" "$d/lists/partial" \
		"$d/cache/archives/partial" "$d/debs" "$LAB_DIR/logs"
	[ -f "$d/status" ] || : >"$d/status"
	{
		echo "deb [arch=arm64 signed-by=$keyring] http://deb.debian.org/debian $suite main"
		echo "deb [arch=arm64 signed-by=$keyring] http://deb.debian.org/debian $suite-updates main"
		echo "deb [arch=arm64 signed-by=$keyring] http://deb.debian.org/debian-security $suite-security main"
	} >"$d/sources.list.new"
	if cmp -s "$d/sources.list.new" "$d/sources.list"; then
		rm "$d/sources.list.new"
	else
		mv "$d/sources.list.new" "$d/sources.list"
		rm -f "$d/lists/"*_Packages* # another release: the old lists are no use
	fi
	LAB_ARM64_APT_OPTS=(
		-o "Dir::Etc::SourceList=$d/sources.list"
		-o "Dir::Etc::SourceParts=$d/sources.list.d"
		-o "Dir::Etc::Preferences=/dev/null"
		-o "Dir::Etc::PreferencesParts=$d/preferences.d"
		-o "Dir::State::Lists=$d/lists"
		-o "Dir::Cache=$d/cache"
		-o "Dir::State::status=$d/status"
		-o "APT::Architecture=arm64"
		-o "APT::Architectures::=arm64"
	)
	LAB_ARM64_APT_LOG="$LAB_DIR/logs/apt-arm64.log"
}

# lab_arm64_apt_update [WHY]: refresh the private package lists; WHY leads the error.
lab_arm64_apt_update() {
	lab_log "updating the arm64 package lists (private, in $LAB_ARM64_APT)"
	apt-get "${LAB_ARM64_APT_OPTS[@]}" update --error-on=any >>"$LAB_ARM64_APT_LOG" 2>&1 ||
		lab_die "${1:-}apt-get update of the arm64 lists failed (see $LAB_ARM64_APT_LOG)"
}

# lab_arm64_apt_ready: the private setup with package lists (fetched when missing or
# when LAB_REFRESH is set, once per script run).
lab_arm64_apt_ready() {
	[ -n "${LAB_ARM64_APT_OPTS+set}" ] || lab_arm64_apt_init
	if [ -z "${lab_arm64_updated:-}" ] &&
		{ [ -n "${LAB_REFRESH:-}" ] || ! compgen -G "$LAB_ARM64_APT/lists/*_Packages*" >/dev/null; }; then
		lab_arm64_apt_update
		lab_arm64_updated=1
	fi
}

# lab_arm64_candidate PKG: the version of PKG the private lists offer, or nothing.
lab_arm64_candidate() {
	apt-cache "${LAB_ARM64_APT_OPTS[@]}" policy "$1" 2>>"$LAB_ARM64_APT_LOG" |
		sed -n 's/^ *Candidate: \([^(][^ ]*\)$/\1/p' | head -n1
}

# lab_arm64_depends PKG: the packages PKG depends on (Depends, Pre-Depends; the first
# of each set of alternatives), one a line.
lab_arm64_depends() {
	apt-cache "${LAB_ARM64_APT_OPTS[@]}" show --no-all-versions "$1" 2>>"$LAB_ARM64_APT_LOG" |
		sed -n 's/^\(Pre-\)\{0,1\}Depends: //p' | tr ',' '\n' |
		sed -e 's/|.*//' -e 's/(.*)//' -e 's/:any//' -e 's/[[:space:]]//g' | grep -v '^$' || true
}

# lab_arm64_closure PKG...: PKG and the shared libraries it needs: its dependencies
# taken only where they are library packages (lib*), followed the same way. What a
# program needs besides libraries (base-files, debianutils, an awk) is left out.
lab_arm64_closure() {
	lab_arm64_apt_ready
	local -A seen=()
	local queue=("$@") p d
	while [ "${#queue[@]}" -gt 0 ]; do
		p="${queue[0]}"
		queue=("${queue[@]:1}")
		[ -n "${seen[$p]:-}" ] && continue
		seen[$p]=1
		echo "$p"
		while read -r d; do
			case "$d" in
			lib*) [ -n "${seen[$d]:-}" ] || queue+=("$d") ;;
			esac
		done < <(lab_arm64_depends "$p")
	done
}

# lab_arm64_download PKG...: download the candidate version of each PKG (kept in
# build/lab/apt-arm64/debs/, reused while the lists offer the same version) and print
# the .deb paths, one a line, in the order given.
lab_arm64_download() {
	lab_arm64_apt_ready
	local p v f want=() debs=() lock
	local -A ver=()
	# One download at a time: a cross build and a lab run may start together.
	exec {lock}>"$LAB_ARM64_APT/.lock"
	flock "$lock"
	for p in "$@"; do
		v="$(lab_arm64_candidate "$p")"
		[ -n "$v" ] || lab_die "the arm64 lists offer no package $p (see $LAB_ARM64_APT_LOG)"
		ver[$p]="$v"
		[ -n "$(lab_arm64_deb_of "$p" "$v")" ] || want+=("$p=$v")
	done
	if [ "${#want[@]}" -gt 0 ]; then
		lab_log "downloading arm64 ${want[*]}"
		# Stale lists name files the archive no longer has: refresh them once and retry.
		if ! (cd "$LAB_ARM64_APT/debs" && apt-get "${LAB_ARM64_APT_OPTS[@]}" download "${want[@]}") \
			>>"$LAB_ARM64_APT_LOG" 2>&1; then
			[ -z "${lab_arm64_retried:-}" ] ||
				lab_die "apt-get download of arm64 ${want[*]} failed (see $LAB_ARM64_APT_LOG)"
			lab_arm64_apt_update "apt-get download failed, and "
			lab_arm64_updated=1 lab_arm64_retried=1
			exec {lock}>&-
			lab_arm64_download "$@"
			return
		fi
	fi
	for p in "$@"; do
		f="$(lab_arm64_deb_of "$p" "${ver[$p]}")"
		[ -n "$f" ] || lab_die "apt-get download $p=${ver[$p]} produced no .deb (see $LAB_ARM64_APT_LOG)"
		debs+=("$f")
	done
	exec {lock}>&-
	printf '%s\n' "${debs[@]}"
}

# lab_arm64_deb_of PKG VERSION: the downloaded .deb of PKG at VERSION, or nothing.
lab_arm64_deb_of() {
	local f
	for f in "$LAB_ARM64_APT/debs/$1_"*_arm64.deb "$LAB_ARM64_APT/debs/$1_"*_all.deb; do
		[ -f "$f" ] && [ "$(dpkg-deb -f "$f" Package)" = "$1" ] &&
			[ "$(dpkg-deb -f "$f" Version)" = "$2" ] && { echo "$f"; return 0; }
	done
	return 0
}

# lab_relink_absolute DIR: make DIR's absolute symbolic links (libz.so -> /lib/...)
# point inside DIR, relative, so that an unpacked tree is usable where it lies.
lab_relink_absolute() {
	local link target
	while IFS= read -r -d '' link; do
		target="$(readlink "$link")"
		case "$target" in
		/*) ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "$1$target")" "$link" ;;
		esac
	done < <(find "$1" -type l -print0)
}
