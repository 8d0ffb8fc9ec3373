/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_BUS_H
#define KVMBOX_BUS_H

#include <pthread.h>

#include "util/types.h"

/*
 * A bus maps guest port (PIO) or physical address (MMIO) ranges to device handlers.
 * Handlers get the offset into their range, never the absolute address, so a device
 * does not care where it was placed. Accesses are at most 8 bytes.
 */
typedef void (*bus_io_fn)(void *opaque, u64 offset, u8 *data, u32 len, bool is_write);

struct bus_range {
	u64 base;
	u64 len;
	bus_io_fn fn;
	void *opaque;
	const char *name;
};

struct bus {
	const char *name;
	pthread_rwlock_t lock;
	struct bus_range *ranges; /* sorted by base, never overlapping */
	unsigned int nr, cap;
};

void bus_init(struct bus *bus, const char *name);
void bus_destroy(struct bus *bus);
/* Returns 0, or -EEXIST if the range overlaps another, -EINVAL if it is empty or wraps. */
int bus_register(struct bus *bus, u64 base, u64 len, bus_io_fn fn, void *opaque, const char *name);
int bus_unregister(struct bus *bus, u64 base);
/*
 * Calls the handler covering [addr, addr + len). Returns false when nothing is mapped
 * there (or the access straddles two ranges); a read then leaves data untouched.
 * The handler runs without the bus's lock, so it may register and unregister ranges;
 * it may therefore run just after its own range went away, and its opaque must stay
 * valid until the VM is destroyed (devices are freed only after the vCPUs stopped).
 */
bool bus_dispatch(struct bus *bus, u64 addr, u8 *data, u32 len, bool is_write);

/* Little-endian helpers for handlers: a guest access may be 1, 2, 4 or 8 bytes wide. */
static inline u64 io_data_get(const u8 *data, u32 len)
{
	u64 v = 0;

	for (u32 i = 0; i < len && i < 8; i++)
		v |= (u64)data[i] << (8 * i);
	return v;
}

static inline void io_data_put(u8 *data, u32 len, u64 v)
{
	for (u32 i = 0; i < len && i < 8; i++)
		data[i] = (u8)(v >> (8 * i));
}

#endif
