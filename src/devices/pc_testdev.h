/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_DEVICES_PC_TESTDEV_H
#define KVMBOX_DEVICES_PC_TESTDEV_H

#include "device.h"

/*
 * The parts of QEMU's "pc-testdev" that kvm-unit-tests' x86 tests use:
 *   0xe0-0xe3   a 32-bit scratch register; a byte or word access at 0xe0 + n reaches
 *               the register's bytes n and up (emulator and realmode test port I/O,
 *               string I/O and I/O into MMIO with it);
 *   0xe4-0xe7   "flush page": a 32-bit write of a guest physical address makes KVM drop
 *               its mapping of that page, so the guest's next access to it faults in
 *               the stage-2 tables (eventinj takes away the IDT and stack pages);
 *   0x2000-0x2017  a byte write of V to 0x2000 + N raises (V != 0) or lowers interrupt
 *               line N of the in-kernel irqchip (the ioapic test drives pins with it);
 *   0xff000000  64 KiB that read back what was written, but through MMIO exits, so KVM
 *               must emulate every instruction that touches them (emulator, lam).
 * QEMU's byte-wise alias of the scratch register at 0xe8 is left out: no test uses it.
 */
#define PC_TESTDEV_PORT_SCRATCH 0xe0
#define PC_TESTDEV_PORT_FLUSH	0xe4
#define PC_TESTDEV_PORT_IRQ	0x2000
#define PC_TESTDEV_IRQ_LINES	24 /* the I/O APIC's pins */
#define PC_TESTDEV_IOMEM_GPA	0xff000000ULL
#define PC_TESTDEV_IOMEM_SIZE	0x10000

/* Pure helpers, exposed for the unit tests. */

/* Reads len bytes at byte offset of the 32-bit scratch value; bytes past its end read 0. */
u64 pc_testdev_scratch_read(u32 reg, u64 offset, u32 len);
/* Returns reg with len bytes of val stored from byte offset; bytes past its end are dropped. */
u32 pc_testdev_scratch_write(u32 reg, u64 offset, u32 len, u64 val);
/*
 * Copies len bytes between data and the window buf at offset. Bytes outside the window
 * are not stored and read as all-ones, like an unmapped address.
 */
void pc_testdev_iomem_access(u8 *buf, u64 offset, u8 *data, u32 len, bool is_write);
/*
 * Which interrupt line byte i of a write to port 0x2000 + offset drives, or -1: each port
 * is a byte wide, so a wider write drives a line per byte.
 */
int pc_testdev_irq_line(u64 offset, u32 i);

extern const struct device_ops pc_testdev_ops;

#endif
