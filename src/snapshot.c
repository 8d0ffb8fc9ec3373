// SPDX-License-Identifier: GPL-2.0-only
#include <stdlib.h>
#include <string.h>

#include "snapshot.h"

#define SNAP_MAX_BYTES (1ULL << 32)
#define SNAP_NAME_MAX  32

void snap_init(struct snap_buf *sb)
{
	memset(sb, 0, sizeof(*sb));
}

void snap_free(struct snap_buf *sb)
{
	free(sb->data);
	snap_init(sb);
}

void snap_put(struct snap_buf *sb, const void *src, size_t len)
{
	if (sb->error)
		return;
	if (len > SNAP_MAX_BYTES - sb->len) {
		sb->error = true;
		return;
	}
	if (sb->len + len > sb->cap) {
		size_t cap = MAX(sb->cap * 2, sb->len + len);
		u8 *p = realloc(sb->data, MAX(cap, (size_t)64));

		if (!p) {
			sb->error = true;
			return;
		}
		sb->data = p;
		sb->cap = MAX(cap, (size_t)64);
	}
	memcpy(sb->data + sb->len, src, len);
	sb->len += len;
}

void snap_put_u32(struct snap_buf *sb, u32 v)
{
	snap_put(sb, &v, sizeof(v));
}

void snap_put_u64(struct snap_buf *sb, u64 v)
{
	snap_put(sb, &v, sizeof(v));
}

bool snap_get(struct snap_buf *sb, void *dst, size_t len)
{
	if (sb->error || len > sb->len - sb->pos) {
		sb->error = true;
		return false;
	}
	memcpy(dst, sb->data + sb->pos, len);
	sb->pos += len;
	return true;
}

bool snap_get_u32(struct snap_buf *sb, u32 *v)
{
	return snap_get(sb, v, sizeof(*v));
}

bool snap_get_u64(struct snap_buf *sb, u64 *v)
{
	return snap_get(sb, v, sizeof(*v));
}

void snap_begin_section(struct snap_buf *sb, const char *name, u32 version)
{
	char tag[SNAP_NAME_MAX] = {0};

	strncpy(tag, name, sizeof(tag) - 1);
	snap_put(sb, tag, sizeof(tag));
	snap_put_u32(sb, version);
}

u32 snap_open_section(struct snap_buf *sb, const char *name)
{
	char tag[SNAP_NAME_MAX];
	u32 version;

	if (!snap_get(sb, tag, sizeof(tag)) || !snap_get_u32(sb, &version))
		return 0;
	tag[sizeof(tag) - 1] = '\0';
	if (strcmp(tag, name) != 0) {
		sb->error = true;
		return 0;
	}
	return version;
}
