/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_SNAPSHOT_H
#define KVMBOX_SNAPSHOT_H

#include "util/types.h"

/*
 * A growable byte buffer that device state is saved into and loaded from. Each device
 * writes a section: a name, a version and its fields; load refuses a section whose
 * name or version it does not know, so an old kvmbox never misreads a new snapshot.
 */
struct snap_buf {
	u8 *data;
	size_t len, cap;
	size_t pos; /* read position for loads */
	bool error; /* sticky: set by an allocation failure or a short read */
};

void snap_init(struct snap_buf *sb);
void snap_free(struct snap_buf *sb);
void snap_put(struct snap_buf *sb, const void *src, size_t len);
void snap_put_u32(struct snap_buf *sb, u32 v);
void snap_put_u64(struct snap_buf *sb, u64 v);
bool snap_get(struct snap_buf *sb, void *dst, size_t len);
bool snap_get_u32(struct snap_buf *sb, u32 *v);
bool snap_get_u64(struct snap_buf *sb, u64 *v);
void snap_begin_section(struct snap_buf *sb, const char *name, u32 version);
/* Returns the section's version, or 0 if the next section is not called name. */
u32 snap_open_section(struct snap_buf *sb, const char *name);

#endif
