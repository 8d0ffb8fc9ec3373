// SPDX-License-Identifier: GPL-2.0-only
/* Just enough ACPI to count CPUs (MADT), and fw_cfg to cross-check it. */
#include "libguest.h"

#define RSDP_SIG     0x2052545020445352ULL /* "RSD PTR " read as a little-endian u64 */
#define MADT_LAPIC   0
#define MADT_X2APIC  9
#define MADT_ENABLED BIT(0)

#define FW_CFG_SEL	 0x510
#define FW_CFG_DATA	 0x511
#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_RAM_SIZE	 0x03
#define FW_CFG_NB_CPUS	 0x05

struct rsdp {
	char signature[8];
	u8 checksum;
	char oem_id[6];
	u8 revision;
	u32 rsdt;
	u32 length; /* revision >= 2 from here on */
	u64 xsdt;
	u8 ext_checksum;
	u8 reserved[3];
} __attribute__((packed));

static u8 checksum(const void *p, size_t n)
{
	const u8 *b = p;
	u8 sum = 0;

	while (n--)
		sum += *b++;
	return sum;
}

void *acpi_find_rsdp(void)
{
	static struct rsdp *found;

	if (found)
		return found;
	/* One 8-byte compare per step: this loop runs emulated on kvmbox's /dev/kvm. */
	for (u64 a = 0xe0000; a < 0x100000; a += 16) {
		if (*(volatile u64 *)a == RSDP_SIG && !checksum((void *)a, 20)) {
			found = (struct rsdp *)a;
			break;
		}
	}
	return found;
}

static struct acpi_header *valid_table(u64 addr, const char *sig)
{
	struct acpi_header *h = (struct acpi_header *)addr;

	if (!addr || addr >= (4ULL << 30) || memcmp(h->signature, sig, 4))
		return NULL;
	return checksum(h, h->length) ? NULL : h;
}

struct acpi_header *acpi_find_table(const char *sig)
{
	struct rsdp *r = acpi_find_rsdp();
	struct acpi_header *root;
	bool xsdt;
	int n;

	if (!r)
		return NULL;
	xsdt = r->revision >= 2 && r->xsdt;
	root = xsdt ? valid_table(r->xsdt, "XSDT") : valid_table(r->rsdt, "RSDT");
	if (!root)
		return NULL;
	n = (root->length - sizeof(*root)) / (xsdt ? 8 : 4);
	for (int i = 0; i < n; i++) {
		u8 *e = (u8 *)(root + 1) + i * (xsdt ? 8 : 4);
		u64 addr = xsdt ? *(u64 *)e : *(u32 *)e;
		struct acpi_header *t = valid_table(addr, sig);

		if (t)
			return t;
	}
	return NULL;
}

int acpi_madt_cpus(u32 *ids, int max)
{
	struct acpi_header *madt = acpi_find_table("APIC");
	u8 *p, *end;
	int n = 0;

	if (!madt)
		return -1;
	/* Entries follow the header, the LAPIC address and the flags. */
	p = (u8 *)madt + sizeof(*madt) + 8;
	end = (u8 *)madt + madt->length;
	for (; p + 2 <= end && p[1] >= 2; p += p[1]) {
		u32 id, flags;

		if (p[0] == MADT_LAPIC && p[1] >= 8) {
			id = p[3];
			flags = *(u32 *)(p + 4);
		} else if (p[0] == MADT_X2APIC && p[1] >= 16) {
			id = *(u32 *)(p + 4);
			flags = *(u32 *)(p + 8);
		} else {
			continue;
		}
		if ((flags & MADT_ENABLED) && n < max)
			ids[n++] = id;
	}
	return n;
}

static void fwcfg_read(u16 key, void *buf, size_t n)
{
	u8 *b = buf;

	outw(FW_CFG_SEL, key);
	while (n--)
		*b++ = inb(FW_CFG_DATA);
}

bool fwcfg_present(void)
{
	static int present = -1;
	char sig[4];

	if (present < 0) {
		fwcfg_read(FW_CFG_SIGNATURE, sig, sizeof(sig));
		present = !memcmp(sig, "QEMU", 4);
	}
	return present;
}

int fwcfg_cpu_count(void)
{
	u16 n = 0;

	if (!fwcfg_present())
		return -1;
	fwcfg_read(FW_CFG_NB_CPUS, &n, sizeof(n));
	return n;
}

u64 fwcfg_ram_size(void)
{
	u64 v = 0;

	if (!fwcfg_present())
		return 0;
	fwcfg_read(FW_CFG_RAM_SIZE, &v, sizeof(v));
	return v;
}
