# SPDX-License-Identifier: GPL-2.0-only
# virtio-balloon, the guest half of tests/lab/t-api.sh's balloon test (kvmbox.test=balloon,
# with kvmbox.modules=virtio_pci,virtio_balloon). It touches its free memory once (so that
# the host's RSS has something to lose), says so, then waits for the host to inflate the
# balloon by 64 MiB (MemTotal drops: without deflate_on_oom the driver takes the pages
# off the total) and to deflate it again (MemTotal comes back), printing each step.

balloon_memtotal() {
	awk '/^MemTotal:/ { print $2 }' /proc/meminfo
}

# balloon_wait OP KB: until MemTotal OP KB (a test(1) operator), at most 300 s.
balloon_wait() {
	i=0
	while [ $i -lt 1500 ]; do
		m="$(balloon_memtotal)"
		[ "$m" "$1" "$2" ] && return 0
		usleep 200000
		i=$((i + 1))
	done
	return 1
}

balloon_status=0
total="$(balloon_memtotal)"
echo "KVMBOX-BALLOON-MEMTOTAL-KB: $total"
[ -d /sys/bus/virtio/drivers/virtio_balloon ] || { echo "KVMBOX-BALLOON: no driver"; return 1; }
# A tmpfs file as large as what is available, less a margin, written and removed.
avail="$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)"
fill=$((avail / 1024 - 32))
mkdir -p /balloon-fill
mount -t tmpfs -o size=95% tmpfs /balloon-fill || balloon_status=1
dd if=/dev/zero of=/balloon-fill/f bs=1M count="$fill" 2>/dev/null || balloon_status=1
rm -f /balloon-fill/f
umount /balloon-fill
echo "KVMBOX-BALLOON-TOUCHED-MB: $fill"
echo "KVMBOX-BALLOON: touched"
if balloon_wait -le $((total - 60 * 1024)); then
	echo "KVMBOX-BALLOON-INFLATED-KB: $(balloon_memtotal)"
	echo "KVMBOX-BALLOON: inflated"
else
	echo "KVMBOX-BALLOON: not inflated, MemTotal $(balloon_memtotal) kB"
	balloon_status=1
fi
if balloon_wait -ge $((total - 1024)); then
	echo "KVMBOX-BALLOON: deflated"
else
	echo "KVMBOX-BALLOON: not deflated, MemTotal $(balloon_memtotal) kB"
	balloon_status=1
fi
# The host's last look at the statistics comes before the power-off.
sleep 10
return $balloon_status
