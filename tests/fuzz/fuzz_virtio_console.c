// SPDX-License-Identifier: GPL-2.0-only
// fuzz-sources: src/memory.c src/util/log.c src/util/thread.c src/snapshot.c src/devices/virtio/virtqueue.c src/devices/virtio/console.c src/backends/stream.c tests/fuzz/fake_transport.c src/sandbox/spawner.c src/sandbox/seccomp.c src/sandbox/filters.c src/arch/$(ARCH)/sandbox.c src/devices/worker.c
// fuzz-libs: -lseccomp
/*
 * libFuzzer harness for virtio-console's queue handling: the input is a hostile driver
 * (its guest memory, rings and ring features) and a host typing into the console, run
 * through virtio_console_tx()/virtio_console_rx() on a stream whose input is a pipe the
 * harness fills and whose output is /dev/null. Nothing may crash, touch memory outside
 * guest RAM, lose or invent input bytes, or serve a queue after it broke the rules.
 *
 * Input layout:
 *   [0]      rx queue size = 1 << ((byte & 15) % 9), tx queue size = 1 << ((byte >> 4) % 9)
 *   [1]      bit 0 EVENT_IDX, bit 1 INDIRECT_DESC
 *   [2..5]   starting last_avail of rx, tx (le16), so index wraparound comes quickly
 *   [6..21]  16 operations (see run_op())
 *   [22..]   guest RAM image: 64 KiB at GPA 0. rx rings at 0, tx rings at 32 KiB.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "devices/virtio/console.h"
#include "harness.h"
#include "util/log.h"

#define RAM_SIZE  (64 * KiB)
#define TX_RINGS  (32 * KiB)
#define HDR_SIZE  6
#define NR_OPS	  16
#define IMAGE_OFF (HDR_SIZE + NR_OPS)

static struct guest_memory mem;
static struct virtio_console *con;
static int in_r, in_w;
static u64 typed; /* bytes the host put into the input, this run */

static void harness_notify(struct virtio_dev *vdev, unsigned int q)
{
	(void)vdev;
	CHECK(q < VIRTIO_CONSOLE_QUEUES);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct stream *s;
	int fds[2], null_fd;

	(void)argc;
	(void)argv;
	log_level = LOG_ERR; /* every hostile input would log a warning */
	ram_alloc_one(&mem, RAM_SIZE);
	con = calloc(1, sizeof(*con));
	CHECK(con);
	CHECK(pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0);
	in_r = fds[0];
	in_w = fds[1];
	null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	CHECK(null_fd >= 0);
	CHECK(stream_from_fds(&s, in_r, null_fd) == 0);
	CHECK(virtio_console_init(con, s) == 0);
	con->vdev.notify = harness_notify;
	return 0;
}

static size_t input_pending(void)
{
	int n = 0;

	CHECK(ioctl(in_r, FIONREAD, &n) == 0);
	return (size_t)n;
}

/* The host types len bytes cut from the image (or zeros past its end). */
static void type_input(const u8 *img, size_t img_len, size_t len)
{
	u8 buf[4096] = {0};
	ssize_t n;

	memcpy(buf, img, MIN(len, img_len));
	n = write(in_w, buf, len);
	if (n > 0)
		typed += (size_t)n;
}

static void check_state(void)
{
	/* Every byte typed is either in the guest's buffers or still in the pipe. */
	CHECK(con->rx_bytes + input_pending() == typed);
	if (reset_seen)
		CHECK(con->vdev.broken);
}

/*
 * bits 0-1: 0 a transmit round, 1 the host types (bits 2-4 pick how much), 2 a receive
 * round, 3 the driver kicks rx (the worker's un-starving) or, with bit 4, resets and
 * restarts the device; bits 5-7 add to the avail index of rx (5-6) or tx (7) as a driver
 * racing ahead would.
 */
static void run_op(u8 op, const u8 *img, size_t img_len)
{
	static const size_t lens[8] = {0, 1, 2, 7, 64, 100, 1000, 4096};
	u16 rx_last = con->vdev.queues[VIRTIO_CONSOLE_RXQ].vq.last_avail;
	bool was_broken = con->vdev.broken;

	switch (op & 3) {
	case 0:
		virtio_console_tx(con);
		break;
	case 1:
		type_input(img, img_len, lens[(op >> 2) & 7]);
		break;
	case 2:
		virtio_console_rx(con);
		break;
	case 3:
		if (op & 0x10) {
			virtio_console_deactivate(con);
			reset_seen = false;
			virtio_console_activate(con);
		}
		con->rx_starved = false;
		break;
	}
	/* A broken device leaves its rings alone until the reset. */
	if (was_broken && con->vdev.broken)
		CHECK(con->vdev.queues[VIRTIO_CONSOLE_RXQ].vq.last_avail == rx_last);
	driver_races_ahead(&con->vdev.queues[VIRTIO_CONSOLE_RXQ].vq,
			   &con->vdev.queues[VIRTIO_CONSOLE_TXQ].vq, op);
	check_state();
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	const u8 *img = data + IMAGE_OFF;
	u8 drain[4096];
	size_t img_len;

	if (size < IMAGE_OFF)
		return 0;
	img_len = MIN(size - IMAGE_OFF, (size_t)RAM_SIZE);
	ram_load(&mem, img, img_len, 0);
	while (read(in_r, drain, sizeof(drain)) > 0)
		;
	typed = 0;
	con->rx_bytes = con->tx_bytes = con->tx_dropped = 0;
	reset_seen = false;
	queue_start(&con->vdev.queues[VIRTIO_CONSOLE_RXQ].vq, &mem, 1u << ((data[0] & 15) % 9), 0,
		    (u16)le_at(&data[2], 2), data[1] & 1, data[1] & 2);
	queue_start(&con->vdev.queues[VIRTIO_CONSOLE_TXQ].vq, &mem, 1u << ((data[0] >> 4) % 9),
		    TX_RINGS, (u16)le_at(&data[4], 2), data[1] & 1, data[1] & 2);
	virtio_console_activate(con);
	for (unsigned int i = 0; i < NR_OPS; i++)
		run_op(data[HDR_SIZE + i], img, img_len);
	virtio_console_deactivate(con);
	return 0;
}
