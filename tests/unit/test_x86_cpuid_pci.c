// SPDX-License-Identifier: GPL-2.0-only
// unit-arch: x86
/* Unit tests of CPUID shaping (--cpu-features, topology) and PCI configuration mechanism #1. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "arch/x86/cpuid.h"
#include "bus.h"
#include "devices/pci.h"

static void add_leaf(struct cpuid_table *t, u32 fn, u32 idx, u32 flags, u32 eax, u32 ebx, u32 ecx,
		     u32 edx)
{
	t->entries[t->nent++] = (struct kvm_cpuid_entry2){.function = fn,
							  .index = idx,
							  .flags = flags,
							  .eax = eax,
							  .ebx = ebx,
							  .ecx = ecx,
							  .edx = edx};
}

/* A host with PCID (1.ECX[17]) and x2APIC but no INVPCID (7.0.EBX[10]). */
static void make_host(struct cpuid_table *t)
{
	memset(t, 0, sizeof(*t));
	add_leaf(t, 1, 0, 0, 0x800f12, 0x00010800, (1U << 17) | (1U << 21), 1U << 4);
	add_leaf(t, 4, 0, KVM_CPUID_FLAG_SIGNIFCANT_INDEX, 0x121, 0, 0, 0);
	add_leaf(t, 7, 0, KVM_CPUID_FLAG_SIGNIFCANT_INDEX, 0, 1U << 0, 0, 0);
	add_leaf(t, 0xb, 0, KVM_CPUID_FLAG_SIGNIFCANT_INDEX, 0, 0, 0, 0);
	add_leaf(t, 0xb, 1, KVM_CPUID_FLAG_SIGNIFCANT_INDEX, 0, 0, 0, 0);
	add_leaf(t, 0xb, 2, KVM_CPUID_FLAG_SIGNIFCANT_INDEX, 0, 0, 0, 0);
	add_leaf(t, 0x80000002, 0, 0, 0, 0, 0, 0);
	add_leaf(t, 0x80000003, 0, 0, 0, 0, 0, 0);
	add_leaf(t, 0x80000004, 0, 0, 0, 0, 0, 0);
	add_leaf(t, 0x80000008, 0, 0, 0x3030, 0, 0, 0);
	add_leaf(t, 0x8000001e, 0, 0, 0, 0x100, 0, 0);
	add_leaf(t, 4, 1, KVM_CPUID_FLAG_SIGNIFCANT_INDEX, 0x163, 0, 0, 0); /* L3 */
}

static void test_cpu_features(void **state)
{
	struct cpuid_table host, t;
	char err[128];

	(void)state;
	make_host(&host);
	t = host;
	assert_int_equal(cpuid_apply_features(&t, &host, "-pcid", err, sizeof(err)), 0);
	assert_int_equal(cpuid_find(&t, 1, 0)->ecx & (1U << 17), 0);
	assert_int_not_equal(cpuid_find(&t, 1, 0)->ecx & (1U << 21), 0);
	/* Asking for what the host lacks names the feature. */
	assert_int_equal(cpuid_apply_features(&t, &host, "-pcid,+invpcid", err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "invpcid"));
	assert_int_equal(cpuid_apply_features(&t, &host, "+frobnicate", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "frobnicate"));
	assert_int_equal(cpuid_apply_features(&t, &host, "pcid,,x2apic", err, sizeof(err)),
			 -EINVAL);
	/* Re-enabling what the host has works, with or without '+'. */
	assert_int_equal(cpuid_apply_features(&t, &host, "pcid,+fsgsbase", err, sizeof(err)), 0);
	assert_int_not_equal(cpuid_find(&t, 1, 0)->ecx & (1U << 17), 0);
	host.entries[2].ebx |= 1U << 10;
	assert_int_equal(cpuid_apply_features(&t, &host, "+invpcid", err, sizeof(err)), 0);
	assert_int_not_equal(cpuid_find(&t, 7, 0)->ebx & (1U << 10), 0);
}

/* vendor= rewrites the vendor string in leaves 0 and 0x80000000; bad names are refused. */
static void test_cpu_vendor(void **state)
{
	struct cpuid_table host, t;
	char err[160];
	u32 regs[3];

	(void)state;
	make_host(&host);
	add_leaf(&host, 0, 0, 0, 0xd, 0x68747541, 0x444d4163, 0x69746e65);
	add_leaf(&host, 0x80000000, 0, 0, 0x80000008, 0x68747541, 0x444d4163, 0x69746e65);
	t = host;
	assert_int_equal(
		cpuid_apply_features(&t, &host, "-pcid,vendor=GenuineIntel", err, sizeof(err)), 0);
	for (int i = 0; i < 2; i++) {
		struct kvm_cpuid_entry2 *e = cpuid_find(&t, i ? 0x80000000 : 0, 0);

		regs[0] = e->ebx;
		regs[1] = e->edx;
		regs[2] = e->ecx;
		assert_memory_equal(regs, "GenuineIntel", 12);
	}
	assert_int_equal(cpuid_find(&t, 0, 0)->eax, 0xd);
	assert_int_equal(cpuid_find(&t, 1, 0)->ecx & (1U << 17), 0);
	assert_int_equal(cpuid_apply_features(&t, &host, "vendor=Intel", err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "12 printable"));
	assert_int_equal(cpuid_apply_features(&t, &host, "vendor=GenuineIntel1", err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(cpuid_apply_features(&t, &host, "vendor=Genuine\tntel", err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(cpuid_apply_features(&t, &host, "vendor=", err, sizeof(err)), -EINVAL);
}

static void test_cpu_emulated_features(void **state)
{
	struct cpuid_table host, t;
	char err[128];

	(void)state;
	make_host(&host);
	cpuid_add_emulated(&host, false);
	assert_int_equal(cpuid_find(&host, 1, 0)->ecx & (1U << 24), 0);
	cpuid_add_emulated(&host, true);
	assert_int_not_equal(cpuid_find(&host, 1, 0)->ecx & (1U << 24), 0);
	/* Once announced, the user may ask for it or hide it like any other feature. */
	t = host;
	assert_int_equal(cpuid_apply_features(&t, &host, "-tsc-deadline", err, sizeof(err)), 0);
	assert_int_equal(cpuid_find(&t, 1, 0)->ecx & (1U << 24), 0);
	assert_int_equal(cpuid_apply_features(&t, &host, "+tsc-deadline", err, sizeof(err)), 0);
}

static void test_cpu_topology(void **state)
{
	struct cpuid_table t;
	struct kvm_cpuid_entry2 *e;

	(void)state;
	make_host(&t);
	cpuid_set_topology(&t, &(struct cpu_topology){.apic_id = 3, .nr_cpus = 4, .threads = 1});
	e = cpuid_find(&t, 1, 0);
	assert_int_equal(e->ebx >> 24, 3);
	assert_int_equal((e->ebx >> 16) & 0xff, 4);
	assert_int_not_equal(e->ecx & (1U << 31), 0); /* hypervisor */
	assert_int_not_equal(e->edx & (1U << 28), 0); /* HTT */
	e = cpuid_find(&t, 0xb, 0);
	assert_int_equal(e->edx, 3);
	assert_int_equal(e->ebx, 1);
	assert_int_equal((e->ecx >> 8) & 0xff, 1); /* SMT level */
	e = cpuid_find(&t, 0xb, 1);
	assert_int_equal(e->eax, 2); /* APIC ID bits for 4 cores */
	assert_int_equal(e->ebx, 4);
	assert_int_equal((e->ecx >> 8) & 0xff, 2); /* core level */
	e = cpuid_find(&t, 0xb, 2);
	assert_int_equal(e->ebx, 0);
	assert_int_equal((e->ecx >> 8) & 0xff, 0); /* invalid: the end */
	assert_int_equal(cpuid_find(&t, 4, 0)->eax >> 26, 3);
	assert_int_equal((cpuid_find(&t, 4, 0)->eax >> 14) & 0xfff, 0); /* L1: one thread */
	assert_int_equal((cpuid_find(&t, 4, 1)->eax >> 14) & 0xfff, 3); /* L3: the package */
	assert_int_equal(cpuid_find(&t, 0x80000008, 0)->ecx & 0xff, 3);
	assert_int_equal((cpuid_find(&t, 0x8000001e, 0)->ebx >> 8) & 0xff, 0);
	assert_int_equal(cpuid_find(&t, 0x8000001e, 0)->ebx & 0xff, 3); /* core 3 */

	cpuid_set_brand(&t, "kvmbox test CPU");
	e = cpuid_find(&t, 0x80000002, 0);
	assert_memory_equal(&e->eax, "kvmb", 4);
	assert_memory_equal(&e->edx, "CPU", 3);
}

/* smt: two threads per core, the neighbouring APIC IDs; odd counts get one thread. */
static void test_cpu_topology_smt(void **state)
{
	struct cpuid_table t;
	struct kvm_cpuid_entry2 *e;

	(void)state;
	make_host(&t);
	cpuid_set_topology(&t, &(struct cpu_topology){.apic_id = 3, .nr_cpus = 4, .threads = 2});
	e = cpuid_find(&t, 0xb, 0);
	assert_int_equal(e->eax, 1); /* one APIC ID bit for the thread */
	assert_int_equal(e->ebx, 2);
	e = cpuid_find(&t, 0xb, 1);
	assert_int_equal(e->eax, 2);
	assert_int_equal(e->ebx, 4);
	assert_int_equal(cpuid_find(&t, 4, 0)->eax >> 26, 1);		/* 2 cores */
	assert_int_equal((cpuid_find(&t, 4, 0)->eax >> 14) & 0xfff, 1); /* L1: 2 threads */
	assert_int_equal((cpuid_find(&t, 4, 1)->eax >> 14) & 0xfff, 3);
	e = cpuid_find(&t, 0x8000001e, 0);
	assert_int_equal((e->ebx >> 8) & 0xff, 1); /* 2 threads per core */
	assert_int_equal(e->ebx & 0xff, 1);	   /* APIC ID 3 is core 1's second thread */
	assert_int_equal(e->eax, 3);

	/* AMD: TOPOEXT, and leaf 4's caches as 0x8000001D, then a null entry. */
	make_host(&t);
	add_leaf(&t, 0, 0, 0, 0xd, 0x68747541, 0x444d4163, 0x69746e65);
	add_leaf(&t, 0x80000000, 0, 0, 0x80000008, 0x68747541, 0x444d4163, 0x69746e65);
	add_leaf(&t, 0x80000001, 0, 0, 0, 0, 0, 0);
	cpuid_set_topology(&t, &(struct cpu_topology){.apic_id = 1, .nr_cpus = 2, .threads = 2});
	assert_int_equal(cpuid_find(&t, 0x80000000, 0)->eax, 0x8000001e);
	assert_int_not_equal(cpuid_find(&t, 0x80000001, 0)->ecx & (1U << 22), 0);
	e = cpuid_find(&t, 0x8000001d, 0);
	assert_non_null(e);
	assert_int_equal(e->eax & 0x1f, 1);
	assert_int_equal((e->eax >> 14) & 0xfff, 1);
	assert_int_equal(cpuid_find(&t, 0x8000001d, 1)->eax & 0x1f, 3); /* L3, unified */
	assert_int_equal(cpuid_find(&t, 0x8000001d, 2)->eax, 0);
	assert_int_equal(cpuid_find(&t, 0x8000001e, 0)->ebx, 0x100); /* 2 threads, core 0 */

	make_host(&t);
	cpuid_set_topology(&t, &(struct cpu_topology){.apic_id = 2, .nr_cpus = 3, .threads = 2});
	assert_int_equal(cpuid_find(&t, 0xb, 0)->ebx, 1);
	assert_int_equal(cpuid_find(&t, 4, 0)->eax >> 26, 2);
}

static u32 conf1_read(struct pci_bus *bus, u32 slot, u32 reg, u32 len)
{
	u8 data[4];
	u32 addr = BIT(31) | slot << 11 | (reg & 0xfc);

	io_data_put(data, 4, addr);
	pci_conf1_io(bus, 0, data, 4, true);
	pci_conf1_io(bus, 4 + (reg & 3), data, len, false);
	return (u32)io_data_get(data, len);
}

static void conf1_write(struct pci_bus *bus, u32 slot, u32 reg, u32 len, u32 v)
{
	u8 data[4];

	io_data_put(data, 4, BIT(31) | slot << 11 | (reg & 0xfc));
	pci_conf1_io(bus, 0, data, 4, true);
	io_data_put(data, len, v);
	pci_conf1_io(bus, 4 + (reg & 3), data, len, true);
}

static void test_pci_conf1(void **state)
{
	struct pci_function bridge;
	struct pci_bus bus;
	u8 data[4];

	(void)state;
	pci_bus_init(&bus);
	pci_function_init(&bridge, PCI_VENDOR_REDHAT, PCI_DEVICE_REDHAT_HOST,
			  PCI_CLASS_BRIDGE_HOST);
	assert_int_equal(pci_bus_add(&bus, &bridge, 0), 0);
	assert_int_equal(pci_bus_add(&bus, &bridge, 0), -ENOSPC);

	assert_int_equal(conf1_read(&bus, 0, 0, 4), 0x00081b36);
	assert_int_equal(conf1_read(&bus, 0, 2, 2), 0x0008);
	assert_int_equal(conf1_read(&bus, 0, 0xb, 1), 0x06);
	assert_int_equal(conf1_read(&bus, 0, 0xa, 2), 0x0600);
	/* Empty slots read all ones; so does the address latch without the enable bit. */
	assert_int_equal(conf1_read(&bus, 5, 0, 4), 0xffffffff);
	io_data_put(data, 4, 0);
	pci_conf1_io(&bus, 0, data, 4, true);
	pci_conf1_io(&bus, 4, data, 4, false);
	assert_int_equal(io_data_get(data, 4), 0xffffffff);
	/* Read-only fields stay; writable bits change. */
	conf1_write(&bus, 0, 0, 4, 0x12345678);
	assert_int_equal(conf1_read(&bus, 0, 0, 4), 0x00081b36);
	conf1_write(&bus, 0, PCI_COMMAND, 2, 0xffff);
	assert_int_equal(conf1_read(&bus, 0, PCI_COMMAND, 2), 0x0407);
	conf1_write(&bus, 0, PCI_INTERRUPT_LINE, 1, 11);
	assert_int_equal(conf1_read(&bus, 0, PCI_INTERRUPT_LINE, 1), 11);
	/* The latch reads back; byte accesses to 0xcf8 are not the latch. */
	io_data_put(data, 4, 0x80000010);
	pci_conf1_io(&bus, 0, data, 4, true);
	pci_conf1_io(&bus, 0, data, 4, false);
	assert_int_equal(io_data_get(data, 4), 0x80000010);
	pci_conf1_io(&bus, 1, data, 1, false);
	assert_int_equal(data[0], 0xff);
	pci_bus_destroy(&bus);
}

/* Machine-check banks: QEMU's 10 or KVM's fewer, KVM's caps filtered, none without MCE+MCA. */
static void test_cpu_mcg_cap(void **state)
{
	const u64 ctl_p = 1ULL << 8, ser_p = 1ULL << 24, lmce_p = 1ULL << 27;
	struct cpuid_table t;

	(void)state;
	make_host(&t);
	assert_int_equal(cpuid_guest_mcg_cap(&t, ctl_p | ser_p, 32), 0); /* no MCE, MCA bits */
	cpuid_find(&t, 1, 0)->edx |= (1U << 7) | (1U << 14);
	assert_int_equal(cpuid_guest_mcg_cap(&t, ctl_p | ser_p | lmce_p | 0xff, 32),
			 GUEST_MCE_BANKS | ctl_p | ser_p);
	assert_int_equal(cpuid_guest_mcg_cap(&t, 0, 4), 4);
	assert_int_equal(cpuid_guest_mcg_cap(&t, ctl_p, 0), 0);
	cpuid_find(&t, 1, 0)->edx &= ~(1U << 14); /* MCE alone: no banks to describe */
	assert_int_equal(cpuid_guest_mcg_cap(&t, ctl_p, 32), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpu_features),	      cmocka_unit_test(test_cpu_vendor),
		cmocka_unit_test(test_cpu_emulated_features), cmocka_unit_test(test_cpu_topology),
		cmocka_unit_test(test_cpu_topology_smt),      cmocka_unit_test(test_pci_conf1),
		cmocka_unit_test(test_cpu_mcg_cap),
	};

	return cmocka_run_group_tests_name("x86-cpuid-pci", tests, NULL, NULL);
}
