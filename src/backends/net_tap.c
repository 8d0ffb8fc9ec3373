// SPDX-License-Identifier: GPL-2.0-only
/*
 * The tap backend: a Linux tap interface opened with IFF_VNET_HDR, so that every packet
 * read or written carries a 12-byte virtio_net_hdr_v1 and checksum/segmentation work
 * stays with the host kernel (TUNSETOFFLOAD says what the guest can take).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../util/log.h"
#include "net.h"

/* Reads that may fail or be too short before recv() gives up for this round. */
#define TAP_RECV_TRIES 16

struct tap {
	struct net_backend be;
	bool is_tap; /* false for a test's socketpair: no tun ioctls */
	bool dead;   /* the fd hung up or failed: stop polling it */
	int poll_idx;
};

static int tap_send(struct net_backend *be, const struct iovec *iov, unsigned int n)
{
	struct tap *t = container_of(be, struct tap, be);
	ssize_t ret;

	if (t->dead)
		return 0;
	do {
		ret = writev(be->fd, iov, (int)n);
	} while (ret < 0 && errno == EINTR);
	if (ret >= 0)
		return 0;
	if (errno == EAGAIN || errno == ENOBUFS)
		return -EAGAIN;
	/* The kernel refused this packet (a bad header, the link down): drop it. */
	pr_guest("tap: packet dropped: %s", strerror(errno));
	return 0;
}

static ssize_t tap_recv(struct net_backend *be, void *buf, size_t len)
{
	struct tap *t = container_of(be, struct tap, be);

	for (int i = 0; i < TAP_RECV_TRIES && !t->dead; i++) {
		ssize_t ret = read(be->fd, buf, len);

		if (ret >= NET_HDR_LEN + NET_ETH_HLEN)
			return ret;
		if (ret < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (ret == 0 || (ret < 0 && errno != EINVAL && errno != EFAULT)) {
			pr_warn("tap: read: %s; no more packets from it",
				ret ? strerror(errno) : "end of file");
			t->dead = true;
			return 0;
		}
		be->rx_dropped++; /* a runt: there is nothing to deliver */
	}
	return 0;
}

static int tap_set_offloads(struct net_backend *be, unsigned int offloads)
{
	struct tap *t = container_of(be, struct tap, be);
	unsigned int flags = 0;

	if (!t->is_tap)
		return 0;
	if (offloads & NET_OFF_CSUM)
		flags |= TUN_F_CSUM;
	if (offloads & NET_OFF_TSO4)
		flags |= TUN_F_TSO4;
	if (offloads & NET_OFF_TSO6)
		flags |= TUN_F_TSO6;
	if (offloads & NET_OFF_ECN)
		flags |= TUN_F_TSO_ECN;
	if (offloads & NET_OFF_UFO)
		flags |= TUN_F_UFO;
	if (ioctl(be->fd, TUNSETOFFLOAD, flags) < 0) {
		pr_err("tap: TUNSETOFFLOAD %#x: %s", flags, strerror(errno));
		return -errno;
	}
	return 0;
}

static void tap_poll_fill(struct net_backend *be, struct net_pollset *ps, bool rx, bool tx,
			  int *timeout_ms)
{
	struct tap *t = container_of(be, struct tap, be);
	short events = (short)((rx ? POLLIN : 0) | (tx ? POLLOUT : 0));

	(void)timeout_ms;
	t->poll_idx = -1;
	if (events && !t->dead)
		t->poll_idx = net_pollset_add(ps, be->fd, events);
}

static unsigned int tap_poll_done(struct net_backend *be, const struct net_pollset *ps,
				  bool poll_failed)
{
	struct tap *t = container_of(be, struct tap, be);
	unsigned int ready = 0;
	short rev;

	if (poll_failed || t->poll_idx < 0)
		return 0;
	rev = ps->fds[t->poll_idx].revents;
	if (rev & (POLLERR | POLLHUP | POLLNVAL)) {
		pr_warn("tap: the interface hung up or failed; no more packets");
		t->dead = true;
		/* Writable, so that a blocked transmit queue drains (and drops) instead of stalling. */
		return NET_BE_WRITABLE;
	}
	if (rev & POLLIN)
		ready |= NET_BE_READABLE;
	if (rev & POLLOUT)
		ready |= NET_BE_WRITABLE;
	return ready;
}

static void tap_destroy(struct net_backend *be)
{
	struct tap *t = container_of(be, struct tap, be);

	if (be->fd >= 0)
		close(be->fd);
	free(t);
}

static const struct net_backend_ops tap_ops = {
	.name = "tap",
	.send = tap_send,
	.recv = tap_recv,
	.set_offloads = tap_set_offloads,
	.poll_fill = tap_poll_fill,
	.poll_done = tap_poll_done,
	.destroy = tap_destroy,
};

static struct tap *tap_new(int fd, unsigned int caps, bool is_tap)
{
	struct tap *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->be.ops = &tap_ops;
	t->be.caps = caps;
	t->be.fd = fd;
	t->is_tap = is_tap;
	t->poll_idx = -1;
	return t;
}

int net_tap_from_fd(struct net_backend **out, int fd, unsigned int caps)
{
	struct tap *t;
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	t = tap_new(fd, caps, false);
	if (!t)
		return -ENOMEM;
	*out = &t->be;
	return 0;
}

/*
 * Which offloads the tap can hand us. Old kernels lack some flags, and TUNSETOFFLOAD
 * refuses the whole set then, so the groups are tried one by one.
 */
static unsigned int tap_probe_offloads(int fd)
{
	unsigned int caps = 0;

	if (ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM) < 0)
		return 0;
	caps |= NET_OFF_CSUM;
	if (!ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN))
		caps |= NET_OFF_TSO4 | NET_OFF_TSO6 | NET_OFF_ECN;
	if (!ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_UFO))
		caps |= NET_OFF_UFO;
	/* Nothing until the guest says what it takes. */
	if (ioctl(fd, TUNSETOFFLOAD, 0) < 0)
		return 0;
	return caps;
}

int net_tap_open(struct net_backend **out, const char *ifname)
{
	struct ifreq ifr = {.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR};
	int hdr_len = NET_HDR_LEN, fd;
	struct tap *t;

	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		pr_err("--net tap=%s: cannot open /dev/net/tun: %s", ifname, strerror(errno));
		return -EXIT_BAD_INPUT;
	}
	strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		pr_err("--net tap=%s: TUNSETIFF: %s%s", ifname, strerror(errno),
		       errno == EPERM ? " (needs CAP_NET_ADMIN, or a tap owned by this user)" : "");
		close(fd);
		return -EXIT_BAD_INPUT;
	}
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr_len) < 0) {
		pr_err("--net tap=%s: TUNSETVNETHDRSZ: %s", ifname, strerror(errno));
		close(fd);
		return -EXIT_BAD_INPUT;
	}
	t = tap_new(fd, tap_probe_offloads(fd), true);
	if (!t) {
		close(fd);
		return -EXIT_VMM_ERROR;
	}
	pr_debug("tap %s: offloads %#x", ifname, t->be.caps);
	*out = &t->be;
	return 0;
}
