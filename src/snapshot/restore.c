// SPDX-License-Identifier: GPL-2.0-only
/*
 * The second half of PUT /snapshot/load: the state file's sections put back into a VM
 * that vm_create() built from the snapshot's configuration, RAM mapped from its memory
 * file, before any vCPU runs. Each section is read through a snap_buf, which refuses to
 * read past its end, and must be used up exactly: a section longer or shorter than what
 * this kvmbox writes is refused.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "arch/arch.h"
#include "snapshot.h"
#include "snapshot/create.h"
#include "snapshot/restore.h"
#include "vcpu.h"
#include "vm.h"

/* A read-only view of a section (never freed: sf owns the bytes). */
static void section_buf(const struct statefile *sf, u32 type, struct snap_buf *sb)
{
	const struct statefile_section *sec = statefile_find(sf, type);

	snap_init(sb);
	if (!sec) {
		sb->error = true;
		return;
	}
	sb->data = (u8 *)sec->data;
	sb->len = sec->len;
}

static int used_up(const struct snap_buf *sb, int ret)
{
	if (!ret && (sb->error || sb->pos != sb->len))
		return -EINVAL;
	return ret;
}

/* Devices in the VM's order, which the same configuration makes the same as at save. */
static int load_devices(struct vm *vm, struct snap_buf *sb, char *err, size_t errlen)
{
	for (struct device *dev = vm->devices; dev; dev = dev->next) {
		int ret;

		if (!dev->ops->save)
			continue;
		ret = dev->ops->load ? dev->ops->load(dev, sb) : -EOPNOTSUPP;
		if (!ret && sb->error)
			ret = -EINVAL;
		if (ret) {
			snprintf(err, errlen, "device %s: %s", dev->ops->name,
				 ret == -EINVAL ? "its state in the snapshot is not valid"
						: strerror(-ret));
			return ret;
		}
	}
	if (sb->pos != sb->len) {
		snprintf(err, errlen, "the devices' section has %zu bytes more than the devices",
			 sb->len - sb->pos);
		return -EINVAL;
	}
	return 0;
}

int snapshot_restore(struct vm *vm, const struct statefile *sf, char *err, size_t errlen)
{
	struct snap_buf sb;
	int ret;

	section_buf(sf, SNAP_SEC_ARCH_VM, &sb);
	ret = used_up(&sb, arch_vm_load(vm, &sb));
	if (ret) {
		snprintf(err, errlen, "the VM's state cannot be restored: %s", strerror(-ret));
		return ret;
	}
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		section_buf(sf, SNAP_SEC_VCPU + i, &sb);
		ret = used_up(&sb, arch_vcpu_load(vm->vcpus[i], &sb));
		if (ret) {
			snprintf(err, errlen, "vCPU %u's state cannot be restored: %s", i,
				 strerror(-ret));
			return ret;
		}
	}
	section_buf(sf, SNAP_SEC_DEVICES, &sb);
	return load_devices(vm, &sb, err, errlen);
}
