// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"

void bus_init(struct bus *bus, const char *name)
{
	memset(bus, 0, sizeof(*bus));
	bus->name = name;
	pthread_rwlock_init(&bus->lock, NULL);
}

void bus_destroy(struct bus *bus)
{
	free(bus->ranges);
	pthread_rwlock_destroy(&bus->lock);
	bus->ranges = NULL;
	bus->nr = bus->cap = 0;
}

/* Index of the first range whose base is greater than addr. */
static unsigned int bus_upper_bound(const struct bus *bus, u64 addr)
{
	unsigned int lo = 0, hi = bus->nr;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (bus->ranges[mid].base <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool range_overlaps(const struct bus_range *r, u64 base, u64 last)
{
	return base <= r->base + (r->len - 1) && r->base <= last;
}

int bus_register(struct bus *bus, u64 base, u64 len, bus_io_fn fn, void *opaque, const char *name)
{
	unsigned int i;
	int ret = 0;

	if (len == 0 || base + (len - 1) < base || !fn)
		return -EINVAL;

	pthread_rwlock_wrlock(&bus->lock);
	i = bus_upper_bound(bus, base);
	if ((i > 0 && range_overlaps(&bus->ranges[i - 1], base, base + len - 1)) ||
	    (i < bus->nr && range_overlaps(&bus->ranges[i], base, base + len - 1))) {
		ret = -EEXIST;
		goto out;
	}
	if (bus->nr == bus->cap) {
		unsigned int cap = bus->cap ? bus->cap * 2 : 16;
		struct bus_range *r = realloc(bus->ranges, cap * sizeof(*r));

		if (!r) {
			ret = -ENOMEM;
			goto out;
		}
		bus->ranges = r;
		bus->cap = cap;
	}
	memmove(&bus->ranges[i + 1], &bus->ranges[i], (bus->nr - i) * sizeof(bus->ranges[0]));
	bus->ranges[i] = (struct bus_range){base, len, fn, opaque, name};
	bus->nr++;
out:
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

int bus_unregister(struct bus *bus, u64 base)
{
	unsigned int i;
	int ret = -ENOENT;

	pthread_rwlock_wrlock(&bus->lock);
	i = bus_upper_bound(bus, base);
	if (i > 0 && bus->ranges[i - 1].base == base) {
		i--;
		memmove(&bus->ranges[i], &bus->ranges[i + 1],
			(bus->nr - i - 1) * sizeof(bus->ranges[0]));
		bus->nr--;
		ret = 0;
	}
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

/*
 * The handler runs after the lock is dropped: it may change the bus itself (an ECAM write
 * that enables a BAR registers the BAR on the MMIO bus the ECAM window is on).
 */
bool bus_dispatch(struct bus *bus, u64 addr, u8 *data, u32 len, bool is_write)
{
	bus_io_fn fn = NULL;
	void *opaque = NULL;
	u64 off = 0;
	unsigned int i;

	if (len == 0 || len > 8)
		return false;
	pthread_rwlock_rdlock(&bus->lock);
	i = bus_upper_bound(bus, addr);
	if (i > 0) {
		const struct bus_range *r = &bus->ranges[i - 1];

		off = addr - r->base;
		if (off < r->len && len <= r->len - off) {
			fn = r->fn;
			opaque = r->opaque;
		}
	}
	pthread_rwlock_unlock(&bus->lock);
	if (fn)
		fn(opaque, off, data, len, is_write);
	return fn != NULL;
}
