/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GUEST_APIC_H
#define GUEST_APIC_H

/* Local APIC (xAPIC through MMIO, x2APIC through MSRs) and IOAPIC. */

#include "types.h"

#define LAPIC_BASE  0xfee00000ULL
#define IOAPIC_BASE 0xfec00000ULL

#define MSR_APIC_BASE	 0x1b
#define APIC_BASE_BSP	 BIT(8)
#define APIC_BASE_X2APIC BIT(10)
#define APIC_BASE_ENABLE BIT(11)
#define MSR_X2APIC_FIRST 0x800

/* Register offsets in the xAPIC page; x2APIC MSR = 0x800 + (offset >> 4). */
#define APIC_ID	      0x020
#define APIC_LVR      0x030
#define APIC_TPR      0x080
#define APIC_EOI      0x0b0
#define APIC_LDR      0x0d0
#define APIC_SVR      0x0f0
#define APIC_ISR      0x100
#define APIC_IRR      0x200
#define APIC_ESR      0x280
#define APIC_ICR      0x300
#define APIC_ICR2     0x310
#define APIC_LVTT     0x320
#define APIC_LVT0     0x350
#define APIC_LVT1     0x360
#define APIC_LVTERR   0x370
#define APIC_TMICT    0x380
#define APIC_TMCCT    0x390
#define APIC_TDCR     0x3e0
#define APIC_SELF_IPI 0x3f0 /* x2APIC only */

#define APIC_SVR_ENABLE	  BIT(8)
#define APIC_LVT_MASKED	  BIT(16)
#define APIC_LVT_PERIODIC BIT(17)
#define APIC_ICR_BUSY	  BIT(12)
#define APIC_ICR_ASSERT	  BIT(14)
#define APIC_DM_FIXED	  0x000
#define APIC_DM_NMI	  0x400
#define APIC_DM_INIT	  0x500
#define APIC_DM_STARTUP	  0x600
#define APIC_DEST_SELF	  (1 << 18)
#define APIC_DEST_ALL	  (2 << 18)
#define APIC_DEST_ALLBUT  (3 << 18)

/* Vectors the library uses itself. */
#define SPURIOUS_VECTOR 0xff
#define WAKE_VECTOR	0xfe /* on_cpu(): kicks an AP out of HLT */

u32 apic_read(u32 reg);
void apic_write(u32 reg, u32 val);
u32 apic_id(void);
void apic_eoi(void);
/* Software-enable this CPU's LAPIC (SVR), in the mode the BSP uses. */
void apic_enable(void);
bool x2apic_supported(void);
/* Switch this CPU's LAPIC to x2APIC mode; false when CPUID lacks x2APIC. */
bool enable_x2apic(void);
/* Switch all online CPUs (and those started later) to x2APIC mode. */
bool enable_x2apic_all(void);
/* low: ICR bits 0-31 (vector, delivery mode, shorthand...); dest: APIC ID. */
void apic_icr_write(u32 low, u32 dest);
void apic_send_ipi(u32 dest_apic_id, int vector);
void apic_self_ipi(int vector);

/* The timer counts down at the bus rate (divide-by-1 is used). */
void apic_timer_oneshot(int vector, u32 count);
void apic_timer_periodic(int vector, u32 count);
void apic_timer_stop(void);

/* IOAPIC: pins are ISA IRQ numbers on kvmbox and QEMU (no overrides used here). */
#define IOAPIC_REDIR_MASKED BIT(16)
#define IOAPIC_REDIR_LEVEL  BIT(15)
u32 ioapic_read(u32 reg);
void ioapic_write(u32 reg, u32 val);
int ioapic_pins(void);
/* Route pin to vector on the CPU with dest_apic_id; edge triggered, fixed delivery. */
void ioapic_route(int pin, int vector, u32 dest_apic_id, bool level);
void ioapic_mask(int pin);
u64 ioapic_read_redir(int pin);

#endif
