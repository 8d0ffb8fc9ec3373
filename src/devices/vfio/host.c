// SPDX-License-Identifier: GPL-2.0-only
/*
 * The host side of passthrough: one type1 container for every --vfio device of the VM (so
 * each device's IOMMU domain also maps the others' BARs: peer-to-peer), each device's group
 * joined to it, guest RAM DMA-mapped at its guest physical addresses (IOVA = GPA), and the
 * device fd with its regions. Facts from the kernel's Documentation/driver-api/vfio.rst.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../../util/log.h"
#include "../../vm.h"
#include "vfio.h"

static struct {
	int fd;
	unsigned int users;
	bool iommu_set;
} container = {.fd = -1};

int vfio_dma_map(u64 iova, u64 size, void *hva)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (u64)(uintptr_t)hva,
		.iova = iova,
		.size = size,
	};

	return ioctl(container.fd, VFIO_IOMMU_MAP_DMA, &map) ? -errno : 0;
}

int vfio_dma_unmap(u64 iova, u64 size)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.iova = iova,
		.size = size,
	};

	return ioctl(container.fd, VFIO_IOMMU_UNMAP_DMA, &unmap) ? -errno : 0;
}

static int container_get(void)
{
	if (container.users++)
		return 0;
	container.fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (container.fd < 0) {
		pr_err("--vfio: cannot open /dev/vfio/vfio: %s", strerror(errno));
		return -EXIT_BAD_INPUT;
	}
	if (ioctl(container.fd, VFIO_GET_API_VERSION) != VFIO_API_VERSION ||
	    ioctl(container.fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) <= 0) {
		pr_err("--vfio: this kernel's VFIO lacks the type1v2 IOMMU: modprobe "
		       "vfio_iommu_type1");
		return -EXIT_BAD_INPUT;
	}
	container.iommu_set = false;
	return 0;
}

static void container_put(void)
{
	if (!container.users || --container.users)
		return;
	close(container.fd);
	container.fd = -1;
}

/* The first group in the container picks the IOMMU model; then guest RAM is mapped. */
static int container_set_iommu(struct vm *vm)
{
	if (container.iommu_set)
		return 0;
	if (ioctl(container.fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) {
		pr_err("--vfio: VFIO_SET_IOMMU failed: %s", strerror(errno));
		return -EXIT_VMM_ERROR;
	}
	container.iommu_set = true;
	for (unsigned int i = 0; i < vm->mem.nr; i++) {
		struct mem_region *r = &vm->mem.regions[i];
		int ret = vfio_dma_map(r->gpa, r->size, r->hva);

		if (ret) {
			/* Pinning guest RAM counts against RLIMIT_MEMLOCK. */
			pr_err("--vfio: cannot map guest RAM for DMA: %s%s", strerror(-ret),
			       ret == -ENOMEM ? " (raise ulimit -l to the guest's RAM)" : "");
			return ret == -ENOMEM ? -EXIT_BAD_INPUT : -EXIT_VMM_ERROR;
		}
	}
	return 0;
}

static int open_group(struct vfio_dev *vd)
{
	char link[PATH_MAX], target[PATH_MAX], node[PATH_MAX];
	struct vfio_group_status st = {.argsz = sizeof(st)};
	const char *g;
	ssize_t n;

	snprintf(link, sizeof(link), "%s/iommu_group", vd->path);
	n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0) {
		pr_err("--vfio %s: in no IOMMU group", vd->path);
		return -EXIT_BAD_INPUT;
	}
	target[n] = '\0';
	g = strrchr(target, '/');
	if (snprintf(node, sizeof(node), "/dev/vfio/%s", g ? g + 1 : target) >= (int)sizeof(node))
		return -EXIT_BAD_INPUT;
	vd->group_fd = open(node, O_RDWR | O_CLOEXEC);
	if (vd->group_fd < 0) {
		pr_err("--vfio %s: cannot open %s: %s%s", vd->path, node, strerror(errno),
		       errno == EBUSY ? " (another VM or program holds it)" : "");
		return -EXIT_BAD_INPUT;
	}
	if (ioctl(vd->group_fd, VFIO_GROUP_GET_STATUS, &st) ||
	    !(st.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		pr_err("--vfio %s: IOMMU group %s is not viable: bind every device in it to "
		       "vfio-pci",
		       vd->path, node);
		return -EXIT_BAD_INPUT;
	}
	if (ioctl(vd->group_fd, VFIO_GROUP_SET_CONTAINER, &container.fd)) {
		pr_err("--vfio %s: VFIO_GROUP_SET_CONTAINER failed: %s", vd->path, strerror(errno));
		return -EXIT_VMM_ERROR;
	}
	return 0;
}

/* A region whose offset and size run past what pread can address is taken as absent. */
static void note_region(struct vfio_dev *vd, u32 i, const struct vfio_region_info *ri)
{
	if (ri->offset > (u64)INT64_MAX || ri->size > (u64)INT64_MAX - ri->offset)
		return;
	vd->regions[i] = (struct vfio_region){ri->size, ri->offset, ri->flags};
}

/*
 * The configuration space: the type 0 header at least. A mediated device may offer less
 * than 256 bytes (mtty has 255): only what it has is read, the rest reads as 0.
 */
static int read_config(struct vfio_dev *vd)
{
	const struct vfio_region *r = &vd->regions[VFIO_PCI_CONFIG_REGION_INDEX];
	size_t len = (size_t)MIN(r->size, (u64)PCI_CONFIG_SIZE);

	memset(vd->raw_config, 0, sizeof(vd->raw_config));
	if (len < PCI_CAP_START ||
	    pread(vd->fd, vd->raw_config, len, (off_t)r->offset) != (ssize_t)len) {
		pr_err("--vfio %s: cannot read its configuration space", vd->path);
		return -EXIT_VMM_ERROR;
	}
	return 0;
}

static int read_regions(struct vfio_dev *vd)
{
	struct vfio_device_info info = {.argsz = sizeof(info)};

	if (ioctl(vd->fd, VFIO_DEVICE_GET_INFO, &info) || !(info.flags & VFIO_DEVICE_FLAGS_PCI) ||
	    info.num_regions <= VFIO_PCI_CONFIG_REGION_INDEX) {
		pr_err("--vfio %s: not a VFIO PCI device", vd->path);
		return -EXIT_BAD_INPUT;
	}
	vd->dev_flags = info.flags;
	for (u32 i = 0; i <= VFIO_PCI_CONFIG_REGION_INDEX; i++) {
		struct vfio_region_info ri = {.argsz = sizeof(ri), .index = i};

		if (ioctl(vd->fd, VFIO_DEVICE_GET_REGION_INFO, &ri))
			continue; /* left at size 0: not there */
		note_region(vd, i, &ri);
	}
	return read_config(vd);
}

void vfio_host_reset(struct vfio_dev *vd, const char *when)
{
	if (vd->fd < 0)
		return;
	if (!(vd->dev_flags & VFIO_DEVICE_FLAGS_RESET)) {
		/* No FLR, PM or bus reset for it: the state stays (--verbose says so). */
		pr_info("--vfio %s: no reset offered (%s)", vd->path, when);
		return;
	}
	if (ioctl(vd->fd, VFIO_DEVICE_RESET))
		pr_warn("--vfio %s: VFIO_DEVICE_RESET failed: %s", vd->path, strerror(errno));
	else
		pr_info("--vfio %s: device reset (%s)", vd->path, when);
}

int vfio_host_open(struct vfio_dev *vd)
{
	int ret = container_get();

	vd->container_held = true;
	vd->group_fd = vd->fd = -1;
	if (ret)
		return ret;
	ret = open_group(vd);
	if (!ret)
		ret = container_set_iommu(vd->vm);
	if (ret)
		return ret;
	vd->fd = ioctl(vd->group_fd, VFIO_GROUP_GET_DEVICE_FD, vd->name);
	if (vd->fd < 0) {
		pr_err("--vfio %s: VFIO_GROUP_GET_DEVICE_FD %s failed: %s", vd->path, vd->name,
		       strerror(errno));
		return -EXIT_BAD_INPUT;
	}
	ret = read_regions(vd);
	/* From a known state, whatever the last user left. */
	if (!ret)
		vfio_host_reset(vd, "taken");
	return ret;
}

void vfio_host_close(struct vfio_dev *vd)
{
	bool had_group = vd->group_fd >= 0;

	/* Reset, so the host gets the device back as it was handed over. */
	vfio_host_reset(vd, "returned");
	if (vd->fd >= 0)
		close(vd->fd);
	if (had_group) {
		ioctl(vd->group_fd, VFIO_GROUP_UNSET_CONTAINER);
		close(vd->group_fd);
	}
	vd->fd = vd->group_fd = -1;
	if (vd->container_held)
		container_put();
	vd->container_held = false;
}
