// SPDX-License-Identifier: GPL-2.0-only
/*
 * --firmware and --flash: the two 64 MiB flash banks of QEMU's virt machine, where EDK2's
 * ArmVirtQemu (Debian's AAVMF) expects them. Bank 0 holds the firmware, read-only: a
 * read-only memory slot, so it runs in place without exits and its writes are ignored.
 * Bank 1 is the variable store, a CFI flash backed by the --flash file: in read-array mode
 * it too is a read-only slot (reads cost nothing, writes exit as commands); while a command
 * is under way the slot is removed, so reads reach the status and query registers.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../devices/cfi_flash.h"
#include "../../kvm.h"
#include "../../util/file.h"
#include "../../util/log.h"
#include "../../vm.h"
#include "firmware.h"
#include "layout.h"

#define SLOT_CODE (VM_FIRST_DEVICE_SLOT + 0)
#define SLOT_VARS (VM_FIRST_DEVICE_SLOT + 1)

struct firmware {
	struct device dev;
	u8 *code; /* ARM64_FLASH_SIZE bytes, the firmware at the start */
	struct cfi_flash *vars;
	u64 vars_size;
};

int arm64_firmware_check(const struct vm_config *cfg)
{
	struct input_file f = {.fd = -1};
	struct cfi_flash *vars;
	char err[128];
	int ret;

	if (!cfg->firmware)
		return 0;
	if (input_file_open(&f, cfg->firmware, "--firmware", ARM64_FLASH_SIZE))
		return -EXIT_BAD_INPUT;
	ret = f.size ? 0 : -EXIT_BAD_INPUT;
	input_file_close(&f);
	if (ret) {
		pr_err("--firmware %s: the file is empty", cfg->firmware);
		return ret;
	}
	if (!cfg->flash)
		return 0;
	ret = cfi_flash_open(&vars, cfg->flash, 0, false, err, sizeof(err));
	if (ret) {
		pr_err("--flash %s: %s", cfg->flash, err);
		return -EXIT_BAD_INPUT;
	}
	cfi_flash_close(vars);
	return 0;
}

/* A store for this run only: an erased 64 MiB file that is gone once kvmbox exits. */
static int temp_vars(struct firmware *fw, char *err, size_t errlen)
{
	char path[] = "/tmp/kvmbox-vars-XXXXXX";
	int fd = mkstemp(path), ret = -EIO;
	void *p;

	if (fd < 0) {
		snprintf(err, errlen, "cannot create a temporary variable store: %s",
			 strerror(errno));
		return -EIO;
	}
	p = ftruncate(fd, ARM64_FLASH_SIZE)
		    ? MAP_FAILED
		    : mmap(NULL, ARM64_FLASH_SIZE, PROT_WRITE, MAP_SHARED, fd, 0);
	if (p != MAP_FAILED) {
		memset(p, 0xff, ARM64_FLASH_SIZE);
		munmap(p, ARM64_FLASH_SIZE);
		ret = cfi_flash_open(&fw->vars, path, 0, false, err, errlen);
	} else {
		snprintf(err, errlen, "cannot size the temporary variable store: %s",
			 strerror(errno));
	}
	unlink(path);
	close(fd);
	return ret;
}

static void vars_mode_changed(void *opaque, bool array_mode)
{
	struct firmware *fw = opaque;
	const void *data = array_mode ? cfi_flash_data(fw->vars) : NULL;

	if (vm_set_memslot(fw->dev.vm, SLOT_VARS, ARM64_FLASH1_GPA, array_mode ? fw->vars_size : 0,
			   data, true))
		pr_guest("flash: cannot %s the variable store's memory slot",
			 array_mode ? "map" : "unmap");
}

static void vars_mmio(void *opaque, u64 offset, u8 *data, u32 len, bool is_write)
{
	cfi_flash_mmio(opaque, offset, data, len, is_write);
}

/* The firmware into bank 0 (the rest of the bank reads as zeros, as QEMU's does). */
static int load_code(struct firmware *fw, const char *path)
{
	struct input_file f = {.fd = -1};
	int ret;

	fw->code = mmap(NULL, ARM64_FLASH_SIZE, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (fw->code == MAP_FAILED) {
		fw->code = NULL;
		return -EXIT_VMM_ERROR;
	}
	if (input_file_open(&f, path, "--firmware", ARM64_FLASH_SIZE))
		return -EXIT_BAD_INPUT;
	ret = input_file_read(&f, 0, fw->code, f.size) ? -EXIT_BAD_INPUT : 0;
	if (!ret)
		memset(fw->code + f.size, 0xff, ALIGN_UP(f.size, 4096) - f.size);
	input_file_close(&f);
	return ret;
}

static int map_banks(struct vm *vm, struct firmware *fw)
{
	u64 code_size = ARM64_FLASH_SIZE;

	fw->vars_size = cfi_flash_size(fw->vars);
	cfi_flash_set_mode_callback(fw->vars, vars_mode_changed, fw);
	if (vm_set_memslot(vm, SLOT_CODE, ARM64_FLASH0_GPA, code_size, fw->code, true) ||
	    vm_set_memslot(vm, SLOT_VARS, ARM64_FLASH1_GPA, fw->vars_size, cfi_flash_data(fw->vars),
			   true)) {
		pr_err("cannot map the firmware's flash (KVM_SET_USER_MEMORY_REGION read-only)");
		return -EXIT_VMM_ERROR;
	}
	if (bus_register(&vm->mmio_bus, ARM64_FLASH1_GPA, fw->vars_size, vars_mmio, fw->vars,
			 "cfi-flash"))
		return -EXIT_VMM_ERROR;
	return 0;
}

static void firmware_destroy(struct device *dev)
{
	struct firmware *fw = container_of(dev, struct firmware, dev);

	if (fw->vars)
		cfi_flash_close(fw->vars);
	if (fw->code)
		munmap(fw->code, ARM64_FLASH_SIZE);
	free(fw);
}

static void firmware_reset(struct device *dev)
{
	cfi_flash_reset(container_of(dev, struct firmware, dev)->vars);
}

static int firmware_realize(struct vm *vm)
{
	struct firmware *fw;
	char err[128];
	int ret;

	if (!vm->cfg->firmware)
		return 0;
	if (kvm_check_extension(vm->vm_fd, KVM_CAP_READONLY_MEM) <= 0) {
		pr_err("--firmware: this KVM cannot map read-only memory (KVM_CAP_READONLY_MEM)");
		return -EXIT_BAD_INPUT;
	}
	fw = calloc(1, sizeof(*fw));
	if (!fw)
		return -ENOMEM;
	fw->dev.ops = &arm64_firmware_ops;
	vm_add_device(vm, &fw->dev);
	ret = load_code(fw, vm->cfg->firmware);
	if (ret)
		return ret;
	ret = vm->cfg->flash ? cfi_flash_open(&fw->vars, vm->cfg->flash, 0, false, err, sizeof(err))
			     : temp_vars(fw, err, sizeof(err));
	if (ret) {
		pr_err("--flash %s: %s", vm->cfg->flash ? vm->cfg->flash : "(temporary)", err);
		return -EXIT_BAD_INPUT;
	}
	return map_banks(vm, fw);
}

const struct device_ops arm64_firmware_ops = {
	.name = "firmware-flash",
	.check = arm64_firmware_check,
	.realize = firmware_realize,
	.reset = firmware_reset,
	.destroy = firmware_destroy,
};
