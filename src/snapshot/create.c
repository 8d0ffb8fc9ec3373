// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"
#include "snapshot.h"
#include "snapshot/create.h"
#include "snapshot/diff.h"
#include "snapshot/statefile.h"
#include "vcpu.h"
#include "vm.h"

/* Every device's save hook into one buffer; a device that cannot be saved stops it. */
static int save_devices(struct vm *vm, struct snap_buf *sb, char *err, size_t errlen)
{
	for (struct device *dev = vm->devices; dev; dev = dev->next) {
		int ret;

		if (!dev->ops->save)
			continue; /* no state of its own (a board bridge, the debug port) */
		ret = dev->ops->save(dev, sb);
		if (!ret && sb->error)
			ret = -ENOMEM;
		if (ret) {
			snprintf(err, errlen, "device %s cannot be saved: %s", dev->ops->name,
				 ret == -EOPNOTSUPP
					 ? "its state is in the kernel, hardware or host sockets"
					 : strerror(-ret));
			return ret;
		}
	}
	return 0;
}

/* The vCPUs' and the VM's state, each in its own buffer (section) of bufs. */
static int save_machine(struct vm *vm, struct snap_buf *bufs, char *err, size_t errlen)
{
	int ret = arch_vm_save(vm, &bufs[0]);

	if (ret) {
		snprintf(err, errlen, "the VM's state cannot be read: %s", strerror(-ret));
		return ret;
	}
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		ret = arch_vcpu_save(vm->vcpus[i], &bufs[2 + i]);
		if (ret) {
			snprintf(err, errlen, "vCPU %u's state cannot be read: %s", i,
				 strerror(-ret));
			return ret;
		}
	}
	return save_devices(vm, &bufs[1], err, errlen);
}

static int write_state(struct vm *vm, const char *config, struct snap_buf *bufs, const char *path,
		       char *err, size_t errlen)
{
	struct statefile_section secs[3 + 2 + SNAP_MAX_VCPUS];
	u64 mem = vm->mem.total;
	unsigned int n = 0;

	secs[n++] = (struct statefile_section){SNAP_SEC_CONFIG, strlen(config), (const u8 *)config};
	secs[n++] = (struct statefile_section){SNAP_SEC_MEMORY, sizeof(mem), (const u8 *)&mem};
	secs[n++] = (struct statefile_section){SNAP_SEC_ARCH_VM, bufs[0].len, bufs[0].data};
	secs[n++] = (struct statefile_section){SNAP_SEC_DEVICES, bufs[1].len, bufs[1].data};
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		secs[n++] = (struct statefile_section){SNAP_SEC_VCPU + i, bufs[2 + i].len,
						       bufs[2 + i].data};
	return statefile_write(path, secs, n, err, errlen);
}

/*
 * With dirty tracking on, either kind of snapshot ends the dirty interval: the pages
 * dirtied since the last one are taken (and cleared) into *out. NULL when not tracking.
 */
static int take_dirty(struct vm *vm, bool diff, u64 **out, char *err, size_t errlen)
{
	int ret;

	*out = NULL;
	if (!vm->mem.dirty) {
		if (diff)
			snprintf(err, errlen, "a Diff snapshot needs track_dirty_pages");
		return diff ? -EINVAL : 0;
	}
	*out = calloc(guest_memory_dirty_words(&vm->mem), sizeof(u64));
	if (!*out) {
		snprintf(err, errlen, "out of memory for the dirty page bitmap");
		return -ENOMEM;
	}
	ret = vm_take_dirty_log(vm, *out);
	if (ret)
		snprintf(err, errlen, "KVM's dirty page log cannot be read: %s", strerror(-ret));
	return ret;
}

/* A snapshot that failed: its dirty pages go back, for the next one to hold. */
static void put_back_dirty(struct vm *vm, const u64 *dirty)
{
	for (u64 i = 0; i < guest_memory_dirty_words(&vm->mem); i++)
		__atomic_fetch_or(&vm->mem.dirty[i], dirty[i], __ATOMIC_RELAXED);
}

static int write_memory(struct vm *vm, const char *path, const u64 *dirty, char *err, size_t errlen)
{
	const struct guest_memory *mem = &vm->mem;

	if (dirty)
		return diff_write_file(path, mem->base, mem->total, dirty, mem->page_size, err,
				       errlen);
	/* A restored VM's RAM untouched since the load is the memory file's (or handler's). */
	return write_file_atomic(path, mem->base, mem->total,
				 WRITE_SPARSE | (vm->cfg->restore_mem ? 0 : WRITE_ANON), err,
				 errlen);
}

int snapshot_create(struct vm *vm, const char *config, const char *state_path, const char *mem_path,
		    bool diff, char *err, size_t errlen)
{
	struct snap_buf bufs[2 + SNAP_MAX_VCPUS];
	unsigned int nr_bufs = 2 + vm->nr_vcpus;
	u64 *dirty = NULL;
	int ret;

	if (vm->nr_vcpus > SNAP_MAX_VCPUS) {
		snprintf(err, errlen, "more than %u vCPUs", SNAP_MAX_VCPUS);
		return -E2BIG;
	}
	if (!vm->pause_requested) {
		snprintf(err, errlen, "the microVM must be paused");
		return -EBUSY;
	}
	for (unsigned int i = 0; i < nr_bufs; i++)
		snap_init(&bufs[i]);
	ret = save_machine(vm, bufs, err, errlen);
	if (!ret)
		ret = take_dirty(vm, diff, &dirty, err, errlen);
	/* Memory first: a state file is only ever there beside its whole memory file. */
	if (!ret)
		ret = write_memory(vm, mem_path, diff ? dirty : NULL, err, errlen);
	if (!ret)
		ret = write_state(vm, config, bufs, state_path, err, errlen);
	if (ret && dirty)
		put_back_dirty(vm, dirty);
	free(dirty);
	for (unsigned int i = 0; i < nr_bufs; i++)
		snap_free(&bufs[i]);
	return ret;
}
