// SPDX-License-Identifier: GPL-2.0-only
/*
 * Thread starts (src/util/thread.c): every kvmbox thread gets a stack under 2 MiB (so
 * transparent huge pages never back one: see THREAD_STACK_SIZE), and a device worker
 * starts with every signal blocked but SIGSYS.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>

#include "util/thread.h"

struct seen {
	size_t stack;
	sigset_t mask;
};

static void *look(void *arg)
{
	struct seen *s = arg;
	pthread_attr_t attr;

	if (!pthread_getattr_np(pthread_self(), &attr)) {
		pthread_attr_getstacksize(&attr, &s->stack);
		pthread_attr_destroy(&attr);
	}
	pthread_sigmask(SIG_SETMASK, NULL, &s->mask);
	return NULL;
}

static void test_stack_under_a_huge_page(void **state)
{
	struct seen s = {0};
	pthread_t t;

	(void)state;
	assert_int_equal(thread_create(&t, look, &s), 0);
	pthread_join(t, NULL);
	assert_true(s.stack >= THREAD_STACK_SIZE / 2);
	assert_true(s.stack < 2 * 1024 * 1024);
}

static void test_worker_blocks_all_but_sigsys(void **state)
{
	struct seen s = {0};
	sigset_t before, after;
	pthread_t t;

	(void)state;
	pthread_sigmask(SIG_SETMASK, NULL, &before);
	assert_int_equal(thread_start_unsignalled(&t, look, &s), 0);
	pthread_join(t, NULL);
	assert_true(s.stack < 2 * 1024 * 1024);
	assert_true(sigismember(&s.mask, SIGINT));
	assert_true(sigismember(&s.mask, SIGUSR1));
	assert_false(sigismember(&s.mask, SIGSYS));
	/* The creator's own mask is back as it was. */
	pthread_sigmask(SIG_SETMASK, NULL, &after);
	assert_int_equal(sigismember(&after, SIGINT), sigismember(&before, SIGINT));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stack_under_a_huge_page),
		cmocka_unit_test(test_worker_blocks_all_but_sigsys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
