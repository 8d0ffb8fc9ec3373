// SPDX-License-Identifier: GPL-2.0-only
/*
 * The COM1 glue around the 16550 model: realize on the port bus, and transmit to a
 * stdout that stalls, fills up and goes away.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "arch/x86/layout.h"
#include "arch/x86/serial.h"
#include "console.h"
#include "bus.h"
#include "vm.h"
#include "uart16550_fixture.h"

/*
 * The COM1 glue needs a VM. These weak doubles stand in for vm.c when the test links
 * without it; the glue test copes with the real ones too.
 */
static struct device *added_dev;
static int irq_line_calls;

__attribute__((weak)) void vm_add_device(struct vm *vm, struct device *dev)
{
	(void)vm;
	added_dev = dev;
}

__attribute__((weak)) void vm_irq_line_set(struct vm *vm, struct irq_line *src, bool level)
{
	(void)vm;
	(void)src;
	(void)level;
	irq_line_calls++;
}

static double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void com1_out(struct vm *vm, const char *s)
{
	for (; *s; s++)
		assert_true(bus_dispatch(&vm->pio_bus, X86_PORT_COM1, (u8 *)s, 1, true));
}

struct tx_results {
	char got[8];
	double stall_sec, stalled_again_sec;
	char after[8];
};

/* Runs with stdout on a non-blocking pipe: nothing here may assert (cmocka prints). */
static void com1_tx_through_pipe(struct vm *vm, int rd, int wr, struct tx_results *r)
{
	static char junk[4096];
	double t;

	com1_out(vm, "ok");
	if (read(rd, r->got, sizeof(r->got) - 1) < 0)
		r->got[0] = '\0';
	while (write(wr, junk, sizeof(junk)) > 0)
		;
	t = now_sec();
	com1_out(vm, "x");
	r->stall_sec = now_sec() - t;
	t = now_sec();
	com1_out(vm, "y");
	r->stalled_again_sec = now_sec() - t;
	while (read(rd, junk, sizeof(junk)) > 0)
		;
	com1_out(vm, "z");
	if (read(rd, r->after, sizeof(r->after) - 1) < 0)
		r->after[0] = '\0';
	close(rd);
	com1_out(vm, "gone"); /* EPIPE: dropped, never fatal */
}

static void test_com1_glue(void **state)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	struct tx_results r = {0};
	struct device *dev;
	int p[2], saved;
	u8 lsr = 0;

	(void)state;
	assert_non_null(vm);
	vm->vm_fd = -1;
	bus_init(&vm->pio_bus, "pio");
	assert_int_equal(uart16550_com1_ops.realize(vm), 0);
	assert_non_null(vm->serial_sink);
	dev = added_dev ? added_dev : vm->devices;
	assert_non_null(dev);
	assert_ptr_equal(dev->ops, &uart16550_com1_ops);
	assert_string_equal(dev->ops->name, "uart16550");
	/* The range is taken: a second COM1 fails cleanly. */
	assert_int_equal(uart16550_com1_ops.realize(vm), -EEXIST);

	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	dup2(p[1], STDOUT_FILENO);
	com1_tx_through_pipe(vm, p[0], p[1], &r);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	close(p[1]);

	assert_string_equal(r.got, "ok");
	assert_true(r.stall_sec > 0.2 && r.stall_sec < 5);
	assert_true(r.stalled_again_sec < 0.2);
	assert_string_equal(r.after, "z");

	dev->ops->reset(dev);
	assert_true(bus_dispatch(&vm->pio_bus, X86_PORT_COM1 + LSR, &lsr, 1, false));
	assert_int_equal(lsr, 0x60);
	assert_int_equal(irq_line_calls, 0);
	dev->ops->destroy(dev);
	assert_null(vm->serial_sink);
	bus_destroy(&vm->pio_bus);
	free(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_com1_glue),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
