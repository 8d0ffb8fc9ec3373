/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_KVM_H
#define KVMBOX_KVM_H

#include <linux/kvm.h>

#include "util/types.h"

/*
 * ioctl wrappers in the style of the KVM selftests: __kvm_ioctl() returns 0 or -errno;
 * kvm_ioctl() also prints a line naming the ioctl and the error.
 */
int __kvm_ioctl(int fd, unsigned long req, void *arg);
int kvm_ioctl_named(int fd, unsigned long req, const char *name, void *arg);
#define kvm_ioctl(fd, req, arg) kvm_ioctl_named(fd, req, #req, arg)

/*
 * The KVM device: /dev/kvm, or $KVMBOX_DEV_KVM when set (tests hide KVM with a path that
 * does not exist, to check what kvmbox does on a host without it).
 */
const char *kvm_device_path(void);
/*
 * Opens the KVM device, checks the API version and the capabilities kvmbox relies on.
 * Returns the fd, or -EXIT_VMM_ERROR after one clear line.
 */
int kvm_open(const char *path);
int kvm_check_extension(int fd, long cap);

/* A capability kvmbox cannot run without, and why a user would care. */
struct kvm_required_cap {
	long cap;
	const char *name;
};
/* The board's own needs, ended by a NULL name; arch code defines them. */
extern const struct kvm_required_cap arch_kvm_caps[];
/* What to do when /dev/kvm does not exist, on this architecture. */
extern const char arch_kvm_missing_hint[];

#endif
