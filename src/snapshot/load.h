/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_SNAPSHOT_LOAD_H
#define KVMBOX_SNAPSHOT_LOAD_H

#include "snapshot/statefile.h"

/*
 * The first half of PUT /snapshot/load: reads and checks the state file (statefile.c's
 * checks, then the sections a snapshot must have: the configuration, the RAM size, the
 * VM's state, the devices', and vCPUs 0..n-1 with none missing) and that mem_path is a
 * file of at least the RAM's size (mem_path NULL: no memory file). On success sf holds the sections (statefile_free)
 * and *ram the RAM size. Returns 0, or -errno with the reason in err.
 */
int snapshot_load_check(const char *state_path, const char *mem_path, struct statefile *sf,
			u64 *ram, unsigned int *nr_vcpus, char *err, size_t errlen);

#endif
