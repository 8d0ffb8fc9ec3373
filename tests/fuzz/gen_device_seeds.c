// SPDX-License-Identifier: GPL-2.0-only
/*
 * Writes seed inputs for the device and boot file harnesses into DIR/fuzz_NAME/: short
 * sessions of what a driver does (fuzz_access.h's format) and well-formed boot files, so
 * that a short run starts past the magic numbers and set-up sequences. Not a harness: it
 * links nothing of kvmbox. Regenerate with
 *   cc -o /tmp/gen tests/fuzz/gen_device_seeds.c -lz && /tmp/gen tests/fuzz/corpus
 */
#include <elf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

static uint8_t buf[65536];
static size_t len;
static const char *dir;

static void put(const void *p, size_t n)
{
	memcpy(buf + len, p, n);
	len += n;
}

static void put_le(uint64_t v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		buf[len++] = (uint8_t)(v >> (8 * i));
}

/* One access: kind, width 1/2/4/8, write or read, offset, value (fuzz_access.h). */
static void acc(uint8_t kind, unsigned int width, int write, uint32_t offset, uint64_t value)
{
	uint8_t code = width == 1 ? 0 : width == 2 ? 1 : width == 4 ? 2 : 3;

	buf[len++] = kind;
	buf[len++] = (uint8_t)(code | (write ? 8 : 0));
	put_le(offset, 4);
	if (write)
		put_le(value, width);
}

#define W(kind, width, offset, value) acc(kind, width, 1, offset, value)
#define R(kind, width, offset)	      acc(kind, width, 0, offset, 0)

static void save(const char *harness, const char *name)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/fuzz_%s", dir, harness);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/fuzz_%s/%s", dir, harness, name);
	f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f)) {
		perror(path);
		exit(1);
	}
	len = 0;
}

/* PCI: enable memory decoding and MSI-X, program and unmask vector 1, notify it. */
static void seeds_pci(void)
{
	put("\x03\x02\x03\x07", 4);    /* slot 4, BAR 4, 32 KiB, 8 vectors */
	W(0x40, 4, 0x120, 0xc0001000); /* BAR4 low */
	W(0x40, 4, 0x124, 0);	       /* BAR4 high */
	W(0x40, 2, 0x104, 0x0006);     /* COMMAND: memory, bus master */
	W(0x40, 2, 0x142, 0x8000);     /* MSI-X enable */
	W(0xa0, 8, 0x10, 0xfee00000);  /* vector 1: address */
	W(0xa0, 4, 0x18, 0x4041);      /* data */
	W(0xd0, 1, 1, 0);	       /* notify while masked: pending */
	R(0xc0, 8, 0);		       /* PBA */
	W(0xa0, 4, 0x1c, 0);	       /* unmask: delivered */
	W(0xd0, 1, 1, 0);	       /* notify */
	W(0x40, 2, 0x142, 0xc000);     /* function mask */
	W(0xd0, 1, 1, 0);
	W(0x40, 2, 0x142, 0x8000); /* unmask the function: delivered */
	R(0x40, 4, 0x140);
	R(0x80, 4, 0x80020000 | 0x40); /* ECAM, the capability */
	W(0x40, 4, 0x120, 0xffffffff); /* BAR sizing */
	R(0x40, 4, 0x120);
	W(0xe0, 1, 0, 0); /* reset */
	save("pci", "msix-enable-notify");
}

/* CFI flash: query, erase, word and buffered programs, locks, status. */
static void seeds_cfi(void)
{
	buf[len++] = 0;		/* read-write */
	W(0, 4, 0, 0x00980098); /* CFI query */
	R(0, 4, 0x40);
	R(0, 4, 0x44);
	W(0, 4, 0, 0x00ff00ff);	      /* read array */
	W(0, 4, 0x40000, 0x00600060); /* unlock block 1 */
	W(0, 4, 0x40000, 0x00d000d0);
	W(0, 4, 0x40000, 0x00200020); /* erase block 1 */
	W(0, 4, 0x40000, 0x00d000d0);
	R(0, 4, 0);		      /* status */
	W(0, 4, 0x40000, 0x00400040); /* word program */
	W(0, 4, 0x40010, 0x12345678);
	W(0, 4, 0x40000, 0x00e800e8); /* buffered program of 4 words */
	W(0, 4, 0x40000, 0x00030003);
	W(0, 4, 0x40100, 0x11111111);
	W(0, 4, 0x40104, 0x22222222);
	W(0, 4, 0x40108, 0x33333333);
	W(0, 4, 0x4010c, 0x44444444);
	W(0, 4, 0, 0x00d000d0);
	W(0, 4, 0, 0x00700070);
	R(0, 4, 0);
	W(0, 4, 0, 0x00500050); /* clear status */
	W(0, 4, 0, 0x00900090); /* identifiers */
	R(0, 4, 0x40008);
	W(0, 4, 0, 0x00ff00ff);
	R(0, 8, 0x40100);
	save("cfi_flash", "erase-program");
}

/* 16550: divisor, FIFOs, interrupts, loopback, host input. */
static void seeds_uart16550(void)
{
	W(0, 1, 3, 0x80); /* DLAB */
	W(0, 1, 0, 0x01);
	W(0, 1, 1, 0x00);
	W(0, 1, 3, 0x03); /* 8N1 */
	W(0, 1, 2, 0xc7); /* FIFOs, 14-byte trigger */
	W(0, 1, 4, 0x0b); /* DTR RTS OUT2 */
	W(0, 1, 1, 0x0f); /* all interrupts */
	R(0, 1, 2);
	W(0, 1, 0, 'A');
	acc(0xc0, 1, 0, 20, 0); /* the host types 20 bytes */
	put("hello, kvmbox guest!", 20);
	R(0, 1, 5);
	R(0, 1, 0);
	R(0, 4, 0);
	W(0, 1, 4, 0x1f); /* loopback */
	W(0, 1, 0, 'x');
	R(0, 1, 6);
	buf[len++] = 0xf0; /* a snapshot round trip */
	put("\x08\x00\x00\x00\x00\x00", 6);
	save("uart16550", "loopback-fifo");
}

/* PL011: baud, line control, interrupts, FIFOs, host input, ID registers. */
static void seeds_pl011(void)
{
	W(0, 4, 0x24, 13);    /* IBRD */
	W(0, 4, 0x28, 1);     /* FBRD */
	W(0, 4, 0x2c, 0x70);  /* LCR_H: 8 bits, FIFOs */
	W(0, 4, 0x38, 0x50);  /* IMSC: RX, RT */
	W(0, 4, 0x30, 0x301); /* CR: UARTEN TXE RXE */
	W(0, 1, 0, 'A');
	acc(0xc0, 1, 0, 40, 0);
	put("0123456789012345678901234567890123456789", 40);
	R(0, 4, 0x18);	      /* FR */
	R(0, 2, 0);	      /* DR */
	R(0, 4, 0x40);	      /* MIS */
	W(0, 4, 0x44, 0x7ff); /* ICR */
	W(0, 4, 0x30, 0x381); /* loopback */
	W(0, 1, 0, 'x');
	R(0, 1, 0xfe0);
	save("pl011", "fifo-loopback");
}

/* PL031: load, match, unmask; time goes by; an alarm. */
static void seeds_pl031(void)
{
	put_le(1700000000, 5);
	W(0, 4, 0x08, 1000); /* RTCLR */
	W(0, 4, 0x04, 1010); /* RTCMR */
	W(0, 4, 0x10, 1);    /* RTCIMSC */
	R(0, 4, 0);
	acc(0xc0, 1, 1, 5, 0); /* 20 s later */
	R(0, 4, 0x14);
	acc(0xb0, 1, 0, 0, 0); /* the alarm */
	R(0, 4, 0x18);
	W(0, 4, 0x1c, 1); /* RTCICR */
	R(0, 1, 0xfe0);
	save("pl031", "match-alarm");
}

/* CMOS RTC: set the time with SET, in BCD and binary, 12-hour, read it back. */
static void seeds_rtc(void)
{
	static const uint8_t regs[] = {0, 2, 4, 6, 7, 8, 9, 0x32};

	W(0, 1, 0, 0x0b);
	W(0, 1, 1, 0x82);   /* SET, 24-hour, BCD */
	W(0, 2, 0, 0x5900); /* seconds 59 */
	W(0, 2, 0, 0x2304); /* hours 23 */
	W(0, 2, 0, 0x3107); /* day 31 */
	W(0, 2, 0, 0x1208); /* December */
	W(0, 2, 0, 0x9909); /* 99 */
	W(0, 2, 0, 0x2032); /* century 20 */
	W(0, 2, 0, 0x020b); /* run */
	for (unsigned int i = 0; i < sizeof(regs); i++) {
		W(0, 1, 0, regs[i]);
		R(0, 1, 1);
	}
	W(0, 2, 0, 0x040b); /* binary, 12-hour */
	W(0, 1, 0, 4);
	R(0, 1, 1);
	W(0, 1, 0, 0x0c);
	R(0, 1, 1);
	save("rtc", "set-time");
}

/* i8042: self test, command byte, output port, a reset through it. */
static void seeds_i8042(void)
{
	W(0, 1, 4, 0xaa);
	R(0, 1, 4);
	R(0, 1, 0);
	W(0, 1, 4, 0x20);
	R(0, 1, 0);
	W(0, 1, 4, 0x60);
	W(0, 1, 0, 0x47);
	W(0, 1, 4, 0xd2); /* a byte into the output buffer: IRQ 1 */
	W(0, 1, 0, 0x1c);
	R(0, 1, 0);
	W(0, 1, 4, 0xd4); /* to the mouse */
	W(0, 1, 0, 0xff);
	R(0, 1, 4);
	W(0, 1, 4, 0xd1); /* output port: reset */
	W(0, 1, 0, 0xfe);
	save("i8042", "selftest-reset");
}

/* ACPI PM: enable bits, SCI_EN, a sleep that is not S5, S5, the reset register. */
static void seeds_acpi_pm(void)
{
	W(0, 2, 2, 0x0121);
	R(0, 4, 0);
	R(0, 2, 4);
	W(0, 2, 4, 0x2c00); /* S3 */
	W(0, 2, 0, 0x8000); /* clear WAK_STS */
	W(0, 2, 4, 0x3400); /* S5 */
	W(0, 1, 8, 0x01);
	save("acpi_pm", "sleep-reset");
}

/* fw_cfg: the signature, the CPU count and the RAM size. */
static void seeds_fw_cfg(void)
{
	put_le(4, 2);
	put_le(256 << 20, 8);
	W(0, 2, 0, 0x0000);
	for (int i = 0; i < 5; i++)
		R(0, 1, 1);
	W(0, 2, 0, 0x0005);
	R(0, 1, 1);
	R(0, 1, 1);
	W(0, 2, 0, 0x0003);
	for (int i = 0; i < 9; i++)
		R(0, 1, 1);
	save("fw_cfg", "items");
}

/* pc-testdev: the scratch register by widths, IRQ lines up and down, the MMIO window. */
static void seeds_pc_testdev(void)
{
	W(0, 4, 0, 0x12345678);
	R(0, 1, 2);
	W(0, 4, 4, 0x1000);
	W(1, 1, 11, 1);
	W(1, 4, 4, 0x01010101);
	W(1, 1, 11, 0);
	W(2, 8, 0x100, 0x0102030405060708ULL);
	R(2, 4, 0x102);
	R(2, 8, 0xfffc);
	save("pc_testdev", "scratch-irq-iomem");
}

/* A bzImage head: boot protocol 2.15, loaded high, 64-bit entry, 4 setup sectors. */
static void seeds_bzimage(void)
{
	memset(buf, 0, 4096);
	buf[0x1f1] = 4; /* setup_sects */
	buf[0x1fe] = 0x55;
	buf[0x1ff] = 0xaa;
	buf[0x201] = 0x6a; /* the header's length from 0x202 */
	memcpy(buf + 0x202, "HdrS", 4);
	buf[0x206] = 0x0f; /* version 2.15 */
	buf[0x207] = 0x02;
	buf[0x211] = 0x01; /* loadflags: LOADED_HIGH */
	buf[0x236] = 0x01; /* xloadflags: XLF_KERNEL_64 */
	len = 4096;
	save("bzimage", "protocol-2.15");
}

/* A multiboot ELF32: one PT_LOAD at 1 MiB, the header in its first bytes. */
static void seeds_multiboot(void)
{
	Elf32_Ehdr eh = {.e_type = ET_EXEC,
			 .e_machine = EM_386,
			 .e_version = EV_CURRENT,
			 .e_entry = 0x100000,
			 .e_phoff = sizeof(Elf32_Ehdr),
			 .e_ehsize = sizeof(Elf32_Ehdr),
			 .e_phentsize = sizeof(Elf32_Phdr),
			 .e_phnum = 1};
	Elf32_Phdr ph = {.p_type = PT_LOAD,
			 .p_offset = 0x80,
			 .p_vaddr = 0x100000,
			 .p_paddr = 0x100000,
			 .p_filesz = 0x40,
			 .p_memsz = 0x2000};
	uint32_t mb[3] = {0x1badb002, 0, -(uint32_t)0x1badb002};

	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS32;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	buf[len++] = 1; /* a 1 KiB module */
	put(&eh, sizeof(eh));
	put(&ph, sizeof(ph));
	memset(buf + len, 0, 0x80 - (len - 1));
	len = 1 + 0x80;
	put(mb, sizeof(mb));
	memset(buf + len, 0xf4, 0x34); /* hlt */
	len += 0x34;
	save("multiboot", "elf32-one-segment");
}

/* An arm64 Image header: text_offset 0, 2 MiB image, 4 KiB pages, anywhere in RAM. */
static size_t arm64_image(uint8_t *p, size_t file_len)
{
	memset(p, 0, file_len);
	p[0x10 + 2] = 0x20; /* image_size 2 MiB */
	p[0x18] = 0x0a;	    /* flags: 4 KiB pages, physical placement anywhere */
	memcpy(p + 0x38, "ARM\x64", 4);
	return file_len;
}

static void seeds_arm64_image(void)
{
	static uint8_t image[8192];
	z_stream zs = {0};

	memset(buf, 0, 24); /* placement: QEMU virt's */
	len = 24;
	len += arm64_image(buf + len, 4096);
	save("arm64_image", "image");
	arm64_image(image, sizeof(image));
	memset(buf, 0, 24);
	len = 24;
	if (deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		exit(1);
	zs.next_in = image;
	zs.avail_in = sizeof(image);
	zs.next_out = buf + len;
	zs.avail_out = (unsigned int)(sizeof(buf) - len);
	if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
		exit(1);
	len += zs.total_out;
	deflateEnd(&zs);
	save("arm64_image", "image-gz");
}

/* The device tree: QEMU virt as it is (all zeros), and with a command line. */
static void seeds_arm64_fdt(void)
{
	memset(buf, 0, 256);
	len = 13 * 16 + 6 * 4;
	save("arm64_fdt", "virt");
	memset(buf, 0, 256);
	len = 13 * 16 + 6 * 4;
	put("console=ttyAMA0 earlycon root=/dev/vda", 38);
	save("arm64_fdt", "virt-bootargs");
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	dir = argv[1];
	seeds_pci();
	seeds_cfi();
	seeds_uart16550();
	seeds_pl011();
	seeds_pl031();
	seeds_rtc();
	seeds_i8042();
	seeds_acpi_pm();
	seeds_fw_cfg();
	seeds_pc_testdev();
	seeds_bzimage();
	seeds_multiboot();
	seeds_arm64_image();
	seeds_arm64_fdt();
	return 0;
}
