# SPDX-License-Identifier: GPL-2.0-only
# The userspace virtio-vsock (--vsock cid=N,uds=PATH), the guest half of
# tests/lab/t-virtio-vsock-uds.sh (kvmbox.test=vsock-uds, with
# kvmbox.modules=virtio_pci,vmw_vsock_virtio_transport).
#  - The guest connects to CID 2, port kvmbox.vsock_port=: kvmbox connects to PATH_<port>,
#    where the host listens and answers each line with "kvmbox-host: LINE".
#  - A port nobody listens on (PATH_<port+1> does not exist) is refused.
#  - The guest listens on kvmbox.vsock_echo= (vsock-echo), says so with a
#    KVMBOX-VSOCKUDS-LISTENING line, and the host connects through PATH with
#    "CONNECT <port>" and checks the echo of what it sends.
# Each check prints `KVMBOX-VSOCKUDS-<NAME>: ok` or what went wrong.

vsu_status=0
vsu_port=
vsu_echo=
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	kvmbox.vsock_port=*) vsu_port="${arg#kvmbox.vsock_port=}" ;;
	kvmbox.vsock_echo=*) vsu_echo="${arg#kvmbox.vsock_echo=}" ;;
	esac
done

vsu_check() {
	echo "KVMBOX-VSOCKUDS-$1: $2"
	[ "$2" = ok ] || vsu_status=1
}

vsu_exchange() {
	reply="$(vsock-connect 2 "$vsu_port" "$1" 2>&1)" || { echo "$reply"; return; }
	[ "$reply" = "kvmbox-host: $1" ] || { echo "unexpected reply '$reply'"; return; }
	echo ok
}

vsu_refused() {
	out="$(vsock-connect 2 $((vsu_port + 1)) nobody 2>&1)" && { echo "connected: '$out'"; return; }
	case "$out" in
	*"Connection reset"* | *"Connection refused"*) echo ok ;;
	*) echo "unexpected failure: $out" ;;
	esac
}

# The host-initiated half: listen, announce, wait for the host's client to finish.
vsu_echo_server() {
	out=/tmp/vsock-echo.out
	vsock-echo "$vsu_echo" >"$out" 2>&1 &
	pid=$!
	i=0
	until grep -q '^ready$' "$out" 2>/dev/null; do
		i=$((i + 1))
		[ $i -le 300 ] || { echo "vsock-echo never got ready: $(cat "$out")"; return; }
		kill -0 $pid 2>/dev/null || { echo "vsock-echo died: $(cat "$out")"; return; }
		sleep 0.2
	done
	echo "KVMBOX-VSOCKUDS-LISTENING: $vsu_echo" >&2
	wait $pid || { echo "vsock-echo failed: $(tr '\n' ' ' <"$out")"; return; }
	n="$(sed -n 's/^echoed //p' "$out")"
	echo "KVMBOX-VSOCKUDS-ECHOED: $n" >&2
	[ -n "$n" ] && [ "$n" -gt 0 ] || { echo "nothing echoed: $(cat "$out")"; return; }
	echo ok
}

vsu_main() {
	if [ -z "$vsu_port" ] || [ -z "$vsu_echo" ]; then
		vsu_check SETUP "no kvmbox.vsock_port= or kvmbox.vsock_echo="
		return 1
	fi
	vsu_check GUEST-CONNECT "$(vsu_exchange from-guest)"
	vsu_check REFUSED "$(vsu_refused)"
	vsu_check ECHO "$(vsu_echo_server | tail -n1)"
	vsu_check GUEST-CONNECT-AGAIN "$(vsu_exchange again)"
	return $vsu_status
}

vsu_main
