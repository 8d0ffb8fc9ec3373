# SPDX-License-Identifier: GPL-2.0-only
# The guest's PMU, the guest half of tests/lab/t-arm64.sh (kvmbox.test=pmu): the kernel's
# PMU driver found the device tree's node, user-mode counting works on every vCPU, and
# counter overflows arrive as the PMU's interrupt (its /proc/interrupts line).

pmu_irqs() {
	grep 'arm-pmu' /proc/interrupts | awk '{ n = 0; for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i; print n }'
}

# `hw perfevents: enabled with armv8_pmuv3 PMU driver, N counters available`
echo "KVMBOX-PMU-DRIVER: $(dmesg | grep -o 'hw perfevents: enabled with [^ ]* PMU driver, [0-9]* counters' | head -n1)"
before="$(pmu_irqs)"
for cpu in $(seq 0 $(($(nproc) - 1))); do
	echo "KVMBOX-PMU-CPU$cpu: $(taskset -c "$cpu" pmu-count 2>&1 | head -n1)"
done
echo "KVMBOX-PMU-IRQS: $(($(pmu_irqs) - ${before:-0}))"
