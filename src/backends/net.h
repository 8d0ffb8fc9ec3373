/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_BACKENDS_NET_H
#define KVMBOX_BACKENDS_NET_H

#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "../memory.h"
#include "../util/token_bucket.h"
#include "../util/types.h"
#include "vhost.h"

/*
 * The host side of a virtio-net NIC. Every frame crossing this interface starts with
 * the 12-byte struct virtio_net_hdr_v1 (the tap device reads and writes it as is; the
 * user-mode stack strips or prepends it), so the device never converts headers.
 */
#define NET_HDR_LEN  12
#define NET_ETH_HLEN 14
/* The largest frame, without the virtio header: a 64 KiB GSO packet plus a VLAN tag. */
#define NET_MAX_FRAME	 (65535 + 18)
#define NET_MAX_PACKET	 (NET_HDR_LEN + NET_MAX_FRAME)
#define NET_MAX_HOSTFWD	 16
#define NET_DEFAULT_MAC0 0x56 /* last octet of NIC 0's default MAC 52:54:00:12:34:56 */

/* One --net option, parsed. */
enum net_kind { NET_KIND_TAP, NET_KIND_USER };

struct net_hostfwd {
	bool udp;
	struct in_addr host_addr; /* INADDR_ANY when not given */
	u16 host_port;
	struct in_addr guest_addr; /* the DHCP address 10.0.2.15 when not given */
	u16 guest_port;
};

#define NET_ID_MAX 64

struct net_options {
	enum net_kind kind;
	char id[NET_ID_MAX]; /* id=: names the NIC's metrics (the API's iface_id) */
	char ifname[IFNAMSIZ];
	bool vhost;
	u8 mac[6];
	unsigned int nr_hostfwd;
	struct net_hostfwd hostfwd[NET_MAX_HOSTFWD];
	struct rl_config rx_rl, tx_rl; /* rx-bw=, rx-ops=, tx-bw=, tx-ops= */
};

/*
 * Parses `tap=IFNAME[,vhost=on|off][,mac=M]` or `user[,hostfwd=...][,mac=M]`, either with
 * `[,id=ID][,rx-bw=B][,rx-ops=B][,tx-bw=B][,tx-ops=B]` (B: SIZE:REFILL_MS[:BURST]), for NIC
 * number index (which picks the default MAC). Returns 0, or -EINVAL with a one-line
 * reason in err.
 */
int net_parse_options(const char *arg, unsigned int index, struct net_options *opt, char *err,
		      size_t errlen);

/* Offloads, as both directions use them: a backend's capabilities, the guest's choice. */
enum {
	NET_OFF_CSUM = 1 << 0, /* partial checksums (NEEDS_CSUM) */
	NET_OFF_TSO4 = 1 << 1,
	NET_OFF_TSO6 = 1 << 2,
	NET_OFF_ECN = 1 << 3,
	NET_OFF_UFO = 1 << 4,
};

/* The file descriptors one worker loop waits on; backends append theirs. */
struct net_pollset {
	struct pollfd *fds;
	unsigned int n, cap;
};

/* Appends fd; returns its index, or -1 when out of memory (the fd is then not polled). */
static inline int net_pollset_add(struct net_pollset *ps, int fd, short events)
{
	if (ps->n == ps->cap) {
		unsigned int cap = ps->cap ? ps->cap * 2 : 16;
		struct pollfd *fds = realloc(ps->fds, cap * sizeof(*fds));

		if (!fds)
			return -1;
		ps->fds = fds;
		ps->cap = cap;
	}
	ps->fds[ps->n] = (struct pollfd){.fd = fd, .events = events};
	return (int)ps->n++;
}

/* What poll_done() found. */
enum { NET_BE_READABLE = 1 << 0, NET_BE_WRITABLE = 1 << 1 };

struct net_backend;

/*
 * All hooks run on the NIC's worker thread (or, before it starts and after it is joined,
 * on the thread that owns the device), one at a time.
 *
 * send(): one packet, header first. Returns 0 when sent or dropped for good (a bad frame
 * is the guest's problem, not the queue's), or -EAGAIN when the backend is full: retry
 * the same packet once poll_done() says NET_BE_WRITABLE.
 * recv(): one packet, header first, into buf. Returns its length, or 0 if none is ready.
 * set_offloads(): which NET_OFF_* recv() may produce (what the guest accepted).
 * poll_fill(): adds the backend's fds; rx says the device has room for packets, tx that a
 * send() returned -EAGAIN. May lower *timeout_ms (-1: no timeout).
 * poll_done(): after poll(); runs timers and protocol work; returns NET_BE_* flags.
 */
struct net_backend_ops {
	const char *name;
	int (*send)(struct net_backend *be, const struct iovec *iov, unsigned int n);
	ssize_t (*recv)(struct net_backend *be, void *buf, size_t len);
	int (*set_offloads)(struct net_backend *be, unsigned int offloads);
	void (*poll_fill)(struct net_backend *be, struct net_pollset *ps, bool rx, bool tx,
			  int *timeout_ms);
	unsigned int (*poll_done)(struct net_backend *be, const struct net_pollset *ps,
				  bool poll_failed);
	void (*destroy)(struct net_backend *be);
};

struct net_backend {
	const struct net_backend_ops *ops;
	unsigned int caps; /* NET_OFF_* the backend handles */
	int fd;		   /* the tap fd, for vhost-net; -1 otherwise */
	u64 rx_dropped;	   /* packets the backend had to drop */
	u64 tx_refused;	   /* guest frames refused (user net: too many host sockets) */
};

/*
 * Opens the tap interface ifname with virtio headers (creating it needs CAP_NET_ADMIN).
 * Returns 0, or prints why and returns -EXIT_BAD_INPUT.
 */
int net_tap_open(struct net_backend **out, const char *ifname);
/* A tap backend on an fd the caller opened (tests use a socketpair); takes the fd. */
int net_tap_from_fd(struct net_backend **out, int fd, unsigned int caps);
/* libslirp user networking for opt (10.0.2.0/24, hostfwd). Same returns as net_tap_open. */
int net_slirp_open(struct net_backend **out, const struct net_options *opt);
/* Loads libslirp now (a failure is reported by net_slirp_open()): --jail has no /usr/lib. */
void net_slirp_preload(void);
/*
 * Whether a guest Ethernet frame may make the user-mode stack open a host socket: a TCP
 * connection request, a UDP datagram, an ICMP echo request (IPv4 or IPv6). Exposed for tests.
 */
bool slirp_frame_opens_socket(const u8 *frame, size_t len);

/* vhost-net: the kernel moves the tap's packets to and from the rings. */
struct vhost_net;

/* Opens /dev/vhost-net. Returns 0, or prints why and returns -EXIT_BAD_INPUT. */
int vhost_net_open(struct vhost_net **out);
/* The virtio feature bits the kernel's rings can handle. */
u64 vhost_net_features(const struct vhost_net *vh);
/* Hands guest RAM, the two rings (rx, tx) and the tap to the kernel. Returns 0 or -errno. */
int vhost_net_start(struct vhost_net *vh, const struct guest_memory *mem, u64 features,
		    const struct vhost_ring rings[2], int tap_fd);
/* Takes the rings back; last_avail[] (may be NULL) gets where the kernel stopped. */
void vhost_net_stop(struct vhost_net *vh, u16 last_avail[2]);
void vhost_net_close(struct vhost_net *vh);

#endif
