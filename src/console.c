// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "console.h"
#include "util/log.h"

static struct termios saved_termios;
static volatile sig_atomic_t termios_saved;

void console_restore(void)
{
	if (termios_saved)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
}

/* Fatal signals: put the terminal back, then die of the same signal. */
static void console_fatal_signal(int sig)
{
	console_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

void console_setup(void)
{
	static const int fatal[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGQUIT};
	struct termios raw;

	if (termios_saved || !isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_termios))
		return;
	raw = saved_termios;
	cfmakeraw(&raw);
	if (tcsetattr(STDIN_FILENO, TCSANOW, &raw))
		return;
	termios_saved = 1;
	atexit(console_restore);
	for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++) {
		struct sigaction sa = {.sa_handler = console_fatal_signal};

		sigemptyset(&sa.sa_mask);
		sigaction(fatal[i], &sa, NULL);
	}
}

size_t console_filter(struct console_escape *esc, const u8 *in, size_t len, u8 *out, bool *quit)
{
	size_t n = 0;

	*quit = false;
	for (size_t i = 0; i < len; i++) {
		u8 c = in[i];

		if (!esc->after_escape) {
			if (c == CONSOLE_ESCAPE_CHAR)
				esc->after_escape = true;
			else
				out[n++] = c;
			continue;
		}
		esc->after_escape = false;
		if (c == 'x' || c == 'X') {
			*quit = true;
			break;
		}
		if (c == CONSOLE_ESCAPE_CHAR)
			out[n++] = c;
		/* Any other key after the escape is dropped, as QEMU does. */
	}
	return n;
}

void console_input_init(struct console_input *in, int fd)
{
	memset(in, 0, sizeof(*in));
	in->fd = fd;
	in->is_terminal = isatty(fd);
}

bool console_input_wants_read(const struct console_input *in)
{
	return !in->eof && (!console_input_pending(in) || in->is_terminal);
}

bool console_input_pending(const struct console_input *in)
{
	return in->pos < in->len;
}

/* Hands buffered keys to the guest; what does not fit waits for the guest to take some. */
void console_input_flush(struct console_input *in, const struct console_sink *sink)
{
	if (in->pos < in->len)
		in->pos += sink->receive(sink->opaque, in->buf + in->pos, in->len - in->pos);
}

/* Appends keys behind those still waiting for the guest, dropping what does not fit. */
static void console_input_queue(struct console_input *in, const u8 *keys, size_t n)
{
	size_t take;

	memmove(in->buf, in->buf + in->pos, in->len - in->pos);
	in->len -= in->pos;
	in->pos = 0;
	take = MIN(n, sizeof(in->buf) - in->len);
	memcpy(in->buf + in->len, keys, take);
	in->len += take;
	if (take < n && !in->warned) {
		pr_warn("console: the guest is not reading its console; dropping keys "
			"(Ctrl-A x quits)");
		in->warned = true;
	}
}

int console_input_read(struct console_input *in, const struct console_sink *sink, bool *quit)
{
	u8 raw[sizeof(in->buf)], keys[sizeof(in->buf)];
	ssize_t n = read(in->fd, raw, sizeof(raw));

	*quit = false;
	if (n <= 0) {
		if (n == 0 || (errno != EINTR && errno != EAGAIN))
			in->eof = true;
		return 0;
	}
	console_input_queue(in, keys, console_filter(&in->esc, raw, (size_t)n, keys, quit));
	console_input_flush(in, sink);
	return 0;
}

/*
 * stdout may share a non-blocking file description with stdin (a tty): wait a bounded
 * time for room, then drop rather than stall the vCPU forever, and after a drop do not
 * wait again until a write gets through. EPIPE and other errors drop silently: nobody
 * is reading the console any more.
 */
#define TX_MAX_STALLS 20
#define TX_STALL_MS   50
#define TX_MAX_EINTR  100

void console_out_write(struct console_out *out, const u8 *buf, size_t len)
{
	int stalls = atomic_load(&out->stalled) ? TX_MAX_STALLS : 0, eintrs = 0;

	while (len) {
		ssize_t n = write(STDOUT_FILENO, buf, len);
		bool blocked = n == 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));

		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			atomic_store(&out->stalled, false);
		} else if (n < 0 && errno == EINTR && eintrs++ < TX_MAX_EINTR) {
			continue;
		} else if (blocked && stalls++ < TX_MAX_STALLS) {
			struct pollfd p = {.fd = STDOUT_FILENO, .events = POLLOUT};

			poll(&p, 1, TX_STALL_MS);
		} else {
			atomic_store(&out->stalled, blocked);
			return;
		}
	}
}
