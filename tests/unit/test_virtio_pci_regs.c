// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-pci register access: the BAR moving in config space, the device-specific
 * config, the PCI configuration access capability, access widths, and a hostile
 * driver poking everywhere (see virtio_pci_fixture.h for the fake device).
 */
#include "virtio_pci_fixture.h"

#define OTHER_BAR 0xd0000000ULL

static void other_io(void *opaque, u64 offset, u8 *data, u32 len, bool is_write)
{
	(void)opaque, (void)offset, (void)data, (void)len, (void)is_write;
	fail_msg("the other device was reached");
}

/* The device follows its BAR; a BAR on RAM or another device is not mapped. */
static void test_bar_moves(void **state)
{
	u8 d[4];

	(void)state;
	env_setup();
	assert_int_equal(
		bus_register(&env->vm.mmio_bus, OTHER_BAR, 0x1000, other_io, NULL, "other"), 0);
	fcfg_write(PCI_BAR0 + 16, 0xc1000000, 4);
	assert_false(bus_dispatch(&env->vm.mmio_bus, X86_PCI_MMIO_START, d, 4, false));
	env->bar = 0xc1000000;
	assert_int_equal(cc_read(VIRTIO_PCI_COMMON_NUMQ, 2), NR_QUEUES);
	/* Onto RAM: refused, stays unmapped. */
	fcfg_write(PCI_BAR0 + 16, 0x100000, 4);
	assert_false(env->vp->mapped);
	assert_false(bus_dispatch(&env->vm.mmio_bus, 0xc1000000, d, 4, false));
	/* Onto another device: refused. */
	fcfg_write(PCI_BAR0 + 16, (u32)OTHER_BAR, 4);
	assert_false(env->vp->mapped);
	/* Above 4 GiB, through the upper half. */
	fcfg_write(PCI_BAR0 + 16, 0, 4);
	fcfg_write(PCI_BAR0 + 20, 0x2, 4);
	assert_true(env->vp->mapped);
	env->bar = 0x200000000ULL;
	assert_int_equal(cc_read(VIRTIO_PCI_COMMON_NUMQ, 2), NR_QUEUES);
	fcfg_write(PCI_COMMAND, 0, 2);
	assert_false(env->vp->mapped);
	bus_unregister(&env->vm.mmio_bus, OTHER_BAR);
	env_teardown();
}

static void test_device_config(void **state)
{
	u64 base;

	(void)state;
	env_setup();
	base = fcfg_read(env->cap[VIRTIO_PCI_CAP_DEVICE_CFG] + VIRTIO_PCI_CAP_OFFSET, 4);
	assert_int_equal(bar_read(base, 4), 0x04030201);
	assert_int_equal(bar_read(base + 4, 4), 0x08070605);
	assert_int_equal(bar_read(base + 6, 2), 0x0807);
	assert_int_equal(bar_read(base + 4, 8), 0); /* crosses the end */
	assert_int_equal(bar_read(base + CFG_SIZE, 1), 0);
	bar_write(base + 2, 0xbeef, 2);
	assert_int_equal(env->dev->cfg_off, 2);
	assert_int_equal(env->dev->cfg_len, 2);
	assert_int_equal(io_data_get(env->dev->cfg_data, 2), 0xbeef);
	env->dev->cfg_len = 0;
	bar_write(base + CFG_SIZE - 1, 0xffff, 2);
	assert_int_equal(env->dev->cfg_len, 0);
	env_teardown();
}

/* The PCI configuration access capability reaches the BAR through config space. */
static void test_pci_cfg_window(void **state)
{
	u8 c;

	(void)state;
	env_setup();
	c = env->cap[VIRTIO_PCI_CAP_PCI_CFG];
	fcfg_write(c + VIRTIO_PCI_CAP_BAR, VP_BAR, 1);
	fcfg_write(c + VIRTIO_PCI_CAP_OFFSET, VP_COMMON_OFF + VIRTIO_PCI_COMMON_NUMQ, 4);
	fcfg_write(c + VIRTIO_PCI_CAP_LENGTH, 2, 4);
	assert_int_equal(fcfg_read(c + 16, 2), NR_QUEUES);
	fcfg_write(c + VIRTIO_PCI_CAP_OFFSET, VP_COMMON_OFF + VIRTIO_PCI_COMMON_STATUS, 4);
	fcfg_write(c + VIRTIO_PCI_CAP_LENGTH, 1, 4);
	fcfg_write(c + 16, VIRTIO_CONFIG_S_ACKNOWLEDGE, 1);
	assert_int_equal(status(), VIRTIO_CONFIG_S_ACKNOWLEDGE);
	/* Misaligned, a bad length or another BAR: nothing happens. */
	fcfg_write(c + VIRTIO_PCI_CAP_OFFSET, VP_COMMON_OFF + VIRTIO_PCI_COMMON_NUMQ + 1, 4);
	fcfg_write(c + VIRTIO_PCI_CAP_LENGTH, 2, 4);
	fcfg_write(c + 16, 0, 2);
	fcfg_write(c + VIRTIO_PCI_CAP_LENGTH, 3, 4);
	fcfg_write(c + 16, 0, 4);
	fcfg_write(c + VIRTIO_PCI_CAP_BAR, 0, 1);
	fcfg_write(c + VIRTIO_PCI_CAP_OFFSET, VP_COMMON_OFF + VIRTIO_PCI_COMMON_STATUS, 4);
	fcfg_write(c + VIRTIO_PCI_CAP_LENGTH, 1, 4);
	fcfg_write(c + 16, 0, 1);
	assert_int_equal(status(), VIRTIO_CONFIG_S_ACKNOWLEDGE);
	env_teardown();
}

/* Writes of the wrong width are dropped; read-only registers stay what they are. */
static void test_common_widths(void **state)
{
	(void)state;
	env_setup();
	cc_write(VIRTIO_PCI_COMMON_Q_SELECT, 1, 1);
	assert_int_equal(cc_read(VIRTIO_PCI_COMMON_Q_SELECT, 2), 0);
	cc_write(VIRTIO_PCI_COMMON_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE, 2);
	assert_int_equal(status(), 0);
	cc_write(VIRTIO_PCI_COMMON_NUMQ, 7, 2);
	cc_write(VIRTIO_PCI_COMMON_DF, 0xffffffff, 4);
	cc_write(VIRTIO_PCI_COMMON_CFGGENERATION, 9, 1);
	cc_write(VIRTIO_PCI_COMMON_Q_NOFF, 9, 2);
	assert_int_equal(cc_read(VIRTIO_PCI_COMMON_NUMQ, 2), NR_QUEUES);
	assert_int_equal(cc_read(VIRTIO_PCI_COMMON_CFGGENERATION, 1), 0);
	assert_int_equal(cc_read(VIRTIO_PCI_COMMON_Q_NOFF, 2), 0);
	/* Reads past the structure and in the gaps of the BAR are 0. */
	assert_int_equal(cc_read(VP_COMMON_SIZE, 4), 0);
	assert_int_equal(bar_read(VP_ISR_OFF + 4, 4), 0);
	assert_int_equal(bar_read(VP_BAR_SIZE - 8, 8), 0);
	env_teardown();
}

/* Random guest accesses all over config space and the BAR: no crash, no hang. */
static void test_hostile_driver(void **state)
{
	unsigned int seed = 12345;
	static const u32 lens[] = {1, 2, 4, 8};

	(void)state;
	env_setup();
	for (unsigned int i = 0; i < 200000; i++) {
		u8 d[8];
		u32 len = lens[rand_r(&seed) % 4];
		u64 off = (u64)(rand_r(&seed) % (VP_BAR_SIZE + 64));
		bool w = rand_r(&seed) & 1;

		for (unsigned int b = 0; b < 8; b++)
			d[b] = (u8)rand_r(&seed);
		if (i % 64 == 0) {
			/* Config space too, but keep memory decoding on and the BAR in place. */
			u32 reg = (u32)rand_r(&seed) % 256;

			if (reg >= PCI_COMMAND && reg < PCI_BAR_END)
				continue;
			cfg_write(&env->bus, SLOT, reg & ~(len > 4 ? 3u : len - 1),
				  (u32)rand_r(&seed), MIN(len, 4u));
			continue;
		}
		if (i % 5000 == 0) {
			/* A fresh driver now and then, so the running paths get hit too. */
			set_status(0);
			if (negotiate(BIT(VIRTIO_F_VERSION_1))) {
				setup_queue(0, 16, DESC_GPA);
				set_status(S_ALL);
			}
		}
		bus_dispatch(&env->vm.mmio_bus, env->bar + off, d, len, w);
		if (i % 1000 == 0)
			virtio_notify_queue(&env->dev->vdev, (unsigned int)rand_r(&seed) % 4);
	}
	assert_true(env->dev->stops <= env->dev->starts);
	env_teardown();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bar_moves),      cmocka_unit_test(test_device_config),
		cmocka_unit_test(test_pci_cfg_window), cmocka_unit_test(test_common_widths),
		cmocka_unit_test(test_hostile_driver),
	};

	return cmocka_run_group_tests_name("virtio_pci_regs", tests, NULL, NULL);
}
