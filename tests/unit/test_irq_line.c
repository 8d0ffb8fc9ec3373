// SPDX-License-Identifier: GPL-2.0-only
/*
 * Shared wired interrupt lines (irq_line.c): PCI functions s and s + 8 share an INTx pin,
 * and one lowering its INTx must not drop the other's pending interrupt (issue 12,
 * defect 4: with one KVM_IRQ_LINE level for all of userspace, the last writer won).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>

#include "irq_line.h"

/* The irqchip as the test sees it: each line's level and how often it was driven. */
struct fake_chip {
	bool level[IRQ_LINES];
	unsigned int calls[IRQ_LINES];
	bool repeated; /* driven to the level it already had */
};

static void fake_set_pin(void *opaque, u32 line, bool level)
{
	struct fake_chip *c = opaque;

	assert_true(line < IRQ_LINES);
	if (c->level[line] == level)
		c->repeated = true;
	c->level[line] = level;
	c->calls[line]++;
}

static void test_shared_line(void **state)
{
	struct fake_chip chip = {0};
	struct irq_lines lines;
	struct irq_line a = {.line = 11}, b = {.line = 11};

	(void)state;
	irq_lines_init(&lines, fake_set_pin, &chip);
	irq_line_set(&lines, &a, true);
	assert_true(chip.level[11]);
	irq_line_set(&lines, &b, true);
	irq_line_set(&lines, &a, false);
	/* b still holds it: the line stays up. */
	assert_true(chip.level[11]);
	assert_int_equal(chip.calls[11], 1);
	irq_line_set(&lines, &b, false);
	assert_false(chip.level[11]);
	assert_int_equal(chip.calls[11], 2);
	assert_false(chip.repeated);
	irq_lines_destroy(&lines);
}

static void test_repeats_and_bounds(void **state)
{
	struct fake_chip chip = {0};
	struct irq_lines lines;
	struct irq_line a = {.line = 5}, other = {.line = 5}, wild = {.line = IRQ_LINES};

	(void)state;
	irq_lines_init(&lines, fake_set_pin, &chip);
	irq_line_set(&lines, &a, false); /* lowering a low source is nothing */
	assert_int_equal(chip.calls[5], 0);
	irq_line_set(&lines, &a, true);
	irq_line_set(&lines, &a, true); /* counts once */
	irq_line_set(&lines, &other, true);
	irq_line_set(&lines, &other, false);
	assert_true(chip.level[5]);
	irq_line_set(&lines, &a, false);
	assert_false(chip.level[5]);
	assert_int_equal(chip.calls[5], 2);
	irq_line_set(&lines, &wild, true); /* beyond the chip: ignored */
	for (unsigned int i = 0; i < IRQ_LINES; i++)
		assert_false(chip.level[i]);
	irq_lines_destroy(&lines);
}

struct toggler {
	struct irq_lines *lines;
	struct irq_line src;
};

static void *toggle(void *arg)
{
	struct toggler *t = arg;

	for (int i = 0; i < 20000; i++)
		irq_line_set(t->lines, &t->src, i % 2 == 0);
	irq_line_set(t->lines, &t->src, false);
	return NULL;
}

/* Sources on other threads: the pin only ever changes level, and ends low. */
static void test_concurrent_sources(void **state)
{
	struct fake_chip chip = {0};
	struct irq_lines lines;
	struct toggler t[4];
	pthread_t th[4];

	(void)state;
	irq_lines_init(&lines, fake_set_pin, &chip);
	for (int i = 0; i < 4; i++) {
		t[i] = (struct toggler){.lines = &lines, .src = {.line = 3}};
		assert_int_equal(pthread_create(&th[i], NULL, toggle, &t[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	assert_false(chip.level[3]);
	assert_false(chip.repeated);
	assert_int_equal(chip.calls[3] % 2, 0);
	irq_lines_destroy(&lines);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shared_line),
		cmocka_unit_test(test_repeats_and_bounds),
		cmocka_unit_test(test_concurrent_sources),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
