/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_BACKENDS_STREAM_H
#define KVMBOX_BACKENDS_STREAM_H

#include <poll.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>

#include "../util/types.h"

/*
 * The host end of a byte-stream device (virtio-console's hvc0): kvmbox's own stdio, or a
 * Unix stream socket kvmbox listens on.
 *
 * stdio: guest output goes to stdout; input comes from stdin, but through the main loop,
 * which keeps the terminal's Ctrl-A escape: it writes the keys into a one-page pipe
 * (stream_stdin_sink()) whose other end the device reads.
 * socket: one client at a time; while none is connected guest output is dropped, and a
 * client that connects while another is served waits in the listen backlog.
 *
 * Output never blocks for long: a full stdout or socket gets a bounded wait, then what
 * does not fit is dropped (the guest's hvc driver spins until its buffer comes back).
 */
enum stream_kind { STREAM_STDIO, STREAM_SOCKET };

struct stream_options {
	enum stream_kind kind;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)]; /* socket */
};

/*
 * Parses the value of --virtio-console: NULL or "" (no value) for stdio, or
 * "socket:PATH". Returns 0, or -EINVAL with a one-line reason in err.
 */
int stream_parse_options(const char *arg, struct stream_options *opt, char *err, size_t errlen);

/*
 * Checks, before anything is opened, that a socket can be made at the path: it does not
 * exist yet and its folder is writable. Returns 0, or -EINVAL with a reason in err.
 */
int stream_check_options(const struct stream_options *opt, char *err, size_t errlen);

struct stream;
struct console_sink;

/*
 * Opens the stream: for a socket, binds and listens at the path, which must not exist.
 * Returns 0, -EINVAL with a reason in err (the user's path: exit status 2), or another
 * negative errno with a reason in err (a host failure).
 */
int stream_open(struct stream **out, const struct stream_options *opt, char *err, size_t errlen);
/* A stream on two descriptors it takes (tests): input from in_fd, output to out_fd. */
int stream_from_fds(struct stream **out, int in_fd, int out_fd);
/* Closes everything; a socket's path is removed. */
void stream_close(struct stream *s);

/* For stdio: where the main loop puts the keys it read from stdin. NULL otherwise. */
struct console_sink *stream_stdin_sink(struct stream *s);

/*
 * The device worker's side; one thread at a time.
 * poll_fill() puts at most STREAM_MAX_POLLFDS entries into fds and returns how many;
 * want_input says the guest has buffers to receive into (input is not read otherwise).
 * poll_done() takes the same entries after poll(): it accepts and drops clients, and
 * returns whether input is ready to read.
 */
#define STREAM_MAX_POLLFDS 1
unsigned int stream_poll_fill(struct stream *s, struct pollfd *fds, bool want_input);
bool stream_poll_done(struct stream *s, const struct pollfd *fds, unsigned int n);
/*
 * Milliseconds the worker's poll() may wait at most for the stream's sake (a retry of a
 * failed accept() is due then), or -1 for no limit.
 */
int stream_poll_timeout(const struct stream *s);
/* Reads into iov. Returns the bytes read, or 0 when none are ready (or the client left). */
size_t stream_read(struct stream *s, const struct iovec *iov, unsigned int n);
/*
 * Writes all of iov, or drops what cannot be written after a bounded wait (cut short
 * when stop_fd, if not -1, becomes readable). Returns the bytes written.
 */
size_t stream_write(struct stream *s, const struct iovec *iov, unsigned int n, int stop_fd);
enum stream_kind stream_kind(const struct stream *s);

#endif
