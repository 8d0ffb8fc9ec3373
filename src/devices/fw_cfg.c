// SPDX-License-Identifier: GPL-2.0-only
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../vm.h"
#include "fw_cfg.h"

#define FW_CFG_PORT_SELECTOR  0x510
#define FW_CFG_PORTS	      2
#define FW_CFG_ID_TRADITIONAL 1	     /* bit 0: the I/O interface; bit 1 (DMA) is not offered */
#define FW_CFG_KEY_MASK	      0x3fff /* without the write-channel and arch-local bits */

struct fw_cfg {
	struct device dev;
	pthread_mutex_t lock;
	struct fw_cfg_items items;
	u16 selector;
	u32 offset;
};

static void item_set(struct fw_cfg_items *items, u16 key, u64 v, u8 len)
{
	for (u8 i = 0; i < len; i++)
		items->data[key][i] = (u8)(v >> (8 * i));
	items->len[key] = len;
}

void fw_cfg_items_init(struct fw_cfg_items *items, unsigned int nr_cpus, u64 ram_size)
{
	memset(items, 0, sizeof(*items));
	memcpy(items->data[FW_CFG_SIGNATURE], "QEMU", 4);
	items->len[FW_CFG_SIGNATURE] = 4;
	item_set(items, FW_CFG_ID, FW_CFG_ID_TRADITIONAL, 4);
	item_set(items, FW_CFG_RAM_SIZE, ram_size, 8);
	item_set(items, FW_CFG_NB_CPUS, nr_cpus, 2);
	item_set(items, FW_CFG_MAX_CPUS, nr_cpus, 2);
	item_set(items, FW_CFG_FILE_DIR, 0, 4); /* no files: a big-endian count of 0 */
}

u8 fw_cfg_items_read(const struct fw_cfg_items *items, u16 key, u32 offset)
{
	key &= FW_CFG_KEY_MASK;
	if (key >= FW_CFG_MAX_KEY || offset >= items->len[key])
		return 0;
	return items->data[key][offset];
}

static void fw_cfg_io(void *opaque, u64 offset, u8 *data, u32 len, bool is_write)
{
	struct fw_cfg *f = opaque;

	pthread_mutex_lock(&f->lock);
	if (offset == 0) {
		/* The selector: a write picks an item and rewinds; reads see nothing. */
		if (is_write) {
			f->selector = (u16)io_data_get(data, len);
			f->offset = 0;
		} else {
			memset(data, 0, len);
		}
	} else if (!is_write) {
		/* Each byte read from the data port advances through the item. */
		for (u32 i = 0; i < len; i++) {
			data[i] = fw_cfg_items_read(&f->items, f->selector, f->offset);
			if (f->offset < UINT32_MAX)
				f->offset++;
		}
	}
	pthread_mutex_unlock(&f->lock);
}

static void fw_cfg_reset(struct device *dev)
{
	struct fw_cfg *f = container_of(dev, struct fw_cfg, dev);

	pthread_mutex_lock(&f->lock);
	f->selector = 0;
	f->offset = 0;
	pthread_mutex_unlock(&f->lock);
}

static void fw_cfg_destroy(struct device *dev)
{
	struct fw_cfg *f = container_of(dev, struct fw_cfg, dev);

	pthread_mutex_destroy(&f->lock);
	free(f);
}

static int fw_cfg_realize(struct vm *vm)
{
	struct fw_cfg *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->dev.ops = &fw_cfg_ops;
	pthread_mutex_init(&f->lock, NULL);
	fw_cfg_items_init(&f->items, vm->cfg->cpus, vm->cfg->memory);
	if (bus_register(&vm->pio_bus, FW_CFG_PORT_SELECTOR, FW_CFG_PORTS, fw_cfg_io, f,
			 "fw_cfg")) {
		fw_cfg_destroy(&f->dev);
		return -1;
	}
	vm_add_device(vm, &f->dev);
	return 0;
}

const struct device_ops fw_cfg_ops = {
	.name = "fw_cfg",
	.realize = fw_cfg_realize,
	.reset = fw_cfg_reset,
	.destroy = fw_cfg_destroy,
};
