// SPDX-License-Identifier: GPL-2.0-only
/*
 * PCI BARs through conf1, and the virtio-pci transport driven the way a driver drives
 * it (config space, then the BAR through the MMIO bus), against a fake device type that
 * counts start() and stop(), with fake INTx and MSI-X backends. No KVM: ioeventfds fail,
 * so notify writes take the MMIO path.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <linux/virtio_pci.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch/x86/layout.h"
#include "bus.h"
#include "devices/msix.h"
#include "devices/pci.h"
#include "devices/virtio/virtio_pci.h"
#include "vm.h"

#define SLOT	  1 /* slot 0 holds a host bridge, as on the board */
#define NR_QUEUES 2
#define QUEUE_MAX 64
#define CFG_SIZE  8
#define RAM_SIZE  (2 * MiB)
#define DESC_GPA  0x10000
#define AVAIL_GPA 0x11000
#define USED_GPA  0x12000
#define OTHER_BAR 0xd0000000ULL

/* --- PCI BARs, with a function of its own --- */

struct bar_log {
	unsigned int maps, unmaps;
	u64 last_map, last_unmap;
	int map_ret;
};

static int log_map(struct pci_function *fn, unsigned int bar, u64 addr)
{
	struct bar_log *l = fn->opaque;

	assert_int_equal(bar, 4);
	if (l->map_ret)
		return l->map_ret;
	l->maps++;
	l->last_map = addr;
	return 0;
}

static void log_unmap(struct pci_function *fn, unsigned int bar, u64 addr)
{
	struct bar_log *l = fn->opaque;

	assert_int_equal(bar, 4);
	l->unmaps++;
	l->last_unmap = addr;
}

static void conf1_select(struct pci_bus *bus, unsigned int slot, u32 reg)
{
	u8 a[4];

	io_data_put(a, 4, 0x80000000u | slot << 11 | (reg & 0xfc));
	pci_conf1_io(bus, 0, a, 4, true);
}

static void cfg_write(struct pci_bus *bus, unsigned int slot, u32 reg, u32 val, u32 len)
{
	u8 d[4];

	conf1_select(bus, slot, reg);
	io_data_put(d, len, val);
	pci_conf1_io(bus, 4 + (reg & 3), d, len, true);
}

static u32 cfg_read(struct pci_bus *bus, unsigned int slot, u32 reg, u32 len)
{
	u8 d[4] = {0};

	conf1_select(bus, slot, reg);
	pci_conf1_io(bus, 4 + (reg & 3), d, len, false);
	return (u32)io_data_get(d, len);
}

/* Sizing: all-ones in, ~(size - 1) plus the type bits out; the old value restored. */
static void test_bar_sizing(void **state)
{
	struct pci_bus bus;
	struct pci_function fn;
	struct bar_log log = {0};

	(void)state;
	pci_bus_init(&bus);
	pci_function_init(&fn, 0x1af4, 0x1044, 0x00ff);
	fn.opaque = &log;
	fn.bar_map = log_map;
	fn.bar_unmap = log_unmap;
	assert_int_equal(pci_function_add_bar64(&fn, 4, 0x8000), 0);
	pci_function_set_bar_addr(&fn, 4, 0xc0008000);
	assert_int_equal(pci_bus_add(&bus, &fn, 2), 2);
	assert_int_equal(cfg_read(&bus, 2, PCI_BAR0 + 16, 4), 0xc0008000 | PCI_BAR_MEM_TYPE_64);
	cfg_write(&bus, 2, PCI_BAR0 + 16, 0xffffffff, 4);
	cfg_write(&bus, 2, PCI_BAR0 + 20, 0xffffffff, 4);
	assert_int_equal(cfg_read(&bus, 2, PCI_BAR0 + 16, 4), 0xffff8000 | PCI_BAR_MEM_TYPE_64);
	assert_int_equal(cfg_read(&bus, 2, PCI_BAR0 + 20, 4), 0xffffffff);
	cfg_write(&bus, 2, PCI_BAR0 + 16, 0xc0008000, 4);
	cfg_write(&bus, 2, PCI_BAR0 + 20, 0, 4);
	assert_int_equal(pci_function_bar_addr(&fn, 4), 0xc0008000);
	/* Decoding was off throughout: nothing was mapped. */
	assert_int_equal(log.maps, 0);
	/* Unimplemented BARs and the ROM BAR read 0 whatever is written. */
	for (u32 reg = PCI_BAR0; reg < PCI_BAR0 + 16; reg += 4) {
		cfg_write(&bus, 2, reg, 0xffffffff, 4);
		assert_int_equal(cfg_read(&bus, 2, reg, 4), 0);
	}
	cfg_write(&bus, 2, 0x30, 0xffffffff, 4);
	assert_int_equal(cfg_read(&bus, 2, 0x30, 4), 0);
	/* Bad BAR declarations. */
	assert_int_equal(pci_function_add_bar64(&fn, 4, 0x8000), -EINVAL);
	assert_int_equal(pci_function_add_bar64(&fn, 5, 0x8000), -EINVAL);
	assert_int_equal(pci_function_add_bar64(&fn, 0, 0x3000), -EINVAL);
	assert_int_equal(pci_function_add_bar64(&fn, 0, 8), -EINVAL);
	pci_bus_destroy(&bus);
}

/* COMMAND.MEM maps; moving the BAR remaps; clearing MEM unmaps; failures are not retried. */
static void test_bar_remap(void **state)
{
	struct pci_bus bus;
	struct pci_function fn;
	struct bar_log log = {0};

	(void)state;
	pci_bus_init(&bus);
	pci_function_init(&fn, 0x1af4, 0x1044, 0x00ff);
	fn.opaque = &log;
	fn.bar_map = log_map;
	fn.bar_unmap = log_unmap;
	assert_int_equal(pci_function_add_bar64(&fn, 4, 0x4000), 0);
	pci_function_set_bar_addr(&fn, 4, 0xc0000000);
	pci_bus_add(&bus, &fn, 1);
	cfg_write(&bus, 1, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	assert_int_equal(log.maps, 1);
	assert_int_equal(log.last_map, 0xc0000000);
	/* A 64-bit move, one half at a time: unmapped, then mapped at each new address. */
	cfg_write(&bus, 1, PCI_BAR0 + 20, 0x1, 4);
	assert_int_equal(log.unmaps, 1);
	assert_int_equal(log.last_unmap, 0xc0000000);
	assert_int_equal(log.last_map, 0x1c0000000ULL);
	cfg_write(&bus, 1, PCI_BAR0 + 16, 0x12345678, 4);
	assert_int_equal(log.last_map, 0x112344000ULL); /* low bits are hardwired to 0 */
	assert_int_equal(log.maps, 3);
	/* Writes that change nothing do not remap. */
	cfg_write(&bus, 1, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	cfg_write(&bus, 1, PCI_INTERRUPT_LINE, 5, 1);
	assert_int_equal(log.maps, 3);
	cfg_write(&bus, 1, PCI_COMMAND, 0, 2);
	assert_int_equal(log.unmaps, 3);
	assert_false(fn.bars[4].mapped);
	/* A refused address stays unmapped, and is not retried until the BAR moves. */
	log.map_ret = -EEXIST;
	cfg_write(&bus, 1, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	log.map_ret = 0;
	cfg_write(&bus, 1, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_IO, 2);
	assert_int_equal(log.maps, 3);
	cfg_write(&bus, 1, PCI_BAR0 + 20, 0, 4);
	assert_int_equal(log.maps, 4);
	pci_function_unmap_bars(&fn);
	assert_int_equal(log.unmaps, 4);
	pci_bus_destroy(&bus);
}

static void test_caps_and_ranges(void **state)
{
	struct pci_function fn;
	struct guest_memory mem;
	int a, b;

	(void)state;
	pci_function_init(&fn, 1, 2, 3);
	a = pci_function_add_cap(&fn, 0x09, 16);
	b = pci_function_add_cap(&fn, 0x11, 12);
	assert_int_equal(a, 0x40);
	assert_int_equal(b, 0x50);
	assert_int_equal(fn.config[PCI_CAPABILITY_LIST], 0x40);
	assert_int_equal(fn.config[0x41], 0x50);
	assert_int_equal(fn.config[0x51], 0);
	assert_true(fn.config[PCI_STATUS] & PCI_STATUS_CAP_LIST);
	while (pci_function_add_cap(&fn, 0x09, 20) > 0)
		;
	assert_int_equal(pci_function_add_cap(&fn, 0x09, 20), -ENOSPC);

	assert_int_equal(guest_memory_layout(&mem, 4 * GiB, X86_MMIO_HOLE_START), 0);
	assert_true(pci_bar_range_ok(&mem, X86_PCI_MMIO_START, 0x8000));
	assert_false(pci_bar_range_ok(&mem, 0, 0x8000));
	assert_false(pci_bar_range_ok(&mem, X86_PCI_MMIO_START - 0x1000, 0x8000));
	assert_false(pci_bar_range_ok(&mem, 4 * GiB, 0x8000)); /* RAM above 4G */
	assert_true(pci_bar_range_ok(&mem, 5 * GiB, 0x8000));
	assert_false(pci_bar_range_ok(&mem, X86_IOAPIC_GPA - 0x4000, 0x8000));
	assert_false(pci_bar_range_ok(&mem, X86_LAPIC_GPA, 0x8000));
	assert_false(pci_bar_range_ok(&mem, ~0ULL - 0x3fff, 0x8000));
	assert_false(pci_bar_range_ok(&mem, X86_PCI_MMIO_START, 0));
}

static void test_mmio_alloc(void **state)
{
	struct pci_bus bus;
	u64 a, b, c;

	(void)state;
	pci_bus_init(&bus);
	assert_int_equal(pci_bus_alloc_mmio(&bus, 0x1000, &a), 0);
	assert_int_equal(pci_bus_alloc_mmio(&bus, 0x8000, &b), 0);
	assert_int_equal(pci_bus_alloc_mmio(&bus, 0x1000, &c), 0);
	assert_int_equal(a, X86_PCI_MMIO_START);
	assert_int_equal(b, X86_PCI_MMIO_START + 0x8000); /* naturally aligned */
	assert_int_equal(c, X86_PCI_MMIO_START + 0x10000);
	assert_int_equal(pci_bus_alloc_mmio(&bus, 0x3000, &a), -EINVAL);
	assert_int_equal(pci_bus_alloc_mmio(&bus, X86_PCI_MMIO_SIZE, &a), -ENOSPC);
	pci_bus_destroy(&bus);
}

/* --- virtio-pci with a fake device --- */

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

static int fake_start(struct virtio_dev *vdev)
{
	struct fake_dev *d = container_of(vdev, struct fake_dev, vdev);

	d->starts++;
	return d->start_ret;
}

static void fake_stop(struct virtio_dev *vdev)
{
	struct fake_dev *d = container_of(vdev, struct fake_dev, vdev);

	d->stops++;
}

static void fake_config_write(struct virtio_dev *vdev, u32 offset, const u8 *data, u32 len)
{
	struct fake_dev *d = container_of(vdev, struct fake_dev, vdev);

	d->cfg_off = offset;
	d->cfg_len = len;
	memcpy(d->cfg_data, data, len);
}

static void fake_destroy(struct virtio_dev *vdev)
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

static void fake_intx(struct virtio_pci *vp, bool level)
{
	(void)vp;
	env->intx = level;
	__atomic_fetch_add(&env->intx_raises, level, __ATOMIC_RELEASE);
}

static int fake_route(struct msix *m, unsigned int v, u64 addr, u32 data)
{
	(void)m, (void)v, (void)addr, (void)data;
	return 0;
}

static void fake_fire(struct msix *m, unsigned int v)
{
	(void)m;
	__atomic_fetch_add(&env->fired[v], 1, __ATOMIC_RELEASE);
}

static const struct msix_backend fake_msix = {.route = fake_route, .fire = fake_fire};
static const struct virtio_pci_hooks fake_hooks = {
	.set_intx = fake_intx,
	.msix_backend = &fake_msix,
};

static u32 fcfg_read(u32 reg, u32 len)
{
	return cfg_read(&env->bus, SLOT, reg, len);
}

static void fcfg_write(u32 reg, u32 val, u32 len)
{
	cfg_write(&env->bus, SLOT, reg, val, len);
}

static bool bar_io(u64 off, u8 *d, u32 len, bool w)
{
	return bus_dispatch(&env->vm.mmio_bus, env->bar + off, d, len, w);
}

static u64 bar_read(u64 off, u32 len)
{
	u8 d[8];

	memset(d, 0xa5, sizeof(d));
	assert_true(bar_io(off, d, len, false));
	return io_data_get(d, len);
}

static void bar_write(u64 off, u64 val, u32 len)
{
	u8 d[8];

	io_data_put(d, len, val);
	assert_true(bar_io(off, d, len, true));
}

/* The common config through the capability a driver would find. */
static u64 common_off(void)
{
	return fcfg_read(env->cap[VIRTIO_PCI_CAP_COMMON_CFG] + VIRTIO_PCI_CAP_OFFSET, 4);
}

static u64 cc_read(u32 reg, u32 len)
{
	return bar_read(common_off() + reg, len);
}

static void cc_write(u32 reg, u64 val, u32 len)
{
	bar_write(common_off() + reg, val, len);
}

static u8 status(void)
{
	return (u8)cc_read(VIRTIO_PCI_COMMON_STATUS, 1);
}

static void set_status(u8 s)
{
	cc_write(VIRTIO_PCI_COMMON_STATUS, s, 1);
}

/* Walks the capability list the way the Linux driver does. */
static void find_caps(void)
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

static void env_setup(void)
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

static void env_teardown(void)
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
static bool negotiate(u64 features)
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

static void setup_queue(u16 q, u16 size, u64 desc)
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

static void bring_up_with(u64 features)
{
	assert_true(negotiate(features));
	setup_queue(0, 16, DESC_GPA);
	setup_queue(1, 16, DESC_GPA + 0x1000);
	set_status(S_ALL);
	assert_int_equal(status(), S_ALL);
}

static void bring_up(void)
{
	bring_up_with(BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_RING_F_EVENT_IDX));
}

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
		cmocka_unit_test(test_bar_sizing),
		cmocka_unit_test(test_bar_remap),
		cmocka_unit_test(test_caps_and_ranges),
		cmocka_unit_test(test_mmio_alloc),
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_capabilities),
		cmocka_unit_test(test_feature_negotiation),
		cmocka_unit_test(test_queue_setup_and_start),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_bad_ring_needs_reset),
		cmocka_unit_test(test_device_needs_reset),
		cmocka_unit_test(test_driver_ok_without_features_ok),
		cmocka_unit_test(test_queue_interrupts),
		cmocka_unit_test(test_notify_kicks),
		cmocka_unit_test(test_queue_irqfd),
		cmocka_unit_test(test_bar_moves),
		cmocka_unit_test(test_device_config),
		cmocka_unit_test(test_pci_cfg_window),
		cmocka_unit_test(test_common_widths),
		cmocka_unit_test(test_hostile_driver),
	};

	return cmocka_run_group_tests_name("virtio_pci", tests, NULL, NULL);
}
