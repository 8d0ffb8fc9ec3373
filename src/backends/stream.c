// SPDX-License-Identifier: GPL-2.0-only
/*
 * Byte streams for virtio-console: kvmbox's stdio (input through the main loop's
 * escape filter and a one-page pipe) or a listening Unix stream socket with at most one
 * client. See stream.h for the rules the device relies on.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../console.h"
#include "../util/log.h"
#include "stream.h"

#define SOCKET_PREFIX	  "socket:"
#define STREAM_STALL_MS	  50 /* one wait for room in stdout or the socket */
#define STREAM_MAX_STALLS 20 /* waits per write before the rest is dropped */
#define STREAM_MAX_EINTR  100
#define STDIN_PIPE_SIZE	  4096 /* keys typed ahead of the guest: one page */
#define ACCEPT_BACKOFF_MS 100  /* after a failed accept(): the connection stays queued */

struct stream {
	enum stream_kind kind;
	int in_fd;  /* input: the stdin pipe, a test's fd, or the socket's client (-1: none) */
	int out_fd; /* output: stdout, a test's fd, or the client (-1: dropped) */
	bool owns_out;
	bool in_eof;  /* input ended for good */
	bool stalled; /* the last write dropped bytes: no waiting until one gets through */

	int pipe_w; /* stdio: the main loop's end of the pipe */
	struct console_sink sink;

	int listen_fd; /* socket */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t path_dev; /* what we bound, so that close() removes only our own socket */
	ino_t path_ino;
	u64 accept_retry_ns; /* CLOCK_MONOTONIC: no accept() before this */
};

static u64 monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ull + (u64)ts.tv_nsec;
}

int stream_parse_options(const char *arg, struct stream_options *opt, char *err, size_t errlen)
{
	size_t len;

	memset(opt, 0, sizeof(*opt));
	if (!arg || !*arg) {
		opt->kind = STREAM_STDIO;
		return 0;
	}
	if (strncmp(arg, SOCKET_PREFIX, strlen(SOCKET_PREFIX))) {
		snprintf(err, errlen, "expected socket:PATH, or no value for kvmbox's stdio");
		return -EINVAL;
	}
	arg += strlen(SOCKET_PREFIX);
	len = strlen(arg);
	if (!len) {
		snprintf(err, errlen, "no path after socket:, e.g. socket:/tmp/hvc0.sock");
		return -EINVAL;
	}
	if (len >= sizeof(opt->path)) {
		snprintf(err, errlen, "the socket path is longer than %zu bytes",
			 sizeof(opt->path) - 1);
		return -EINVAL;
	}
	opt->kind = STREAM_SOCKET;
	memcpy(opt->path, arg, len + 1);
	return 0;
}

int stream_check_options(const struct stream_options *opt, char *err, size_t errlen)
{
	char dir[sizeof(opt->path)];
	const char *slash;
	struct stat st;

	if (opt->kind != STREAM_SOCKET)
		return 0;
	if (!lstat(opt->path, &st)) {
		snprintf(err, errlen, "%s exists; remove it or choose another path", opt->path);
		return -EINVAL;
	}
	slash = strrchr(opt->path, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)MAX(slash - opt->path, 1), opt->path);
	if (access(dir, W_OK | X_OK)) {
		snprintf(err, errlen, "cannot create a socket in %s: %s", dir, strerror(errno));
		return -EINVAL;
	}
	return 0;
}

static struct stream *stream_new(enum stream_kind kind)
{
	struct stream *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->kind = kind;
	s->in_fd = s->out_fd = s->pipe_w = s->listen_fd = -1;
	return s;
}

/* The main loop's keys; a full pipe takes nothing and the loop waits for POLLOUT. */
static size_t stdin_receive(void *opaque, const u8 *buf, size_t len)
{
	struct stream *s = opaque;
	ssize_t n = write(s->pipe_w, buf, len);

	if (n > 0)
		return (size_t)n;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	return len; /* nobody will read them: dropped, so that the loop does not spin */
}

static int stream_open_stdio(struct stream *s, char *err, size_t errlen)
{
	int fds[2];

	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) {
		snprintf(err, errlen, "cannot create a pipe: %s", strerror(errno));
		return -errno;
	}
	/* The pipe bounds what is read from stdin before the guest takes it. */
	if (fcntl(fds[0], F_SETPIPE_SZ, STDIN_PIPE_SIZE) < 0)
		pr_debug("virtio-console: F_SETPIPE_SZ: %s", strerror(errno));
	s->in_fd = fds[0];
	s->pipe_w = fds[1];
	s->out_fd = STDOUT_FILENO;
	s->sink = (struct console_sink){
		.receive = stdin_receive,
		.wake_fd = s->pipe_w,
		.wake_events = POLLOUT,
		.opaque = s,
	};
	return 0;
}

static int stream_open_socket(struct stream *s, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	struct stat st;

	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->listen_fd < 0) {
		snprintf(err, errlen, "cannot create a socket: %s", strerror(errno));
		return -errno;
	}
	memcpy(addr.sun_path, path, strlen(path) + 1);
	if (bind(s->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		if (errno == EADDRINUSE)
			snprintf(err, errlen, "%s exists; remove it or choose another path", path);
		else
			snprintf(err, errlen, "cannot bind a socket at %s: %s", path,
				 strerror(errno));
		return -EINVAL;
	}
	memcpy(s->path, path, strlen(path) + 1);
	if (!stat(path, &st)) {
		s->path_dev = st.st_dev;
		s->path_ino = st.st_ino;
	}
	/* A second client waits in the backlog until the first one leaves. */
	if (listen(s->listen_fd, 1) < 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

int stream_open(struct stream **out, const struct stream_options *opt, char *err, size_t errlen)
{
	struct stream *s = stream_new(opt->kind);
	int ret;

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (opt->kind == STREAM_SOCKET)
		ret = stream_open_socket(s, opt->path, err, errlen);
	else
		ret = stream_open_stdio(s, err, errlen);
	if (ret) {
		stream_close(s);
		return ret;
	}
	*out = s;
	return 0;
}

int stream_from_fds(struct stream **out, int in_fd, int out_fd)
{
	struct stream *s = stream_new(STREAM_STDIO);
	int fl = fcntl(in_fd, F_GETFL);

	if (!s)
		return -ENOMEM;
	if (fl < 0 || fcntl(in_fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		free(s);
		return -EBADF;
	}
	s->in_fd = in_fd;
	s->out_fd = out_fd;
	s->owns_out = true;
	*out = s;
	return 0;
}

static void drop_client(struct stream *s, const char *why)
{
	if (s->in_fd < 0)
		return;
	pr_debug("virtio-console: client %s", why);
	close(s->in_fd);
	s->in_fd = s->out_fd = -1;
	s->stalled = false;
}

void stream_close(struct stream *s)
{
	struct stat st;

	if (!s)
		return;
	if (s->kind == STREAM_SOCKET) {
		drop_client(s, "closed at exit");
		if (s->listen_fd >= 0)
			close(s->listen_fd);
		if (s->path[0] && !stat(s->path, &st) && st.st_dev == s->path_dev &&
		    st.st_ino == s->path_ino)
			unlink(s->path);
	} else {
		if (s->in_fd >= 0)
			close(s->in_fd);
		if (s->pipe_w >= 0)
			close(s->pipe_w);
		if (s->owns_out && s->out_fd >= 0 && s->out_fd != s->in_fd)
			close(s->out_fd);
	}
	free(s);
}

struct console_sink *stream_stdin_sink(struct stream *s)
{
	return s->pipe_w >= 0 ? &s->sink : NULL;
}

enum stream_kind stream_kind(const struct stream *s)
{
	return s->kind;
}

unsigned int stream_poll_fill(struct stream *s, struct pollfd *fds, bool want_input)
{
	if (s->kind == STREAM_SOCKET && s->in_fd < 0) {
		/* Backing off: the failed connection is still queued and would wake us at once. */
		if (stream_poll_timeout(s) > 0)
			return 0;
		fds[0] = (struct pollfd){.fd = s->listen_fd, .events = POLLIN};
		return 1;
	}
	/* A client is polled even without input wanted: its hangup shows anyway. */
	if (s->kind == STREAM_SOCKET) {
		fds[0] = (struct pollfd){.fd = s->in_fd, .events = want_input ? POLLIN : 0};
		return 1;
	}
	if (!want_input || s->in_eof || s->in_fd < 0)
		return 0;
	fds[0] = (struct pollfd){.fd = s->in_fd, .events = POLLIN};
	return 1;
}

int stream_poll_timeout(const struct stream *s)
{
	u64 now;

	if (s->kind != STREAM_SOCKET || s->in_fd >= 0 || !s->accept_retry_ns)
		return -1;
	now = monotonic_ns();
	if (now >= s->accept_retry_ns)
		return -1;
	return (int)((s->accept_retry_ns - now + 999999) / 1000000);
}

static void accept_client(struct stream *s)
{
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0) {
		if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
			return;
		/*
		 * Out of descriptors or buffers (a guest can exhaust them, e.g. through many
		 * user-networking connections): the connection stays queued, so wait before
		 * the next try instead of spinning on it.
		 */
		pr_ratelimited(LOG_WARN, "virtio-console: accept on %s: %s", s->path,
			       strerror(errno));
		s->accept_retry_ns = monotonic_ns() + ACCEPT_BACKOFF_MS * 1000000ull;
		return;
	}
	s->accept_retry_ns = 0;
	pr_debug("virtio-console: client connected to %s", s->path);
	s->in_fd = s->out_fd = fd;
	s->stalled = false;
}

bool stream_poll_done(struct stream *s, const struct pollfd *fds, unsigned int n)
{
	short ev = n ? fds[0].revents : 0;

	if (!ev)
		return false;
	if (s->kind == STREAM_SOCKET && fds[0].fd == s->listen_fd) {
		accept_client(s);
		return false;
	}
	/* Data sent before a hangup is read first: the read then sees the end. */
	if (ev & POLLIN)
		return true;
	if (s->kind == STREAM_SOCKET) {
		drop_client(s, "hung up");
		return false;
	}
	return (ev & (POLLHUP | POLLERR)) && (fds[0].events & POLLIN);
}

/* The input ended or failed: a client is gone, any other input is over for good. */
static void input_ended(struct stream *s, const char *why)
{
	if (s->kind == STREAM_SOCKET)
		drop_client(s, why);
	else
		s->in_eof = true;
}

size_t stream_read(struct stream *s, const struct iovec *iov, unsigned int n)
{
	ssize_t r;

	if (s->in_fd < 0 || s->in_eof || !n)
		return 0;
	do {
		r = readv(s->in_fd, iov, (int)MIN(n, (unsigned int)IOV_MAX));
	} while (r < 0 && errno == EINTR);
	if (r > 0)
		return (size_t)r;
	if (r == 0)
		input_ended(s, "left");
	else if (errno != EAGAIN)
		input_ended(s, strerror(errno));
	return 0;
}

/* Waits for room in the output, or for stop_fd. Returns false when it should give up. */
static bool wait_writable(struct stream *s, int stop_fd, unsigned int *stalls)
{
	struct pollfd p[2] = {
		{.fd = s->out_fd, .events = POLLOUT},
		{.fd = stop_fd, .events = POLLIN},
	};

	if (s->stalled || (*stalls)++ >= STREAM_MAX_STALLS)
		return false;
	if (poll(p, 2, STREAM_STALL_MS) < 0 && errno != EINTR)
		return false;
	return !(p[1].revents & POLLIN);
}

static ssize_t write_some(struct stream *s, const void *buf, size_t len)
{
	/* Not write(): a test's process may not ignore SIGPIPE. */
	if (s->kind == STREAM_SOCKET)
		return send(s->out_fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	return write(s->out_fd, buf, len);
}

/* Writes one buffer; returns how much got through before a drop. */
static size_t write_buf(struct stream *s, const u8 *buf, size_t len, int stop_fd)
{
	unsigned int stalls = 0, eintrs = 0;
	size_t done = 0;

	while (done < len && s->out_fd >= 0) {
		ssize_t w = write_some(s, buf + done, len - done);

		if (w > 0) {
			done += (size_t)w;
			s->stalled = false;
		} else if (w < 0 && errno == EINTR && eintrs++ < STREAM_MAX_EINTR) {
			continue;
		} else if ((w == 0 || errno == EAGAIN) && wait_writable(s, stop_fd, &stalls)) {
			continue;
		} else if (w < 0 && errno != EAGAIN && s->kind == STREAM_SOCKET) {
			drop_client(s, strerror(errno));
			break;
		} else {
			s->stalled = true;
			break;
		}
	}
	return done;
}

size_t stream_write(struct stream *s, const struct iovec *iov, unsigned int n, int stop_fd)
{
	size_t total = 0;

	for (unsigned int i = 0; i < n && s->out_fd >= 0; i++) {
		size_t w = write_buf(s, iov[i].iov_base, iov[i].iov_len, stop_fd);

		total += w;
		if (w < iov[i].iov_len)
			break;
	}
	return total;
}
