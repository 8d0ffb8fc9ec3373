// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "snapshot/create.h"
#include "snapshot/load.h"

static int check_sections(const struct statefile *sf, u64 *ram, unsigned int *nr_vcpus, char *err,
			  size_t errlen)
{
	static const u32 needed[] = {SNAP_SEC_CONFIG, SNAP_SEC_MEMORY, SNAP_SEC_ARCH_VM,
				     SNAP_SEC_DEVICES, SNAP_SEC_VCPU};
	const struct statefile_section *mem = statefile_find(sf, SNAP_SEC_MEMORY);
	unsigned int n = 0;

	for (unsigned int i = 0; i < sizeof(needed) / sizeof(needed[0]); i++) {
		if (!statefile_find(sf, needed[i])) {
			snprintf(err, errlen, "no section of type %u", needed[i]);
			return -EINVAL;
		}
	}
	if (mem->len != sizeof(*ram)) {
		snprintf(err, errlen, "the RAM size section is %llu bytes",
			 (unsigned long long)mem->len);
		return -EINVAL;
	}
	memcpy(ram, mem->data, sizeof(*ram));
	while (n < SNAP_MAX_VCPUS && statefile_find(sf, SNAP_SEC_VCPU + n))
		n++;
	/* The count of sections of each kind adds up only without gaps in the vCPUs. */
	if (sf->nr != 4 + n) {
		snprintf(err, errlen, "vCPU sections are not numbered 0 to %u", n - 1);
		return -EINVAL;
	}
	*nr_vcpus = n;
	return 0;
}

int snapshot_load_check(const char *state_path, const char *mem_path, struct statefile *sf,
			u64 *ram, unsigned int *nr_vcpus, char *err, size_t errlen)
{
	u32 known[4 + SNAP_MAX_VCPUS] = {SNAP_SEC_CONFIG, SNAP_SEC_MEMORY, SNAP_SEC_ARCH_VM,
					 SNAP_SEC_DEVICES};
	struct stat st;
	char why[256];
	int ret;

	for (unsigned int i = 0; i < SNAP_MAX_VCPUS; i++)
		known[4 + i] = SNAP_SEC_VCPU + i;
	ret = statefile_read(state_path, known, 4 + SNAP_MAX_VCPUS, sf, err, errlen);
	if (ret)
		return ret;
	ret = check_sections(sf, ram, nr_vcpus, why, sizeof(why));
	if (ret) {
		snprintf(err, errlen, "%s: %s", state_path, why);
		statefile_free(sf);
		return ret;
	}
	if (!mem_path)
		return 0; /* the Uffd backend's handler reads the memory file, not kvmbox */
	if (stat(mem_path, &st))
		ret = -errno;
	else if (!S_ISREG(st.st_mode) || (u64)st.st_size < *ram)
		ret = -EINVAL;
	if (ret == -EINVAL)
		snprintf(err, errlen, "memory file %s: %llu bytes, the snapshot's RAM is %llu",
			 mem_path, S_ISREG(st.st_mode) ? (unsigned long long)st.st_size : 0ULL,
			 (unsigned long long)*ram);
	else if (ret)
		snprintf(err, errlen, "memory file %s: %s", mem_path, strerror(-ret));
	if (ret)
		statefile_free(sf);
	return ret;
}
