// SPDX-License-Identifier: GPL-2.0-only
/*
 * apilat: round-trip latency of a VMM's control socket, one request at a time on one
 * kept-alive connection, as an orchestrator polls it.
 *
 *   apilat fc SOCKET N IMAGE GET / and PUT /drives/{id} (IMAGE, read-only) on a
 *                            Firecracker-style API, before InstanceStart
 *   apilat qmp SOCKET N      query-status on QEMU's QMP (after qmp_capabilities)
 *
 * Prints one line per request kind: `NAME n=N p50_us=X p99_us=Y max_us=Z`. Exit 1 when
 * the socket does not answer as expected (a wrong status is a failure, not a figure).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define BUF 8192

static int sock_connect(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || strlen(path) >= sizeof(a.sun_path)) {
		fprintf(stderr, "apilat: %s: bad socket path\n", path);
		exit(1);
	}
	strcpy(a.sun_path, path);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		fprintf(stderr, "apilat: connect %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return fd;
}

static double now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static void send_all(int fd, const char *s)
{
	size_t len = strlen(s);

	while (len) {
		ssize_t n = write(fd, s, len);

		if (n <= 0) {
			fprintf(stderr, "apilat: write: %s\n", strerror(errno));
			exit(1);
		}
		s += n;
		len -= (size_t)n;
	}
}

/* Reads until buf holds a whole HTTP response (headers, then Content-Length bytes). */
static int http_read(int fd, char *buf)
{
	size_t len = 0;

	for (;;) {
		ssize_t n = read(fd, buf + len, BUF - 1 - len);
		char *end, *cl;
		size_t body = 0;

		if (n <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (!end)
			continue;
		cl = strcasestr(buf, "Content-Length:");
		if (cl && cl < end)
			body = strtoul(cl + 15, NULL, 10);
		if (len >= (size_t)(end + 4 - buf) + body)
			return atoi(buf + 9); /* "HTTP/1.1 204" */
	}
}

/* Reads one QMP line that is a return (events are skipped). */
static int qmp_read(int fd, char *buf)
{
	size_t len = 0;

	for (;;) {
		ssize_t n = read(fd, buf + len, BUF - 1 - len);
		char *nl;

		if (n <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = '\0';
		while ((nl = strchr(buf, '\n'))) {
			bool ret = strstr(buf, "\"return\"") && strstr(buf, "\"return\"") < nl;

			if (ret)
				return 0;
			len -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, len + 1);
		}
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void report(const char *name, double *t, int n)
{
	qsort(t, n, sizeof(*t), cmp_double);
	printf("%s n=%d p50_us=%.1f p99_us=%.1f max_us=%.1f\n", name, n, t[n / 2],
	       t[(n * 99) / 100], t[n - 1]);
}

static int run_fc(int fd, int n, double *t, char *buf, const char *image)
{
	char req[1024], body[512];

	for (int i = 0; i < n; i++) {
		double t0 = now_us();

		send_all(fd, "GET / HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\n\r\n");
		if (http_read(fd, buf) != 200)
			return fprintf(stderr, "apilat: GET /: %.60s\n", buf), -1;
		t[i] = now_us() - t0;
	}
	report("GET /", t, n);
	for (int i = 0; i < n; i++) {
		double t0;

		snprintf(body, sizeof(body),
			 "{\"drive_id\":\"bench\",\"path_on_host\":\"%s\","
			 "\"is_root_device\":false,\"is_read_only\":true}",
			 image);
		snprintf(req, sizeof(req),
			 "PUT /drives/bench HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
			 "application/json\r\nContent-Length: %zu\r\n\r\n%s",
			 strlen(body), body);
		t0 = now_us();
		send_all(fd, req);
		if (http_read(fd, buf) != 204)
			return fprintf(stderr, "apilat: PUT /drives: %.80s\n", buf), -1;
		t[i] = now_us() - t0;
	}
	report("PUT /drives/{id}", t, n);
	return 0;
}

static int run_qmp(int fd, int n, double *t, char *buf)
{
	send_all(fd, "{\"execute\":\"qmp_capabilities\"}\n");
	if (qmp_read(fd, buf)) /* the greeting has no "return": skipped */
		return -1;
	for (int i = 0; i < n; i++) {
		double t0 = now_us();

		send_all(fd, "{\"execute\":\"query-status\"}\n");
		if (qmp_read(fd, buf))
			return fprintf(stderr, "apilat: query-status failed\n"), -1;
		t[i] = now_us() - t0;
	}
	report("QMP query-status", t, n);
	return 0;
}

int main(int argc, char **argv)
{
	bool fc = argc == 5 && !strcmp(argv[1], "fc"), qmp = argc == 4 && !strcmp(argv[1], "qmp");
	int n = fc || qmp ? atoi(argv[3]) : 0, fd, ret;
	char *buf = malloc(BUF);
	double *t;

	if (n < 1 || n > 1000000 || (fc && strlen(argv[4]) > 400)) {
		fprintf(stderr, "usage: apilat fc SOCKET N IMAGE | apilat qmp SOCKET N\n");
		return 2;
	}
	t = calloc((size_t)n, sizeof(*t));
	if (!buf || !t)
		return 1;
	fd = sock_connect(argv[2]);
	ret = fc ? run_fc(fd, n, t, buf, argv[4]) : run_qmp(fd, n, t, buf);
	close(fd);
	free(t);
	free(buf);
	return ret ? 1 : 0;
}
