// SPDX-License-Identifier: GPL-2.0-only
/*
 * The metrics line (util/metrics.c): groups sum their devices, named devices get their
 * own object, each line reports only what happened since the last one, and counts made
 * from several threads at once are all there.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <pthread.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/metrics.h"

static const char *const names[] = {"read_count", "read_bytes"};

/* The value of line[obj][key], or -1 when absent. */
static long long value_of(const char *line, const char *obj, const char *key)
{
	json_t *root = json_loads(line, 0, NULL), *o, *v;
	long long ret = -1;

	assert_non_null(root);
	o = json_object_get(root, obj);
	v = o ? json_object_get(o, key) : NULL;
	if (v)
		ret = json_integer_value(v);
	json_decref(root);
	return ret;
}

static void test_groups_and_deltas(void **state)
{
	struct metrics_registry r;
	struct metrics_set a, b;
	char *line;

	(void)state;
	metrics_registry_init(&r);
	assert_int_equal(metrics_set_init(&a, "block", "rootfs", names, 2), 0);
	assert_int_equal(metrics_set_init(&b, "block", NULL, names, 2), 0);
	metrics_register(&r, &a);
	metrics_register(&r, &b);
	metrics_add(&a, 0, 2);
	metrics_add(&a, 1, 8192);
	metrics_add(&b, 0, 1);
	metrics_add(&b, 2, 99); /* out of range: ignored */
	line = metrics_line(&r, 1234);
	assert_non_null(line);
	assert_int_equal(line[strlen(line) - 1], '\n');
	assert_int_equal(value_of(line, "block", "read_count"), 3);
	assert_int_equal(value_of(line, "block", "read_bytes"), 8192);
	assert_int_equal(value_of(line, "block_rootfs", "read_count"), 2);
	free(line);

	/* The next line has only what came after. */
	metrics_add(&b, 0, 5);
	line = metrics_line(&r, 1235);
	assert_int_equal(value_of(line, "block", "read_count"), 5);
	assert_int_equal(value_of(line, "block_rootfs", "read_count"), 0);
	free(line);

	metrics_unregister(&r, &a);
	line = metrics_line(&r, 1236);
	assert_int_equal(value_of(line, "block_rootfs", "read_count"), -1);
	free(line);
	metrics_unregister(&r, &b);
	metrics_set_fini(&a);
	metrics_set_fini(&b);
}

static void test_bad_names(void **state)
{
	struct metrics_set s;
	char longid[METRICS_ID_MAX + 1];

	(void)state;
	assert_int_equal(metrics_set_init(&s, "net", "a\"b", names, 2), -EINVAL);
	memset(longid, 'x', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	assert_int_equal(metrics_set_init(&s, "net", longid, names, 2), -EINVAL);
	assert_int_equal(metrics_set_init(&s, "net", "eth0", names, 2), 0);
	assert_string_equal(s.name, "net_eth0");
	metrics_set_fini(&s);
}

#define THREADS 4
#define ADDS	100000

static void *adder(void *arg)
{
	for (int i = 0; i < ADDS; i++)
		metrics_add(arg, 0, 1);
	return NULL;
}

static void test_concurrent_adds(void **state)
{
	struct metrics_registry r;
	struct metrics_set s;
	pthread_t t[THREADS];
	long long total = 0;
	char *line;

	(void)state;
	metrics_registry_init(&r);
	assert_int_equal(metrics_set_init(&s, "vcpu", NULL, names, 2), 0);
	metrics_register(&r, &s);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, adder, &s), 0);
	/* Lines taken meanwhile must add up to the total: nothing lost, nothing twice. */
	for (int i = 0; i < 20; i++) {
		line = metrics_line(&r, (u64)i);
		total += value_of(line, "vcpu", "read_count");
		free(line);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	line = metrics_line(&r, 99);
	total += value_of(line, "vcpu", "read_count");
	free(line);
	assert_int_equal(total, (long long)THREADS * ADDS);
	metrics_unregister(&r, &s);
	metrics_set_fini(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_groups_and_deltas),
		cmocka_unit_test(test_bad_names),
		cmocka_unit_test(test_concurrent_adds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
