// SPDX-License-Identifier: GPL-2.0-only
/*
 * iobench: the load generator of tools/bench/io. One static binary, run in the L2 guest
 * (busybox has no fio) and in L1 as the host reference and the TCP receiver.
 *
 *   iobench read [-p rand|seq] [-b BYTES] [-q DEPTH] [-t SECS] [-e uring|pread] [-B] PATH
 *       Reads PATH for SECS seconds with DEPTH reads in flight: io_uring (one thread,
 *       DEPTH entries), or DEPTH threads doing pread(). O_DIRECT unless -B (buffered).
 *       Random reads are BYTES-aligned over the whole file or device; sequential reads
 *       wrap around at its end.
 *   iobench send [-t SECS] ADDR PORT
 *       Connects (retrying for up to 60 s) and writes for SECS seconds.
 *   iobench recv [-t SECS] PORT
 *       Accepts one connection (waiting at most SECS seconds), reads it to its end and
 *       reports what it got, timed from the first byte to the end.
 *   iobench fill -s MIB PATH
 *       Creates PATH with MIB MiB of pseudo-random data, so that reads hit real data.
 *
 * Each command prints one line of key=value figures on stdout; MB means 10^6 bytes.
 * Failures go to stderr with exit status 1; bad usage exits 2.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/fs.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_DEPTH     256
#define NET_BUF	      (256 * 1024)
#define CONNECT_TRIES 600 /* 100 ms apart */
#define FILL_CHUNK    (1024 * 1024)

struct read_job {
	bool seq, direct, uring;
	unsigned int depth;
	size_t bs;
	double secs;
	int fd;
	uint64_t blocks;		 /* whole BS-sized blocks in the file */
	atomic_uint_fast64_t next_block; /* sequential reads: the next block to read */
	atomic_bool stop;
};

static void die(const char *what)
{
	fprintf(stderr, "iobench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void usage(void)
{
	fputs("usage: iobench read [-p rand|seq] [-b BYTES] [-q DEPTH] [-t SECS] "
	      "[-e uring|pread] [-B] PATH\n"
	      "       iobench send [-t SECS] ADDR PORT\n"
	      "       iobench recv [-t SECS] PORT\n"
	      "       iobench fill -s MIB PATH\n",
	      stderr);
	exit(2);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned long number(const char *s, unsigned long min, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		fprintf(stderr, "iobench: '%s' is not a number from %lu to %lu\n", s, min, max);
		exit(2);
	}
	return v;
}

/* xorshift64*: cheap, and good enough to spread reads over a disk. */
static uint64_t next_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

static off_t next_offset(struct read_job *j, uint64_t *rng)
{
	uint64_t block;

	if (j->seq)
		block = atomic_fetch_add(&j->next_block, 1) % j->blocks;
	else
		block = next_rand(rng) % j->blocks;
	return (off_t)(block * j->bs);
}

static void *aligned_buffer(size_t len)
{
	void *p;

	/* 4096: what O_DIRECT wants on every device here. */
	if (posix_memalign(&p, 4096, len))
		die("posix_memalign");
	memset(p, 0, len);
	return p;
}

static uint64_t file_bytes(int fd)
{
	struct stat st;
	uint64_t size;

	if (fstat(fd, &st) < 0)
		die("fstat");
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &size) < 0)
			die("BLKGETSIZE64");
		return size;
	}
	return (uint64_t)st.st_size;
}

/* Reads with the ring: DEPTH reads in flight until the time is up, then the rest reaped. */
static uint64_t run_uring(struct read_job *j, double *elapsed)
{
	struct io_uring ring;
	void *bufs[MAX_DEPTH];
	uint64_t rng = 0x9e3779b97f4a7c15ULL, ios = 0;
	unsigned int inflight = 0;
	double t0, end;
	int ret = io_uring_queue_init(j->depth, &ring, 0);

	if (ret < 0) {
		errno = -ret;
		die("io_uring_queue_init");
	}
	for (unsigned int i = 0; i < j->depth; i++)
		bufs[i] = aligned_buffer(j->bs);
	t0 = now();
	end = t0 + j->secs;
	for (unsigned int i = 0; i < j->depth; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

		io_uring_prep_read(sqe, j->fd, bufs[i], (unsigned int)j->bs, next_offset(j, &rng));
		io_uring_sqe_set_data(sqe, bufs[i]);
		inflight++;
	}
	io_uring_submit(&ring);
	while (inflight) {
		struct io_uring_cqe *cqe;
		bool more = now() < end;

		ret = io_uring_wait_cqe(&ring, &cqe);
		if (ret == -EINTR)
			continue;
		if (ret < 0) {
			errno = -ret;
			die("io_uring_wait_cqe");
		}
		if (cqe->res != (int)j->bs) {
			errno = cqe->res < 0 ? -cqe->res : EIO;
			die("read");
		}
		void *buf = io_uring_cqe_get_data(cqe);

		io_uring_cqe_seen(&ring, cqe);
		inflight--;
		ios++;
		if (more) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

			io_uring_prep_read(sqe, j->fd, buf, (unsigned int)j->bs,
					   next_offset(j, &rng));
			io_uring_sqe_set_data(sqe, buf);
			io_uring_submit(&ring);
			inflight++;
		}
	}
	*elapsed = now() - t0;
	io_uring_queue_exit(&ring);
	for (unsigned int i = 0; i < j->depth; i++)
		free(bufs[i]);
	return ios;
}

struct pread_thread {
	pthread_t tid;
	struct read_job *job;
	uint64_t seed, ios;
};

static void *pread_loop(void *arg)
{
	struct pread_thread *t = arg;
	struct read_job *j = t->job;
	void *buf = aligned_buffer(j->bs);

	while (!atomic_load_explicit(&j->stop, memory_order_relaxed)) {
		ssize_t n = pread(j->fd, buf, j->bs, next_offset(j, &t->seed));

		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)j->bs)
			die("pread");
		t->ios++;
	}
	free(buf);
	return NULL;
}

/* Reads by DEPTH threads, each one pread() at a time. */
static uint64_t run_pread(struct read_job *j, double *elapsed)
{
	struct pread_thread t[MAX_DEPTH];
	struct timespec ts = {.tv_sec = (time_t)j->secs,
			      .tv_nsec = (long)((j->secs - (double)(time_t)j->secs) * 1e9)};
	uint64_t ios = 0;
	double t0 = now();

	for (unsigned int i = 0; i < j->depth; i++) {
		t[i] = (struct pread_thread){.job = j, .seed = 0x9e3779b97f4a7c15ULL * (i + 1)};
		errno = pthread_create(&t[i].tid, NULL, pread_loop, &t[i]);
		if (errno)
			die("pthread_create");
	}
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	atomic_store(&j->stop, true);
	for (unsigned int i = 0; i < j->depth; i++) {
		pthread_join(t[i].tid, NULL);
		ios += t[i].ios;
	}
	*elapsed = now() - t0;
	return ios;
}

static int cmd_read(int argc, char **argv)
{
	struct read_job j = {.bs = 4096, .depth = 1, .secs = 10, .direct = true, .uring = true};
	uint64_t ios;
	double elapsed;
	int c;

	while ((c = getopt(argc, argv, "p:b:q:t:e:B")) != -1) {
		switch (c) {
		case 'p':
			if (strcmp(optarg, "rand") && strcmp(optarg, "seq"))
				usage();
			j.seq = !strcmp(optarg, "seq");
			break;
		case 'b':
			j.bs = number(optarg, 512, 64 << 20);
			break;
		case 'q':
			j.depth = (unsigned int)number(optarg, 1, MAX_DEPTH);
			break;
		case 't':
			j.secs = (double)number(optarg, 1, 3600);
			break;
		case 'e':
			if (strcmp(optarg, "uring") && strcmp(optarg, "pread"))
				usage();
			j.uring = !strcmp(optarg, "uring");
			break;
		case 'B':
			j.direct = false;
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1 || j.bs % 512)
		usage();
	j.fd = open(argv[optind], O_RDONLY | O_CLOEXEC | (j.direct ? O_DIRECT : 0));
	if (j.fd < 0)
		die(argv[optind]);
	j.blocks = file_bytes(j.fd) / j.bs;
	if (!j.blocks) {
		fprintf(stderr, "iobench: %s is smaller than one block\n", argv[optind]);
		return 1;
	}
	ios = j.uring ? run_uring(&j, &elapsed) : run_pread(&j, &elapsed);
	printf("pattern=%s bs=%zu depth=%u engine=%s direct=%d secs=%.2f ios=%llu iops=%.0f "
	       "mbps=%.1f\n",
	       j.seq ? "seq" : "rand", j.bs, j.depth, j.uring ? "uring" : "pread", j.direct,
	       elapsed, (unsigned long long)ios, (double)ios / elapsed,
	       (double)ios * (double)j.bs / elapsed / 1e6);
	close(j.fd);
	return 0;
}

/* The options of send and recv: only -t SECS. Returns SECS, or def without -t. */
static double only_t_option(int argc, char **argv, double def, unsigned long max)
{
	int c;

	while ((c = getopt(argc, argv, "t:")) != -1) {
		if (c != 't')
			usage();
		def = (double)number(optarg, 1, max);
	}
	return def;
}

static int connect_retrying(const struct sockaddr_in *sa)
{
	for (int i = 0; i < CONNECT_TRIES; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			die("socket");
		if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
			return fd;
		close(fd);
		usleep(100 * 1000);
	}
	die("connect");
	return -1;
}

static int cmd_send(int argc, char **argv)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	double secs = 10, t0, end, elapsed;
	unsigned long long bytes = 0;
	char *buf;
	int fd;

	secs = only_t_option(argc, argv, secs, 3600);
	if (optind != argc - 2 || inet_pton(AF_INET, argv[optind], &sa.sin_addr) != 1)
		usage();
	sa.sin_port = htons((uint16_t)number(argv[optind + 1], 1, 65535));
	buf = aligned_buffer(NET_BUF);
	memset(buf, 0x5a, NET_BUF);
	fd = connect_retrying(&sa);
	t0 = now();
	end = t0 + secs;
	while (now() < end) {
		ssize_t n = write(fd, buf, NET_BUF);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("write");
		bytes += (unsigned long long)n;
	}
	elapsed = now() - t0;
	if (shutdown(fd, SHUT_WR) < 0)
		die("shutdown");
	/* The receiver closes once it has everything: only then is every byte across. */
	while (read(fd, buf, NET_BUF) > 0)
		;
	printf("secs=%.2f bytes=%llu mbps=%.1f\n", elapsed, bytes, (double)bytes / elapsed / 1e6);
	close(fd);
	free(buf);
	return 0;
}

static int listen_on(uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_ANY)};
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("socket");
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		die("SO_REUSEADDR");
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0)
		die("bind/listen");
	return fd;
}

static int cmd_recv(int argc, char **argv)
{
	unsigned long long bytes = 0;
	double wait = 600, t0 = 0, t1 = 0;
	struct pollfd pfd = {.events = POLLIN};
	char *buf;
	int fd;

	wait = only_t_option(argc, argv, wait, 86400);
	if (optind != argc - 1)
		usage();
	pfd.fd = listen_on((uint16_t)number(argv[optind], 1, 65535));
	/* The harness starts the VM once it sees this line. */
	printf("listening\n");
	fflush(stdout);
	if (poll(&pfd, 1, (int)(wait * 1000)) <= 0) {
		fprintf(stderr, "iobench: recv: no connection within %.0f s\n", wait);
		return 1;
	}
	fd = accept4(pfd.fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		die("accept");
	buf = aligned_buffer(NET_BUF);
	for (;;) {
		ssize_t n = read(fd, buf, NET_BUF);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("read");
		if (n == 0)
			break;
		if (!bytes)
			t0 = now();
		t1 = now();
		bytes += (unsigned long long)n;
	}
	printf("secs=%.2f bytes=%llu mbps=%.1f\n", t1 - t0, bytes,
	       t1 > t0 ? (double)bytes / (t1 - t0) / 1e6 : 0.0);
	close(fd);
	close(pfd.fd);
	free(buf);
	return 0;
}

static int cmd_fill(int argc, char **argv)
{
	unsigned long mib = 0;
	uint64_t rng = 0x243f6a8885a308d3ULL, *buf;
	int c, fd;

	while ((c = getopt(argc, argv, "s:")) != -1) {
		if (c != 's')
			usage();
		mib = number(optarg, 1, 1 << 20);
	}
	if (optind != argc - 1 || !mib)
		usage();
	fd = open(argv[optind], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die(argv[optind]);
	buf = aligned_buffer(FILL_CHUNK);
	for (unsigned long i = 0; i < mib; i++) {
		for (size_t k = 0; k < FILL_CHUNK / sizeof(*buf); k++)
			buf[k] = next_rand(&rng);
		if (write(fd, buf, FILL_CHUNK) != FILL_CHUNK)
			die("write");
	}
	if (close(fd) < 0)
		die("close");
	free(buf);
	printf("mib=%lu\n", mib);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	/* getopt starts after the command word. */
	argv++;
	argc--;
	if (!strcmp(argv[0], "read"))
		return cmd_read(argc, argv);
	if (!strcmp(argv[0], "send"))
		return cmd_send(argc, argv);
	if (!strcmp(argv[0], "recv"))
		return cmd_recv(argc, argv);
	if (!strcmp(argv[0], "fill"))
		return cmd_fill(argc, argv);
	usage();
	return 2;
}
