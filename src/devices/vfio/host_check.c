// SPDX-License-Identifier: GPL-2.0-only
/*
 * What a host must have before a device can be passed through, checked before /dev/kvm is
 * opened so that each missing piece is exit status 2 with the command that fixes it: a
 * PCI device at the sysfs path, bound to vfio-pci, in an IOMMU group whose other members
 * are handed over too, and the group's /dev/vfio node open to this user. Or a mediated
 * device (/sys/bus/mdev/devices/UUID): bound to its vendor driver, which emulates a PCI
 * device (its type's device_api is vfio-pci), in an IOMMU group of its own.
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

static bool is_mdev(const char *path)
{
	char subsys[NAME_MAX + 1];

	link_base(path, "subsystem", subsys, sizeof(subsys));
	return !strcmp(subsys, "mdev");
}

/* The first line of PATH/NAME into buf ("" when unreadable). */
static void read_line(const char *path, const char *name, char *buf, size_t len)
{
	char p[PATH_MAX];
	FILE *f;

	buf[0] = '\0';
	if (snprintf(p, sizeof(p), "%s/%s", path, name) >= (int)sizeof(p))
		return;
	f = fopen(p, "re");
	if (!f)
		return;
	if (!fgets(buf, (int)len, f))
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

/*
 * A mediated device: VFIO hands it out only while its vendor driver has it (the driver
 * emulates the device), and only one that emulates a PCI function fits kvmbox's bus.
 */
static int check_mdev(const char *path)
{
	char api[32], drv[NAME_MAX + 1];

	read_line(path, "mdev_type/device_api", api, sizeof(api));
	if (strcmp(api, "vfio-pci")) {
		pr_err("--vfio %s: a mediated device of API '%s', not vfio-pci: only PCI devices "
		       "can be passed",
		       path, api[0] ? api : "unknown");
		return -EXIT_BAD_INPUT;
	}
	link_base(path, "driver", drv, sizeof(drv));
	if (!drv[0]) {
		pr_err("--vfio %s: the mediated device is bound to no driver: load its vendor "
		       "driver's module (see /sys/bus/mdev/drivers) and create it again",
		       path);
		return -EXIT_BAD_INPUT;
	}
	return 0;
}

/* What kind of device PATH is: PCI (0), mediated (1), or, after saying so, an error. */
static int check_kind(const char *path, bool *mdev)
{
	char name[NAME_MAX + 1];
	struct stat st;

	if (stat(path, &st)) {
		pr_err("--vfio %s: %s (give the device's sysfs path, such as "
		       "/sys/bus/pci/devices/0000:00:03.0 or /sys/bus/mdev/devices/UUID)",
		       path, strerror(errno));
		return -EXIT_BAD_INPUT;
	}
	*mdev = S_ISDIR(st.st_mode) && is_mdev(path);
	if (*mdev && vfio_device_name(path, name, sizeof(name))) {
		pr_err("--vfio %s: the mediated device's name (its UUID) cannot be read", path);
		return -EXIT_BAD_INPUT;
	}
	if (*mdev)
		return 0;
	if (strstr(path, "/bus/mdev/")) {
		pr_err("--vfio %s: not a mediated device (no subsystem link to the mdev bus)",
		       path);
		return -EXIT_BAD_INPUT;
	}
	if (!S_ISDIR(st.st_mode) || !has_file(path, "config") || !has_file(path, "vendor") ||
	    vfio_device_name(path, name, sizeof(name))) {
		pr_err("--vfio %s: not a PCI device in sysfs (such as "
		       "/sys/bus/pci/devices/0000:00:03.0) nor a mediated device "
		       "(/sys/bus/mdev/devices/UUID)",
		       path);
		return -EXIT_BAD_INPUT;
	}
	return check_driver(path, name);
}

static int check_group(const char *path, bool mdev)
{
	char group[NAME_MAX + 1], node[PATH_MAX];
	int ret = 0;

	link_base(path, "iommu_group", group, sizeof(group));
	if (!group[0] && mdev) {
		pr_err("--vfio %s: the mediated device is in no IOMMU group: its vendor driver "
		       "did not register it with VFIO (load vfio and the vendor driver, then "
		       "create it again)",
		       path);
		return -EXIT_BAD_INPUT;
	}
	if (!group[0]) {
		pr_err("--vfio %s: in no IOMMU group: turn the IOMMU on (intel_iommu=on or "
		       "amd_iommu=on on the host kernel's command line, VT-d/AMD-Vi in the "
		       "firmware)",
		       path);
		return -EXIT_BAD_INPUT;
	}
	/* A mediated device's group is its own: no other member to hand over. */
	if (!mdev)
		ret = check_group_viable(path, group);
	if (!ret)
		ret = check_node(path, "/dev/vfio/vfio");
	if (!ret) {
		snprintf(node, sizeof(node), "/dev/vfio/%s", group);
		ret = check_node(path, node);
	}
	return ret;
}

int vfio_host_check(const char *path)
{
	bool mdev = false;
	int ret = check_kind(path, &mdev);

	if (!ret && mdev)
		ret = check_mdev(path);
	return ret ? ret : check_group(path, mdev);
}
