// SPDX-License-Identifier: GPL-2.0-only
/* fw_cfg items as test guests read them: signature, ID, CPU count, RAM size. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "devices/fw_cfg.h"

static u64 read_item(const struct fw_cfg_items *items, u16 key, u32 len)
{
	u64 v = 0;

	for (u32 i = 0; i < len; i++)
		v |= (u64)fw_cfg_items_read(items, key, i) << (8 * i);
	return v;
}

static void test_fw_cfg_items(void **state)
{
	struct fw_cfg_items items;

	(void)state;
	fw_cfg_items_init(&items, 3, 512 * MiB);
	assert_int_equal(read_item(&items, FW_CFG_SIGNATURE, 4), 0x554d4551); /* "QEMU" */
	assert_int_equal(read_item(&items, FW_CFG_ID, 4), 1);
	assert_int_equal(read_item(&items, FW_CFG_NB_CPUS, 2), 3);
	assert_int_equal(read_item(&items, FW_CFG_MAX_CPUS, 2), 3);
	assert_int_equal(read_item(&items, FW_CFG_RAM_SIZE, 8), 512 * MiB);
	/* Past an item's end, unknown keys and huge offsets all read 0. */
	assert_int_equal(fw_cfg_items_read(&items, FW_CFG_NB_CPUS, 2), 0);
	assert_int_equal(fw_cfg_items_read(&items, 0x1f, 0), 0);
	assert_int_equal(fw_cfg_items_read(&items, 0x7fff, 0), 0);
	assert_int_equal(fw_cfg_items_read(&items, FW_CFG_SIGNATURE, 0xffffffff), 0);
	/* The write-channel and arch-local bits do not select other memory. */
	assert_int_equal(fw_cfg_items_read(&items, 0x4000 | FW_CFG_SIGNATURE, 0), 'Q');
	assert_int_equal(fw_cfg_items_read(&items, 0xffff, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fw_cfg_items),
	};

	return cmocka_run_group_tests_name("fw_cfg", tests, NULL, NULL);
}
