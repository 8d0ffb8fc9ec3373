// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-pci from the driver's side through a device's life: identity and capabilities,
 * feature negotiation, queue setup and DRIVER_OK, reset, and NEEDS_RESET from either
 * side (see virtio_pci_fixture.h for the fake device).
 */
#include <errno.h>

#include "virtio_pci_fixture.h"

static void test_identity(void **state)
{
	u32 line;

	(void)state;
	env_setup();
	assert_int_equal(fcfg_read(PCI_VENDOR_ID, 2), 0x1af4);
	assert_int_equal(fcfg_read(PCI_DEVICE_ID, 2), 0x1040 + VIRTIO_ID_RNG);
	assert_int_equal(fcfg_read(PCI_REVISION_ID, 1), 1);
	assert_int_equal(fcfg_read(PCI_SUBSYSTEM_VENDOR_ID, 2), 0x1af4);
	assert_int_equal(fcfg_read(PCI_SUBSYSTEM_ID, 2), 0x1100);
	assert_int_equal(fcfg_read(PCI_REVISION_ID, 4) >> 8, 0x00ff00);
	assert_int_equal(fcfg_read(PCI_INTERRUPT_PIN, 1), 1);
	line = fcfg_read(PCI_INTERRUPT_LINE, 1);
	assert_int_equal(line, pci_intx_gsi(SLOT, 0));
	assert_int_equal(env->bar, X86_PCI_MMIO_START);
	assert_true(env->vp->mapped);
	env_teardown();
}

/* Each structure's capability points inside the BAR and at what answers there. */
static void test_capabilities(void **state)
{
	(void)state;
	env_setup();
	for (u8 type = VIRTIO_PCI_CAP_COMMON_CFG; type <= VIRTIO_PCI_CAP_PCI_CFG; type++) {
		u8 c = env->cap[type];
		u32 off, len;

		assert_int_not_equal(c, 0);
		if (type == VIRTIO_PCI_CAP_PCI_CFG)
			continue;
		assert_int_equal(fcfg_read(c + VIRTIO_PCI_CAP_BAR, 1), VP_BAR);
		off = fcfg_read(c + VIRTIO_PCI_CAP_OFFSET, 4);
		len = fcfg_read(c + VIRTIO_PCI_CAP_LENGTH, 4);
		assert_true(len > 0 && off + len <= VP_BAR_SIZE);
	}
	assert_int_equal(fcfg_read(env->cap[VIRTIO_PCI_CAP_NOTIFY_CFG] + 16, 4), 4);
	assert_int_equal(fcfg_read(env->cap[VIRTIO_PCI_CAP_NOTIFY_CFG] + VIRTIO_PCI_CAP_LENGTH, 4),
			 4 * NR_QUEUES);
	assert_int_equal(fcfg_read(env->cap[VIRTIO_PCI_CAP_DEVICE_CFG] + VIRTIO_PCI_CAP_LENGTH, 4),
			 CFG_SIZE);
	assert_int_not_equal(env->msix_cap, 0);
	assert_int_equal(fcfg_read(env->msix_cap + 2, 2) & 0x7ff, NR_QUEUES); /* N-1 = queues */
	assert_int_equal(cc_read(VIRTIO_PCI_COMMON_NUMQ, 2), NR_QUEUES);
	env_teardown();
}

static void test_feature_negotiation(void **state)
{
	(void)state;
	env_setup();
	cc_write(VIRTIO_PCI_COMMON_DFSELECT, 0, 4);
	assert_int_equal(cc_read(VIRTIO_PCI_COMMON_DF, 4), BIT(VIRTIO_RING_F_EVENT_IDX));
	cc_write(VIRTIO_PCI_COMMON_DFSELECT, 1, 4);
	assert_int_equal(cc_read(VIRTIO_PCI_COMMON_DF, 4), BIT(VIRTIO_F_VERSION_1 - 32) | BIT(8));
	cc_write(VIRTIO_PCI_COMMON_DFSELECT, 2, 4);
	assert_int_equal(cc_read(VIRTIO_PCI_COMMON_DF, 4), 0);
	/* Something not offered: FEATURES_OK stays clear. */
	assert_false(negotiate(BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_RING_F_INDIRECT_DESC)));
	set_status(0);
	/* No VERSION_1: refused too. */
	assert_false(negotiate(BIT(VIRTIO_RING_F_EVENT_IDX)));
	set_status(0);
	assert_true(negotiate(BIT(VIRTIO_F_VERSION_1) | BIT(40)));
	/* Final now: later writes change nothing. */
	cc_write(VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	cc_write(VIRTIO_PCI_COMMON_GF, BIT(VIRTIO_RING_F_EVENT_IDX), 4);
	assert_int_equal(cc_read(VIRTIO_PCI_COMMON_GF, 4), 0);
	assert_int_equal(env->dev->vdev.driver_features, BIT(VIRTIO_F_VERSION_1) | BIT(40));
	env_teardown();
}

static void test_queue_setup_and_start(void **state)
{
	(void)state;
	env_setup();
	/* Enabling before FEATURES_OK is refused. */
	cc_write(VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	assert_int_equal(cc_read(VIRTIO_PCI_COMMON_Q_SIZE, 2), QUEUE_MAX);
	cc_write(VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	assert_int_equal(cc_read(VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	assert_true(negotiate(BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_RING_F_EVENT_IDX)));
	/* Sizes: a power of 2 up to the maximum, else the write is ignored. */
	cc_write(VIRTIO_PCI_COMMON_Q_SIZE, 24, 2);
	cc_write(VIRTIO_PCI_COMMON_Q_SIZE, 2 * QUEUE_MAX, 2);
	cc_write(VIRTIO_PCI_COMMON_Q_SIZE, 0, 2);
	assert_int_equal(cc_read(VIRTIO_PCI_COMMON_Q_SIZE, 2), QUEUE_MAX);
	setup_queue(0, 16, DESC_GPA);
	assert_int_equal(cc_read(VIRTIO_PCI_COMMON_Q_ENABLE, 2), 1);
	assert_int_equal(cc_read(VIRTIO_PCI_COMMON_Q_SIZE, 2), 16);
	assert_int_equal(cc_read(VIRTIO_PCI_COMMON_Q_DESCLO, 8), DESC_GPA);
	assert_int_equal(cc_read(VIRTIO_PCI_COMMON_Q_NOFF, 2), 0);
	assert_true(env->dev->vdev.queues[0].vq.event_idx);
	/* An enabled queue's registers are frozen. */
	cc_write(VIRTIO_PCI_COMMON_Q_SIZE, 8, 2);
	cc_write(VIRTIO_PCI_COMMON_Q_DESCLO, 0x20000, 4);
	assert_int_equal(cc_read(VIRTIO_PCI_COMMON_Q_SIZE, 2), 16);
	assert_int_equal(cc_read(VIRTIO_PCI_COMMON_Q_DESCLO, 4), DESC_GPA);
	/* A queue that does not exist: size 0, writes ignored. */
	cc_write(VIRTIO_PCI_COMMON_Q_SELECT, NR_QUEUES, 2);
	assert_int_equal(cc_read(VIRTIO_PCI_COMMON_Q_SIZE, 2), 0);
	cc_write(VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	cc_write(VIRTIO_PCI_COMMON_Q_SELECT, 1, 2);
	assert_int_equal(cc_read(VIRTIO_PCI_COMMON_Q_NOFF, 2), 1);
	/* A 64-bit write works as well as two halves. */
	cc_write(VIRTIO_PCI_COMMON_Q_DESCLO, DESC_GPA + 0x1000, 8);
	assert_int_equal(cc_read(VIRTIO_PCI_COMMON_Q_DESCLO, 8), DESC_GPA + 0x1000);
	assert_int_equal(env->dev->starts, 0);
	set_status(S_ALL);
	assert_int_equal(env->dev->starts, 1);
	assert_int_equal(status(), S_ALL);
	/* Setting DRIVER_OK again does not start twice; queue_enable after it is refused. */
	set_status(S_ALL);
	cc_write(VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	assert_int_equal(cc_read(VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	assert_int_equal(env->dev->starts, 1);
	assert_int_equal(env->dev->stops, 0);
	env_teardown();
}

/* Status 0: stop, then everything the driver set is gone; a second driver starts over. */
static void test_reset(void **state)
{
	struct virtio_dev *vdev;
	u8 gen;

	(void)state;
	env_setup();
	vdev = &env->dev->vdev;
	bring_up();
	fcfg_write(env->msix_cap + 2, MSIX_CONTROL_ENABLE, 2);
	cc_write(VIRTIO_PCI_COMMON_MSIX, 0, 2);
	cc_write(VIRTIO_PCI_COMMON_Q_SELECT, 1, 2);
	cc_write(VIRTIO_PCI_COMMON_Q_MSIX, 2, 2);
	virtio_notify_config(vdev);
	gen = (u8)cc_read(VIRTIO_PCI_COMMON_CFGGENERATION, 1);
	assert_int_equal(gen, 1);
	set_status(0);
	assert_int_equal(env->dev->stops, 1);
	assert_int_equal(status(), 0);
	assert_int_equal(vdev->driver_features, 0);
	assert_int_equal(cc_read(VIRTIO_PCI_COMMON_MSIX, 2), VIRTIO_NO_VECTOR);
	assert_int_equal(cc_read(VIRTIO_PCI_COMMON_Q_SELECT, 2), 0);
	for (u16 q = 0; q < NR_QUEUES; q++) {
		cc_write(VIRTIO_PCI_COMMON_Q_SELECT, q, 2);
		assert_int_equal(cc_read(VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
		assert_int_equal(cc_read(VIRTIO_PCI_COMMON_Q_SIZE, 2), QUEUE_MAX);
		assert_int_equal(cc_read(VIRTIO_PCI_COMMON_Q_MSIX, 2), VIRTIO_NO_VECTOR);
		assert_int_equal(cc_read(VIRTIO_PCI_COMMON_Q_DESCLO, 8), 0);
	}
	assert_int_equal(cc_read(VIRTIO_PCI_COMMON_CFGGENERATION, 1), gen);
	/* A reset of a reset device stops nothing. */
	set_status(0);
	assert_int_equal(env->dev->stops, 1);
	bring_up();
	assert_int_equal(env->dev->starts, 2);
	virtio_notify_config(vdev);
	assert_int_equal(cc_read(VIRTIO_PCI_COMMON_CFGGENERATION, 1), gen + 1);
	env_teardown();
}

/* A ring outside RAM: NEEDS_RESET, config interrupt on INTx; ISR read acknowledges. */
static void test_bad_ring_needs_reset(void **state)
{
	(void)state;
	env_setup();
	assert_true(negotiate(BIT(VIRTIO_F_VERSION_1)));
	setup_queue(0, 16, RAM_SIZE - 0x80);
	assert_true(status() & VIRTIO_CONFIG_S_NEEDS_RESET);
	assert_int_equal(cc_read(VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	assert_true(env->intx);
	assert_true(fcfg_read(PCI_STATUS, 1) & PCI_STATUS_INTERRUPT);
	assert_int_equal(bar_read(VP_ISR_OFF, 1), VP_ISR_CONFIG);
	assert_false(env->intx);
	assert_false(fcfg_read(PCI_STATUS, 1) & PCI_STATUS_INTERRUPT);
	assert_int_equal(bar_read(VP_ISR_OFF, 1), 0);
	/* The driver cannot clear NEEDS_RESET, and DRIVER_OK does not start a broken device. */
	set_status(S_ALL);
	assert_true(status() & VIRTIO_CONFIG_S_NEEDS_RESET);
	assert_int_equal(env->dev->starts, 0);
	set_status(0);
	assert_int_equal(status(), 0);
	bring_up();
	assert_int_equal(env->dev->starts, 1);
	env_teardown();
}

/* From a device thread: NEEDS_RESET at once, stop() on the next register access. */
static void test_device_needs_reset(void **state)
{
	struct virtio_dev *vdev;

	(void)state;
	env_setup();
	vdev = &env->dev->vdev;
	bring_up();
	fcfg_write(env->msix_cap + 2, MSIX_CONTROL_ENABLE, 2);
	bar_write(VP_MSIX_TABLE_OFF + 0 * 16 + 12, 0, 4); /* unmask vector 0 */
	cc_write(VIRTIO_PCI_COMMON_MSIX, 0, 2);
	virtio_set_needs_reset(vdev, "test");
	assert_true(virtio_needs_reset(vdev));
	assert_int_equal(env->fired[0], 1);    /* the config vector */
	virtio_set_needs_reset(vdev, "again"); /* once is enough */
	assert_int_equal(env->fired[0], 1);
	assert_int_equal(env->dev->stops, 0);
	assert_true(status() & VIRTIO_CONFIG_S_NEEDS_RESET);
	assert_int_equal(env->dev->stops, 1);
	/* Queue notifications stop while broken. */
	cc_write(VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	cc_write(VIRTIO_PCI_COMMON_Q_MSIX, 1, 2);
	bar_write(VP_MSIX_TABLE_OFF + 1 * 16 + 12, 0, 4);
	virtio_notify_queue(vdev, 0);
	assert_int_equal(env->fired[1], 0);
	set_status(0);
	assert_int_equal(env->dev->stops, 1);
	assert_false(virtio_needs_reset(vdev));
	bring_up();
	assert_int_equal(env->dev->starts, 2);
	env_teardown();
}

static void test_driver_ok_without_features_ok(void **state)
{
	(void)state;
	env_setup();
	set_status(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	set_status(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		   VIRTIO_CONFIG_S_DRIVER_OK);
	assert_true(status() & VIRTIO_CONFIG_S_NEEDS_RESET);
	assert_int_equal(env->dev->starts, 0);
	/* A start() that fails reports NEEDS_RESET and is not stopped later. */
	set_status(0);
	env->dev->start_ret = -ENOMEM;
	assert_true(negotiate(BIT(VIRTIO_F_VERSION_1)));
	set_status(S_ALL);
	assert_true(status() & VIRTIO_CONFIG_S_NEEDS_RESET);
	assert_int_equal(env->dev->starts, 1);
	set_status(0);
	assert_int_equal(env->dev->stops, 0);
	env_teardown();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_capabilities),
		cmocka_unit_test(test_feature_negotiation),
		cmocka_unit_test(test_queue_setup_and_start),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_bad_ring_needs_reset),
		cmocka_unit_test(test_device_needs_reset),
		cmocka_unit_test(test_driver_ok_without_features_ok),
	};

	return cmocka_run_group_tests_name("virtio_pci_lifecycle", tests, NULL, NULL);
}
