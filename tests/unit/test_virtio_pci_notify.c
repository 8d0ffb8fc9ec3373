// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-pci notifications both ways: queue and config interrupts over INTx and MSI-X,
 * interrupt eventfds for vhost-like writers, and driver kicks through the notify
 * region (see virtio_pci_fixture.h for the fake device).
 */
#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include "virtio_pci_fixture.h"

/* Pushes one used element so that the ring has something to notify about. */
static void push_one(unsigned int q)
{
	assert_int_equal(virtqueue_push(&env->dev->vdev.queues[q].vq, 0, 0), 0);
}

static void test_queue_interrupts(void **state)
{
	struct virtio_dev *vdev;

	(void)state;
	env_setup();
	vdev = &env->dev->vdev;
	/* Without EVENT_IDX every push asks for an interrupt (avail flags are 0). */
	bring_up_with(BIT(VIRTIO_F_VERSION_1));
	/* INTx: ISR bit 0, line up until ISR is read. */
	push_one(0);
	virtio_notify_queue(vdev, 0);
	assert_true(env->intx);
	assert_int_equal(bar_read(VP_ISR_OFF, 1), VP_ISR_QUEUE);
	assert_false(env->intx);
	/* INTx disabled in COMMAND: ISR still set, line stays low until re-enabled. */
	fcfg_write(PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_INTX_DISABLE, 2);
	push_one(0);
	virtio_notify_queue(vdev, 0);
	assert_false(env->intx);
	fcfg_write(PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	assert_true(env->intx);
	/* MSI-X on: the line drops, notifications go to the queue's vector. */
	fcfg_write(env->msix_cap + 2, MSIX_CONTROL_ENABLE, 2);
	assert_false(env->intx);
	assert_int_equal(bar_read(VP_ISR_OFF, 1), VP_ISR_QUEUE);
	cc_write(VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	cc_write(VIRTIO_PCI_COMMON_Q_MSIX, 1, 2);
	assert_int_equal(cc_read(VIRTIO_PCI_COMMON_Q_MSIX, 2), 1);
	/* A vector the table lacks reads back NO_VECTOR. */
	cc_write(VIRTIO_PCI_COMMON_MSIX, NR_QUEUES + 1, 2);
	assert_int_equal(cc_read(VIRTIO_PCI_COMMON_MSIX, 2), VIRTIO_NO_VECTOR);
	push_one(0);
	virtio_notify_queue(vdev, 0);
	assert_int_equal(env->fired[1], 0); /* masked: pending */
	assert_int_equal(bar_read(VP_MSIX_PBA_OFF, 8), 1u << 1);
	bar_write(VP_MSIX_TABLE_OFF + 1 * 16 + 12, 0, 4);
	assert_int_equal(env->fired[1], 1);
	push_one(0);
	virtio_notify_queue(vdev, 0);
	assert_int_equal(env->fired[1], 2);
	assert_int_equal(bar_read(VP_ISR_OFF, 1), 0);
	/* No new used entry: nothing to say. Queue without a vector: nothing sent. */
	virtio_notify_queue(vdev, 0);
	assert_int_equal(env->fired[1], 2);
	push_one(1);
	virtio_notify_queue(vdev, 1);
	virtio_notify_queue(vdev, 7);
	for (unsigned int v = 0; v < MSIX_MAX_VECTORS; v++)
		assert_int_equal(env->fired[v], v == 1 ? 2 : 0);
	assert_false(env->intx);
	env_teardown();
}

/* Waits up to a second for what another thread does. */
static bool eventually(const unsigned int *counter, unsigned int want)
{
	for (int i = 0; i < 1000 && __atomic_load_n(counter, __ATOMIC_ACQUIRE) < want; i++)
		usleep(1000);
	return __atomic_load_n(counter, __ATOMIC_ACQUIRE) >= want;
}

/* An eventfd for vhost-like writers: each write is one queue interrupt, masking kept. */
static void test_queue_irqfd(void **state)
{
	struct virtio_dev *vdev;
	u64 one = 1;
	int fd;

	(void)state;
	env_setup();
	vdev = &env->dev->vdev;
	assert_int_equal(virtio_queue_irqfd(vdev, NR_QUEUES), -EINVAL);
	fd = virtio_queue_irqfd(vdev, 1);
	assert_true(fd >= 0);
	assert_int_equal(virtio_queue_irqfd(vdev, 1), fd);
	bring_up();
	/* INTx mode: ISR and the line. */
	assert_int_equal(write(fd, &one, 8), 8);
	assert_true(eventually(&env->intx_raises, 1));
	assert_int_equal(bar_read(VP_ISR_OFF, 1), VP_ISR_QUEUE);
	/* MSI-X: the queue's vector, pending while masked. */
	fcfg_write(env->msix_cap + 2, MSIX_CONTROL_ENABLE, 2);
	cc_write(VIRTIO_PCI_COMMON_Q_SELECT, 1, 2);
	cc_write(VIRTIO_PCI_COMMON_Q_MSIX, 2, 2);
	assert_int_equal(write(fd, &one, 8), 8);
	for (int i = 0; i < 1000 && !(bar_read(VP_MSIX_PBA_OFF, 8) & 4); i++)
		usleep(1000);
	assert_int_equal(bar_read(VP_MSIX_PBA_OFF, 8), 1u << 2);
	bar_write(VP_MSIX_TABLE_OFF + 2 * 16 + 12, 0, 4);
	assert_int_equal(env->fired[2], 1);
	assert_int_equal(write(fd, &one, 8), 8);
	assert_true(eventually(&env->fired[2], 2));
	/* A second queue's fd joins the same forwarding thread. */
	assert_true(virtio_queue_irqfd(vdev, 0) >= 0);
	env_teardown();
}

static bool readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, 0) == 1;
}

/* Without ioeventfds (no KVM here) the MMIO handler kicks the queue's eventfd. */
static void test_notify_kicks(void **state)
{
	u32 base;
	u64 v;

	(void)state;
	env_setup();
	base = fcfg_read(env->cap[VIRTIO_PCI_CAP_NOTIFY_CFG] + VIRTIO_PCI_CAP_OFFSET, 4);
	assert_false(readable(env->dev->vdev.queues[1].kick_fd));
	bar_write(base + 4 * 1, 1, 2);
	assert_true(readable(env->dev->vdev.queues[1].kick_fd));
	assert_false(readable(env->dev->vdev.queues[0].kick_fd));
	assert_int_equal(read(env->dev->vdev.queues[1].kick_fd, &v, 8), 8);
	bar_write(base, 0, 4); /* any width at the queue's address */
	assert_true(readable(env->dev->vdev.queues[0].kick_fd));
	bar_write(base + 4 * NR_QUEUES, 0, 2); /* beyond the queues */
	bar_write(base + 2, 0, 2);	       /* between addresses */
	assert_false(readable(env->dev->vdev.queues[1].kick_fd));
	/* A reset drops kicks the device never saw. */
	set_status(0);
	assert_false(readable(env->dev->vdev.queues[0].kick_fd));
	env_teardown();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_queue_interrupts),
		cmocka_unit_test(test_notify_kicks),
		cmocka_unit_test(test_queue_irqfd),
	};

	return cmocka_run_group_tests_name("virtio_pci_notify", tests, NULL, NULL);
}
