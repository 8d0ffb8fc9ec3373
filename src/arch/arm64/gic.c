// SPDX-License-Identifier: GPL-2.0-only
/*
 * The in-kernel GICv3. KVM wants it in this order (Documentation/virt/kvm/devices/
 * arm-vgic-v3.rst): create the device, set its addresses and number of IRQs, create
 * every vCPU, then KVM_DEV_ARM_VGIC_CTRL_INIT before the first KVM_RUN. The ITS comes
 * after the distributor and is initialised after it.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "../../kvm.h"
#include "../../util/log.h"
#include "../../vm.h"
#include "arch_vm.h"
#include "devicetree.h"
#include "layout.h"

static int gic_set_attr(int fd, u32 group, u64 attr, void *val, const char *what)
{
	struct kvm_device_attr a = {.group = group, .attr = attr, .addr = (u64)(uintptr_t)val};
	int ret = __kvm_ioctl(fd, KVM_SET_DEVICE_ATTR, &a);

	if (ret < 0)
		pr_err("KVM_SET_DEVICE_ATTR (%s) failed: %s", what, strerror(-ret));
	return ret;
}

static int gic_create_device(struct vm *vm, u32 type, const char *name)
{
	struct kvm_create_device cd = {.type = type};
	int ret = __kvm_ioctl(vm->vm_fd, KVM_CREATE_DEVICE, &cd);

	if (ret < 0) {
		pr_debug("KVM_CREATE_DEVICE %s: %s", name, strerror(-ret));
		return ret;
	}
	return (int)cd.fd;
}

static int gic_create_its(struct vm *vm)
{
	u64 base = ARM64_GIC_ITS_GPA;
	int fd = gic_create_device(vm, KVM_DEV_TYPE_ARM_VGIC_ITS, "vgic-its");

	if (fd < 0) {
		pr_info("this host's KVM has no GICv3 ITS: PCI devices use INTx, not MSI-X");
		return 0;
	}
	vm->arch->its_fd = fd;
	return gic_set_attr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_ITS_ADDR_TYPE, &base,
			    "ITS base");
}

int arm64_gic_create(struct vm *vm)
{
	u64 dist = ARM64_GIC_DIST_GPA, redist = ARM64_GIC_REDIST_GPA;
	u32 nr_irqs = ARM64_GIC_NR_IRQS;
	int fd = gic_create_device(vm, KVM_DEV_TYPE_ARM_VGIC_V3, "vgic-v3");

	if (fd < 0) {
		pr_err("this host's KVM cannot create a GICv3 (vgic-v3: %s); kvmbox needs a host "
		       "with a GICv3",
		       strerror(-fd));
		return -EXIT_BAD_INPUT;
	}
	vm->arch->gic_fd = fd;
	if ((u64)vm->cfg->cpus * ARM64_GIC_REDIST_STRIDE > ARM64_GIC_REDIST_MAX) {
		pr_err("--cpus %u: the board has room for %llu GICv3 redistributors", vm->cfg->cpus,
		       (unsigned long long)(ARM64_GIC_REDIST_MAX / ARM64_GIC_REDIST_STRIDE));
		return -EXIT_BAD_INPUT;
	}
	if (gic_set_attr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_DIST, &dist,
			 "distributor base") ||
	    gic_set_attr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST, &redist,
			 "redistributor base") ||
	    gic_set_attr(fd, KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, &nr_irqs, "number of IRQs"))
		return -EXIT_VMM_ERROR;
	return gic_create_its(vm) ? -EXIT_VMM_ERROR : 0;
}

int arm64_gic_init(struct vm *vm)
{
	if (gic_set_attr(vm->arch->gic_fd, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT,
			 NULL, "vgic-v3 init"))
		return -EXIT_VMM_ERROR;
	if (vm->arch->its_fd >= 0 && gic_set_attr(vm->arch->its_fd, KVM_DEV_ARM_VGIC_GRP_CTRL,
						  KVM_DEV_ARM_VGIC_CTRL_INIT, NULL, "ITS init"))
		return -EXIT_VMM_ERROR;
	return 0;
}

void arm64_gic_destroy(struct vm *vm)
{
	if (vm->arch->its_fd >= 0)
		close(vm->arch->its_fd);
	if (vm->arch->gic_fd >= 0)
		close(vm->arch->gic_fd);
	vm->arch->its_fd = vm->arch->gic_fd = -1;
}
