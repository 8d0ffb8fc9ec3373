// SPDX-License-Identifier: GPL-2.0-only
/* The arm64 board: QEMU's virt machine as far as a kernel or firmware can tell. */
#include <errno.h>
#include <stdlib.h>

#include "../../devices/pci.h"
#include "../../devices/pci_host.h"
#include "../../devices/virtio/blk.h"
#include "../../devices/virtio/console.h"
#include "../../devices/virtio/net.h"
#include "../../devices/virtio/balloon.h"
#include "../../devices/virtio/rng.h"
#include "../../devices/virtio/vsock.h"
#include "../../kvm.h"
#include "../../memory.h"
#include "../../util/log.h"
#include "../../vm.h"
#include "../arch.h"
#include "arch_vm.h"
#include "devicetree.h"
#include "firmware.h"
#include "layout.h"
#include "rtc.h"
#include "serial.h"

/* The virt board, in realize order. */
const struct device_ops *const arch_board_devices[] = {
	&pl011_console_ops,  /* the PL011 at 0x09000000, the console */
	&pl031_rtc_ops,	     /* the PL031 real-time clock at 0x09010000 */
	&arm64_firmware_ops, /* --firmware, --flash: the flash banks at 0 and 64 MiB */
	&pci_host_ecam_ops,  /* host bridge, ECAM at 0x3f000000 */
	&virtio_rng_ops,     /* virtio-rng over PCI, only with --rng */
	&virtio_balloon_ops, /* virtio-balloon over PCI, only with --balloon */
	&virtio_blk_ops,     /* --disk: virtio-blk disks on PCI */
	&virtio_net_ops,     /* --net: virtio-net NICs on PCI (tap, vhost-net, user) */
	&virtio_vsock_ops,   /* --vsock: virtio-vsock through vhost-vsock */
	&virtio_console_ops, /* --virtio-console: hvc0 on stdio or a Unix socket */
	NULL,
};

const struct kvm_required_cap arch_kvm_caps[] = {
	{KVM_CAP_ARM_PSCI_0_2, "KVM_CAP_ARM_PSCI_0_2 (PSCI 0.2: CPU_ON, SYSTEM_OFF)"},
	{KVM_CAP_ONE_REG, "KVM_CAP_ONE_REG"},
	{KVM_CAP_DEVICE_CTRL, "KVM_CAP_DEVICE_CTRL (KVM_CREATE_DEVICE for the GIC)"},
	{0, NULL},
};

const char arch_kvm_missing_hint[] = "the host kernel must boot at EL2 with KVM enabled "
				     "(CONFIG_KVM; on a VM, nested virtualization)";

int arch_memory_layout(struct guest_memory *mem, u64 ram_size)
{
	return guest_memory_layout_at(mem, ARM64_RAM_GPA, ram_size);
}

u64 arch_max_gpa(void)
{
	return 1ULL << ARM64_IPA_BITS;
}

const struct arch_pci_layout arch_pci_layout = {
	.mmio_base = ARM64_PCI_MMIO_GPA,
	.mmio_size = ARM64_PCI_MMIO_SIZE,
	.ecam_base = ARM64_PCI_ECAM_GPA,
	.ecam_size = ARM64_PCI_ECAM_SIZE,
};

/* Everything below the PCI window is the board's own (flash, GIC, UART, RTC). */
bool arch_range_reserved(u64 addr, u64 size)
{
	return ranges_overlap(addr, size, 0, ARM64_PCI_MMIO_GPA) ||
	       ranges_overlap(addr, size, ARM64_PCI_IO_GPA,
			      ARM64_PCI_IO_SIZE + ARM64_PCI_ECAM_SIZE);
}

/* The swizzle the device tree's interrupt-map describes: INTx of slot s on SPI 3 + (s + p) % 4. */
u32 pci_intx_gsi(unsigned int slot, unsigned int pin)
{
	return ARM64_PCI_INTX_SPI + (slot + pin) % ARM64_PCI_INTX_PINS;
}

/* Wired lines are SPI numbers; KVM_IRQ_LINE takes the type and the INTID (SPI + 32). */
u32 arch_irq_line_kvm(u32 line)
{
	return (KVM_ARM_IRQ_TYPE_SPI << KVM_ARM_IRQ_TYPE_SHIFT) | (line + 32);
}

/* Wired lines go through KVM_IRQ_LINE, never a route: the table holds MSIs only. */
unsigned int arch_irq_chip_routes(void *entries)
{
	(void)entries;
	return 0;
}

int arch_check_config(const struct vm_config *cfg)
{
	if (cfg->cpu_features) {
		pr_err("--cpu-features is for x86 CPUID; arm64 vCPUs take the host's features");
		return -EXIT_BAD_INPUT;
	}
	if (cfg->debug_exit || cfg->pc_testdev) {
		pr_err("--debug-exit and --pc-testdev are x86 I/O-port devices, not on arm64");
		return -EXIT_BAD_INPUT;
	}
	/* Untested there: no arm64 lab with an IOMMU and a device to pass yet. */
	if (cfg->nr_vfio) {
		pr_err("--vfio is not supported on arm64 yet");
		return -EXIT_BAD_INPUT;
	}
	return cfg->kernel ? arm64_check_boot_files(cfg) : 0;
}

/* vCPUs are separate cores in the device tree and MPIDR; no thread level is described. */
bool arch_supports_smt(void)
{
	return false;
}

int arch_vm_init(struct vm *vm)
{
	vm->arch = calloc(1, sizeof(*vm->arch));
	if (!vm->arch)
		return -EXIT_VMM_ERROR;
	vm->arch->gic_fd = vm->arch->its_fd = -1;
	vm->arch->pmu = kvm_check_extension(vm->vm_fd, KVM_CAP_ARM_PMU_V3) > 0;
	return arm64_gic_create(vm);
}

int arch_vm_finalize(struct vm *vm)
{
	int ret = arm64_gic_init(vm);

	return ret ? ret : arm64_pmu_init(vm);
}

/* Firecracker has SendCtrlAltDel on x86 only: the virt board has no keyboard controller. */
int arch_ctrl_alt_del(struct vm *vm)
{
	(void)vm;
	return -EOPNOTSUPP;
}

void arch_vm_destroy(struct vm *vm)
{
	if (!vm->arch)
		return;
	arm64_gic_destroy(vm);
	free(vm->arch);
	vm->arch = NULL;
}
