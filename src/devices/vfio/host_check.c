// SPDX-License-Identifier: GPL-2.0-only
/*
 * What a host must have before a device can be passed through, checked before /dev/kvm is
 * opened so that each missing piece is exit status 2 with the command that fixes it: a
 * PCI device at the sysfs path, bound to vfio-pci, in an IOMMU group whose other members
 * are handed over too, and the group's /dev/vfio node open to this user.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../util/log.h"
#include "vfio.h"

/* The last component of the link PATH/NAME into buf; "" when there is no such link. */
static void link_base(const char *path, const char *name, char *buf, size_t len)
{
	char lpath[PATH_MAX], target[PATH_MAX];
	ssize_t n;
	const char *slash;

	buf[0] = '\0';
	if (snprintf(lpath, sizeof(lpath), "%s/%s", path, name) >= (int)sizeof(lpath))
		return;
	n = readlink(lpath, target, sizeof(target) - 1);
	if (n <= 0)
		return;
	target[n] = '\0';
	slash = strrchr(target, '/');
	if (snprintf(buf, len, "%s", slash ? slash + 1 : target) >= (int)len)
		buf[0] = '\0';
}

static bool has_file(const char *path, const char *name)
{
	char p[PATH_MAX];
	struct stat st;

	if (snprintf(p, sizeof(p), "%s/%s", path, name) >= (int)sizeof(p))
		return false;
	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

int vfio_device_name(const char *path, char *buf, size_t len)
{
	char real[PATH_MAX];
	const char *slash;

	if (!realpath(path, real))
		return -errno;
	slash = strrchr(real, '/');
	if (!slash || !slash[1] || strlen(slash + 1) >= len)
		return -EINVAL;
	snprintf(buf, len, "%s", slash + 1);
	return 0;
}

static int check_driver(const char *path, const char *bdf)
{
	char drv[NAME_MAX + 1];

	link_base(path, "driver", drv, sizeof(drv));
	if (!strcmp(drv, "vfio-pci"))
		return 0;
	if (drv[0])
		pr_err("--vfio %s: bound to %s, not vfio-pci: echo vfio-pci > %s/driver_override; "
		       "echo %s > %s/driver/unbind; echo %s > /sys/bus/pci/drivers_probe",
		       path, drv, path, bdf, path, bdf);
	else
		pr_err("--vfio %s: bound to no driver, not vfio-pci: modprobe vfio-pci; echo "
		       "vfio-pci > %s/driver_override; echo %s > /sys/bus/pci/drivers_probe",
		       path, path, bdf);
	return -EXIT_BAD_INPUT;
}

/* Every other device of the group is unbound, with vfio-pci, or a bridge (pcieport). */
static int check_group_viable(const char *path, const char *group)
{
	char dir[PATH_MAX], devpath[PATH_MAX], drv[NAME_MAX + 1];
	struct dirent *e;
	DIR *d;
	int ret = 0;

	snprintf(dir, sizeof(dir), "%s/iommu_group/devices", path);
	d = opendir(dir);
	if (!d)
		return 0; /* VFIO_GROUP_GET_STATUS still says whether it is viable */
	while (!ret && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (snprintf(devpath, sizeof(devpath), "%s/%s", dir, e->d_name) >=
		    (int)sizeof(devpath))
			continue;
		link_base(devpath, "driver", drv, sizeof(drv));
		if (!drv[0] || !strcmp(drv, "vfio-pci") || !strcmp(drv, "pcieport"))
			continue;
		pr_err("--vfio %s: IOMMU group %s is not viable: %s in it is bound to %s; bind it "
		       "to vfio-pci as well (echo vfio-pci > "
		       "/sys/bus/pci/devices/%s/driver_override, "
		       "then unbind and drivers_probe)",
		       path, group, e->d_name, drv, e->d_name);
		ret = -EXIT_BAD_INPUT;
	}
	closedir(d);
	return ret;
}

static int check_node(const char *path, const char *node)
{
	if (access(node, F_OK)) {
		pr_err("--vfio %s: no %s: modprobe vfio-pci vfio_iommu_type1", path, node);
		return -EXIT_BAD_INPUT;
	}
	if (access(node, R_OK | W_OK)) {
		pr_err("--vfio %s: no permission on %s: run as root, or chown it to this user "
		       "(and raise the locked-memory limit, ulimit -l, to the guest's RAM)",
		       path, node);
		return -EXIT_BAD_INPUT;
	}
	return 0;
}

int vfio_host_check(const char *path)
{
	char bdf[NAME_MAX + 1], group[NAME_MAX + 1], node[PATH_MAX];
	struct stat st;
	int ret;

	if (stat(path, &st)) {
		pr_err("--vfio %s: %s (give the device's sysfs path, such as "
		       "/sys/bus/pci/devices/0000:00:03.0)",
		       path, strerror(errno));
		return -EXIT_BAD_INPUT;
	}
	if (!S_ISDIR(st.st_mode) || !has_file(path, "config") || !has_file(path, "vendor") ||
	    vfio_device_name(path, bdf, sizeof(bdf))) {
		pr_err("--vfio %s: not a PCI device in sysfs (such as "
		       "/sys/bus/pci/devices/0000:00:03.0)",
		       path);
		return -EXIT_BAD_INPUT;
	}
	ret = check_driver(path, bdf);
	if (ret)
		return ret;
	link_base(path, "iommu_group", group, sizeof(group));
	if (!group[0]) {
		pr_err("--vfio %s: in no IOMMU group: turn the IOMMU on (intel_iommu=on or "
		       "amd_iommu=on on the host kernel's command line, VT-d/AMD-Vi in the "
		       "firmware)",
		       path);
		return -EXIT_BAD_INPUT;
	}
	ret = check_group_viable(path, group);
	if (!ret)
		ret = check_node(path, "/dev/vfio/vfio");
	if (!ret) {
		snprintf(node, sizeof(node), "/dev/vfio/%s", group);
		ret = check_node(path, node);
	}
	return ret;
}
