// SPDX-License-Identifier: GPL-2.0-only
/*
 * ACPI table builder tests. The tables are read back the way a guest OS would: from the
 * RSDP through guest addresses, using raw offsets from the ACPI specification rather
 * than the builder's own structs, so a layout slip in the builder cannot hide itself.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/acpi.h"
#include "arch/x86/layout.h"
#include "devices/pci.h"

#define BUF_SIZE       8192
#define HDR_LEN	       36
#define TEST_IOAPIC_ID 7

struct tables {
	u8 buf[BUF_SIZE];
	long used;
	struct acpi_config cfg;
};

static u16 rd16(const u8 *p)
{
	return (u16)(p[0] | p[1] << 8);
}

static u32 rd32(const u8 *p)
{
	return (u32)rd16(p) | (u32)rd16(p + 2) << 16;
}

static u64 rd64(const u8 *p)
{
	return (u64)rd32(p) | (u64)rd32(p + 4) << 32;
}

static struct acpi_config test_config(unsigned int nr_cpus, u64 base)
{
	return (struct acpi_config){
		.nr_cpus = nr_cpus,
		.base_gpa = base,
		.lapic_gpa = X86_LAPIC_GPA,
		.ioapic_gpa = X86_IOAPIC_GPA,
		.ioapic_id = TEST_IOAPIC_ID,
		.pm1a_evt_port = X86_PORT_ACPI_PM1A_EVT,
		.pm1a_cnt_port = X86_PORT_ACPI_PM1A_CNT,
		.reset_port = X86_PORT_ACPI_RESET,
		.reset_value = X86_ACPI_RESET_VALUE,
		.slp_typ_s5 = X86_ACPI_SLP_TYP_S5,
		.sci_irq = X86_IRQ_ACPI_SCI,
	};
}

static struct tables *build(unsigned int nr_cpus)
{
	struct tables *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	t->cfg = test_config(nr_cpus, X86_ACPI_GPA);
	t->used = acpi_build_tables(t->buf, sizeof(t->buf), &t->cfg);
	assert_true(t->used > 0);
	assert_true(t->used <= BUF_SIZE);
	return t;
}

/* Translates a guest address back into buf, failing the test if [gpa, gpa+len) is outside. */
static const u8 *at(const struct tables *t, u64 gpa, size_t len)
{
	assert_true(gpa >= t->cfg.base_gpa);
	assert_true(gpa - t->cfg.base_gpa <= (u64)t->used);
	assert_true(len <= (u64)t->used - (gpa - t->cfg.base_gpa));
	return t->buf + (gpa - t->cfg.base_gpa);
}

/* Checks a table's header and checksum and returns it. */
static const u8 *table(const struct tables *t, u64 gpa, const char *sig)
{
	const u8 *h = at(t, gpa, HDR_LEN);
	u32 len = rd32(h + 4);

	assert_memory_equal(h, sig, 4);
	assert_true(len >= HDR_LEN);
	at(t, gpa, len);
	assert_int_equal(acpi_checksum(h, len), 0);
	assert_memory_equal(h + 10, "KVMBOX", 6);
	return h;
}

/* Finds the table with signature sig through RSDP -> XSDT. */
static const u8 *find_table(const struct tables *t, const char *sig)
{
	const u8 *xsdt = table(t, rd64(t->buf + 24), "XSDT");
	u32 n = (rd32(xsdt + 4) - HDR_LEN) / 8;

	for (u32 i = 0; i < n; i++) {
		const u8 *h = at(t, rd64(xsdt + HDR_LEN + 8 * i), HDR_LEN);

		if (memcmp(h, sig, 4) == 0)
			return h;
	}
	fail_msg("no %s table", sig);
	return NULL;
}

static const unsigned int cpu_counts[] = {1, 2, 64};

static void test_rsdp(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cpu_counts); i++) {
		struct tables *t = build(cpu_counts[i]);
		const u8 *r = t->buf;

		assert_memory_equal(r, "RSD PTR ", 8);
		assert_int_equal(acpi_checksum(r, 20), 0);
		assert_int_equal(r[15], 2);	    /* revision */
		assert_int_equal(rd32(r + 20), 36); /* length */
		assert_int_equal(acpi_checksum(r, 36), 0);
		assert_memory_equal(r + 9, "KVMBOX", 6);
		table(t, rd64(r + 24), "XSDT");
		free(t);
	}
}

static void test_xsdt_walk(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cpu_counts); i++) {
		struct tables *t = build(cpu_counts[i]);
		const u8 *xsdt = table(t, rd64(t->buf + 24), "XSDT");
		u32 len = rd32(xsdt + 4);
		bool seen_fadt = false, seen_madt = false;

		assert_int_equal((len - HDR_LEN) % 8, 0);
		for (u32 off = HDR_LEN; off < len; off += 8) {
			const u8 *h = at(t, rd64(xsdt + off), HDR_LEN);

			if (memcmp(h, "FACP", 4) == 0) {
				table(t, rd64(xsdt + off), "FACP");
				seen_fadt = true;
			} else {
				table(t, rd64(xsdt + off), "APIC");
				seen_madt = true;
			}
		}
		assert_true(seen_fadt && seen_madt);
		free(t);
	}
}

static void check_io_gas(const u8 *g, u16 port, u8 bits)
{
	assert_int_equal(g[0], 1); /* system I/O space */
	assert_int_equal(g[1], bits);
	assert_int_equal(g[2], 0);
	assert_int_equal(rd64(g + 4), port);
}

static void test_fadt(void **state)
{
	struct tables *t = build(2);
	const u8 *f = find_table(t, "FACP");
	u64 dsdt = rd64(f + 140), facs = rd64(f + 132);
	const u8 *fc;

	(void)state;
	assert_int_equal(rd32(f + 4), 276);
	assert_int_equal(f[8], 6);
	table(t, dsdt, "DSDT");
	assert_int_equal(rd32(f + 40), dsdt);
	fc = at(t, facs, 64);
	assert_memory_equal(fc, "FACS", 4);
	assert_int_equal(rd32(fc + 4), 64);
	assert_int_equal(facs % 64, 0);

	assert_int_equal(rd16(f + 46), X86_IRQ_ACPI_SCI);
	assert_int_equal(rd32(f + 48), 0); /* SMI_CMD: always in ACPI mode */
	assert_int_equal(rd32(f + 56), X86_PORT_ACPI_PM1A_EVT);
	assert_int_equal(rd32(f + 64), X86_PORT_ACPI_PM1A_CNT);
	assert_int_equal(f[88], 4);
	assert_int_equal(f[89], 2);
	assert_int_equal(f[91], 0); /* no PM timer */
	check_io_gas(f + 148, X86_PORT_ACPI_PM1A_EVT, 32);
	check_io_gas(f + 172, X86_PORT_ACPI_PM1A_CNT, 16);

	u32 flags = rd32(f + 112);
	assert_true(flags & (1u << 10));  /* RESET_REG_SUP */
	assert_true(flags & (1u << 0));	  /* WBINVD */
	assert_true(flags & (1u << 2));	  /* PROC_C1 */
	assert_false(flags & (1u << 20)); /* not hardware-reduced */
	check_io_gas(f + 116, X86_PORT_ACPI_RESET, 8);
	assert_int_equal(f[128], X86_ACPI_RESET_VALUE);

	u16 boot = rd16(f + 109);
	assert_true(boot & (1u << 1));	/* 8042 */
	assert_true(boot & (1u << 2));	/* no VGA */
	assert_false(boot & (1u << 3)); /* MSI works */
	assert_false(boot & (1u << 5)); /* CMOS RTC present */
	free(t);
}

static void check_madt(const struct tables *t)
{
	const u8 *m = find_table(t, "APIC");
	u32 len = rd32(m + 4), nr_lapic = 0, nr_ioapic = 0, nr_sci = 0, nr_nmi = 0;
	u64 seen = 0;

	assert_int_equal(rd32(m + 36), X86_LAPIC_GPA);
	assert_int_equal(rd32(m + 40) & 1, 1); /* PCAT_COMPAT */
	for (u32 off = 44; off < len;) {
		const u8 *e = m + off;

		assert_true(e[1] >= 2 && off + e[1] <= len);
		switch (e[0]) {
		case 0:
			assert_int_equal(e[1], 8);
			assert_int_equal(e[2], e[3]); /* UID == APIC ID */
			assert_true(e[3] < t->cfg.nr_cpus);
			assert_false(seen & (1ULL << e[3]));
			seen |= 1ULL << e[3];
			assert_int_equal(rd32(e + 4) & 1, 1);
			nr_lapic++;
			break;
		case 1:
			assert_int_equal(e[1], 12);
			assert_int_equal(e[2], TEST_IOAPIC_ID);
			assert_int_equal(rd32(e + 4), X86_IOAPIC_GPA);
			assert_int_equal(rd32(e + 8), 0);
			nr_ioapic++;
			break;
		case 2:
			assert_int_equal(e[1], 10);
			assert_int_equal(e[2], 0);
			/* Only the SCI: IRQ 0 must stay identity-mapped on KVM. */
			assert_int_equal(e[3], X86_IRQ_ACPI_SCI);
			assert_int_equal(rd32(e + 4), X86_IRQ_ACPI_SCI);
			assert_int_equal(rd16(e + 8), 0x000d);
			nr_sci++;
			break;
		case 4:
			assert_int_equal(e[1], 6);
			assert_int_equal(e[2], 0xff);
			assert_int_equal(e[5], 1);
			nr_nmi++;
			break;
		default:
			fail_msg("unexpected MADT entry type %u", e[0]);
		}
		off += e[1];
	}
	assert_int_equal(nr_lapic, t->cfg.nr_cpus);
	assert_int_equal(nr_ioapic, 1);
	assert_int_equal(nr_sci, 1);
	assert_int_equal(nr_nmi, 1);
}

static void test_madt(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cpu_counts); i++) {
		struct tables *t = build(cpu_counts[i]);

		check_madt(t);
		free(t);
	}
}

/* Decodes an AML PkgLength; returns the value, with *n set to its encoded size. */
static size_t pkg_length(const u8 *p, size_t *n)
{
	size_t follow = p[0] >> 6, v;

	if (!follow) {
		*n = 1;
		return p[0] & 0x3f;
	}
	v = p[0] & 0x0f;
	for (size_t i = 1; i <= follow; i++)
		v |= (size_t)p[i] << (4 + 8 * (i - 1));
	*n = follow + 1;
	return v;
}

static u64 aml_integer(const u8 **p)
{
	u8 op = *(*p)++;

	switch (op) {
	case 0x00:
		return 0;
	case 0x01:
		return 1;
	case 0x0a:
		return *(*p)++;
	case 0x0b:
		*p += 2;
		return rd16(*p - 2);
	case 0x0c:
		*p += 4;
		return rd32(*p - 4);
	default:
		fail_msg("unexpected AML integer opcode %#x", op);
		return 0;
	}
}

static void check_s5(u8 slp_typ)
{
	struct tables *t = calloc(1, sizeof(*t));
	const u8 *f, *d, *p, *end, *pkg;
	size_t n, plen;

	assert_non_null(t);
	t->cfg = test_config(1, X86_ACPI_GPA);
	t->cfg.slp_typ_s5 = slp_typ;
	t->used = acpi_build_tables(t->buf, sizeof(t->buf), &t->cfg);
	assert_true(t->used > 0);
	f = find_table(t, "FACP");
	d = table(t, rd64(f + 140), "DSDT");
	end = d + rd32(d + 4);
	p = memmem(d + HDR_LEN, (size_t)(end - d - HDR_LEN), "_S5_", 4);
	assert_non_null(p);
	assert_true(p[-2] == 0x08 && p[-1] == '\\'); /* NameOp \_S5_ */
	p += 4;
	assert_int_equal(*p++, 0x12); /* PackageOp */
	pkg = p;
	plen = pkg_length(p, &n);
	assert_true(pkg + plen <= end);
	p += n;
	assert_int_equal(*p++, 4); /* NumElements */
	assert_int_equal(aml_integer(&p), slp_typ);
	assert_int_equal(aml_integer(&p), slp_typ);
	assert_int_equal(aml_integer(&p), 0);
	assert_int_equal(aml_integer(&p), 0);
	assert_ptr_equal(p, pkg + plen);
	free(t);
}

static void test_dsdt_s5(void **state)
{
	(void)state;
	check_s5(X86_ACPI_SLP_TYP_S5);
	check_s5(0);
	check_s5(1);
	check_s5(7);
}

static const u8 *dsdt_of(const struct tables *t, const u8 **end)
{
	const u8 *d = table(t, rd64(find_table(t, "FACP") + 140), "DSDT");

	*end = d + rd32(d + 4);
	return d;
}

/* Finds Name(seg, ...) inside [p, end) and returns the value's first byte. */
static const u8 *find_name(const u8 *p, const u8 *end, const char *seg)
{
	const u8 *n = memmem(p, (size_t)(end - p), seg, 4);

	assert_non_null(n);
	assert_int_equal(n[-1], 0x08); /* NameOp */
	return n + 4;
}

/* Walks the _CRS resource template; checks each descriptor against the layout. */
static void check_pci_crs(const u8 *p, const u8 *end)
{
	const u8 *buf_end, *r;
	size_t n, len;
	u64 size;
	int word = 0, io = 0, mem = 0;

	assert_int_equal(*p++, 0x11); /* BufferOp */
	len = pkg_length(p, &n);
	buf_end = p + len;
	assert_true(buf_end <= end);
	p += n;
	size = aml_integer(&p);
	assert_ptr_equal(p + size, buf_end);
	for (r = p; r < buf_end && r[0] != 0x79;) {
		if (r[0] == 0x47) { /* I/O port: conf1 */
			assert_int_equal(rd16(r + 2), X86_PORT_PCI_CONFIG);
			assert_int_equal(rd16(r + 4), X86_PORT_PCI_CONFIG);
			assert_int_equal(r[7], 8);
			io++;
			r += 8;
		} else if (r[0] == 0x88) { /* word address space: bus or I/O */
			assert_int_equal(rd16(r + 1), 13);
			assert_int_equal(rd16(r + 14), rd16(r + 10) - rd16(r + 8) + 1);
			if (r[3] == 2) {
				assert_int_equal(rd16(r + 8), 0);
				assert_int_equal(rd16(r + 10), 0xff);
			} else {
				assert_int_equal(r[3], 1);
				/* The I/O windows leave out exactly the conf1 ports. */
				assert_true(rd16(r + 10) < X86_PORT_PCI_CONFIG ||
					    rd16(r + 8) >= X86_PORT_PCI_CONFIG + 8);
			}
			word++;
			r += 16;
		} else if (r[0] == 0x87) { /* dword address space: the MMIO window */
			assert_int_equal(rd16(r + 1), 23);
			assert_int_equal(r[3], 0);
			assert_int_equal(rd32(r + 10), X86_PCI_MMIO_START);
			assert_int_equal(rd32(r + 14), X86_PCI_MMIO_START + X86_PCI_MMIO_SIZE - 1);
			assert_int_equal(rd32(r + 22), X86_PCI_MMIO_SIZE);
			mem++;
			r += 26;
		} else {
			fail_msg("unexpected resource descriptor %#x", r[0]);
		}
	}
	assert_true(r + 2 == buf_end && r[0] == 0x79);
	assert_int_equal(word, 3);
	assert_int_equal(io, 1);
	assert_int_equal(mem, 1);
}

/* Every slot and pin routes to the GSI kvmbox raises for it. */
static void check_pci_prt(const u8 *p, const u8 *end)
{
	const u8 *prt_end;
	size_t n;
	unsigned int count;

	assert_int_equal(*p++, 0x12); /* PackageOp */
	prt_end = p + pkg_length(p, &n);
	assert_true(prt_end <= end);
	p += n;
	count = *p++;
	assert_int_equal(count, PCI_MAX_SLOTS * 4);
	for (unsigned int i = 0; i < count; i++) {
		const u8 *e_end;
		u64 addr, pin;

		assert_int_equal(*p++, 0x12);
		e_end = p + pkg_length(p, &n);
		p += n;
		assert_int_equal(*p++, 4);
		addr = aml_integer(&p);
		pin = aml_integer(&p);
		assert_int_equal(addr & 0xffff, 0xffff);
		assert_int_equal(addr >> 16, i / 4);
		assert_int_equal(pin, i % 4);
		assert_int_equal(aml_integer(&p), 0); /* no link device: a GSI */
		assert_int_equal(aml_integer(&p), pci_intx_gsi(i / 4, i % 4));
		assert_ptr_equal(p, e_end);
	}
	assert_ptr_equal(p, prt_end);
}

/* Scope(\_SB) { Device(PCI0) { _HID PNP0A03, _CRS, _PRT } }, the way Linux finds PCI. */
static void test_dsdt_pci_root(void **state)
{
	struct tables *t = build(2);
	const u8 *end, *d = dsdt_of(t, &end), *p, *dev_end;
	size_t n;

	(void)state;
	/* The AML walked as a guest would: Name(\_S5_, Package) first, then the scope. */
	p = d + HDR_LEN;
	assert_memory_equal(p, "\x08\\_S5_\x12", 7);
	p += 7;
	p += pkg_length(p, &n);
	assert_int_equal(*p++, 0x10);		      /* ScopeOp */
	assert_ptr_equal(p + pkg_length(p, &n), end); /* the scope runs to the table's end */
	p += n;
	assert_memory_equal(p, "\\_SB_", 5);
	p += 5;
	assert_true(p[0] == 0x5b && p[1] == 0x82); /* DeviceOp */
	p += 2;
	dev_end = p + pkg_length(p, &n);
	assert_ptr_equal(dev_end, end);
	p += n;
	assert_memory_equal(p, "PCI0", 4);
	p = find_name(p, dev_end, "_HID");
	assert_int_equal(aml_integer(&p), 0x030ad041);
	check_pci_crs(find_name(p, dev_end, "_CRS"), dev_end);
	check_pci_prt(find_name(p, dev_end, "_PRT"), dev_end);
	free(t);
}

/* PCI interrupts stay off the ISA lines, which the MADT describes as edge-triggered. */
static void test_pci_intx_gsis(void **state)
{
	(void)state;
	for (unsigned int slot = 0; slot < PCI_MAX_SLOTS; slot++) {
		for (unsigned int pin = 0; pin < 4; pin++) {
			u32 gsi = pci_intx_gsi(slot, pin);

			assert_true(gsi >= 16 && gsi < 24);
		}
	}
	/* Neighbouring slots' INTA land on different lines. */
	assert_int_not_equal(pci_intx_gsi(1, 0), pci_intx_gsi(2, 0));
}

/* Every size short of the full set must fail without touching a byte past size. */
static void test_enospc(void **state)
{
	struct acpi_config cfg = test_config(64, X86_ACPI_GPA);
	const size_t guard = 64;
	long need = acpi_build_tables(NULL, 0, &cfg);
	long full;
	u8 *buf;

	(void)state;
	assert_int_equal(need, -ENOSPC);
	buf = malloc(BUF_SIZE + guard);
	assert_non_null(buf);
	full = acpi_build_tables(buf, BUF_SIZE, &cfg);
	assert_true(full > 0);
	for (size_t size = 0; size < (size_t)full; size++) {
		memset(buf, 0xa5, size + guard);
		assert_int_equal(acpi_build_tables(buf, size, &cfg), -ENOSPC);
		for (size_t i = size; i < size + guard; i++)
			assert_int_equal(buf[i], 0xa5);
	}
	assert_int_equal(acpi_build_tables(buf, (size_t)full, &cfg), full);
	free(buf);
}

static void test_bad_config(void **state)
{
	u8 buf[512];
	struct acpi_config cfg = test_config(0, X86_ACPI_GPA);

	(void)state;
	assert_int_equal(acpi_build_tables(buf, sizeof(buf), &cfg), -EINVAL);
	cfg = test_config(256, X86_ACPI_GPA);
	assert_int_equal(acpi_build_tables(buf, sizeof(buf), &cfg), -EINVAL);
	cfg = test_config(1, X86_ACPI_GPA + 8);
	assert_int_equal(acpi_build_tables(buf, sizeof(buf), &cfg), -EINVAL);
}

/* The FACS alignment is of the guest address, whatever 16-byte base the tables get. */
static void test_facs_alignment(void **state)
{
	(void)state;
	for (u64 base = 0xe0000; base < 0xe0040; base += 16) {
		struct tables *t = calloc(1, sizeof(*t));
		const u8 *f;

		assert_non_null(t);
		t->cfg = test_config(3, base);
		t->used = acpi_build_tables(t->buf, sizeof(t->buf), &t->cfg);
		assert_true(t->used > 0);
		f = find_table(t, "FACP");
		assert_int_equal(rd64(f + 132) % 64, 0);
		assert_memory_equal(at(t, rd64(f + 132), 64), "FACS", 4);
		check_madt(t);
		free(t);
	}
}

static void test_checksum(void **state)
{
	const u8 bytes[] = {0x10, 0x20, 0xd0};

	(void)state;
	assert_int_equal(acpi_checksum(bytes, sizeof(bytes)), 0);
	assert_int_equal(acpi_checksum(bytes, 2), 0x30);
	assert_int_equal(acpi_checksum(bytes, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rsdp),	      cmocka_unit_test(test_xsdt_walk),
		cmocka_unit_test(test_fadt),	      cmocka_unit_test(test_madt),
		cmocka_unit_test(test_dsdt_s5),	      cmocka_unit_test(test_enospc),
		cmocka_unit_test(test_bad_config),    cmocka_unit_test(test_facs_alignment),
		cmocka_unit_test(test_checksum),      cmocka_unit_test(test_dsdt_pci_root),
		cmocka_unit_test(test_pci_intx_gsis),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
