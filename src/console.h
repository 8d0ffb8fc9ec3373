/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_CONSOLE_H
#define KVMBOX_CONSOLE_H

#include <stdatomic.h>

#include "util/types.h"

/* The escape key: Ctrl-A, then x to quit, or Ctrl-A again to send a literal Ctrl-A. */
#define CONSOLE_ESCAPE_CHAR 0x01

/*
 * Puts a terminal stdin into raw mode (so the guest sees every key) and makes sure it is
 * restored on every way out: normal exit, fatal signal, or kvmbox's own error paths.
 */
void console_setup(void);
void console_restore(void);

struct console_escape {
	bool after_escape;
};

/*
 * Removes the escape sequences from len input bytes, writing what the guest should get to
 * out (at least len bytes). Returns the number of bytes for the guest; sets *quit when the
 * user asked to quit (bytes after the quit are dropped).
 */
size_t console_filter(struct console_escape *esc, const u8 *in, size_t len, u8 *out, bool *quit);

/*
 * Where keys from stdin go: the console UART, or hvc0 with --virtio-console on stdio.
 * receive() takes what fits and returns how many bytes it took; when it took less, the
 * main loop waits until wake_fd polls ready for wake_events, calls woken() (which may be
 * NULL; it empties an eventfd, say), then offers the rest again.
 */
struct console_sink {
	size_t (*receive)(void *opaque, const u8 *buf, size_t len);
	void (*woken)(void *opaque);
	int wake_fd;
	short wake_events;
	void *opaque;
};

/*
 * Keys read from stdin on their way to the guest. A pipe or file is read only as fast
 * as the guest takes it, so nothing is lost. A terminal is read even when the guest
 * is behind, so that Ctrl-A x always works: keys that do not fit in buf are dropped
 * then (with one warning), as a UART drops bytes on an overrun.
 */
struct console_input {
	int fd;
	bool eof;
	bool is_terminal; /* read ahead of the guest, dropping what does not fit */
	bool warned;
	struct console_escape esc;
	u8 buf[4096];
	size_t len, pos;
};

void console_input_init(struct console_input *in, int fd);
/* True when input should be read now: the guest took all so far, or it is a terminal. */
bool console_input_wants_read(const struct console_input *in);
/* True while keys read wait for the guest to take them. */
bool console_input_pending(const struct console_input *in);
int console_input_read(struct console_input *in, const struct console_sink *sink, bool *quit);
void console_input_flush(struct console_input *in, const struct console_sink *sink);

/*
 * The guest's serial output on kvmbox's stdout. stdout may share a non-blocking file
 * description with stdin (a tty): a write waits a bounded time for room, then drops rather
 * than stall the vCPU forever, and after a drop does not wait again until a write gets
 * through. EPIPE and other errors drop silently: nobody is reading the console any more.
 */
struct console_out {
	atomic_bool stalled;
};

void console_out_write(struct console_out *out, const u8 *buf, size_t len);

#endif
