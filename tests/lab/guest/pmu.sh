# SPDX-License-Identifier: GPL-2.0-only
# The guest's PMU, the guest half of tests/lab/t-arm64.sh (kvmbox.test=pmu): the kernel's
# PMU driver found the device tree's node, and user-mode counting works on every vCPU.

# `hw perfevents: enabled with armv8_pmuv3_0 PMU driver, N counters available`
echo "KVMBOX-PMU-DRIVER: $(dmesg | grep -o 'hw perfevents: enabled with [^ ]* PMU driver, [0-9]* counters' | head -n1)"
for cpu in $(seq 0 $(($(nproc) - 1))); do
	echo "KVMBOX-PMU-CPU$cpu: $(taskset -c "$cpu" pmu-count 2>&1 | head -n1)"
done
