# SPDX-License-Identifier: GPL-2.0-only
# Register flood, the guest half of tests/lab/t-flood.sh (kvmbox.test=regflood, with
# kvmbox.modules=virtio_pci,virtio_blk,virtio_rng): /bin/regflood writes random values
# to the emulated registers from every CPU but CPU 0 while this script reads and writes
# the virtio-blk disk (serial kvmbox-flood) and checks every block. The flooded
# virtio-rng is unbound from its driver first and must work again once bound.
# Each check prints `KVMBOX-FLOOD-<NAME>: ok` or what went wrong. Sourced by /init.

. /tests/blk-lib.sh
# shellcheck disable=SC2034 # read by rng.sh
rng_lib_only=1
. /tests/rng.sh

flood_status=0

flood_check() {
	echo "KVMBOX-FLOOD-$1: $2"
	[ "$2" = ok ] || flood_status=1
}

# flood_blk_round N: 256 KiB of random data at 256 KiB * (N % 32), synced, read back.
flood_blk_round() {
	off=$(($1 % 32))
	dd if=/dev/urandom of=/tmp/fb bs=256k count=1 2>/dev/null
	dd if=/tmp/fb of="$blk_dev" bs=256k seek=$off conv=fsync 2>/dev/null || return 1
	blk_drop_caches
	[ "$(dd if="$blk_dev" bs=256k skip=$off count=1 2>/dev/null | md5sum | cut -d' ' -f1)" = \
		"$(md5sum </tmp/fb | cut -d' ' -f1)" ]
}

# The disk is used until /tmp/flood-done appears; prints rounds and failures.
flood_blk_loop() {
	n=0 bad=0
	while [ ! -e /tmp/flood-done ]; do
		flood_blk_round $n || bad=$((bad + 1))
		n=$((n + 1))
	done
	echo "$n $bad"
}

flood_main() {
	writes="$(sed -n 's/.*kvmbox\.flood\.writes=\([0-9]*\).*/\1/p' /proc/cmdline)"
	blk_dev="$(blk_disk kvmbox-flood)" || { flood_check DISK "no disk with serial kvmbox-flood"; return 1; }
	rng_wait || { flood_check RNG-BEFORE "virtio_rng did not bind"; return 1; }
	vdev="$(rng_vdev)"
	bdf="$(basename "$(readlink -f "/sys/bus/virtio/devices/$vdev/..")")"
	echo "$bdf" >/sys/bus/pci/drivers/virtio-pci/unbind || { flood_check UNBIND "failed"; return 1; }
	if flood_blk_round 0; then flood_check BLK-BEFORE ok; else flood_check BLK-BEFORE "read back differs"; fi
	flood_blk_loop >/tmp/flood-blk &
	loop=$!
	out="$(regflood "${writes:-3000}" "$bdf")"
	rc=$?
	touch /tmp/flood-done
	wait $loop
	echo "KVMBOX-FLOOD-OUTPUT: $out"
	if [ $rc = 0 ]; then flood_check RUN ok; else flood_check RUN "regflood exit $rc: $out"; fi
	read -r rounds bad </tmp/flood-blk
	echo "KVMBOX-FLOOD-ROUNDS: $rounds"
	if [ "${rounds:-0}" -lt 1 ]; then
		flood_check BLK-DURING "no disk round ran during the flood"
	elif [ "$bad" != 0 ]; then
		flood_check BLK-DURING "$bad of $rounds rounds read back wrong"
	else
		flood_check BLK-DURING ok
	fi
	if flood_blk_round 7; then flood_check BLK-AFTER ok; else flood_check BLK-AFTER "read back differs"; fi
	echo "$bdf" >/sys/bus/pci/drivers/virtio-pci/bind || { flood_check RNG-AFTER "bind failed"; return 1; }
	flood_check RNG-AFTER "$(rng_read)"
	return $flood_status
}

flood_main
