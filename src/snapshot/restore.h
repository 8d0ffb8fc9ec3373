/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_SNAPSHOT_RESTORE_H
#define KVMBOX_SNAPSHOT_RESTORE_H

#include "snapshot/statefile.h"

struct vm;

/*
 * Puts the state of a checked state file (snapshot_load_check) into vm, which was made
 * from the snapshot's configuration with cfg->restore_mem and has not run: the VM's
 * clock, irqchip and PIT, each vCPU's state, then every device's through its load hook
 * (virtio devices come back paused: vm_resume() starts their workers). Returns 0, or
 * -errno with the reason in err; the VM is then half-restored and must be destroyed.
 */
int snapshot_restore(struct vm *vm, const struct statefile *sf, char *err, size_t errlen);

#endif
