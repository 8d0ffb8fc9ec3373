/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_DEVICES_DEVICE_H
#define KVMBOX_DEVICES_DEVICE_H

#include "../snapshot.h"
#include "../util/types.h"

struct vm;
struct vm_config;
struct device;

/*
 * What every device implements. check() looks at the device's options and the files they
 * name before KVM is opened, so that a typo is exit status 2 on any host; it returns 0 or,
 * after printing why, -EXIT_BAD_INPUT, and changes nothing. realize() builds the device from the VM's config,
 * registers its bus ranges and adds it with vm_add_device(); it returns 0, or after
 * printing why, -EXIT_BAD_INPUT when the user's option or file is wrong (kvmbox exits 2)
 * or another negative value for a host-side failure (kvmbox exits 1).
 * reset() puts it back to its power-on state (threads joined, queues dropped);
 * save()/load() move all of its state through a versioned snapshot section;
 * destroy() frees it. Every hook but realize may be NULL where there is nothing to do.
 * pause() runs with every vCPU parked (PATCH /vm Paused, a snapshot): the device finishes
 * the I/O it has taken and stops its workers, so that nothing touches guest memory or
 * raises an interrupt until resume(); it returns 0 or a negative errno (then the pause
 * fails and every device is resumed). resume() undoes pause() and is also called for a
 * device that was not paused, which must be harmless. A device whose state cannot be
 * saved (a kernel or hardware datapath) has a save() that returns -EOPNOTSUPP.
 */
struct device_ops {
	const char *name;
	int (*check)(const struct vm_config *cfg);
	int (*realize)(struct vm *vm);
	void (*reset)(struct device *dev);
	int (*save)(struct device *dev, struct snap_buf *sb);
	int (*load)(struct device *dev, struct snap_buf *sb);
	int (*pause)(struct device *dev);
	void (*resume)(struct device *dev);
	void (*destroy)(struct device *dev);
};

struct device {
	const struct device_ops *ops;
	struct vm *vm;
	struct device *next; /* in the VM's device list */
};

#endif
