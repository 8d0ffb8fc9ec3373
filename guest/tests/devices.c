// SPDX-License-Identifier: GPL-2.0-only
/* The platform a guest finds: UART registers, CMOS RTC, PCI host bridge, ACPI, fw_cfg, boot info. */
#include "libguest.h"

#define UART_DLL 0
#define UART_DLM 1
#define UART_LCR 3
#define LCR_DLAB 0x80
#define LCR_8N1	 0x03

#define CMOS_INDEX   0x70
#define CMOS_DATA    0x71
#define RTC_SECONDS  0x00
#define RTC_MINUTES  0x02
#define RTC_HOURS    0x04
#define RTC_DAY	     0x07
#define RTC_MONTH    0x08
#define RTC_YEAR     0x09
#define RTC_REG_A    0x0a
#define RTC_REG_B    0x0b
#define RTC_REG_D    0x0d
#define RTC_CENTURY  0x32
#define RTC_A_UIP    0x80
#define RTC_B_BINARY 0x04
#define RTC_B_24H    0x02
#define RTC_D_VRT    0x80

static void test_uart_divisor(void)
{
	u8 lcr = inb(COM1 + UART_LCR);
	u8 dll, dlm;

	outb(COM1 + UART_LCR, LCR_8N1 | LCR_DLAB);
	outb(COM1 + UART_DLL, 0x0c); /* 9600 baud */
	outb(COM1 + UART_DLM, 0x00);
	dll = inb(COM1 + UART_DLL);
	dlm = inb(COM1 + UART_DLM);
	outb(COM1 + UART_DLL, 0x01); /* back to 115200 */
	outb(COM1 + UART_LCR, LCR_8N1);
	report(dll == 0x0c && dlm == 0, "UART divisor latch reads back (%#x %#x)", dll, dlm);
	report(inb(COM1 + UART_LCR) == LCR_8N1, "UART LCR reads back (was %#x)", lcr);
}

static u8 cmos_read(u8 reg)
{
	outb(CMOS_INDEX, reg);
	return inb(CMOS_DATA);
}

static int rtc_field(u8 reg, bool binary)
{
	u8 v = cmos_read(reg);

	return binary ? v : (v >> 4) * 10 + (v & 0xf);
}

static void test_rtc(void)
{
	u8 b = cmos_read(RTC_REG_B), d = cmos_read(RTC_REG_D);
	bool bin = b & RTC_B_BINARY;
	int year, month, day, hour, min, sec;
	u64 start = rdtsc();

	/* Wait out an update in progress: the time registers are not stable during one. */
	while ((cmos_read(RTC_REG_A) & RTC_A_UIP) && rdtsc() - start < TSC_TIMEOUT_LONG)
		pause();
	sec = rtc_field(RTC_SECONDS, bin);
	min = rtc_field(RTC_MINUTES, bin);
	hour = rtc_field(RTC_HOURS, bin) & 0x7f; /* 12-hour mode keeps PM in bit 7 */
	day = rtc_field(RTC_DAY, bin);
	month = rtc_field(RTC_MONTH, bin);
	year = rtc_field(RTC_CENTURY, bin) * 100 + rtc_field(RTC_YEAR, bin);
	report_info("RTC %04d-%02d-%02d %02d:%02d:%02d, B=%#x D=%#x", year, month, day, hour, min,
		    sec, b, d);
	report(b != 0xff, "RTC register B is implemented (%#x)", b);
	report(d & RTC_D_VRT, "RTC register D: valid RAM and time");
	report(year >= 2024 && year < 2100, "RTC year %d is plausible", year);
	report(month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour < 24 && min < 60 &&
		       sec < 60,
	       "RTC date and time fields in range");
}

static void test_pci(void)
{
	u32 id = pci_conf_read32(0, 0, 0, 0x00);
	u32 class = pci_conf_read32(0, 0, 0, 0x08) >> 16;
	u32 addr;

	outl(PCI_CONF_ADDR, 0x80001234);
	addr = inl(PCI_CONF_ADDR);
	report(addr == 0x80001234, "0xcf8 reads back the address written (%#x)", addr);
	report((id & 0xffff) != 0xffff, "host bridge at 00:00.0: %04x:%04x", id & 0xffff, id >> 16);
	report(class == 0x0600, "00:00.0 class is host bridge (%#06x)", class);
	for (int dev = 0; dev < 32; dev++) {
		u32 v = pci_conf_read32(0, dev, 0, 0);

		if ((v & 0xffff) != 0xffff)
			report_info("00:%02x.0 %04x:%04x class %06x", dev, v & 0xffff, v >> 16,
				    pci_conf_read32(0, dev, 0, 0x08) >> 8);
	}
	report(pci_conf_read32(0, 31, 7, 0) == 0xffffffff, "absent 00:1f.7 reads all ones");
	report(pci_conf_read32(7, 0, 0, 0) == 0xffffffff, "absent bus 7 reads all ones");
}

static void test_firmware(void)
{
	struct mb_info *mbi = multiboot_info();
	u64 ram = fwcfg_ram_size();

	report(acpi_find_rsdp() != NULL, "ACPI RSDP found at %p", acpi_find_rsdp());
	report(acpi_find_table("APIC") != NULL, "ACPI MADT present");
	report(acpi_find_table("FACP") != NULL, "ACPI FADT present");
	report(fwcfg_present(), "fw_cfg signature");
	report(ram >= ((u64)mbi->mem_upper + 1024) * 1024,
	       "fw_cfg RAM size %lu MiB covers mem_upper", ram >> 20);
	report((mbi->flags & (MB_INFO_MEM | MB_INFO_CMDLINE | MB_INFO_MMAP)) ==
		       (MB_INFO_MEM | MB_INFO_CMDLINE | MB_INFO_MMAP),
	       "multiboot info has memory, cmdline and mmap (flags %#x)", mbi->flags);
	report(mbi->mem_lower >= 512 && mbi->mem_lower <= 640, "mem_lower %u KiB", mbi->mem_lower);
	report(guest_argc >= 1 && strlen(guest_argv[0]) > 0, "argv[0] is the image (%s)",
	       guest_argv[0]);
}

int main(void)
{
	report_prefix_push("devices");
	test_uart_divisor();
	test_rtc();
	test_pci();
	test_firmware();
	return report_summary();
}
