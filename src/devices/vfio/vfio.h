/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_DEVICES_VFIO_VFIO_H
#define KVMBOX_DEVICES_VFIO_VFIO_H

#include <linux/vfio.h>

#include "../../irq_line.h"
#include "../device.h"
#include "../msix.h"
#include "../pci.h"

/*
 * VFIO PCI passthrough (--vfio PATH). Split by responsibility:
 *   host_check.c  every host precondition, before /dev/kvm is opened (exit 2)
 *   host.c        container, group and device fds; type1 IOMMU; guest RAM DMA-mapped
 *   config.c      the virtual configuration space the guest sees (pure: unit-tested)
 *   bars.c        BARs: mmapped regions as KVM memory slots, the rest forwarded
 *   intr.c        MSI and INTx through irqfds and VFIO_DEVICE_SET_IRQS eventfds
 *   device.c      the device_ops gluing it onto kvmbox's PCI bus
 */

struct vm;
struct irq_routing;

#define VFIO_CAP_WALK_MAX 48 /* capabilities fit in 192 bytes: more is a loop */

/* What config.c found in the device's own configuration space. */
struct vfio_cfg_info {
	u8 msi_cap;    /* the virtual MSI capability's offset, 0 if none */
	bool msi64;    /* the device takes a 64-bit MSI address */
	bool has_msix; /* the device has MSI-X: its table and PBA pages are never mmapped */
	u8 msix_bir;   /* the BARs and offsets of its table and PBA */
	u8 pba_bir;
	u32 msix_table_off;
	u32 msix_pba_off;
	u16 msix_vectors; /* the device's table size; 0: MSI-X hidden (it does not fit) */
	u8 intx_pin;	  /* 1-4 (INTA-INTD), 0 if none */
	u8 nr_caps;	  /* capabilities walked (diagnostics and tests) */
};

/* One VFIO region (BAR, ROM, config) as VFIO_DEVICE_GET_REGION_INFO gives it. */
struct vfio_region {
	u64 size;
	u64 offset; /* in the device fd */
	u32 flags;
};

/* A part of an mmapped BAR that runs from the mmap: the BAR minus its MSI-X pages. */
struct vfio_bar_piece {
	u64 off, len;  /* in the BAR; len 0: no such piece */
	bool slot_set; /* a KVM memory slot maps it now */
	bool dma_set;  /* and the IOMMU maps it at its guest address (peer-to-peer) */
};

struct vfio_bar {
	void *map; /* the mmapped region, NULL when it is trapped */
	u64 map_size;
	/* Trapped [trap_start, trap_end) of the BAR: all of it, or the MSI-X pages of a map. */
	u64 trap_start, trap_end;
	struct vfio_bar_piece piece[2];
	u64 gpa;
	bool trapped_set; /* a bus range traps it now */
};

struct vfio_dev {
	struct device dev;
	struct vm *vm;
	const char *path;
	char name[64];	     /* the device's address, 0000:00:01.0 */
	unsigned int index;  /* among the --vfio devices: picks its memory slots */
	bool container_held; /* counted among the shared container's users */
	bool no_mmap;	     /* --vfio PATH,mmap=off: every BAR trapped */
	int group_fd;
	int fd;
	u32 dev_flags;
	struct vfio_region regions[VFIO_PCI_CONFIG_REGION_INDEX + 1];
	struct vfio_bar bars[PCI_NUM_BARS];
	struct pci_function fn;
	struct vfio_cfg_info info;
	u8 raw_config[PCI_CONFIG_SIZE];

	/* Interrupts (intr.c). */
	struct msix msix; /* the guest's MSI-X table and PBA, when info.msix_vectors */
	bool msix_on;	  /* VFIO signals the MSI-X vectors' eventfds */
	struct irq_routing *irq;
	u32 msi_gsi;
	int msi_fd; /* the eventfd VFIO signals and KVM listens on */
	bool msi_on;
	u64 msi_addr;
	u32 msi_data;
	u32 intx_gsi;
	int intx_fd, intx_resample_fd;
	bool intx_on;
};

extern const struct device_ops vfio_pci_ops;

/* host_check.c: 0 or, after one line saying what to do, -EXIT_BAD_INPUT. */
int vfio_host_check(const char *path);
/* The device's address (the last component of PATH's real path) into buf. */
int vfio_device_name(const char *path, char *buf, size_t len);

/* host.c */
int vfio_host_open(struct vfio_dev *vd);
void vfio_host_close(struct vfio_dev *vd);
/* VFIO_DEVICE_RESET where the device offers one; when ("taken", "returned") is logged. */
void vfio_host_reset(struct vfio_dev *vd, const char *when);
int vfio_dma_map(u64 iova, u64 size, void *hva);
int vfio_dma_unmap(u64 iova, u64 size);

/*
 * config.c: builds fn, the function the guest sees, from the device's configuration space
 * raw and the sizes of its BAR regions. Nothing of raw is trusted. Returns 0 or -EINVAL
 * (not a type 0 function).
 */
int vfio_config_build(struct pci_function *fn, struct vfio_cfg_info *info,
		      const u8 raw[PCI_CONFIG_SIZE], const u64 bar_size[PCI_NUM_BARS]);
/*
 * Walks the capability list of raw, calling fn for each capability whose header fits
 * (loops, out-of-range and misaligned pointers end the walk). Returns how many it saw.
 */
unsigned int vfio_cap_walk(const u8 raw[PCI_CONFIG_SIZE],
			   void (*fn)(void *opaque, const u8 *raw, u8 off, u8 id), void *opaque);
/*
 * Adds the MSI-X capability info describes (info->msix_vectors set) to fn, modelled by m:
 * the device's BIRs and offsets, at most MSIX_MAX_VECTORS vectors. Returns 0 or -errno.
 */
int vfio_msix_expose(struct msix *m, struct pci_function *fn, const struct vfio_cfg_info *info);
/* The length of the MSI capability whose control word is ctl. */
unsigned int vfio_msi_cap_len(u16 ctl);

/* bars.c */
int vfio_bars_setup(struct vfio_dev *vd);
void vfio_bars_teardown(struct vfio_dev *vd);

/* intr.c */
int vfio_intr_setup(struct vfio_dev *vd);
void vfio_intr_teardown(struct vfio_dev *vd);
/*
 * Writes the guest's command register to the device: memory decode, bus master, INTx
 * disable. The device decodes only with MEM set, and VFIO faults its mmaps otherwise.
 */
void vfio_command_forward(struct vfio_dev *vd);
/* Follows guest writes to the MSI capability and the command register. */
void vfio_intr_config_written(struct vfio_dev *vd, u32 offset, u32 len);

#endif
