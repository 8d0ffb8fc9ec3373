// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-blk's option, --disk PATH[,ro][,serial=S][,bw=SIZE:MS[:BURST]][,ops=N:MS[:BURST]]:
 * parsed, and checked before KVM opens. bw and ops are the rate limiter's token buckets
 * (bytes and requests refilled per MS milliseconds, src/util/token_bucket.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../backends/block.h"
#include "../../config.h"
#include "../../util/log.h"
#include "blk.h"

#define BLK_OPTS_HELP "ro, serial=S, id=ID, bw=SIZE:MS[:BURST] or ops=N:MS[:BURST]"

/* bw=SIZE:MS[:BURST] or ops=N:MS[:BURST]: 1 if s is neither, 0 or -EINVAL if it is. */
static int parse_bucket(struct blk_options *o, const char *s, size_t len)
{
	bool bw = len >= 3 && !memcmp(s, "bw=", 3);
	size_t skip = bw ? 3 : 4;

	if (!bw && (len < 4 || memcmp(s, "ops=", 4)))
		return 1;
	if (!tb_parse(s + skip, len - skip, bw ? &o->rl.bw : &o->rl.ops))
		return 0;
	snprintf(o->err, sizeof(o->err), "%.*s: expected %s=SIZE:REFILL_MS[:BURST] (decimal)",
		 (int)len, s, bw ? "bw" : "ops");
	return -EINVAL;
}

static int parse_one(struct blk_options *o, const char *s, size_t len)
{
	static const char serial[] = "serial=";
	const size_t sl = sizeof(serial) - 1;
	int ret = parse_bucket(o, s, len);

	if (ret <= 0)
		return ret;
	if (len == 2 && !memcmp(s, "ro", 2)) {
		o->ro = true;
	} else if (len > 3 && !memcmp(s, "id=", 3)) {
		if (len - 3 >= sizeof(o->id)) {
			snprintf(o->err, sizeof(o->err), "id '%.*s' is longer than %zu bytes",
				 (int)(len - 3), s + 3, sizeof(o->id) - 1);
			return -EINVAL;
		}
		memcpy(o->id, s + 3, len - 3);
		o->id[len - 3] = '\0';
	} else if (len >= sl && !memcmp(s, serial, sl)) {
		if (len - sl > VIRTIO_BLK_ID_BYTES) {
			snprintf(o->err, sizeof(o->err), "serial '%.*s' is longer than 20 bytes",
				 (int)(len - sl), s + sl);
			return -EINVAL;
		}
		memset(o->serial, 0, sizeof(o->serial));
		memcpy(o->serial, s + sl, len - sl);
	} else if (!len) {
		snprintf(o->err, sizeof(o->err), "empty option (expected " BLK_OPTS_HELP ")");
		return -EINVAL;
	} else {
		snprintf(o->err, sizeof(o->err),
			 "unknown option '%.*s' (expected " BLK_OPTS_HELP ")", (int)len, s);
		return -EINVAL;
	}
	return 0;
}

int virtio_blk_parse_option(const char *arg, struct blk_options *o)
{
	const char *p = strchr(arg, ',');
	size_t len = p ? (size_t)(p - arg) : strlen(arg);

	memset(o, 0, sizeof(*o));
	if (!len || len >= sizeof(o->path)) {
		snprintf(o->err, sizeof(o->err), "%s",
			 len ? "the path is too long"
			     : "a path is required (PATH[,ro][,serial=S][,id=ID])");
		return -EINVAL;
	}
	memcpy(o->path, arg, len);
	while (p) {
		const char *s = p + 1;
		int ret;

		p = strchr(s, ',');
		ret = parse_one(o, s, p ? (size_t)(p - s) : strlen(s));
		if (ret)
			return ret;
	}
	return 0;
}

/* KVMBOX_BLK_POLL_US: microseconds, 0 to BLK_POLL_MAX_US. */
static int poll_from_env(u64 *max_ns)
{
	const char *s = getenv("KVMBOX_BLK_POLL_US");
	unsigned long v;
	char *end;

	*max_ns = BLK_POLL_MAX_NS_DEFAULT;
	if (!s)
		return 0;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] < '0' || s[0] > '9' || v > BLK_POLL_MAX_US)
		return -EINVAL;
	*max_ns = (u64)v * 1000;
	return 0;
}

int virtio_blk_env(enum block_backend *be, u64 *poll_max_ns)
{
	if (block_backend_from_env(be)) {
		pr_err("KVMBOX_BLOCK_BACKEND=%s: expected io_uring, threads or auto",
		       getenv("KVMBOX_BLOCK_BACKEND"));
		return -EXIT_BAD_INPUT;
	}
	if (poll_from_env(poll_max_ns)) {
		pr_err("KVMBOX_BLK_POLL_US=%s: expected microseconds from 0 to %d",
		       getenv("KVMBOX_BLK_POLL_US"), BLK_POLL_MAX_US);
		return -EXIT_BAD_INPUT;
	}
	return 0;
}

int virtio_blk_check(const struct vm_config *cfg)
{
	static struct blk_options o; /* PATH_MAX bytes: not on the stack */
	enum block_backend be;
	u64 poll_max_ns;

	if (cfg->nr_disks && virtio_blk_env(&be, &poll_max_ns))
		return -EXIT_BAD_INPUT;
	for (unsigned int i = 0; i < cfg->nr_disks; i++) {
		struct block_file f;
		char err[160];

		if (virtio_blk_parse_option(cfg->disks[i], &o)) {
			pr_err("--disk %s: %s", cfg->disks[i], o.err);
			return -EXIT_BAD_INPUT;
		}
		/* Opened as realize opens it: mode, type, size and lock are all checked. */
		if (block_file_open(&f, o.path, o.ro, err, sizeof(err))) {
			pr_err("--disk %s: %s", o.path, err);
			return -EXIT_BAD_INPUT;
		}
		block_file_close(&f);
	}
	return 0;
}
