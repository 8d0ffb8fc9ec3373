# SPDX-License-Identifier: GPL-2.0-only
# virtio-vsock, the guest half of tests/lab/t-virtio-vsock.sh (kvmbox.test=vsock, with
# kvmbox.modules=virtio_pci,vmw_vsock_virtio_transport). The host listens on port
# kvmbox.vsock_port= and answers each line with "kvmbox-host: LINE"; the guest reaches it
# at CID 2 with /bin/vsock-connect (tests/lab/guest/vsock-connect.c). Each check prints
# `KVMBOX-VSOCK-<NAME>: ok` or what went wrong; the test fails when any check did.

vsock_status=0
vsock_port=
vsock_cid=
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	kvmbox.vsock_port=*) vsock_port="${arg#kvmbox.vsock_port=}" ;;
	kvmbox.vsock_cid=*) vsock_cid="${arg#kvmbox.vsock_cid=}" ;;
	esac
done

vsock_check() {
	echo "KVMBOX-VSOCK-$1: $2"
	[ "$2" = ok ] || vsock_status=1
}

# The virtio device the transport driver is bound to, e.g. virtio0.
vsock_vdev() {
	for d in /sys/bus/virtio/drivers/vmw_vsock_virtio_transport/virtio*; do
		[ -e "$d" ] && { echo "${d##*/}"; return 0; }
	done
	return 1
}

# The CID the driver read from the device's configuration space.
vsock_local_cid() {
	got="$(vsock-connect --local-cid 2>&1)" || { echo "$got"; return; }
	[ "$got" = "$vsock_cid" ] || { echo "local CID $got, expected $vsock_cid"; return; }
	echo ok
}

# vsock_exchange TEXT: one connection to the host (CID 2): TEXT goes out, the host's
# answer must come back.
vsock_exchange() {
	reply="$(vsock-connect 2 "$vsock_port" "$1" 2>&1)" || { echo "$reply"; return; }
	[ "$reply" = "kvmbox-host: $1" ] || { echo "unexpected reply '$reply'"; return; }
	echo ok
}

vsock_msix() {
	lines="$(grep "$(vsock_vdev)-" /proc/interrupts)"
	[ -n "$lines" ] || { echo "no $(vsock_vdev) lines in /proc/interrupts"; return; }
	echo "$lines" | sed 's/^/KVMBOX-VSOCK-IRQ: /' >&2
	echo "$lines" | grep -Eq "(PCI|ITS)-MSI.*-config" || { echo "the config vector is not on MSI-X"; return; }
	[ "$(echo "$lines" | grep -Ec "(PCI|ITS)-MSI")" -ge 2 ] || { echo "the queues are not on MSI-X"; return; }
	echo ok
}

# Unbinding the driver resets the device (status 0): kvmbox takes the rings back from
# vhost-vsock; binding again must give a device that connects, three times over.
vsock_rebind() {
	drv=/sys/bus/virtio/drivers/vmw_vsock_virtio_transport
	n=1
	while [ $n -le 3 ]; do
		vdev="$(vsock_vdev)" || { echo "round $n: no device bound"; return; }
		echo "$vdev" >"$drv/unbind" || { echo "round $n: unbind failed"; return; }
		echo "$vdev" >"$drv/bind" || { echo "round $n: bind failed"; return; }
		r="$(vsock_exchange "after-rebind-$n")"
		[ "$r" = ok ] || { echo "round $n: $r"; return; }
		n=$((n + 1))
	done
	echo ok
}

vsock_main() {
	if [ -z "$vsock_port" ] || [ -z "$vsock_cid" ]; then
		vsock_check SETUP "no kvmbox.vsock_port= or kvmbox.vsock_cid="
		return 1
	fi
	if vsock_vdev >/dev/null; then
		vsock_check BOUND ok
	else
		vsock_check BOUND "no device bound to vmw_vsock_virtio_transport"
	fi
	vsock_check LOCAL-CID "$(vsock_local_cid)"
	vsock_check CONNECT "$(vsock_exchange first)"
	vsock_check MSIX "$(vsock_msix)"
	vsock_check DRIVER-REBIND "$(vsock_rebind)"
	vsock_check CONNECT-AGAIN "$(vsock_exchange last)"
	return $vsock_status
}

vsock_main
