// SPDX-License-Identifier: GPL-2.0-only
/*
 * An ARM PrimeCell PL031 real-time clock model (ARM DDI 0224).
 *
 * The counter is the host's seconds plus an offset, both modulo 2^32 as the 32-bit
 * counter wraps: RTCLR sets the offset, RTCDR adds it to the host clock of the moment.
 *
 * Choices that differ from silicon or from the TRM's letter:
 *  - The counter runs from power-on and RTCCR always reads 1 (started), writes ignored, as
 *    in QEMU. A guest's clock must tick before anybody starts it: Linux and EDK2 set the
 *    start bit only when it reads clear, and other guests read RTCDR without looking.
 *  - RTCICR clears what its bit 0 says (the register description), not on any write (the
 *    overview); Linux and EDK2 write 1.
 *  - The comparator is evaluated when somebody looks (a guest access, pl031_tick, a load),
 *    over every second since it last was, so no match is missed between two looks. A match
 *    set to the current second (writing RTCMR or RTCLR) is raised at once, as QEMU does. A
 *    host clock that steps back crosses no second.
 *  - A reset keeps the time: a rebooted guest should find its clock where it left it.
 *
 * Locking: one mutex. host->now and host->irq are called with it held (irq only when the
 * level changes); neither may call back in.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../bus.h"
#include "pl031.h"

enum {
	REG_DR = 0x000,
	REG_MR = 0x004,
	REG_LR = 0x008,
	REG_CR = 0x00c,
	REG_IMSC = 0x010,
	REG_RIS = 0x014,
	REG_MIS = 0x018,
	REG_ICR = 0x01c,
	REG_ID = 0xfe0, /* RTCPeriphID0-3, RTCPCellID0-3 */
};

#define CR_START  0x1
#define INT_MATCH 0x1 /* RTCINTR, the one interrupt */

/*
 * PeriphID2 says revision 1 (0x14), as QEMU and kvm-unit-tests' pl031 test want; Linux
 * masks the revision out of its match and EDK2 checks only the designer nibble.
 */
static const u8 pl031_id[8] = {0x31, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1};

#define SNAP_VERSION 1

struct pl031 {
	pthread_mutex_t lock;
	struct pl031_host host;
	u32 offset; /* counter minus host seconds, modulo 2^32 */
	u32 mr, lr, imsc, ris;
	u64 checked; /* the host second up to which the comparator has run */
	bool irq_level;
};

static u64 host_now(const struct pl031 *rtc)
{
	struct timespec ts;

	if (rtc->host.now)
		return rtc->host.now(rtc->host.opaque);
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec > 0 ? (u64)ts.tv_sec : 0;
}

static u32 count_at(const struct pl031 *rtc, u64 host)
{
	return (u32)host + rtc->offset;
}

/* Seconds from host second at until the counter next equals RTCMR: 1 to 2^32. */
static u64 seconds_to_match(const struct pl031 *rtc, u64 at)
{
	u32 ahead = rtc->mr - count_at(rtc, at);

	return ahead ? ahead : 1ull << 32;
}

/* Runs the comparator over the seconds after the last run, up to now. */
static void check_match(struct pl031 *rtc, u64 now)
{
	if (now > rtc->checked && seconds_to_match(rtc, rtc->checked) <= now - rtc->checked)
		rtc->ris = INT_MATCH;
	rtc->checked = now;
}

/* RTCMR or the counter was just written: equal now is a match now. */
static void match_now(struct pl031 *rtc, u64 now)
{
	if (count_at(rtc, now) == rtc->mr)
		rtc->ris = INT_MATCH;
}

static void update_irq(struct pl031 *rtc, bool force)
{
	bool level = (rtc->ris & rtc->imsc) != 0;

	if (level == rtc->irq_level && !force)
		return;
	rtc->irq_level = level;
	if (rtc->host.irq)
		rtc->host.irq(rtc->host.opaque, level);
}

static u32 reg_read(const struct pl031 *rtc, unsigned int off, u64 now)
{
	switch (off) {
	case REG_DR:
		return count_at(rtc, now);
	case REG_MR:
		return rtc->mr;
	case REG_LR:
		return rtc->lr;
	case REG_CR:
		return CR_START;
	case REG_IMSC:
		return rtc->imsc;
	case REG_RIS:
		return rtc->ris;
	case REG_MIS:
		return rtc->ris & rtc->imsc;
	}
	if (off >= REG_ID)
		return pl031_id[(off - REG_ID) / 4];
	return 0; /* ICR is write-only; the gaps read as zero */
}

/* DR, RIS, MIS and the ID registers are read-only, and CR is always started. */
static void reg_write(struct pl031 *rtc, unsigned int off, u32 val, u64 now)
{
	switch (off) {
	case REG_MR:
		rtc->mr = val;
		match_now(rtc, now);
		break;
	case REG_LR:
		rtc->lr = val;
		rtc->offset = val - (u32)now;
		match_now(rtc, now);
		break;
	case REG_IMSC:
		rtc->imsc = val & INT_MATCH;
		break;
	case REG_ICR:
		rtc->ris &= ~val;
		break;
	}
}

/* Aligned words anywhere; aligned bytes and halves only to read the ID registers. */
static bool access_valid(u64 offset, u32 len, bool is_write)
{
	if (offset >= PL031_MMIO_SIZE || (len != 1 && len != 2 && len != 4) || offset % len)
		return false;
	return len == 4 || (!is_write && offset >= REG_ID);
}

void pl031_mmio(void *opaque, u64 offset, u8 *data, u32 len, bool is_write)
{
	struct pl031 *rtc = opaque;
	unsigned int off = (unsigned int)(offset & ~3ull), shift = (unsigned int)(offset & 3) * 8;
	u64 now;

	if (!access_valid(offset, len, is_write)) {
		if (!is_write)
			memset(data, 0, MIN(len, 8u));
		return;
	}
	pthread_mutex_lock(&rtc->lock);
	now = host_now(rtc);
	/* Matches up to now are judged by the old RTCMR and offset, before a write moves them. */
	check_match(rtc, now);
	if (is_write)
		reg_write(rtc, off, (u32)io_data_get(data, len), now);
	else
		io_data_put(data, len, reg_read(rtc, off, now) >> shift);
	update_irq(rtc, false);
	pthread_mutex_unlock(&rtc->lock);
}

static void tick_locked(struct pl031 *rtc, u64 now)
{
	check_match(rtc, now);
	update_irq(rtc, false);
}

void pl031_tick(struct pl031 *rtc)
{
	pthread_mutex_lock(&rtc->lock);
	tick_locked(rtc, host_now(rtc));
	pthread_mutex_unlock(&rtc->lock);
}

u64 pl031_next_alarm(struct pl031 *rtc)
{
	u64 now, at = 0;

	pthread_mutex_lock(&rtc->lock);
	now = host_now(rtc);
	/* Brought up to date first, so a match already passed is pending, not "next". */
	tick_locked(rtc, now);
	if ((rtc->imsc & INT_MATCH) && !rtc->ris)
		at = now + seconds_to_match(rtc, now);
	pthread_mutex_unlock(&rtc->lock);
	return at;
}

static void reset_locked(struct pl031 *rtc, u64 now)
{
	rtc->mr = rtc->lr = rtc->imsc = rtc->ris = 0;
	rtc->checked = now;
	update_irq(rtc, false);
}

void pl031_reset(struct pl031 *rtc)
{
	pthread_mutex_lock(&rtc->lock);
	reset_locked(rtc, host_now(rtc));
	pthread_mutex_unlock(&rtc->lock);
}

struct pl031 *pl031_new(const struct pl031_host *host)
{
	struct pl031 *rtc = calloc(1, sizeof(*rtc));

	if (!rtc)
		return NULL;
	pthread_mutex_init(&rtc->lock, NULL);
	if (host)
		rtc->host = *host;
	/* Offset 0: the guest's clock starts as the host's, in UTC as Linux expects. */
	reset_locked(rtc, host_now(rtc));
	return rtc;
}

void pl031_free(struct pl031 *rtc)
{
	if (!rtc)
		return;
	pthread_mutex_destroy(&rtc->lock);
	free(rtc);
}

/*
 * Snapshot layout (version 1): u32 offset, RTCMR, RTCLR, RTCIMSC, RTCRIS, then u64 the host
 * second up to which the comparator has run. The offset, not the count, keeps the guest's
 * clock with the host's across a restore, as QEMU migrates its tick offset.
 */
enum { S_OFFSET, S_MR, S_LR, S_IMSC, S_RIS, S_NWORDS };

int pl031_save(struct pl031 *rtc, struct snap_buf *sb)
{
	u32 s[S_NWORDS];
	u64 checked;

	pthread_mutex_lock(&rtc->lock);
	s[S_OFFSET] = rtc->offset;
	s[S_MR] = rtc->mr;
	s[S_LR] = rtc->lr;
	s[S_IMSC] = rtc->imsc;
	s[S_RIS] = rtc->ris;
	checked = rtc->checked;
	pthread_mutex_unlock(&rtc->lock);

	snap_begin_section(sb, "pl031", SNAP_VERSION);
	for (size_t i = 0; i < S_NWORDS; i++)
		snap_put_u32(sb, s[i]);
	snap_put_u64(sb, checked);
	return sb->error ? -ENOMEM : 0;
}

int pl031_load(struct pl031 *rtc, struct snap_buf *sb)
{
	u32 s[S_NWORDS];
	u64 checked, now;

	if (snap_open_section(sb, "pl031") != SNAP_VERSION)
		return -EINVAL;
	for (size_t i = 0; i < S_NWORDS; i++)
		if (!snap_get_u32(sb, &s[i]))
			return -EINVAL;
	if (!snap_get_u64(sb, &checked))
		return -EINVAL;
	/* Every counter, match and load value is possible; only the interrupt bits are not. */
	if ((s[S_IMSC] | s[S_RIS]) & ~INT_MATCH)
		return -EINVAL;

	pthread_mutex_lock(&rtc->lock);
	now = host_now(rtc);
	rtc->offset = s[S_OFFSET];
	rtc->mr = s[S_MR];
	rtc->lr = s[S_LR];
	rtc->imsc = s[S_IMSC];
	rtc->ris = s[S_RIS];
	/*
	 * The comparator resumes where it stopped, so a match the counter passed while the
	 * snapshot sat is raised now, as a battery-backed RTC would have; on a host clock behind
	 * the saved one (another host), check_match() finds nothing passed.
	 */
	rtc->checked = checked;
	check_match(rtc, now);
	/* The line may not match our cached level after a restore: drive it regardless. */
	update_irq(rtc, true);
	pthread_mutex_unlock(&rtc->lock);
	return 0;
}
