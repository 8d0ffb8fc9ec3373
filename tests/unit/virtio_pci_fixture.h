/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The virtio-pci transport driven the way a driver drives it (config space, then the BAR
 * through the MMIO bus), against a fake device type that counts start() and stop(),
 * with fake INTx and MSI-X backends. No KVM: ioeventfds fail, so notify writes take the
 * MMIO path. A test calls env_setup() first and env_teardown() last; env is its device.
 */
#ifndef KVMBOX_TESTS_UNIT_VIRTIO_PCI_FIXTURE_H
#define KVMBOX_TESTS_UNIT_VIRTIO_PCI_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <linux/virtio_pci.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/layout.h"
#include "bus.h"
#include "devices/msix.h"
#include "devices/pci.h"
#include "devices/virtio/virtio_pci.h"
#include "pci_conf1.h"
#include "vm.h"

#define SLOT	  1 /* slot 0 holds a host bridge, as on the board */
#define NR_QUEUES 2
#define QUEUE_MAX 64
#define CFG_SIZE  8
#define RAM_SIZE  (2 * MiB)
#define DESC_GPA  0x10000
#define AVAIL_GPA 0x11000
#define USED_GPA  0x12000

struct fake_dev {
	struct virtio_dev vdev;
	u8 config[CFG_SIZE];
	unsigned int starts, stops;
	int start_ret;
	u32 cfg_off, cfg_len;
	u8 cfg_data[8];
};

struct env {
	struct vm vm;
	struct vm_config cfg;
	struct pci_bus bus;
	struct pci_function bridge;
	struct fake_dev *dev;
	struct virtio_pci *vp;
	u64 bar;
	bool intx;
	unsigned int intx_raises;
	unsigned int fired[MSIX_MAX_VECTORS];
	u8 cap[VIRTIO_PCI_CAP_PCI_CFG + 1]; /* config offset of each virtio cap type */
	u8 msix_cap;
};

static struct env *env;

static inline int fake_start(struct virtio_dev *vdev)
{
	struct fake_dev *d = container_of(vdev, struct fake_dev, vdev);

	d->starts++;
	return d->start_ret;
}

static inline void fake_stop(struct virtio_dev *vdev)
{
	struct fake_dev *d = container_of(vdev, struct fake_dev, vdev);

	d->stops++;
}

static inline void fake_config_write(struct virtio_dev *vdev, u32 offset, const u8 *data, u32 len)
{
	struct fake_dev *d = container_of(vdev, struct fake_dev, vdev);

	d->cfg_off = offset;
	d->cfg_len = len;
	memcpy(d->cfg_data, data, len);
}

static inline void fake_destroy(struct virtio_dev *vdev)
{
	free(container_of(vdev, struct fake_dev, vdev));
}

static const struct virtio_dev_ops fake_ops = {
	.name = "virtio-fake",
	.device_id = VIRTIO_ID_RNG,
	.num_queues = NR_QUEUES,
	.queue_max_size = QUEUE_MAX,
	.start = fake_start,
	.stop = fake_stop,
	.config_write = fake_config_write,
	.destroy = fake_destroy,
};

static inline void fake_intx(struct virtio_pci *vp, bool level)
{
	(void)vp;
	env->intx = level;
	__atomic_fetch_add(&env->intx_raises, level, __ATOMIC_RELEASE);
}

static inline int fake_route(struct msix *m, unsigned int v, u64 addr, u32 data)
{
	(void)m, (void)v, (void)addr, (void)data;
	return 0;
}

static inline void fake_fire(struct msix *m, unsigned int v)
{
	(void)m;
	__atomic_fetch_add(&env->fired[v], 1, __ATOMIC_RELEASE);
}

static const struct msix_backend fake_msix = {.route = fake_route, .fire = fake_fire};
static const struct virtio_pci_hooks fake_hooks = {
	.set_intx = fake_intx,
	.msix_backend = &fake_msix,
};

static inline u32 fcfg_read(u32 reg, u32 len)
{
	return cfg_read(&env->bus, SLOT, reg, len);
}

static inline void fcfg_write(u32 reg, u32 val, u32 len)
{
	cfg_write(&env->bus, SLOT, reg, val, len);
}

static inline bool bar_io(u64 off, u8 *d, u32 len, bool w)
{
	return bus_dispatch(&env->vm.mmio_bus, env->bar + off, d, len, w);
}

static inline u64 bar_read(u64 off, u32 len)
{
	u8 d[8];

	memset(d, 0xa5, sizeof(d));
	assert_true(bar_io(off, d, len, false));
	return io_data_get(d, len);
}

static inline void bar_write(u64 off, u64 val, u32 len)
{
	u8 d[8];

	io_data_put(d, len, val);
	assert_true(bar_io(off, d, len, true));
}

/* The common config through the capability a driver would find. */
static inline u64 common_off(void)
{
	return fcfg_read(env->cap[VIRTIO_PCI_CAP_COMMON_CFG] + VIRTIO_PCI_CAP_OFFSET, 4);
}

static inline u64 cc_read(u32 reg, u32 len)
{
	return bar_read(common_off() + reg, len);
}

static inline void cc_write(u32 reg, u64 val, u32 len)
{
	bar_write(common_off() + reg, val, len);
}

static inline u8 status(void)
{
	return (u8)cc_read(VIRTIO_PCI_COMMON_STATUS, 1);
}

static inline void set_status(u8 s)
{
	cc_write(VIRTIO_PCI_COMMON_STATUS, s, 1);
}

/* Walks the capability list the way the Linux driver does. */
static inline void find_caps(void)
{
	unsigned int n = 0;

	memset(env->cap, 0, sizeof(env->cap));
	for (u8 c = (u8)fcfg_read(PCI_CAPABILITY_LIST, 1); c; c = (u8)fcfg_read(c + 1, 1)) {
		assert_true(c >= 0x40 && n++ < 48);
		if (fcfg_read(c, 1) == PCI_CAP_ID_MSIX) {
			env->msix_cap = c;
			continue;
		}
		assert_int_equal(fcfg_read(c, 1), PCI_CAP_ID_VNDR);
		u8 type = (u8)fcfg_read(c + VIRTIO_PCI_CAP_CFG_TYPE, 1);
		assert_true(type >= 1 && type <= VIRTIO_PCI_CAP_PCI_CFG);
		assert_int_equal(env->cap[type], 0);
		env->cap[type] = c;
	}
}

static inline void env_setup(void)
{
	struct fake_dev *d;

	env = calloc(1, sizeof(*env));
	assert_non_null(env);
	env->vm.cfg = &env->cfg;
	env->vm.vm_fd = env->vm.kvm_fd = -1;
	bus_init(&env->vm.mmio_bus, "mmio");
	bus_init(&env->vm.pio_bus, "pio");
	pci_bus_init(&env->bus);
	env->vm.pci = &env->bus;
	pci_function_init(&env->bridge, PCI_VENDOR_REDHAT, PCI_DEVICE_REDHAT_HOST,
			  PCI_CLASS_BRIDGE_HOST);
	pci_bus_add(&env->bus, &env->bridge, 0);
	assert_int_equal(guest_memory_layout(&env->vm.mem, RAM_SIZE, X86_MMIO_HOLE_START), 0);
	assert_int_equal(guest_memory_alloc(&env->vm.mem), 0);
	d = calloc(1, sizeof(*d));
	assert_non_null(d);
	d->vdev.ops = &fake_ops;
	d->vdev.device_features = BIT(VIRTIO_RING_F_EVENT_IDX) | BIT(40);
	d->vdev.config = d->config;
	d->vdev.config_size = CFG_SIZE;
	memcpy(d->config, "\x01\x02\x03\x04\x05\x06\x07\x08", CFG_SIZE);
	assert_int_equal(virtio_pci_register_hooks(&env->vm, &d->vdev, &fake_hooks), 0);
	env->dev = d;
	env->vp = d->vdev.transport;
	find_caps();
	fcfg_write(PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	env->bar = (fcfg_read(PCI_BAR0 + 16, 4) & ~0xfu) | (u64)fcfg_read(PCI_BAR0 + 20, 4) << 32;
}

static inline void env_teardown(void)
{
	struct device *dev = env->vm.devices;

	assert_ptr_equal(dev, &env->dev->vdev.dev);
	dev->ops->destroy(dev);
	bus_destroy(&env->vm.mmio_bus);
	bus_destroy(&env->vm.pio_bus);
	pci_bus_destroy(&env->bus);
	guest_memory_free(&env->vm.mem);
	free(env);
	env = NULL;
}

/* ACKNOWLEDGE, DRIVER, the features, FEATURES_OK; returns whether it stuck. */
static inline bool negotiate(u64 features)
{
	set_status(VIRTIO_CONFIG_S_ACKNOWLEDGE);
	set_status(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	cc_write(VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	cc_write(VIRTIO_PCI_COMMON_GF, (u32)features, 4);
	cc_write(VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	cc_write(VIRTIO_PCI_COMMON_GF, (u32)(features >> 32), 4);
	set_status(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		   VIRTIO_CONFIG_S_FEATURES_OK);
	return status() & VIRTIO_CONFIG_S_FEATURES_OK;
}

static inline void setup_queue(u16 q, u16 size, u64 desc)
{
	cc_write(VIRTIO_PCI_COMMON_Q_SELECT, q, 2);
	cc_write(VIRTIO_PCI_COMMON_Q_SIZE, size, 2);
	cc_write(VIRTIO_PCI_COMMON_Q_DESCLO, (u32)desc, 4);
	cc_write(VIRTIO_PCI_COMMON_Q_DESCHI, (u32)(desc >> 32), 4);
	cc_write(VIRTIO_PCI_COMMON_Q_AVAILLO, AVAIL_GPA + q * 0x100, 4);
	cc_write(VIRTIO_PCI_COMMON_Q_AVAILHI, 0, 4);
	cc_write(VIRTIO_PCI_COMMON_Q_USEDLO, USED_GPA + q * 0x400, 4);
	cc_write(VIRTIO_PCI_COMMON_Q_USEDHI, 0, 4);
	cc_write(VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
}

static const u8 S_ALL = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
			VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK;

static inline void bring_up_with(u64 features)
{
	assert_true(negotiate(features));
	setup_queue(0, 16, DESC_GPA);
	setup_queue(1, 16, DESC_GPA + 0x1000);
	set_status(S_ALL);
	assert_int_equal(status(), S_ALL);
}

static inline void bring_up(void)
{
	bring_up_with(BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_RING_F_EVENT_IDX));
}

#endif
