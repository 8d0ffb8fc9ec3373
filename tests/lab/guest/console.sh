# SPDX-License-Identifier: GPL-2.0-only
# virtio-console, the guest half of tests/lab/t-virtio-console.sh (kvmbox.test=console,
# with kvmbox.modules=virtio_pci,virtio_console). kvmbox.hvc=socket (the default) talks
# to tests/lab/console-peer.py on the host's socket; kvmbox.hvc=stdio to a feeder on
# kvmbox's stdin and stdout. Each check prints `KVMBOX-HVC-<NAME>: ok` or what went
# wrong; the test fails when any check did.

con_status=0

con_check() {
	echo "KVMBOX-HVC-$1: $2"
	[ "$2" = ok ] || con_status=1
}

# con_open: fd 3 on the virtio console's tty, without echo (the host's replies must
# not go back out). After a rebind the port comes back under the next hvc number
# (the hvc core counts up), and only the live one opens.
con_open() {
	i=0
	while [ $i -lt 100 ]; do
		for t in /dev/hvc0 /dev/hvc1 /dev/hvc2 /dev/hvc3 /dev/hvc4 /dev/hvc5 /dev/hvc6 /dev/hvc7; do
			# Tried in a subshell first: a failing exec redirection ends the shell.
			if [ -e "$t" ] && (exec 3<>"$t") 2>/dev/null; then
				exec 3<>"$t"
				stty -echo <&3
				echo "KVMBOX-HVC-TTY: $t" >&2
				return 0
			fi
		done
		usleep 100000
		i=$((i + 1))
	done
	return 1
}

con_close() {
	exec 3>&-
}

con_nonce() {
	head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n'
}

# con_round TAG: sends "HELLO TAG NONCE" until the line "REPLY TAG <NONCE reversed>"
# comes back. Sent again every second: output is dropped while no client is connected.
con_round() {
	nonce="$(con_nonce)"
	want="REPLY $1 $(echo "$nonce" | rev)"
	echo "KVMBOX-HVC-SENT-$1: HELLO $1 $nonce" >&2
	n=0
	while [ $n -lt 60 ]; do
		echo "HELLO $1 $nonce" >&3 2>/dev/null
		while read -t 1 -r line <&3; do
			line="$(echo "$line" | tr -d '\r')"
			if [ "$line" = "$want" ]; then
				echo "KVMBOX-HVC-GOT-$1: $line" >&2
				echo ok
				return
			fi
		done
		n=$((n + 1))
	done
	echo "no '$want' back in $n tries"
}

# The virtio device the driver is bound to, e.g. virtio0.
con_vdev() {
	for d in /sys/bus/virtio/drivers/virtio_console/virtio*; do
		[ -e "$d" ] && { echo "${d##*/}"; return 0; }
	done
	return 1
}

# con_rebind ROUNDS: unbinds and binds the virtio driver (the device is reset to status
# 0 each time) with the guest writing to hvc0 meanwhile, then opens the port again.
# It moves fd 3, so it runs in this shell, not in $(...): the result is in con_result.
con_rebind() {
	drv=/sys/bus/virtio/drivers/virtio_console
	r=0
	while [ $r -lt "$1" ]; do
		con_result="round $r: no device bound to virtio_console"
		vdev="$(con_vdev)" || return
		yes "output in flight $r" | head -n 20000 >&3 2>/dev/null &
		writer=$!
		usleep 50000
		con_close
		con_result="round $r: unbind failed"
		echo "$vdev" >"$drv/unbind" || { kill $writer; return; }
		kill $writer 2>/dev/null
		wait $writer 2>/dev/null
		con_result="round $r: bind failed"
		echo "$vdev" >"$drv/bind" || return
		con_result="round $r: no hvc tty after bind ($(ls /sys/class/tty | grep hvc | tr '\n' ' '))"
		con_open || return
		r=$((r + 1))
	done
	con_result=ok
}

# With no client connected, output is dropped: a megabyte must not block the guest.
# Zeros, not lines: the tty hands a line's end to hvc as a write of its own, and each
# write waits for its buffer's round trip, which under emulation is slow enough to
# make a megabyte of short lines take minutes.
con_write_without_client() {
	if timeout 120 sh -c 'head -c 1048576 /dev/zero >&3'; then
		echo ok
	else
		echo "writing 1 MiB to hvc0 without a client failed or blocked"
	fi
}

con_socket_main() {
	con_open || { con_check OPEN "no /dev/hvcN opens"; return 1; }
	con_check OPEN ok
	con_check ROUNDTRIP "$(con_round 1)"
	con_rebind 1
	con_check DRIVER-REBIND "$con_result"
	con_check ROUNDTRIP-AFTER-REBIND "$(con_round 2)"
	con_rebind 5
	con_check REBIND-LOOP "$con_result"
	con_check ROUNDTRIP-AFTER-LOOP "$(con_round 3)"
	# The peer leaves and connects again: a new client gets the port.
	echo RECONNECT >&3
	con_check NEW-CLIENT "$(con_round 4)"
	echo DONE >&3
	sleep 1
	con_check WRITE-WITHOUT-CLIENT "$(con_write_without_client)"
	con_close
	return $con_status
}

# hvc0 on kvmbox's stdio: the hello goes out on stdout, the feeder answers on stdin.
con_stdio_main() {
	con_open || { con_check OPEN "no /dev/hvcN opens"; return 1; }
	nonce="$(con_nonce)"
	want="REPLY stdio $(echo "$nonce" | rev)"
	echo "KVMBOX-HVC-STDIO-HELLO: $nonce" >&3
	got=
	read -t 120 -r got <&3
	got="$(echo "$got" | tr -d '\r')"
	if [ "$got" = "$want" ]; then
		con_check STDIO-ROUNDTRIP ok
	else
		con_check STDIO-ROUNDTRIP "got '$got', wanted '$want'"
	fi
	# Ctrl-A x on stdin must still end kvmbox: the feeder sends it now.
	echo "KVMBOX-HVC-STDIO-QUIT-NOW: yes"
	sleep 120
	echo "KVMBOX-HVC-STDIO-STILL-RUNNING: yes"
	return 1
}

if grep -qw "kvmbox.hvc=stdio" /proc/cmdline; then
	con_stdio_main
else
	con_socket_main
fi
