/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_SNAPSHOT_CREATE_H
#define KVMBOX_SNAPSHOT_CREATE_H

#include "util/types.h"

struct vm;

/* The state file's sections (statefile.h): one per kind, one per vCPU. */
enum snap_section_type {
	SNAP_SEC_CONFIG = 1,  /* the VM's configuration as GET /vm/config, JSON text */
	SNAP_SEC_MEMORY = 2,  /* u64 bytes of guest RAM: the memory file's size */
	SNAP_SEC_ARCH_VM = 3, /* arch_vm_save() */
	SNAP_SEC_DEVICES = 4, /* every device's save hook, in the VM's device order */
	SNAP_SEC_VCPU = 16,   /* + vCPU index: arch_vcpu_save() */
};
#define SNAP_MAX_VCPUS 128

/*
 * Writes a snapshot of vm, which must be paused (vm_pause): the state file at state_path
 * with config (JSON text) and the memory file at mem_path, each atomically. A full one's
 * memory file is guest RAM as it is, zero pages left as holes; a diff one's (diff, only
 * with track_dirty_pages, else -EINVAL) holds the pages dirtied since the previous
 * snapshot, holes elsewhere (snapshot/diff.h). With track_dirty_pages, either kind
 * starts a new dirty interval. Returns 0, or -errno with the reason in err; then neither
 * file is left half-written and the dirty pages are kept for the next snapshot.
 */
int snapshot_create(struct vm *vm, const char *config, const char *state_path, const char *mem_path,
		    bool diff, char *err, size_t errlen);

#endif
