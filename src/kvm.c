// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kvm.h"
#include "util/log.h"

int __kvm_ioctl(int fd, unsigned long req, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, req, arg);
	} while (ret < 0 && errno == EINTR && req != KVM_RUN);
	return ret < 0 ? -errno : ret;
}

int kvm_ioctl_named(int fd, unsigned long req, const char *name, void *arg)
{
	int ret = __kvm_ioctl(fd, req, arg);

	if (ret < 0)
		pr_err("%s failed: %s", name, strerror(-ret));
	return ret;
}

int kvm_check_extension(int fd, long cap)
{
	int ret = ioctl(fd, KVM_CHECK_EXTENSION, cap);

	return ret < 0 ? 0 : ret;
}

/* What kvmbox cannot run without on any board; arch_kvm_caps lists the board's own. */
static const struct kvm_required_cap required_caps[] = {
	{KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP (in-kernel interrupt controllers)"},
	{KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING"},
	{KVM_CAP_IRQFD, "KVM_CAP_IRQFD"},
	{KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD"},
	{KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY"},
	{KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT"},
	{KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE"},
	{0, NULL},
};

static bool kvm_has_caps(int fd, const struct kvm_required_cap *caps)
{
	for (; caps->name; caps++) {
		if (!kvm_check_extension(fd, caps->cap)) {
			pr_err("this KVM lacks %s, which kvmbox needs", caps->name);
			return false;
		}
	}
	return true;
}

const char *kvm_device_path(void)
{
	const char *path = getenv("KVMBOX_DEV_KVM");

	return path && *path ? path : "/dev/kvm";
}

int kvm_open(const char *path)
{
	int fd, version;

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int err = errno;

		if (err == ENOENT)
			pr_err("%s does not exist: %s", path, arch_kvm_missing_hint);
		else if (err == EACCES || err == EPERM)
			pr_err("no permission to open %s: add your user to the 'kvm' group "
			       "(sudo usermod -aG kvm $USER, then log in again)",
			       path);
		else
			pr_err("cannot open %s: %s", path, strerror(err));
		return -EXIT_VMM_ERROR;
	}
	version = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (version != KVM_API_VERSION) {
		pr_err("%s speaks KVM API version %d, kvmbox needs %d", path, version,
		       KVM_API_VERSION);
		close(fd);
		return -EXIT_VMM_ERROR;
	}
	if (!kvm_has_caps(fd, required_caps) || !kvm_has_caps(fd, arch_kvm_caps)) {
		close(fd);
		return -EXIT_VMM_ERROR;
	}
	return fd;
}
