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

/* What kvmbox cannot run without, with the reason a user would want to know. */
static const struct {
	long cap;
	const char *name;
} required_caps[] = {
	{KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP (in-kernel interrupt controllers)"},
	{KVM_CAP_PIT2, "KVM_CAP_PIT2 (in-kernel timer)"},
	{KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING"},
	{KVM_CAP_IRQFD, "KVM_CAP_IRQFD"},
	{KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD"},
	{KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY"},
	{KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR"},
	{KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID (KVM_GET_SUPPORTED_CPUID)"},
	{KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT"},
	{KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE"},
};

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
			pr_err("%s does not exist: load the kvm module (modprobe kvm_intel or "
			       "kvm_amd) "
			       "or enable virtualization in the firmware",
			       path);
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
	for (size_t i = 0; i < sizeof(required_caps) / sizeof(required_caps[0]); i++) {
		if (!kvm_check_extension(fd, required_caps[i].cap)) {
			pr_err("this KVM lacks %s, which kvmbox needs", required_caps[i].name);
			close(fd);
			return -EXIT_VMM_ERROR;
		}
	}
	return fd;
}
