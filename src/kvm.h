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
 * Opens /dev/kvm, checks the API version and the capabilities kvmbox relies on.
 * Returns the fd, or -EXIT_BAD_INPUT-style negative exit code after one clear line.
 */
int kvm_open(const char *path);
int kvm_check_extension(int fd, long cap);

#endif
