// SPDX-License-Identifier: GPL-2.0-only
/*
 * ACPI tables for an x86 guest: just enough for an OS to find the CPUs and the interrupt
 * controllers (MADT), power off through \_S5 and the PM1a control block, and reboot through
 * the FADT reset register. Layouts follow the ACPI 6.x specification.
 */
#include <errno.h>
#include <string.h>

#include "../../devices/pci.h"
#include "acpi.h"
#include "layout.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "ACPI tables are little-endian");

#define ACPI_OEM_ID	  "KVMBOX"
#define ACPI_OEM_TABLE_ID "KVMBOX  "
#define ACPI_CREATOR_ID	  "KVMB"

#define ACPI_GAS_SYSTEM_IO   1
#define ACPI_GAS_ACCESS_BYTE 1
#define ACPI_GAS_ACCESS_WORD 2

/* FADT flags. */
#define FADT_F_WBINVD	     BIT(0)
#define FADT_F_PROC_C1	     BIT(2)
#define FADT_F_PWR_BUTTON    BIT(4) /* set: no fixed-feature power button */
#define FADT_F_SLP_BUTTON    BIT(5) /* set: no fixed-feature sleep button */
#define FADT_F_FIX_RTC	     BIT(6) /* set: no RTC wake status in PM1 */
#define FADT_F_RESET_REG_SUP BIT(10)

/* FADT IA-PC boot architecture flags. */
#define FADT_BOOT_LEGACY_DEVICES BIT(0)
#define FADT_BOOT_8042		 BIT(1)
#define FADT_BOOT_NO_VGA	 BIT(2)

/* Latencies above these limits tell the OS that C2 and C3 do not exist. */
#define FADT_NO_C2_LATENCY 101
#define FADT_NO_C3_LATENCY 1001

#define RTC_CENTURY_INDEX 0x32

#define MADT_PCAT_COMPAT    BIT(0)
#define MADT_TYPE_LAPIC	    0
#define MADT_TYPE_IOAPIC    1
#define MADT_TYPE_ISO	    2
#define MADT_TYPE_LAPIC_NMI 4
#define MADT_LAPIC_ENABLED  BIT(0)
#define MADT_ALL_PROCESSORS 0xff
#define MADT_POLARITY_HIGH  0x1
#define MADT_TRIGGER_EDGE   (0x1 << 2)
#define MADT_TRIGGER_LEVEL  (0x3 << 2)

/* Only the legacy xAPIC entry exists here, and 0xff is the broadcast APIC ID. */
#define ACPI_MAX_CPUS 255

struct acpi_gas {
	u8 space_id;
	u8 bit_width;
	u8 bit_offset;
	u8 access_size;
	u64 address;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_gas) == 12, "GAS layout");

struct acpi_rsdp {
	char signature[8];
	u8 checksum; /* over the first 20 bytes (the ACPI 1.0 part) */
	char oem_id[6];
	u8 revision;
	u32 rsdt_address;
	u32 length;
	u64 xsdt_address;
	u8 extended_checksum;
	u8 reserved[3];
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP layout");

#define RSDP_V1_LEN 20

struct acpi_header {
	char signature[4];
	u32 length;
	u8 revision;
	u8 checksum;
	char oem_id[6];
	char oem_table_id[8];
	u32 oem_revision;
	char creator_id[4];
	u32 creator_revision;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_header) == 36, "SDT header layout");

struct acpi_xsdt {
	struct acpi_header hdr;
	u64 entry[];
} __attribute__((packed));

struct acpi_fadt {
	struct acpi_header hdr;
	u32 firmware_ctrl;
	u32 dsdt;
	u8 reserved0;
	u8 preferred_pm_profile;
	u16 sci_int;
	u32 smi_cmd;
	u8 acpi_enable;
	u8 acpi_disable;
	u8 s4bios_req;
	u8 pstate_cnt;
	u32 pm1a_evt_blk;
	u32 pm1b_evt_blk;
	u32 pm1a_cnt_blk;
	u32 pm1b_cnt_blk;
	u32 pm2_cnt_blk;
	u32 pm_tmr_blk;
	u32 gpe0_blk;
	u32 gpe1_blk;
	u8 pm1_evt_len;
	u8 pm1_cnt_len;
	u8 pm2_cnt_len;
	u8 pm_tmr_len;
	u8 gpe0_blk_len;
	u8 gpe1_blk_len;
	u8 gpe1_base;
	u8 cst_cnt;
	u16 p_lvl2_lat;
	u16 p_lvl3_lat;
	u16 flush_size;
	u16 flush_stride;
	u8 duty_offset;
	u8 duty_width;
	u8 day_alrm;
	u8 mon_alrm;
	u8 century;
	u16 iapc_boot_arch;
	u8 reserved1;
	u32 flags;
	struct acpi_gas reset_reg;
	u8 reset_value;
	u16 arm_boot_arch;
	u8 minor_version;
	u64 x_firmware_ctrl;
	u64 x_dsdt;
	struct acpi_gas x_pm1a_evt_blk;
	struct acpi_gas x_pm1b_evt_blk;
	struct acpi_gas x_pm1a_cnt_blk;
	struct acpi_gas x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk;
	struct acpi_gas x_pm_tmr_blk;
	struct acpi_gas x_gpe0_blk;
	struct acpi_gas x_gpe1_blk;
	struct acpi_gas sleep_control_reg;
	struct acpi_gas sleep_status_reg;
	u64 hypervisor_vendor_id;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT (revision 6) layout");
_Static_assert(offsetof(struct acpi_fadt, flags) == 112, "FADT flags offset");
_Static_assert(offsetof(struct acpi_fadt, x_firmware_ctrl) == 132, "FADT X_FIRMWARE_CTRL offset");
_Static_assert(offsetof(struct acpi_fadt, x_pm1a_evt_blk) == 148, "FADT X_PM1a_EVT_BLK offset");

struct acpi_facs {
	char signature[4];
	u32 length;
	u32 hardware_signature;
	u32 firmware_waking_vector;
	u32 global_lock;
	u32 flags;
	u64 x_firmware_waking_vector;
	u8 version;
	u8 reserved0[3];
	u32 ospm_flags;
	u8 reserved1[24];
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_facs) == 64, "FACS layout");

struct acpi_madt {
	struct acpi_header hdr;
	u32 lapic_address;
	u32 flags;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_madt) == 44, "MADT layout");

struct madt_lapic {
	u8 type;
	u8 length;
	u8 processor_uid;
	u8 apic_id;
	u32 flags;
} __attribute__((packed));
_Static_assert(sizeof(struct madt_lapic) == 8, "MADT local APIC layout");

struct madt_ioapic {
	u8 type;
	u8 length;
	u8 ioapic_id;
	u8 reserved;
	u32 address;
	u32 gsi_base;
} __attribute__((packed));
_Static_assert(sizeof(struct madt_ioapic) == 12, "MADT I/O APIC layout");

struct madt_iso {
	u8 type;
	u8 length;
	u8 bus;
	u8 source;
	u32 gsi;
	u16 flags;
} __attribute__((packed));
_Static_assert(sizeof(struct madt_iso) == 10, "MADT interrupt source override layout");

struct madt_lapic_nmi {
	u8 type;
	u8 length;
	u8 processor_uid;
	u16 flags;
	u8 lint;
} __attribute__((packed));
_Static_assert(sizeof(struct madt_lapic_nmi) == 6, "MADT local APIC NMI layout");

/* AML opcodes used by the DSDT. */
#define AML_ZERO_OP	 0x00
#define AML_ONE_OP	 0x01
#define AML_NAME_OP	 0x08
#define AML_BYTE_PREFIX	 0x0a
#define AML_WORD_PREFIX	 0x0b
#define AML_DWORD_PREFIX 0x0c
#define AML_QWORD_PREFIX 0x0e
#define AML_SCOPE_OP	 0x10
#define AML_BUFFER_OP	 0x11
#define AML_PACKAGE_OP	 0x12
#define AML_EXT_PREFIX	 0x5b
#define AML_DEVICE_OP	 0x82 /* after AML_EXT_PREFIX */
#define AML_ROOT_CHAR	 '\\'
#define AML_MAX		 4096 /* the DSDT's AML: _S5 and the PCI root bridge */

/* EisaId("PNP0A03"), a PCI root bridge: compressed vendor "PNP", product 0x0a03. */
#define ACPI_EISA_PNP0A03 0x030ad041

/* Resource descriptors of the root bridge's _CRS. */
#define RES_IO_PORT	    0x47 /* small item, 7 bytes */
#define RES_END_TAG	    0x79 /* small item, 1 byte */
#define RES_DWORD_ADDRESS   0x87
#define RES_WORD_ADDRESS    0x88
#define RES_TYPE_MEMORY	    0
#define RES_TYPE_IO	    1
#define RES_TYPE_BUS	    2
#define RES_MIN_FIXED	    BIT(2)
#define RES_MAX_FIXED	    BIT(3)
#define RES_IO_ENTIRE_RANGE 0x03
#define RES_MEM_READ_WRITE  0x01
#define PCI_CRS_SIZE	    (3 * 16 + 8 + 26 + 2) /* three word, one I/O, one dword, end */

/* Tables are appended to buf; once one does not fit, every later reserve fails too. */
struct acpi_builder {
	u8 *buf;
	size_t size;
	size_t used;
	u64 base_gpa;
	bool full;
};

u8 acpi_checksum(const u8 *p, size_t len)
{
	u8 sum = 0;

	while (len--)
		sum += *p++;
	return sum;
}

/* Alignment is of the guest address: the FACS must be 64-byte aligned in guest memory. */
static void *acpi_reserve(struct acpi_builder *b, size_t len, size_t align)
{
	u64 gpa = ALIGN_UP(b->base_gpa + b->used, (u64)align);
	u64 off = gpa - b->base_gpa;

	if (b->full || off > b->size || len > b->size - off) {
		b->full = true;
		return NULL;
	}
	memset(b->buf + b->used, 0, off + len - b->used);
	b->used = off + len;
	return b->buf + off;
}

static u64 acpi_gpa(const struct acpi_builder *b, const void *p)
{
	return b->base_gpa + (u64)((const u8 *)p - b->buf);
}

/* ACPI 1.0 fields are 32 bits wide: zero tells the OS to use the 64-bit X_ field instead. */
static u32 acpi_gpa32(u64 gpa)
{
	return gpa <= UINT32_MAX ? (u32)gpa : 0;
}

static void acpi_fill_header(struct acpi_header *h, const char *sig, u32 len, u8 rev)
{
	memcpy(h->signature, sig, sizeof(h->signature));
	h->length = len;
	h->revision = rev;
	memcpy(h->oem_id, ACPI_OEM_ID, sizeof(h->oem_id));
	memcpy(h->oem_table_id, ACPI_OEM_TABLE_ID, sizeof(h->oem_table_id));
	h->oem_revision = 1;
	memcpy(h->creator_id, ACPI_CREATOR_ID, sizeof(h->creator_id));
	h->creator_revision = 1;
}

/* Called last for each table, once every field (pointers included) is final. */
static void acpi_seal(struct acpi_header *h)
{
	h->checksum = 0;
	h->checksum = (u8)-acpi_checksum((const u8 *)h, h->length);
}

static struct acpi_gas acpi_io_gas(u16 port, u8 bytes, u8 access_size)
{
	return (struct acpi_gas){
		.space_id = ACPI_GAS_SYSTEM_IO,
		.bit_width = (u8)(bytes * 8),
		.access_size = access_size,
		.address = port,
	};
}

static u64 acpi_build_facs(struct acpi_builder *b)
{
	struct acpi_facs *facs = acpi_reserve(b, sizeof(*facs), 64);

	if (!facs)
		return 0;
	memcpy(facs->signature, "FACS", 4);
	facs->length = sizeof(*facs);
	facs->version = 2;
	return acpi_gpa(b, facs);
}

/*
 * The DSDT's AML is written into a fixed scratch buffer; once something does not fit,
 * every later write is dropped and the whole DSDT fails.
 */
struct aml {
	u8 buf[AML_MAX];
	size_t len;
	bool full;
};

static void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (a->full || n > sizeof(a->buf) - a->len) {
		a->full = true;
		return;
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

static void aml_byte(struct aml *a, u8 v)
{
	aml_bytes(a, &v, 1);
}

static void aml_le(struct aml *a, u64 v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		aml_byte(a, (u8)(v >> (8 * i)));
}

/* Encodes an AML PkgLength that counts itself plus body bytes; returns its size. */
static size_t aml_pkg_length(u8 *p, size_t body)
{
	size_t n, total;

	for (n = 1; n < 4; n++) {
		total = body + n;
		if ((n == 1 && total < 0x40) || (n > 1 && total < (1UL << (4 + 8 * (n - 1)))))
			break;
	}
	total = body + n;
	if (n == 1) {
		p[0] = (u8)total;
		return 1;
	}
	p[0] = (u8)(((n - 1) << 6) | (total & 0x0f));
	for (size_t i = 1; i < n; i++)
		p[i] = (u8)(total >> (4 + 8 * (i - 1)));
	return n;
}

/*
 * A package-like object is written body first: aml_open() marks where its PkgLength
 * goes, aml_close() inserts the PkgLength there once the body's size is known.
 */
static size_t aml_open(const struct aml *a)
{
	return a->len;
}

static void aml_close(struct aml *a, size_t start)
{
	u8 pl[4];
	size_t body = a->len - start, n;

	if (a->full)
		return;
	n = aml_pkg_length(pl, body);
	if (n > sizeof(a->buf) - a->len) {
		a->full = true;
		return;
	}
	memmove(a->buf + start + n, a->buf + start, body);
	memcpy(a->buf + start, pl, n);
	a->len += n;
}

/* The shortest encoding of an integer constant. */
static void aml_int(struct aml *a, u64 v)
{
	if (v <= 1) {
		aml_byte(a, v ? AML_ONE_OP : AML_ZERO_OP);
	} else if (v <= 0xff) {
		aml_byte(a, AML_BYTE_PREFIX);
		aml_le(a, v, 1);
	} else if (v <= 0xffff) {
		aml_byte(a, AML_WORD_PREFIX);
		aml_le(a, v, 2);
	} else if (v <= 0xffffffff) {
		aml_byte(a, AML_DWORD_PREFIX);
		aml_le(a, v, 4);
	} else {
		aml_byte(a, AML_QWORD_PREFIX);
		aml_le(a, v, 8);
	}
}

/* Name(seg, ...): the caller writes the value next. seg is a 4-character NameSeg. */
static void aml_name(struct aml *a, const char *seg)
{
	aml_byte(a, AML_NAME_OP);
	aml_bytes(a, seg, 4);
}

/* Name(\_S5, Package() { typ, typ, 0, 0 }): SLP_TYPa, SLP_TYPb and two reserved slots. */
static void aml_s5(struct aml *a, u8 slp_typ)
{
	size_t pkg;

	aml_byte(a, AML_NAME_OP);
	aml_byte(a, AML_ROOT_CHAR);
	aml_bytes(a, "_S5_", 4);
	aml_byte(a, AML_PACKAGE_OP);
	pkg = aml_open(a);
	aml_byte(a, 4); /* NumElements */
	aml_int(a, slp_typ);
	aml_int(a, slp_typ);
	aml_int(a, 0);
	aml_int(a, 0);
	aml_close(a, pkg);
}

/* Word Address Space Descriptor: a bus-number or I/O range the bridge decodes. */
static void res_word(struct aml *a, u8 type, u8 type_flags, u16 min, u16 max)
{
	aml_byte(a, RES_WORD_ADDRESS);
	aml_le(a, 13, 2); /* the descriptor's length after this header */
	aml_byte(a, type);
	aml_byte(a, RES_MIN_FIXED | RES_MAX_FIXED); /* a producer, positive decode */
	aml_byte(a, type_flags);
	aml_le(a, 0, 2); /* granularity */
	aml_le(a, min, 2);
	aml_le(a, max, 2);
	aml_le(a, 0, 2); /* translation offset */
	aml_le(a, (u32)max - min + 1, 2);
}

/* DWord Address Space Descriptor: the 32-bit memory window for BARs. */
static void res_dword_memory(struct aml *a, u32 min, u32 max)
{
	aml_byte(a, RES_DWORD_ADDRESS);
	aml_le(a, 23, 2);
	aml_byte(a, RES_TYPE_MEMORY);
	aml_byte(a, RES_MIN_FIXED | RES_MAX_FIXED);
	aml_byte(a, RES_MEM_READ_WRITE); /* non-cacheable */
	aml_le(a, 0, 4);
	aml_le(a, min, 4);
	aml_le(a, max, 4);
	aml_le(a, 0, 4);
	aml_le(a, (u64)max - min + 1, 4);
}

/* I/O Port Descriptor: ports the bridge itself uses (configuration mechanism #1). */
static void res_io(struct aml *a, u16 base, u8 len)
{
	aml_byte(a, RES_IO_PORT);
	aml_byte(a, 0x01); /* 16-bit decode */
	aml_le(a, base, 2);
	aml_le(a, base, 2);
	aml_byte(a, 1); /* alignment */
	aml_byte(a, len);
}

/*
 * Name(_CRS, ResourceTemplate() {...}): bus numbers 0-255, the conf1 ports, every I/O port
 * around them and the 32-bit MMIO window, so that Linux accepts the BAR addresses kvmbox
 * assigned and allocates new ones there.
 */
static void aml_pci_crs(struct aml *a)
{
	size_t buf, body;

	aml_name(a, "_CRS");
	aml_byte(a, AML_BUFFER_OP);
	buf = aml_open(a);
	/* BufferSize comes first; the descriptors below are exactly this long. */
	aml_int(a, PCI_CRS_SIZE);
	body = a->len;
	res_word(a, RES_TYPE_BUS, 0, 0, 0xff);
	res_io(a, X86_PORT_PCI_CONFIG, 8);
	res_word(a, RES_TYPE_IO, RES_IO_ENTIRE_RANGE, 0, X86_PORT_PCI_CONFIG - 1);
	res_word(a, RES_TYPE_IO, RES_IO_ENTIRE_RANGE, X86_PORT_PCI_CONFIG + 8, 0xffff);
	res_dword_memory(a, (u32)X86_PCI_MMIO_START,
			 (u32)(X86_PCI_MMIO_START + X86_PCI_MMIO_SIZE - 1));
	aml_byte(a, RES_END_TAG);
	aml_byte(a, 0); /* checksum 0: "treat as correct" */
	if (!a->full && a->len - body != PCI_CRS_SIZE)
		a->full = true; /* a descriptor slip: better no DSDT than a wrong one */
	aml_close(a, buf);
}

/*
 * Name(_PRT, Package() {...}): for every slot and pin, the I/O APIC input its INTx drives
 * (pci_intx_gsi()); Source 0 means a GSI wired directly, level-triggered, active-low.
 */
static void aml_pci_prt(struct aml *a)
{
	size_t prt, entry;

	aml_name(a, "_PRT");
	aml_byte(a, AML_PACKAGE_OP);
	prt = aml_open(a);
	aml_byte(a, PCI_MAX_SLOTS * 4);
	for (unsigned int slot = 0; slot < PCI_MAX_SLOTS; slot++) {
		for (unsigned int pin = 0; pin < 4; pin++) {
			aml_byte(a, AML_PACKAGE_OP);
			entry = aml_open(a);
			aml_byte(a, 4);
			/* Address: slot in the high word, 0xffff for any function. */
			aml_byte(a, AML_DWORD_PREFIX);
			aml_le(a, (u64)slot << 16 | 0xffff, 4);
			aml_int(a, pin);
			aml_int(a, 0);
			aml_int(a, pci_intx_gsi(slot, pin));
			aml_close(a, entry);
		}
	}
	aml_close(a, prt);
}

/* Scope(\_SB) { Device(PCI0) {...} }: the root bridge Linux scans the PCI bus through. */
static void aml_pci_root(struct aml *a)
{
	size_t scope, dev;

	aml_byte(a, AML_SCOPE_OP);
	scope = aml_open(a);
	aml_byte(a, AML_ROOT_CHAR);
	aml_bytes(a, "_SB_", 4);
	aml_byte(a, AML_EXT_PREFIX);
	aml_byte(a, AML_DEVICE_OP);
	dev = aml_open(a);
	aml_bytes(a, "PCI0", 4);
	aml_name(a, "_HID");
	aml_int(a, ACPI_EISA_PNP0A03);
	aml_name(a, "_UID");
	aml_int(a, 0);
	aml_name(a, "_BBN");
	aml_int(a, 0);
	aml_pci_crs(a);
	aml_pci_prt(a);
	aml_close(a, dev);
	aml_close(a, scope);
}

static u64 acpi_build_dsdt(struct acpi_builder *b, const struct acpi_config *cfg)
{
	struct aml a = {.len = 0};
	struct acpi_header *h;

	aml_s5(&a, cfg->slp_typ_s5);
	aml_pci_root(&a);
	if (a.full) {
		b->full = true;
		return 0;
	}
	h = acpi_reserve(b, sizeof(*h) + a.len, 8);
	if (!h)
		return 0;
	/* Revision 2: AML integers are 64 bits wide. */
	acpi_fill_header(h, "DSDT", (u32)(sizeof(*h) + a.len), 2);
	memcpy(h + 1, a.buf, a.len);
	acpi_seal(h);
	return acpi_gpa(b, h);
}

static void acpi_fadt_pm(struct acpi_fadt *f, const struct acpi_config *cfg)
{
	f->pm1a_evt_blk = cfg->pm1a_evt_port;
	f->pm1a_cnt_blk = cfg->pm1a_cnt_port;
	f->pm1_evt_len = 4;
	f->pm1_cnt_len = 2;
	f->x_pm1a_evt_blk = acpi_io_gas(cfg->pm1a_evt_port, 4, ACPI_GAS_ACCESS_WORD);
	f->x_pm1a_cnt_blk = acpi_io_gas(cfg->pm1a_cnt_port, 2, ACPI_GAS_ACCESS_WORD);
	f->reset_reg = acpi_io_gas(cfg->reset_port, 1, ACPI_GAS_ACCESS_BYTE);
	f->reset_value = cfg->reset_value;
}

static struct acpi_fadt *acpi_build_fadt(struct acpi_builder *b, const struct acpi_config *cfg)
{
	struct acpi_fadt *f = acpi_reserve(b, sizeof(*f), 8);

	if (!f)
		return NULL;
	acpi_fill_header(&f->hdr, "FACP", sizeof(*f), 6);
	f->minor_version = 5;
	f->sci_int = cfg->sci_irq;
	/* SMI_CMD stays 0: the platform is always in ACPI mode, no handover needed. */
	acpi_fadt_pm(f, cfg);
	f->p_lvl2_lat = FADT_NO_C2_LATENCY;
	f->p_lvl3_lat = FADT_NO_C3_LATENCY;
	/* So the OS keeps the RTC century byte in step with the year. */
	f->century = RTC_CENTURY_INDEX;
	f->iapc_boot_arch = FADT_BOOT_LEGACY_DEVICES | FADT_BOOT_8042 | FADT_BOOT_NO_VGA;
	f->flags = FADT_F_WBINVD | FADT_F_PROC_C1 | FADT_F_PWR_BUTTON | FADT_F_SLP_BUTTON |
		   FADT_F_FIX_RTC | FADT_F_RESET_REG_SUP;
	return f;
}

/* The FACS and DSDT pointers are filled in once those tables exist. */
static void acpi_link_fadt(struct acpi_fadt *f, u64 facs, u64 dsdt)
{
	/* The spec wants FIRMWARE_CTRL zero when X_FIRMWARE_CTRL is used. */
	f->x_firmware_ctrl = facs;
	f->x_dsdt = dsdt;
	f->dsdt = acpi_gpa32(dsdt);
	acpi_seal(&f->hdr);
}

static void madt_add_cpus(struct madt_lapic *l, unsigned int nr_cpus)
{
	for (unsigned int i = 0; i < nr_cpus; i++) {
		l[i] = (struct madt_lapic){
			.type = MADT_TYPE_LAPIC,
			.length = sizeof(l[i]),
			.processor_uid = (u8)i,
			.apic_id = (u8)i,
			.flags = MADT_LAPIC_ENABLED,
		};
	}
}

/*
 * Only the SCI gets an override. IRQ 0 keeps its identity mapping: with KVM's default
 * routing the in-kernel PIT drives I/O APIC pin 0, not pin 2 as on most real boards.
 */
static void madt_add_platform(u8 *p, const struct acpi_config *cfg)
{
	struct madt_ioapic *io = (struct madt_ioapic *)p;
	struct madt_iso *iso = (struct madt_iso *)(io + 1);
	struct madt_lapic_nmi *nmi = (struct madt_lapic_nmi *)(iso + 1);

	*io = (struct madt_ioapic){
		.type = MADT_TYPE_IOAPIC,
		.length = sizeof(*io),
		.ioapic_id = cfg->ioapic_id,
		.address = (u32)cfg->ioapic_gpa,
		.gsi_base = 0,
	};
	*iso = (struct madt_iso){
		.type = MADT_TYPE_ISO,
		.length = sizeof(*iso),
		.bus = 0,
		.source = cfg->sci_irq,
		.gsi = cfg->sci_irq,
		.flags = MADT_POLARITY_HIGH | MADT_TRIGGER_LEVEL,
	};
	*nmi = (struct madt_lapic_nmi){
		.type = MADT_TYPE_LAPIC_NMI,
		.length = sizeof(*nmi),
		.processor_uid = MADT_ALL_PROCESSORS,
		.flags = MADT_POLARITY_HIGH | MADT_TRIGGER_EDGE,
		.lint = 1,
	};
}

static u64 acpi_build_madt(struct acpi_builder *b, const struct acpi_config *cfg)
{
	size_t cpus = cfg->nr_cpus * sizeof(struct madt_lapic);
	size_t platform = sizeof(struct madt_ioapic) + sizeof(struct madt_iso) +
			  sizeof(struct madt_lapic_nmi);
	size_t len = sizeof(struct acpi_madt) + cpus + platform;
	struct acpi_madt *m = acpi_reserve(b, len, 8);

	if (!m)
		return 0;
	acpi_fill_header(&m->hdr, "APIC", (u32)len, 5);
	m->lapic_address = (u32)cfg->lapic_gpa;
	m->flags = MADT_PCAT_COMPAT;
	madt_add_cpus((struct madt_lapic *)(m + 1), cfg->nr_cpus);
	madt_add_platform((u8 *)(m + 1) + cpus, cfg);
	acpi_seal(&m->hdr);
	return acpi_gpa(b, m);
}

static void acpi_fill_rsdp(struct acpi_rsdp *r, u64 xsdt)
{
	memcpy(r->signature, "RSD PTR ", sizeof(r->signature));
	memcpy(r->oem_id, ACPI_OEM_ID, sizeof(r->oem_id));
	r->revision = 2;
	r->length = sizeof(*r);
	r->xsdt_address = xsdt;
	r->checksum = (u8)-acpi_checksum((const u8 *)r, RSDP_V1_LEN);
	r->extended_checksum = (u8)-acpi_checksum((const u8 *)r, sizeof(*r));
}

/* The RSDP sits at buf[0], and guests that scan for it only look at 16-byte boundaries. */
static bool acpi_config_valid(const struct acpi_config *cfg)
{
	return (cfg->base_gpa & 15) == 0 && cfg->nr_cpus >= 1 && cfg->nr_cpus <= ACPI_MAX_CPUS &&
	       cfg->lapic_gpa <= UINT32_MAX && cfg->ioapic_gpa <= UINT32_MAX;
}

long acpi_build_tables(u8 *buf, size_t size, const struct acpi_config *cfg)
{
	struct acpi_builder b = {.buf = buf, .size = size, .base_gpa = cfg->base_gpa};
	struct acpi_rsdp *rsdp;
	struct acpi_xsdt *xsdt;
	struct acpi_fadt *fadt;
	u64 facs, dsdt, madt;
	const size_t nr_tables = 2; /* FADT, MADT; the FADT leads to FACS and DSDT */

	if (!acpi_config_valid(cfg))
		return -EINVAL;
	rsdp = acpi_reserve(&b, sizeof(*rsdp), 1);
	xsdt = acpi_reserve(&b, sizeof(*xsdt) + nr_tables * sizeof(u64), 8);
	fadt = acpi_build_fadt(&b, cfg);
	facs = acpi_build_facs(&b);
	dsdt = acpi_build_dsdt(&b, cfg);
	madt = acpi_build_madt(&b, cfg);
	if (b.full)
		return -ENOSPC;

	acpi_link_fadt(fadt, facs, dsdt);

	acpi_fill_header(&xsdt->hdr, "XSDT", (u32)(sizeof(*xsdt) + nr_tables * sizeof(u64)), 1);
	xsdt->entry[0] = acpi_gpa(&b, fadt);
	xsdt->entry[1] = madt;
	acpi_seal(&xsdt->hdr);
	acpi_fill_rsdp(rsdp, acpi_gpa(&b, xsdt));
	return (long)b.used;
}
