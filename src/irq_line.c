// SPDX-License-Identifier: GPL-2.0-only
#include "irq_line.h"

void irq_lines_init(struct irq_lines *l, void (*set_pin)(void *opaque, u32 line, bool level),
		    void *opaque)
{
	pthread_mutex_init(&l->lock, NULL);
	for (unsigned int i = 0; i < IRQ_LINES; i++)
		l->holders[i] = 0;
	l->set_pin = set_pin;
	l->opaque = opaque;
}

void irq_lines_destroy(struct irq_lines *l)
{
	pthread_mutex_destroy(&l->lock);
}

void irq_line_set(struct irq_lines *l, struct irq_line *src, bool level)
{
	u32 line = src->line;
	bool edge;

	if (line >= IRQ_LINES)
		return;
	/* Under the lock: the count and the pin must change together, in order. */
	pthread_mutex_lock(&l->lock);
	if (src->level == level) {
		pthread_mutex_unlock(&l->lock);
		return;
	}
	src->level = level;
	if (level)
		edge = l->holders[line]++ == 0;
	else
		edge = l->holders[line] && --l->holders[line] == 0;
	if (edge)
		l->set_pin(l->opaque, line, level);
	pthread_mutex_unlock(&l->lock);
}
