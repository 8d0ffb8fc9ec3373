// SPDX-License-Identifier: GPL-2.0-only
/*
 * User-mode networking through libslirp: the guest sees 10.0.2.0/24 with the gateway and
 * host at 10.0.2.2, DNS at 10.0.2.3 and itself at 10.0.2.15 through DHCP. The stack runs
 * on the NIC's worker thread: poll_fill()/poll_done() drive its sockets and timers, and
 * its output lands in a small queue that recv() hands to the device. No offloads: the
 * guest does its own checksums, and every header we produce or accept is plain.
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <slirp/libslirp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include "../util/log.h"
#include "net.h"

/*
 * libslirp (and the GLib it brings) is loaded on the first --net user, not at start-up:
 * a VM without user networking then does not carry their pages in its resident memory.
 */
static struct {
	__typeof__(&slirp_new) new_;
	__typeof__(&slirp_input) input;
	__typeof__(&slirp_pollfds_fill) pollfds_fill;
	__typeof__(&slirp_pollfds_poll) pollfds_poll;
	__typeof__(&slirp_cleanup) cleanup;
	__typeof__(&slirp_add_hostfwd) add_hostfwd;
	const char *error;
} libslirp;

static void libslirp_load_once(void)
{
	void *h = dlopen("libslirp.so.0", RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		libslirp.error = dlerror();
		return;
	}
	libslirp.new_ = (__typeof__(libslirp.new_))dlsym(h, "slirp_new");
	libslirp.input = (__typeof__(libslirp.input))dlsym(h, "slirp_input");
	libslirp.pollfds_fill = (__typeof__(libslirp.pollfds_fill))dlsym(h, "slirp_pollfds_fill");
	libslirp.pollfds_poll = (__typeof__(libslirp.pollfds_poll))dlsym(h, "slirp_pollfds_poll");
	libslirp.cleanup = (__typeof__(libslirp.cleanup))dlsym(h, "slirp_cleanup");
	libslirp.add_hostfwd = (__typeof__(libslirp.add_hostfwd))dlsym(h, "slirp_add_hostfwd");
	if (!libslirp.new_ || !libslirp.input || !libslirp.pollfds_fill || !libslirp.pollfds_poll ||
	    !libslirp.cleanup || !libslirp.add_hostfwd)
		libslirp.error = "a libslirp function is missing";
}

static bool libslirp_load(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, libslirp_load_once);
	return libslirp.error == NULL;
}

void net_slirp_preload(void)
{
	libslirp_load();
}

/*
 * Packets the stack produced that the guest has not taken yet. Beyond this many, new ones
 * are dropped: slirp's TCP retransmits, and a guest that never takes packets cannot make
 * us hold an unbounded amount of memory.
 */
#define SLIRP_QUEUE_MAX 256

/*
 * Host sockets one NIC's stack may hold (each guest TCP connection, UDP flow and ping
 * has one). libslirp has no limit of its own, so a guest could open connections until
 * kvmbox runs out of file descriptors; at this many, frames that would open another are
 * dropped (the guest sees a connection time out). Four NICs stay below the usual 1024.
 */
#define SLIRP_MAX_SOCKETS 200

/*
 * libslirp keeps some state process-wide (its clock for TCP timers, a cache of the host's
 * DNS address), so the stacks of several NICs, each on its own worker thread, must not
 * run at the same time. Held around every call into the library; its callbacks touch
 * only their own NIC.
 */
static pthread_mutex_t slirp_lock = PTHREAD_MUTEX_INITIALIZER;

struct slirp_timer {
	LIST_ENTRY(slirp_timer) link;
	SlirpTimerCb cb;
	void *cb_opaque;
	s64 expire_ms; /* -1: not armed */
};

struct slirp_pkt {
	STAILQ_ENTRY(slirp_pkt) link;
	size_t len;
	u8 data[];
};

struct user_net {
	struct net_backend be;
	Slirp *slirp;
	LIST_HEAD(, slirp_timer) timers;
	STAILQ_HEAD(, slirp_pkt) queue;
	unsigned int queued;
	unsigned int sockets; /* host sockets slirp has open (its register_poll_fd calls) */
	/* Valid between poll_fill() and poll_done(), for slirp's index callbacks. */
	struct net_pollset *ps;
	unsigned int ps_base;
	u8 txbuf[NET_MAX_FRAME];
};

static s64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (s64)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* slirp's output: one Ethernet frame for the guest. */
static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
	struct user_net *u = opaque;
	struct slirp_pkt *p;

	if (len > NET_MAX_FRAME || u->queued >= SLIRP_QUEUE_MAX) {
		u->be.rx_dropped++;
		return (ssize_t)len;
	}
	p = malloc(sizeof(*p) + len);
	if (!p) {
		u->be.rx_dropped++;
		return (ssize_t)len;
	}
	p->len = len;
	memcpy(p->data, buf, len);
	STAILQ_INSERT_TAIL(&u->queue, p, link);
	u->queued++;
	return (ssize_t)len;
}

static void cb_guest_error(const char *msg, void *opaque)
{
	(void)opaque;
	pr_guest("user net: %s", msg);
}

static int64_t cb_clock_get_ns(void *opaque)
{
	(void)opaque;
	return now_ns();
}

static void *cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
	struct user_net *u = opaque;
	struct slirp_timer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->cb = cb;
	t->cb_opaque = cb_opaque;
	t->expire_ms = -1;
	LIST_INSERT_HEAD(&u->timers, t, link);
	return t;
}

static void cb_timer_free(void *timer, void *opaque)
{
	struct slirp_timer *t = timer;

	(void)opaque;
	if (!t)
		return;
	LIST_REMOVE(t, link);
	free(t);
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	struct slirp_timer *t = timer;

	(void)opaque;
	if (t)
		t->expire_ms = expire_ms < 0 ? 0 : expire_ms;
}

/*
 * slirp names every host socket it opens and closes here (the loop asks for the fds to
 * poll before every poll(), so nothing else is kept): the count is what the cap checks.
 * A socket still waiting for the guest's half of the handshake is not polled, so the
 * poll set alone would not count it.
 */
static void cb_register_poll_fd(int fd, void *opaque)
{
	struct user_net *u = opaque;

	(void)fd;
	u->sockets++;
}

static void cb_unregister_poll_fd(int fd, void *opaque)
{
	struct user_net *u = opaque;

	(void)fd;
	if (u->sockets)
		u->sockets--;
}

static void cb_notify(void *opaque)
{
	(void)opaque;
}

static const SlirpCb user_net_callbacks = {
	.send_packet = cb_send_packet,
	.guest_error = cb_guest_error,
	.clock_get_ns = cb_clock_get_ns,
	.timer_new = cb_timer_new,
	.timer_free = cb_timer_free,
	.timer_mod = cb_timer_mod,
	.register_poll_fd = cb_register_poll_fd,
	.unregister_poll_fd = cb_unregister_poll_fd,
	.notify = cb_notify,
};

#define ETH_TYPE_IPV4	  0x0800
#define ETH_TYPE_IPV6	  0x86dd
#define IPPROTO_NUM_ICMP  1
#define IPPROTO_NUM_TCP	  6
#define IPPROTO_NUM_UDP	  17
#define IPPROTO_NUM_ICMP6 58
#define TCP_FLAG_SYN	  0x02
#define TCP_FLAG_ACK	  0x10

/* Whether an IP payload of protocol proto may make slirp open a host socket. */
static bool payload_opens_socket(u8 proto, const u8 *l4, size_t len)
{
	switch (proto) {
	case IPPROTO_NUM_TCP: /* a connection request */
		return len >= 14 && (l4[13] & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_SYN;
	case IPPROTO_NUM_UDP: /* any datagram: a new flow gets a socket */
		return true;
	case IPPROTO_NUM_ICMP: /* echo request: a ping socket */
		return len >= 1 && l4[0] == 8;
	case IPPROTO_NUM_ICMP6:
		return len >= 1 && l4[0] == 128;
	default:
		return false;
	}
}

bool slirp_frame_opens_socket(const u8 *frame, size_t len)
{
	const u8 *ip = frame + NET_ETH_HLEN;
	size_t iplen;
	u16 type;

	if (len < NET_ETH_HLEN)
		return false;
	type = (u16)(frame[12] << 8 | frame[13]);
	iplen = len - NET_ETH_HLEN;
	if (type == ETH_TYPE_IPV4) {
		size_t ihl = iplen ? (size_t)(ip[0] & 0xf) * 4 : 0;

		/* Later fragments belong to a datagram whose first one was counted. */
		if (ihl < 20 || iplen < ihl || ((ip[6] & 0x1f) | ip[7]))
			return false;
		return payload_opens_socket(ip[9], ip + ihl, iplen - ihl);
	}
	if (type == ETH_TYPE_IPV6 && iplen >= 40)
		return payload_opens_socket(ip[6], ip + 40, iplen - 40);
	return false;
}

/* Guest to slirp: the header carries nothing we offered, so only the frame goes in. */
static int user_send(struct net_backend *be, const struct iovec *iov, unsigned int n)
{
	struct user_net *u = container_of(be, struct user_net, be);
	size_t len = 0, skip = NET_HDR_LEN;

	for (unsigned int i = 0; i < n; i++) {
		size_t part = iov[i].iov_len, off = MIN(skip, part);

		skip -= off;
		part -= off;
		if (part > sizeof(u->txbuf) - len)
			return 0; /* longer than any frame: the device checks, so never here */
		memcpy(u->txbuf + len, (const u8 *)iov[i].iov_base + off, part);
		len += part;
	}
	if (u->sockets >= SLIRP_MAX_SOCKETS && slirp_frame_opens_socket(u->txbuf, len)) {
		u->be.tx_refused++;
		pr_guest("user net: the guest holds %u host sockets, the most one NIC may; a new "
			 "connection is refused",
			 u->sockets);
		return 0;
	}
	if (len >= NET_ETH_HLEN) {
		pthread_mutex_lock(&slirp_lock);
		libslirp.input(u->slirp, u->txbuf, (int)len);
		pthread_mutex_unlock(&slirp_lock);
	}
	return 0;
}

static ssize_t user_recv(struct net_backend *be, void *buf, size_t len)
{
	struct user_net *u = container_of(be, struct user_net, be);
	struct slirp_pkt *p = STAILQ_FIRST(&u->queue);
	ssize_t ret = 0;

	if (!p)
		return 0;
	STAILQ_REMOVE_HEAD(&u->queue, link);
	u->queued--;
	if (p->len + NET_HDR_LEN <= len) {
		/* A plain header: no checksum to finish, no segmentation, num_buffers set later. */
		memset(buf, 0, NET_HDR_LEN);
		memcpy((u8 *)buf + NET_HDR_LEN, p->data, p->len);
		ret = (ssize_t)(p->len + NET_HDR_LEN);
	} else {
		be->rx_dropped++;
	}
	free(p);
	return ret;
}

static int user_set_offloads(struct net_backend *be, unsigned int offloads)
{
	(void)be;
	return offloads ? -EINVAL : 0;
}

static int cb_add_poll(int fd, int events, void *opaque)
{
	struct user_net *u = opaque;
	short ev = 0;
	int idx;

	if (events & SLIRP_POLL_IN)
		ev |= POLLIN;
	if (events & SLIRP_POLL_OUT)
		ev |= POLLOUT;
	if (events & SLIRP_POLL_PRI)
		ev |= POLLPRI;
	idx = net_pollset_add(u->ps, fd, ev);
	/* Out of memory: slirp gets an index that never reports events. */
	return idx < 0 ? -1 : idx - (int)u->ps_base;
}

static int cb_get_revents(int idx, void *opaque)
{
	struct user_net *u = opaque;
	short rev;
	int events = 0;

	if (idx < 0 || (unsigned int)idx + u->ps_base >= u->ps->n)
		return 0;
	rev = u->ps->fds[u->ps_base + (unsigned int)idx].revents;
	if (rev & POLLIN)
		events |= SLIRP_POLL_IN;
	if (rev & POLLOUT)
		events |= SLIRP_POLL_OUT;
	if (rev & POLLPRI)
		events |= SLIRP_POLL_PRI;
	if (rev & (POLLERR | POLLNVAL))
		events |= SLIRP_POLL_ERR;
	if (rev & POLLHUP)
		events |= SLIRP_POLL_HUP;
	return events;
}

static void user_poll_fill(struct net_backend *be, struct net_pollset *ps, bool rx, bool tx,
			   int *timeout_ms)
{
	struct user_net *u = container_of(be, struct user_net, be);
	uint32_t timeout = *timeout_ms < 0 ? UINT32_MAX : (uint32_t)*timeout_ms;
	s64 now = now_ns() / 1000000;
	struct slirp_timer *t;

	(void)rx;
	(void)tx;
	u->ps = ps;
	u->ps_base = ps->n;
	pthread_mutex_lock(&slirp_lock);
	libslirp.pollfds_fill(u->slirp, &timeout, cb_add_poll, u);
	pthread_mutex_unlock(&slirp_lock);
	LIST_FOREACH(t, &u->timers, link)
	{
		if (t->expire_ms >= 0)
			timeout = (uint32_t)MIN((s64)timeout, MAX(t->expire_ms - now, 0));
	}
	*timeout_ms = timeout > INT32_MAX ? -1 : (int)timeout;
}

/* Runs every due timer. A callback may re-arm or free timers, so restart after each. */
static void user_run_timers(struct user_net *u)
{
	s64 now = now_ns() / 1000000;
	struct slirp_timer *t;
	bool again = true;

	while (again) {
		again = false;
		LIST_FOREACH(t, &u->timers, link)
		{
			if (t->expire_ms >= 0 && t->expire_ms <= now) {
				t->expire_ms = -1;
				t->cb(t->cb_opaque);
				again = true;
				break;
			}
		}
	}
}

static unsigned int user_poll_done(struct net_backend *be, const struct net_pollset *ps,
				   bool poll_failed)
{
	struct user_net *u = container_of(be, struct user_net, be);

	(void)ps;
	pthread_mutex_lock(&slirp_lock);
	libslirp.pollfds_poll(u->slirp, poll_failed, cb_get_revents, u);
	user_run_timers(u);
	pthread_mutex_unlock(&slirp_lock);
	u->ps = NULL;
	return NET_BE_WRITABLE | (STAILQ_EMPTY(&u->queue) ? 0 : NET_BE_READABLE);
}

static void user_destroy(struct net_backend *be)
{
	struct user_net *u = container_of(be, struct user_net, be);
	struct slirp_pkt *p;

	if (u->slirp) {
		pthread_mutex_lock(&slirp_lock);
		libslirp.cleanup(u->slirp); /* frees its timers through cb_timer_free */
		pthread_mutex_unlock(&slirp_lock);
	}
	while ((p = STAILQ_FIRST(&u->queue))) {
		STAILQ_REMOVE_HEAD(&u->queue, link);
		free(p);
	}
	while (!LIST_EMPTY(&u->timers))
		cb_timer_free(LIST_FIRST(&u->timers), u);
	free(u);
}

static const struct net_backend_ops user_ops = {
	.name = "user",
	.send = user_send,
	.recv = user_recv,
	.set_offloads = user_set_offloads,
	.poll_fill = user_poll_fill,
	.poll_done = user_poll_done,
	.destroy = user_destroy,
};

static int user_add_hostfwd(struct user_net *u, const struct net_hostfwd *f)
{
	char host[INET_ADDRSTRLEN], guest[INET_ADDRSTRLEN];
	int ret, err;

	errno = 0;
	pthread_mutex_lock(&slirp_lock);
	ret = libslirp.add_hostfwd(u->slirp, f->udp, f->host_addr, f->host_port, f->guest_addr,
				   f->guest_port);
	err = errno;
	pthread_mutex_unlock(&slirp_lock);
	if (!ret)
		return 0;
	inet_ntop(AF_INET, &f->host_addr, host, sizeof(host));
	inet_ntop(AF_INET, &f->guest_addr, guest, sizeof(guest));
	pr_err("--net user: hostfwd %s:%s:%u-%s:%u: cannot listen on the host port (%s)",
	       f->udp ? "udp" : "tcp", f->host_addr.s_addr ? host : "", f->host_port, guest,
	       f->guest_port, err ? strerror(err) : "in use?");
	return -EXIT_BAD_INPUT;
}

int net_slirp_open(struct net_backend **out, const struct net_options *opt)
{
	SlirpConfig cfg = {
		.version = 1,
		.in_enabled = true,
		.vnetwork.s_addr = htonl(0x0a000200),	 /* 10.0.2.0 */
		.vnetmask.s_addr = htonl(0xffffff00),	 /* /24 */
		.vhost.s_addr = htonl(0x0a000202),	 /* 10.0.2.2: gateway and host */
		.vdhcp_start.s_addr = htonl(0x0a00020f), /* 10.0.2.15 */
		.vnameserver.s_addr = htonl(0x0a000203), /* 10.0.2.3 */
		.vhostname = "kvmbox",
	};
	struct user_net *u;
	int ret;

	if (!libslirp_load()) {
		pr_err("--net user needs libslirp (Debian package libslirp0): %s", libslirp.error);
		return -EXIT_VMM_ERROR;
	}
	u = calloc(1, sizeof(*u));
	if (!u)
		return -EXIT_VMM_ERROR;
	u->be.ops = &user_ops;
	u->be.fd = -1;
	LIST_INIT(&u->timers);
	STAILQ_INIT(&u->queue);
	pthread_mutex_lock(&slirp_lock);
	u->slirp = libslirp.new_(&cfg, &user_net_callbacks, u);
	pthread_mutex_unlock(&slirp_lock);
	if (!u->slirp) {
		pr_err("--net user: cannot start the user-mode network stack");
		user_destroy(&u->be);
		return -EXIT_VMM_ERROR;
	}
	for (unsigned int i = 0; i < opt->nr_hostfwd; i++) {
		ret = user_add_hostfwd(u, &opt->hostfwd[i]);
		if (ret) {
			user_destroy(&u->be);
			return ret;
		}
	}
	*out = &u->be;
	return 0;
}
