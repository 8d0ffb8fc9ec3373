/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_DEVICES_PL031_H
#define KVMBOX_DEVICES_PL031_H

#include "../snapshot.h"
#include "../util/types.h"

/*
 * An ARM PrimeCell PL031 real-time clock (ARM DDI 0224), the RTC of the arm64 board (QEMU's
 * virt machine has it at 0x09010000, SPI 2). A 32-bit count of seconds, read by Linux's
 * rtc-pl031 and EDK2's ArmVirtQemu as seconds since the epoch (UTC). The count is the host
 * clock plus an offset the guest sets through RTCLR, as with the CMOS RTC (rtc.h), so it runs
 * without a thread of its own. The model is pure, as pl011: the host callbacks are its
 * outlets. Thread-safe.
 *
 * The match interrupt: the counter is compared with RTCMR on every guest access, and over
 * the seconds since the last comparison, so a guest that polls RTCRIS sees every match.
 * For the line to rise at the right second without a guest access, the board arms a timer
 * at pl031_next_alarm() and calls pl031_tick() when it fires; without one, a match raises
 * the line at the guest's next access only (Linux uses it for wakealarm alone).
 */
struct pl031;

struct pl031_host {
	/* The level of RTCINTR, called only when it changes (and by pl031_load). */
	void (*irq)(void *opaque, bool level);
	/* Host wall-clock seconds since the epoch; NULL: clock_gettime(CLOCK_REALTIME). */
	u64 (*now)(void *opaque);
	void *opaque;
};

#define PL031_MMIO_SIZE 0x1000 /* the register window; the ID registers end it */

/* host may be NULL: no interrupt line, the host's real-time clock. */
struct pl031 *pl031_new(const struct pl031_host *host);
void pl031_free(struct pl031 *rtc);
/*
 * The bus handler: offset within the 4 KiB window. Registers take aligned 32-bit accesses;
 * the ID registers can also be read by aligned bytes and halves (EDK2 reads them by bytes).
 * Anything else reads as zero and is ignored.
 */
void pl031_mmio(void *opaque, u64 offset, u8 *data, u32 len, bool is_write);
/* A reboot: the match, mask and interrupt go; the time keeps going, as a battery's would. */
void pl031_reset(struct pl031 *rtc);
/*
 * The offset to the host clock is saved, not the count: a restored guest finds its clock
 * moved on with the host's, and a match that passed meanwhile is raised at the load.
 */
int pl031_save(struct pl031 *rtc, struct snap_buf *sb);
int pl031_load(struct pl031 *rtc, struct snap_buf *sb);

/*
 * For a board timer: the host second (as now() counts) at which the counter next meets
 * RTCMR, or 0 while that would not change the line (RTCIMSC masks the match, or it is
 * already pending). The answer changes with guest writes, reset and load: ask again after
 * each. With now NULL, it is a CLOCK_REALTIME time for a TFD_TIMER_ABSTIME timerfd.
 */
u64 pl031_next_alarm(struct pl031 *rtc);
/* Compares the counter with RTCMR now and drives the line: for that timer's expiry. */
void pl031_tick(struct pl031 *rtc);

#endif
