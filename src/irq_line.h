/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_IRQ_LINE_H
#define KVMBOX_IRQ_LINE_H

#include <pthread.h>

#include "util/types.h"

/*
 * Wired (level) interrupt lines that several sources may share, as PCI functions s and
 * s + 8 share an INTx pin. KVM keeps one level per line for all of userspace, so the line
 * is the OR of its sources: it rises when the first source asserts it and falls when the
 * last one lets go, never while another still holds it.
 */
#define IRQ_LINES 24 /* the I/O APIC's pins; the PIC's 16 are the first of them */

struct irq_lines {
	pthread_mutex_t lock;
	u16 holders[IRQ_LINES]; /* sources asserting each line */
	/* Drives the line in the irqchip (KVM_IRQ_LINE); a test can count calls instead. */
	void (*set_pin)(void *opaque, u32 line, bool level);
	void *opaque;
};

/* One source of one line: a PCI function's INTx, a UART's IRQ. Starts low. */
struct irq_line {
	u32 line;
	bool level;
};

void irq_lines_init(struct irq_lines *l, void (*set_pin)(void *opaque, u32 line, bool level),
		    void *opaque);
void irq_lines_destroy(struct irq_lines *l);
/*
 * Sets src's level. A source that says the same twice counts once; a line number beyond
 * IRQ_LINES (a guest's choice, say) is ignored. Thread-safe.
 */
void irq_line_set(struct irq_lines *l, struct irq_line *src, bool level);

#endif
