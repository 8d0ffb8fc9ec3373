// SPDX-License-Identifier: GPL-2.0-only
#include <cpuid.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <asm/prctl.h>
#include <sys/syscall.h>

#include "acpi_pm.h"
#include "debug_exit.h"
#include "../../devices/fw_cfg.h"
#include "../../devices/i8042.h"
#include "../../devices/pc_testdev.h"
#include "../../devices/pci_host.h"
#include "../../memory.h"
#include "../../devices/rtc.h"
#include "../../devices/virtio/blk.h"
#include "../../devices/virtio/console.h"
#include "../../devices/virtio/net.h"
#include "../../devices/virtio/balloon.h"
#include "../../devices/virtio/rng.h"
#include "../../devices/vfio/vfio.h"
#include "../../devices/virtio/vsock.h"
#include "../../kvm.h"
#include "../../util/log.h"
#include "../../vm.h"
#include "../arch.h"
#include "arch_vm.h"
#include "serial.h"
#include "layout.h"

/* The PC board, in realize order. */
const struct device_ops *const arch_board_devices[] = {
	&uart16550_com1_ops, /* COM1, the console */
	&rtc_ops,	     /* CMOS clock at 0x70 */
	&i8042_ops,	     /* keyboard controller: the reset line */
	&acpi_pm_ops,	     /* PM1 registers: S5 power-off, ACPI reset */
	&pci_host_ops,	     /* host bridge, configuration mechanism #1 */
	&debug_exit_ops,     /* only with --debug-exit */
	&fw_cfg_ops,	     /* CPU count and RAM size for test guests */
	&virtio_rng_ops,     /* virtio-rng over PCI, only with --rng */
	&virtio_balloon_ops, /* virtio-balloon over PCI, only with --balloon */
	&pc_testdev_ops,     /* QEMU's test ports and MMIO window, for kvm-unit-tests */
	&virtio_blk_ops,     /* --disk: virtio-blk disks on PCI */
	&virtio_net_ops,     /* --net: virtio-net NICs on PCI (tap, vhost-net, user) */
	&virtio_vsock_ops,   /* --vsock: virtio-vsock through vhost-vsock */
	&virtio_console_ops, /* --virtio-console: hvc0 on stdio or a Unix socket */
	&vfio_pci_ops,	     /* --vfio: host PCI devices passed through */
	NULL,
};

const struct kvm_required_cap arch_kvm_caps[] = {
	{KVM_CAP_PIT2, "KVM_CAP_PIT2 (in-kernel timer)"},
	{KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR"},
	{KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID (KVM_GET_SUPPORTED_CPUID)"},
	{0, NULL},
};

const char arch_kvm_missing_hint[] = "load the kvm module (modprobe kvm_intel or kvm_amd) or "
				     "enable virtualization in the firmware";

int arch_memory_layout(struct guest_memory *mem, u64 ram_size)
{
	return guest_memory_layout(mem, ram_size, X86_MMIO_HOLE_START);
}

const struct arch_pci_layout arch_pci_layout = {
	.mmio_base = X86_PCI_MMIO_START,
	.mmio_size = X86_PCI_MMIO_SIZE,
	.io_base = X86_PCI_IO_START,
	.io_size = X86_PCI_IO_SIZE,
	.io_min = X86_PCI_IO_MIN,
};

bool arch_range_reserved(u64 addr, u64 size)
{
	static const struct {
		u64 base, len;
	} fixed[] = {
		{X86_IOAPIC_GPA, 0x1000},
		{X86_LAPIC_GPA, 0x1000},
		{X86_IDENTITY_MAP_GPA, 0x4000}, /* identity page and the three TSS pages */
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(fixed); i++) {
		if (ranges_overlap(addr, size, fixed[i].base, fixed[i].len))
			return true;
	}
	return false;
}

/*
 * Pin p (0 = INTA) of slot s drives I/O APIC input 16 + (s + p) % 8, a level-triggered,
 * active-low line as for any PCI interrupt (KVM's I/O APIC takes the asserted level as 1
 * whatever the polarity); the ACPI _PRT says so. GSIs 16-23 are the I/O APIC pins no ISA
 * device uses, so PCI lines never share one with the UART or the RTC.
 */
u32 pci_intx_gsi(unsigned int slot, unsigned int pin)
{
	return X86_PCI_INTX_GSI_BASE + (slot + pin) % X86_PCI_INTX_GSI_COUNT;
}

/* GSI n is ISA IRQ n or I/O APIC pin n: KVM_IRQ_LINE takes the GSI as it is. */
u32 arch_irq_line_kvm(u32 line)
{
	return line;
}

/* The routes KVM starts with: GSIs 0-15 to the PICs (cascade pin 2 excepted), 0-23 to the I/O APIC. */
unsigned int arch_irq_chip_routes(void *entries)
{
	struct kvm_irq_routing_entry *e = entries;
	unsigned int n = 0;

	for (u32 gsi = 0; gsi < X86_PIC_IRQS; gsi++) {
		/* Pin 2 of the master PIC carries the slave PIC: no device drives it. */
		if (gsi == X86_PIC_CASCADE)
			continue;
		e[n].gsi = gsi;
		e[n].type = KVM_IRQ_ROUTING_IRQCHIP;
		e[n].u.irqchip.irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE;
		e[n].u.irqchip.pin = gsi % 8;
		n++;
	}
	for (u32 gsi = 0; gsi < X86_IOAPIC_PINS; gsi++) {
		e[n].gsi = gsi;
		e[n].type = KVM_IRQ_ROUTING_IRQCHIP;
		e[n].u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
		e[n].u.irqchip.pin = gsi;
		n++;
	}
	return n;
}

u64 arch_max_gpa(void)
{
	unsigned int eax, ebx, ecx, edx, bits = 36;

	if (__get_cpuid(0x80000000, &eax, &ebx, &ecx, &edx) && eax >= 0x80000008 &&
	    __get_cpuid(0x80000008, &eax, &ebx, &ecx, &edx))
		bits = eax & 0xff;
	return 1ULL << bits;
}

int arch_check_config(const struct vm_config *cfg)
{
	char err[160];

	if (cfg->dump_dtb || cfg->firmware) {
		pr_err("%s is for arm64 guests; on x86 kvmbox boots the kernel itself",
		       cfg->dump_dtb ? "--dump-dtb" : "--firmware");
		return -EXIT_BAD_INPUT;
	}
	if (cfg->cpu_features && cpuid_check_features(cfg->cpu_features, err, sizeof(err))) {
		pr_err("--cpu-features: %s", err);
		return -EXIT_BAD_INPUT;
	}
	/* A snapshot's VM boots nothing: its kernel may be gone. */
	return cfg->restore_mem ? 0 : x86_check_boot_files(cfg);
}

/* Pairs of vCPUs become one core's two threads in CPUID (cpuid_set_topology). */
bool arch_supports_smt(void)
{
	return true;
}

static int arch_get_supported_cpuid(struct vm *vm, struct cpuid_table *t)
{
	struct {
		struct kvm_cpuid2 hdr;
		struct kvm_cpuid_entry2 entries[CPUID_MAX_ENTRIES];
	} buf = {.hdr.nent = CPUID_MAX_ENTRIES};

	if (kvm_ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, &buf) < 0)
		return -1;
	t->nent = buf.hdr.nent;
	memcpy(t->entries, buf.entries, t->nent * sizeof(t->entries[0]));
	return 0;
}

static void host_brand(char *brand, size_t len)
{
	unsigned int regs[12] = {0};

	if (__get_cpuid(0x80000002, &regs[0], &regs[1], &regs[2], &regs[3]) &&
	    __get_cpuid(0x80000003, &regs[4], &regs[5], &regs[6], &regs[7]) &&
	    __get_cpuid(0x80000004, &regs[8], &regs[9], &regs[10], &regs[11]))
		memcpy(brand, regs, MIN(len - 1, sizeof(regs)));
	if (!brand[0])
		strncpy(brand, "kvmbox virtual CPU", len - 1);
}

/* XSAVE component 18: AMX's tile data, 8 KiB that the kernel hands out on request only. */
#define XFEATURE_XTILEDATA 18

/*
 * A process's guests get AMX only once it asked for the tile data (KVM's supported CPUID
 * and XSAVE size follow that permission), as QEMU does. A host without AMX refuses: the
 * guest then has none, which is all that means.
 */
static void arch_request_amx(void)
{
	syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_GUEST_PERM, XFEATURE_XTILEDATA);
}

/* The machine-check banks every vCPU gets, from the CPUID it will have (see cpuid.h). */
static int arch_prepare_mce(struct vm *vm, struct arch_vm *a)
{
	int banks = kvm_check_extension(vm->kvm_fd, KVM_CAP_MCE);
	u64 supported = 0;

	if (banks <= 0)
		return 0;
	if (kvm_ioctl(vm->kvm_fd, KVM_X86_GET_MCE_CAP_SUPPORTED, &supported) < 0)
		return -1;
	a->mcg_cap = cpuid_guest_mcg_cap(&a->cpuid, supported, banks);
	return 0;
}

/* CPUID every vCPU starts from: what KVM supports, with the user's feature changes. */
static int arch_prepare_cpuid(struct vm *vm, struct arch_vm *a)
{
	char err[160], brand[49] = {0};

	arch_request_amx();
	if (arch_get_supported_cpuid(vm, &a->supported_cpuid) < 0)
		return -1;
	cpuid_add_emulated(&a->supported_cpuid,
			   kvm_check_extension(vm->kvm_fd, KVM_CAP_TSC_DEADLINE_TIMER) > 0);
	a->cpuid = a->supported_cpuid;
	if (vm->cfg->cpu_features &&
	    cpuid_apply_features(&a->cpuid, &a->supported_cpuid, vm->cfg->cpu_features, err,
				 sizeof(err))) {
		pr_err("--cpu-features: %s", err);
		return -EXIT_BAD_INPUT;
	}
	host_brand(brand, sizeof(brand));
	cpuid_set_brand(&a->cpuid, brand);
	return arch_prepare_mce(vm, a);
}

int arch_vm_init(struct vm *vm)
{
	struct kvm_pit_config pit = {.flags = KVM_PIT_SPEAKER_DUMMY};
	u64 identity = X86_IDENTITY_MAP_GPA;
	int ret;

	vm->arch = calloc(1, sizeof(*vm->arch));
	if (!vm->arch)
		return -EXIT_VMM_ERROR;
	ret = arch_prepare_cpuid(vm, vm->arch);
	if (ret)
		return ret < -1 ? ret : -EXIT_VMM_ERROR;
	/* At least 4096 where KVM has KVM_GET_XSAVE2 (more with AMX), else 0. */
	vm->arch->xsave2_size = (u32)kvm_check_extension(vm->vm_fd, KVM_CAP_XSAVE2);
	/* Intel's VMX needs these pages for real mode; AMD ignores them. Both must be set first. */
	if (kvm_ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &identity) < 0 ||
	    kvm_ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (void *)(unsigned long)X86_TSS_GPA) < 0)
		return -EXIT_VMM_ERROR;
	/*
	 * The in-kernel PIC, IOAPIC and LAPICs: interrupts and IPIs never leave the kernel,
	 * and KVM's default GSI routing maps ISA IRQ n to IOAPIC pin n.
	 */
	if (kvm_ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, NULL) < 0 ||
	    kvm_ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return -EXIT_VMM_ERROR;
	return 0;
}

int arch_vm_finalize(struct vm *vm)
{
	(void)vm;
	return 0;
}

/*
 * The i8042's reset line, as its pulse command (0xfe) drives it: no keyboard is plugged
 * into kvmbox's controller to carry the keys themselves, and a Firecracker guest (reboot=k)
 * answers Ctrl-Alt-Del by resetting through this line anyway, which ends kvmbox.
 */
int arch_ctrl_alt_del(struct vm *vm)
{
	vm_request_stop(vm, VM_STOP_REBOOT, 0);
	return 0;
}

void arch_vm_destroy(struct vm *vm)
{
	free(vm->arch);
	vm->arch = NULL;
}
