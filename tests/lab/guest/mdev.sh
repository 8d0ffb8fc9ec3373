# SPDX-License-Identifier: GPL-2.0-only
# A mediated device, the guest half of tests/vfio/mdev (kvmbox.test=mdev): kvmbox passes the
# --mdev lab's mtty-2 instance (a dual-port PCI serial card, 4348:3253, emulated by L1's
# kernel); the stock kernel's 8250_pci driver makes its ports ttyS devices, and bytes
# written to the first one come back through mtty's loopback FIFO. Prints
# `KVMBOX-MDEV-<NAME>: ok` or what is wrong.

# shellcheck source=tests/lab/guest/vfio-lib.sh
. /tests/vfio-lib.sh

mdev_check() {
	echo "KVMBOX-MDEV-$1: $2"
}

# mdev_ttys PCIDIR: the ttyS names whose device is that PCI function, in order.
mdev_ttys() {
	local t
	for t in /sys/class/tty/ttyS*; do
		[ "$(readlink -f "$t/device")" = "$(readlink -f "$1")" ] && echo "${t##*/}"
	done
}

# mdev_loop TTY WORD: write WORD to /dev/TTY and read it back within 10 s. The port stays
# open (fd 3) from before the write: a closed tty drops what it receives. WORD stays
# below mtty's 16-byte FIFO.
mdev_loop() {
	local got
	stty -F "/dev/$1" 115200 raw -echo -echoe -echok -icrnl -opost || return 1
	exec 3<>"/dev/$1"
	printf '%s' "$2" >&3
	got="$(timeout 10 head -c ${#2} <&3)"
	exec 3>&-
	[ "$got" = "$2" ] || { echo "read back '$got'"; return 1; }
}

mdev_run() {
	local card ttys port why
	card="$(vfio_find 0x4348 0x3253)"
	[ -n "$card" ] || { mdev_check SEEN "no 4348:3253 in /sys/bus/pci/devices"; return; }
	mdev_check SEEN ok
	ttys="$(mdev_ttys "$card")"
	set -- $ttys
	if [ "$#" = 2 ] && [ "$(readlink "$card/driver")" != "" ] &&
		[ "$(basename "$(readlink "$card/driver")")" = serial ]; then
		mdev_check TTY ok
	else
		mdev_check TTY "driver '$(basename "$(readlink "$card/driver")")', ports '$ttys'"
	fi
	[ "$#" -ge 1 ] || { mdev_check LOOP "no ttyS port on the card"; return; }
	port="$1"
	if why="$(mdev_loop "$port" "kvmbox-mdev-$$")" && why="$(mdev_loop "$port" "second-$$")"; then
		mdev_check LOOP ok
	else
		mdev_check LOOP "$port: ${why:-stty or open failed}"
	fi
	# Its counters after the round trips (rx counts what the interrupt handler took in).
	grep "^${port#ttyS}:" /proc/tty/driver/serial | sed 's/^/KVMBOX-MDEV-PORT: /'
	dmesg | grep -i "ttyS\|serial" | sed 's/^/KVMBOX-MDEV-DMESG: /'
}
mdev_run
