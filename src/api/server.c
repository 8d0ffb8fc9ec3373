// SPDX-License-Identifier: GPL-2.0-only
/* The API socket's connections and loops (see server.h). */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../sandbox/sandbox.h"
#include "../util/log.h"
#include "server.h"

int api_server_open(struct api_server *srv, struct api *api, const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	struct stat st;

	memset(srv, 0, sizeof(*srv));
	srv->api = api;
	srv->listen_fd = srv->quit_fd = -1;
	for (unsigned int i = 0; i < API_MAX_CONNS; i++)
		srv->conns[i].fd = -1;
	if (strlen(path) >= sizeof(addr.sun_path)) {
		pr_err("--api-sock %s: the path is too long for a Unix socket (at most %zu bytes)",
		       path, sizeof(addr.sun_path) - 1);
		return -EXIT_BAD_INPUT;
	}
	if (lstat(path, &st) == 0) {
		pr_err("--api-sock %s: the path exists; remove it or give another", path);
		return -EXIT_BAD_INPUT;
	}
	strcpy(addr.sun_path, path);
	srv->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (srv->listen_fd < 0 || bind(srv->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(srv->listen_fd, 16)) {
		pr_err("--api-sock %s: %s", path, strerror(errno));
		if (srv->listen_fd >= 0)
			close(srv->listen_fd);
		srv->listen_fd = -1;
		return -EXIT_BAD_INPUT;
	}
	srv->path = path;
	return 0;
}

/* Writes all of buf, waiting a little for a slow reader. false when it cannot. */
static bool write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd p = {.fd = fd, .events = POLLOUT};

			if (poll(&p, 1, 5000) <= 0)
				return false;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

static bool respond(int fd, const struct api_resp *resp, bool keep_alive)
{
	size_t len;
	char *out = http_format_response(resp->status, resp->body, keep_alive, &len);
	bool ok = out && write_all(fd, out, len);

	free(out);
	return ok;
}

bool api_conn_process(struct api *api, struct api_conn *c, int out_fd)
{
	for (;;) {
		struct http_request req;
		struct api_resp resp = {0};
		char err[256];
		ssize_t used =
			http_parse_request(c->buf, c->len, api->body_limit, &req, err, sizeof(err));
		bool keep;

		if (used == 0)
			return true;
		if (used < 0) {
			/* A malformed request: the stream cannot be trusted past it. */
			api_fault(&resp, "%s", err);
			respond(out_fd, &resp, false);
			free(resp.body);
			return false;
		}
		api_handle(api, &req, &resp);
		keep = req.keep_alive && respond(out_fd, &resp, req.keep_alive);
		free(resp.body);
		memmove(c->buf, c->buf + used, c->len - (size_t)used);
		c->len -= (size_t)used;
		if (!keep)
			return false;
		/* After InstanceStart the rest is for the post-boot server. */
		if (api->state != API_NOT_STARTED && api->vm && !c->len)
			return true;
	}
}

static void conn_close(struct api_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	c->fd = -1;
	c->buf = NULL;
	c->len = 0;
}

static void conn_accept(struct api_server *srv)
{
	int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	for (unsigned int i = 0; i < API_MAX_CONNS; i++) {
		struct api_conn *c = &srv->conns[i];

		if (c->fd >= 0)
			continue;
		c->buf = malloc(HTTP_MAX_HEAD + srv->api->body_limit);
		if (!c->buf)
			break;
		c->fd = fd;
		c->len = 0;
		return;
	}
	/* Too many clients at once: the newest is turned away. */
	close(fd);
}

static void conn_read(struct api_server *srv, struct api_conn *c)
{
	size_t cap = HTTP_MAX_HEAD + srv->api->body_limit;
	ssize_t n = read(c->fd, c->buf + c->len, cap - c->len);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	c->len += (size_t)n;
	if (!api_conn_process(srv->api, c, c->fd) || c->len == cap)
		conn_close(c);
}

/* One poll round over the socket, the connections and extra_fd; true when extra_fd woke. */
static bool serve_once(struct api_server *srv, int extra_fd)
{
	struct pollfd fds[API_MAX_CONNS + 2];
	unsigned int n = 0;

	fds[n++] = (struct pollfd){.fd = srv->listen_fd, .events = POLLIN};
	fds[n++] = (struct pollfd){.fd = extra_fd, .events = POLLIN};
	for (unsigned int i = 0; i < API_MAX_CONNS; i++)
		fds[n++] = (struct pollfd){.fd = srv->conns[i].fd, .events = POLLIN};
	int ret = poll(fds, n, api_metrics_timeout_ms(srv->api));

	if (ret < 0)
		return false;
	if (api_metrics_timeout_ms(srv->api) == 0)
		api_metrics_flush(srv->api);
	if (fds[1].revents)
		return true;
	for (unsigned int i = 0; i < API_MAX_CONNS; i++) {
		if (fds[i + 2].revents && srv->conns[i].fd >= 0)
			conn_read(srv, &srv->conns[i]);
		if ((srv->api->state != API_NOT_STARTED || srv->api->load_failed) &&
		    !srv->thread_running)
			return false;
	}
	if (fds[0].revents)
		conn_accept(srv);
	return false;
}

int api_server_serve_preboot(struct api_server *srv, int sig_fd)
{
	while (srv->api->state == API_NOT_STARTED && !srv->api->load_failed) {
		if (serve_once(srv, sig_fd)) {
			struct signalfd_siginfo si;

			if (read(sig_fd, &si, sizeof(si)) == sizeof(si))
				return 128 + (int)si.ssi_signo;
		}
	}
	return srv->api->load_failed;
}

static void *serve_thread(void *opaque)
{
	struct api_server *srv = opaque;

	while (!serve_once(srv, srv->quit_fd))
		;
	return NULL;
}

int api_server_start_thread(struct api_server *srv)
{
	srv->quit_fd = eventfd(0, EFD_CLOEXEC);
	if (srv->quit_fd < 0)
		return -1;
	srv->thread_running = true;
	/* Under the API thread's own seccomp list from its first call (src/sandbox/). */
	if (sandbox_thread_start(&srv->thread, THREAD_API, serve_thread, srv)) {
		srv->thread_running = false;
		return -1;
	}
	return 0;
}

void api_server_close(struct api_server *srv)
{
	u64 one = 1;

	if (srv->thread_running) {
		if (write(srv->quit_fd, &one, sizeof(one)) < 0)
			pr_debug("api quit: %s", strerror(errno));
		pthread_join(srv->thread, NULL);
		srv->thread_running = false;
	}
	for (unsigned int i = 0; i < API_MAX_CONNS; i++)
		conn_close(&srv->conns[i]);
	if (srv->quit_fd >= 0)
		close(srv->quit_fd);
	if (srv->listen_fd >= 0)
		close(srv->listen_fd);
	if (srv->path)
		unlink(srv->path);
	srv->listen_fd = srv->quit_fd = -1;
	srv->path = NULL;
}
