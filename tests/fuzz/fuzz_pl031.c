// SPDX-License-Identifier: GPL-2.0-only
// fuzz-sources: src/snapshot.c src/util/log.c src/devices/pl031.c
// fuzz-time-percent: 5
/*
 * libFuzzer harness for the PL031 RTC on a host clock the input moves: MMIO accesses to
 * its 4 KiB window (fuzz_access.h), the board timer's ticks and alarms, clock steps (ahead
 * by up to 2^48 s, or back), resets and hostile snapshots. The irq callback comes only
 * when the line changes (a load may drive it regardless), and the alarm the model asks
 * for lies 1 to 2^32 s ahead and, when it comes, raises the line.
 *
 * Kinds below FUZZ_KIND_RESET: 0xa0-0xaf a tick, 0xb0-0xbf an alarm (the clock jumps to
 * it and ticks), 0xc0-0xdf a clock step by the access's offset, the rest MMIO accesses.
 */
#include "devices/pl031.h"
#include "fuzz_access.h"

static u64 now;
static bool level, loading;

static u64 host_now(void *opaque)
{
	(void)opaque;
	return now;
}

static void host_irq(void *opaque, bool l)
{
	(void)opaque;
	CHECK(loading || l != level);
	level = l;
}

static int save(void *rtc, struct snap_buf *sb)
{
	return pl031_save(rtc, sb);
}

static int load(void *rtc, struct snap_buf *sb)
{
	int ret;

	loading = true;
	ret = pl031_load(rtc, sb);
	loading = false;
	return ret;
}

static void alarm(struct pl031 *rtc)
{
	u64 at = pl031_next_alarm(rtc);

	if (!at)
		return;
	CHECK(at > now && at - now <= 1ULL << 32);
	now = at;
	pl031_tick(rtc);
	CHECK(level);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct pl031_host host = {.irq = host_irq, .now = host_now};
	struct fuzz_in in = {data, size};
	struct fuzz_access a;
	struct pl031 *rtc;

	now = fuzz_le(&in, 5);
	level = false;
	rtc = pl031_new(&host);
	CHECK(rtc);
	while (fuzz_next(&in, &a, PL031_MMIO_SIZE, 8)) {
		if (a.kind >= FUZZ_KIND_SNAPSHOT)
			fuzz_snapshot(rtc, save, load, &in);
		else if (a.kind >= FUZZ_KIND_RESET)
			pl031_reset(rtc);
		else if (a.kind >= 0xc0)
			now = a.write ? now + ((u64)a.raw << (a.len * 2)) : now - MIN(now, a.raw);
		else if (a.kind >= 0xb0)
			alarm(rtc);
		else if (a.kind >= 0xa0)
			pl031_tick(rtc);
		else if (fuzz_fits(&a, PL031_MMIO_SIZE))
			pl031_mmio(rtc, a.offset, fuzz_buf(&a), a.len, a.write);
	}
	pl031_free(rtc);
	return 0;
}
