// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-net (virtio 1.x, "Network Device"): one receive and one transmit queue, the
 * 12-byte virtio_net_hdr_v1 in front of every packet, mergeable receive buffers, and the
 * checksum/segmentation offloads the backend can take. One worker thread per NIC waits
 * on both queues' kicks, the backend's fds and a stop eventfd; with vhost=on the host
 * kernel serves the rings instead and no thread of ours runs.
 *
 * Everything the driver controls is checked: a chain without room for the header, a
 * frame longer than 64 KiB, buffers of the wrong direction make the device NEEDS_RESET;
 * a header asking for offloads that were not negotiated drops that one frame.
 */
#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "../../util/log.h"
#include "../../sandbox/sandbox.h"
#include "../../util/thread.h"
#include "../../vm.h"
#include "net.h"

#define NET_TX_BUDGET	 256 /* packets per round each way, so neither starves the other */
#define NET_RX_BUDGET	 256
#define NET_SNAP_VERSION 1

static struct virtio_net *to_net(struct virtio_dev *vdev)
{
	return container_of(vdev, struct virtio_net, vdev);
}

static struct virtqueue *net_vq(struct virtio_net *n, unsigned int q)
{
	return &n->vdev.queues[q].vq;
}

/*
 * Offloads as NET_OFF_*, from one direction's feature bits, keeping the spec's rule that
 * segmentation needs checksum offload: a driver that accepted TSO alone gets neither.
 */
static unsigned int offloads_of(u64 f, unsigned int csum, unsigned int tso4, unsigned int tso6,
				unsigned int ecn, unsigned int ufo)
{
	unsigned int off = 0;

	if (!(f & BIT(csum)))
		return 0;
	off |= NET_OFF_CSUM;
	if (f & BIT(tso4))
		off |= NET_OFF_TSO4;
	if (f & BIT(tso6))
		off |= NET_OFF_TSO6;
	if ((f & BIT(ecn)) && (off & (NET_OFF_TSO4 | NET_OFF_TSO6)))
		off |= NET_OFF_ECN;
	if (f & BIT(ufo))
		off |= NET_OFF_UFO;
	return off;
}

static u64 features_of(unsigned int caps)
{
	u64 f = 0;

	if (caps & NET_OFF_CSUM)
		f |= BIT(VIRTIO_NET_F_CSUM) | BIT(VIRTIO_NET_F_GUEST_CSUM);
	else
		return 0;
	if (caps & NET_OFF_TSO4)
		f |= BIT(VIRTIO_NET_F_HOST_TSO4) | BIT(VIRTIO_NET_F_GUEST_TSO4);
	if (caps & NET_OFF_TSO6)
		f |= BIT(VIRTIO_NET_F_HOST_TSO6) | BIT(VIRTIO_NET_F_GUEST_TSO6);
	if (caps & NET_OFF_ECN)
		f |= BIT(VIRTIO_NET_F_HOST_ECN) | BIT(VIRTIO_NET_F_GUEST_ECN);
	if (caps & NET_OFF_UFO)
		f |= BIT(VIRTIO_NET_F_HOST_UFO) | BIT(VIRTIO_NET_F_GUEST_UFO);
	return f;
}

int virtio_net_check_tx_hdr(const struct virtio_net_hdr_v1 *hdr, unsigned int offloads,
			    size_t frame_len)
{
	u8 flags = hdr->flags, gso = hdr->gso_type;
	unsigned int need;

	if (frame_len < NET_ETH_HLEN || frame_len > NET_MAX_FRAME)
		return -EINVAL;
	/* DATA_VALID and RSC_INFO are for the device to set, never the driver. */
	if (flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM)
		return -EINVAL;
	if (flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		size_t start = le16toh(hdr->csum_start), off = le16toh(hdr->csum_offset);

		if (!(offloads & NET_OFF_CSUM) || start + off + 2 > frame_len)
			return -EINVAL;
	}
	switch (gso & ~VIRTIO_NET_HDR_GSO_ECN) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return gso ? -EINVAL : 0; /* ECN alone means nothing */
	case VIRTIO_NET_HDR_GSO_TCPV4:
		need = NET_OFF_TSO4;
		break;
	case VIRTIO_NET_HDR_GSO_TCPV6:
		need = NET_OFF_TSO6;
		break;
	case VIRTIO_NET_HDR_GSO_UDP:
		need = NET_OFF_UFO;
		break;
	default:
		return -EINVAL;
	}
	if (gso & VIRTIO_NET_HDR_GSO_ECN)
		need |= NET_OFF_ECN;
	/* Segmenting means rewriting checksums: the spec requires NEEDS_CSUM with it. */
	if ((offloads & need) != need || !(flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) ||
	    !le16toh(hdr->gso_size))
		return -EINVAL;
	return 0;
}

/* Points dst at src minus its first skip bytes. Returns the number of entries. */
static unsigned int iov_skip(const struct iovec *src, unsigned int n, size_t skip,
			     struct iovec *dst)
{
	unsigned int out = 0;

	for (unsigned int i = 0; i < n; i++) {
		size_t cut = MIN(skip, src[i].iov_len);

		skip -= cut;
		if (cut == src[i].iov_len)
			continue;
		dst[out].iov_base = (u8 *)src[i].iov_base + cut;
		dst[out].iov_len = src[i].iov_len - cut;
		out++;
	}
	return out;
}

/* The control API's "net" metrics, as Firecracker names them. */
enum net_metric { M_RX_BYTES, M_RX_PACKETS, M_TX_BYTES, M_TX_PACKETS, M_TX_MALFORMED, M_NR };
static const char *const net_metric_names[M_NR] = {
	[M_RX_BYTES] = "rx_bytes_count",	  [M_RX_PACKETS] = "rx_packets_count",
	[M_TX_BYTES] = "tx_bytes_count",	  [M_TX_PACKETS] = "tx_packets_count",
	[M_TX_MALFORMED] = "tx_malformed_frames",
};

/* Sends one chain. Returns 0 (sent or dropped), -EAGAIN (retry later) or -EIO. */
static int tx_one(struct virtio_net *n, const struct vq_chain *c)
{
	struct virtio_net_hdr_v1 hdr;
	unsigned int niov;
	int ret;

	if (c->n_in)
		return virtio_dev_broke(&n->vdev, n->name,
					"transmit chain has device-writable buffers");
	if (c->out_len < NET_HDR_LEN || c->out_len > NET_MAX_PACKET)
		return virtio_dev_broke(
			&n->vdev, n->name,
			"transmit chain shorter than the header or longer than 64 KiB");
	/* The header is read once into our copy: the driver may rewrite its own meanwhile. */
	iov_to_buf(c->out, c->n_out, 0, &hdr, sizeof(hdr));
	if (virtio_net_check_tx_hdr(&hdr, n->tx_offloads, c->out_len - NET_HDR_LEN)) {
		pr_guest("virtio-net %u: dropped a frame with a bad header or length", n->index);
		n->tx_dropped++;
		metrics_add(&n->metrics, M_TX_MALFORMED, 1);
		return 0;
	}
	hdr.num_buffers = 0;
	n->tx_iov[0] = (struct iovec){.iov_base = &hdr, .iov_len = sizeof(hdr)};
	niov = 1 + iov_skip(c->out, c->n_out, NET_HDR_LEN, n->tx_iov + 1);
	if (niov > IOV_MAX) {
		memcpy(n->tx_pkt, &hdr, sizeof(hdr));
		iov_to_buf(c->out, c->n_out, NET_HDR_LEN, n->tx_pkt + NET_HDR_LEN,
			   c->out_len - NET_HDR_LEN);
		n->tx_iov[0] = (struct iovec){.iov_base = n->tx_pkt, .iov_len = c->out_len};
		niov = 1;
	}
	ret = n->be->ops->send(n->be, n->tx_iov, niov);
	if (ret == -EAGAIN)
		return ret;
	n->tx_packets++;
	metrics_add(&n->metrics, M_TX_PACKETS, 1);
	metrics_add(&n->metrics, M_TX_BYTES, c->out_len - NET_HDR_LEN);
	return 0;
}

void virtio_net_tx(struct virtio_net *n)
{
	struct virtqueue *vq = net_vq(n, VIRTIO_NET_TXQ);
	struct vq_chain *c = n->tx_chain;
	bool pushed = false;
	int ret;

	n->tx_pending = false;
	/* A queue the driver did not enable is not ours to touch. */
	if (n->vdev.broken || !vq->ready)
		return;
	/* No kicks while we drain: we look at the ring anyway. */
	virtqueue_enable_notify(vq, false);
	for (unsigned int i = 0;; i++) {
		if (i == NET_TX_BUDGET) {
			n->tx_pending = true;
			break;
		}
		ret = virtqueue_pop(vq, c);
		if (ret < 0) {
			virtio_dev_broke(&n->vdev, n->name, "transmit queue broken");
			return;
		}
		if (ret == 0) {
			if (!virtqueue_enable_notify(vq, true))
				break;
			virtqueue_enable_notify(vq, false);
			continue;
		}
		if (virtio_net_tx_throttle(n, c)) {
			vq->last_avail--; /* as below: the chain goes back until the timer */
			break;
		}
		ret = tx_one(n, c);
		if (ret == -EAGAIN) {
			/*
			 * Nothing else was taken since: giving the chain back is exact. Kicks
			 * stay off; the backend turning writable resumes us.
			 */
			vq->last_avail--;
			n->tx_blocked = n->tx_pending = true;
			break;
		}
		if (ret < 0)
			return;
		if (virtqueue_push(vq, c->head, 0) < 0) {
			virtio_dev_broke(&n->vdev, n->name, "transmit queue broken");
			return;
		}
		pushed = true;
	}
	/* The transport asks the ring whether the driver wants an interrupt. */
	if (pushed)
		n->vdev.notify(&n->vdev, VIRTIO_NET_TXQ);
}

/*
 * Makes the backend's header fit what the driver accepted. The tap only produces what
 * TUNSETOFFLOAD allowed, but a header is cheap to check and a wrong one confuses drivers.
 */
static bool rx_fix_header(struct virtio_net *n)
{
	struct virtio_net_hdr_v1 *hdr = (struct virtio_net_hdr_v1 *)n->rx_pkt;
	u8 gso = hdr->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;
	unsigned int need = 0;

	if (!(n->rx_offloads & NET_OFF_CSUM))
		hdr->flags = 0;
	hdr->flags &= VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID;
	if (gso == VIRTIO_NET_HDR_GSO_TCPV4)
		need = NET_OFF_TSO4;
	else if (gso == VIRTIO_NET_HDR_GSO_TCPV6)
		need = NET_OFF_TSO6;
	else if (gso == VIRTIO_NET_HDR_GSO_UDP)
		need = NET_OFF_UFO;
	else if (gso != VIRTIO_NET_HDR_GSO_NONE)
		return false;
	if (hdr->gso_type & VIRTIO_NET_HDR_GSO_ECN)
		need |= NET_OFF_ECN;
	return (n->rx_offloads & need) == need;
}

/* Gives the held chains back to the ring: the waiting packet is dropped instead. */
static void rx_drop_held(struct virtio_net *n)
{
	net_vq(n, VIRTIO_NET_RXQ)->last_avail -= (u16)n->rx_nbufs;
	n->rx_nbufs = 0;
	n->rx_len = n->rx_done = 0;
	n->rx_dropped++;
}

/* All of the packet is in the held chains: say how many, and hand them over at once. */
static int rx_complete(struct virtio_net *n)
{
	struct virtqueue *vq = net_vq(n, VIRTIO_NET_RXQ);
	u16 nbufs = htole16((u16)n->rx_nbufs);

	buf_to_iov(n->rx_first->in, n->rx_first->n_in,
		   offsetof(struct virtio_net_hdr_v1, num_buffers), &nbufs, sizeof(nbufs));
	for (unsigned int i = 0; i < n->rx_nbufs; i++) {
		if (virtqueue_push(vq, n->rx_heads[i], n->rx_written[i]) < 0)
			return virtio_dev_broke(&n->vdev, n->name, "receive queue broken");
	}
	metrics_add(&n->metrics, M_RX_PACKETS, 1);
	metrics_add(&n->metrics, M_RX_BYTES, n->rx_len > NET_HDR_LEN ? n->rx_len - NET_HDR_LEN : 0);
	n->rx_nbufs = 0;
	n->rx_len = n->rx_done = 0;
	n->rx_packets++;
	return 1;
}

/*
 * Copies the waiting packet into the driver's buffers. Returns 1 when it is delivered (or
 * dropped), 0 when the ring ran out first (the filled chains stay held), -EIO if broken.
 */
static int rx_fill(struct virtio_net *n)
{
	struct virtqueue *vq = net_vq(n, VIRTIO_NET_RXQ);

	while (n->rx_done < n->rx_len) {
		struct vq_chain *c = n->rx_nbufs ? n->rx_chain : n->rx_first;
		size_t take;
		int ret;

		/* The whole ring cannot hold this packet (tiny buffers): never wait for it. */
		if (n->rx_nbufs == vq->size) {
			rx_drop_held(n);
			return 1;
		}
		ret = virtqueue_pop(vq, c);
		if (ret <= 0)
			return ret ? virtio_dev_broke(&n->vdev, n->name, "receive queue broken")
				   : 0;
		if (c->n_out || c->in_len < NET_HDR_LEN)
			return virtio_dev_broke(
				&n->vdev, n->name,
				"receive buffer read-only or shorter than the header");
		if (!n->mrg_rxbuf && c->in_len < n->rx_len) {
			/* One chain per packet, and this one is too small: keep it for the next. */
			vq->last_avail--;
			rx_drop_held(n);
			return 1;
		}
		take = MIN(n->rx_len - n->rx_done, c->in_len);
		buf_to_iov(c->in, c->n_in, 0, n->rx_pkt + n->rx_done, take);
		n->rx_heads[n->rx_nbufs] = c->head;
		n->rx_written[n->rx_nbufs] = (u32)take;
		n->rx_nbufs++;
		n->rx_done += take;
	}
	return rx_complete(n);
}

void virtio_net_rx(struct virtio_net *n)
{
	struct virtqueue *vq = net_vq(n, VIRTIO_NET_RXQ);
	bool pushed = false;
	int ret;

	n->rx_more = false;
	if (!vq->ready)
		return;
	for (unsigned int i = 0; !n->vdev.broken; i++) {
		if (i == NET_RX_BUDGET) {
			n->rx_more = true;
			break;
		}
		if (!n->rx_len) {
			ssize_t len = n->be->ops->recv(n->be, n->rx_pkt, NET_MAX_PACKET);

			if (len <= 0)
				break;
			n->rx_len = (size_t)len;
			n->rx_done = 0;
			if (len < NET_HDR_LEN + NET_ETH_HLEN || !rx_fix_header(n)) {
				n->rx_len = 0;
				n->rx_dropped++;
				continue;
			}
			n->rx_paid = false;
		}
		/* The packet waits in rx_pkt (and the backend unread) until it fits the limit. */
		if (!n->rx_paid && virtio_net_rx_throttle(n))
			break;
		n->rx_paid = true;
		ret = rx_fill(n);
		if (ret < 0)
			return;
		if (ret > 0) {
			pushed = true;
			continue;
		}
		/* Out of buffers: ask for a kick, unless some arrived meanwhile. */
		if (!virtqueue_enable_notify(vq, true)) {
			n->rx_starved = true;
			break;
		}
	}
	if (pushed)
		n->vdev.notify(&n->vdev, VIRTIO_NET_RXQ);
}

int virtio_net_activate(struct virtio_net *n)
{
	u64 f = n->vdev.driver_features;

	n->mrg_rxbuf = f & BIT(VIRTIO_NET_F_MRG_RXBUF);
	n->tx_offloads =
		offloads_of(f, VIRTIO_NET_F_CSUM, VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_HOST_TSO6,
			    VIRTIO_NET_F_HOST_ECN, VIRTIO_NET_F_HOST_UFO) &
		n->be->caps;
	n->rx_offloads = offloads_of(f, VIRTIO_NET_F_GUEST_CSUM, VIRTIO_NET_F_GUEST_TSO4,
				     VIRTIO_NET_F_GUEST_TSO6, VIRTIO_NET_F_GUEST_ECN,
				     VIRTIO_NET_F_GUEST_UFO) &
			 n->be->caps;
	n->vdev.broken = false;
	/* Without a receive queue the backend is never read: as if out of buffers for good. */
	n->rx_starved = !net_vq(n, VIRTIO_NET_RXQ)->ready;
	n->rx_more = false;
	n->tx_pending = n->tx_blocked = false;
	n->rx_throttled = n->tx_throttled = false;
	return n->be->ops->set_offloads(n->be, n->rx_offloads);
}

void virtio_net_deactivate(struct virtio_net *n)
{
	/*
	 * Chains filled with part of a packet go back on the ring: a pause (PATCH /vm, a
	 * snapshot) keeps the rings, and chains taken but never used would be lost to the
	 * driver for good. After a reset the transport clears the ring anyway.
	 */
	net_vq(n, VIRTIO_NET_RXQ)->last_avail -= (u16)n->rx_nbufs;
	n->rx_nbufs = 0;
	n->rx_len = n->rx_done = 0;
	n->rx_starved = n->rx_more = false;
	n->tx_pending = n->tx_blocked = false;
	n->vdev.broken = false;
	n->mrg_rxbuf = false;
	n->tx_offloads = n->rx_offloads = 0;
	n->be->ops->set_offloads(n->be, 0);
}

/*
 * vhost-net takes over the rings when every negotiated ring feature is one the kernel
 * handles and the transport can give us an irqfd per queue; otherwise 1: use our worker.
 */
static int net_start_vhost(struct virtio_net *n)
{
	u64 f = n->vdev.driver_features, missing;
	struct vhost_ring rings[VIRTIO_NET_QUEUES];

	/* The config features and offloads are ours and the tap's; the rest is the kernel's. */
	missing = f & ~(BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_STATUS) | features_of(~0u)) &
		  ~vhost_net_features(n->vhost);
	if (missing) {
		pr_guest("virtio-net %u: features %#llx not handled by vhost-net; not used",
			 n->index, (unsigned long long)missing);
		return 1;
	}
	for (unsigned int q = 0; q < VIRTIO_NET_QUEUES; q++) {
		struct virtqueue *vq = net_vq(n, q);

		rings[q] = (struct vhost_ring){
			.size = vq->size,
			.last_avail = vq->last_avail,
			.desc = vq->desc,
			.avail = vq->avail,
			.used = vq->used,
			.kick_fd = n->vdev.queues[q].kick_fd,
			.call_fd = virtio_queue_irqfd(&n->vdev, q),
		};
		if (rings[q].call_fd < 0 || !vq->desc) {
			pr_guest("virtio-net %u: queue %u %s; vhost-net not used", n->index, q,
				 vq->desc ? "has no irqfd" : "is not enabled");
			return 1;
		}
	}
	if (vhost_net_start(n->vhost, net_vq(n, 0)->mem, f, rings, n->be->fd)) {
		pr_guest("virtio-net %u: vhost-net refused the rings; not used", n->index);
		return 1;
	}
	n->vhost_active = true;
	/* Said at every DRIVER_OK, which a guest can repeat at will. */
	pr_ratelimited(LOG_INFO, "virtio-net %u: vhost-net serves the rings", n->index);
	return 0;
}

static int net_start(struct virtio_dev *vdev)
{
	struct virtio_net *n = to_net(vdev);
	int ret = virtio_net_activate(n);

	if (!ret && n->vhost && !net_start_vhost(n))
		return 0;
	if (!ret)
		ret = virtio_net_start_worker(n);
	/* A failed start leaves nothing behind: the transport reports NEEDS_RESET. */
	if (ret)
		virtio_net_deactivate(n);
	return ret;
}

static void net_stop(struct virtio_dev *vdev)
{
	struct virtio_net *n = to_net(vdev);

	dev_worker_stop(&n->worker, n->name);
	if (n->vhost_active) {
		u16 last_avail[VIRTIO_NET_QUEUES];

		vhost_net_stop(n->vhost, last_avail);
		n->vhost_active = false;
	}
	pr_debug("virtio-net %u: stopped; rx %llu (%llu dropped, %llu by the backend), tx %llu "
		 "(%llu dropped)",
		 n->index, (unsigned long long)n->rx_packets, (unsigned long long)n->rx_dropped,
		 (unsigned long long)n->be->rx_dropped, (unsigned long long)n->tx_packets,
		 (unsigned long long)n->tx_dropped);
	virtio_net_deactivate(n);
}

/*
 * Beyond struct virtio_dev, a NIC holds only its identity and counters; a packet waiting
 * for buffers is not saved (networks lose packets), nor is the user stack's state.
 */
static int net_save(struct virtio_dev *vdev, struct snap_buf *sb)
{
	struct virtio_net *n = to_net(vdev);

	if (n->vhost) {
		pr_err("virtio-net %u: a vhost-net NIC cannot be snapshotted", n->index);
		return -EOPNOTSUPP;
	}
	snap_begin_section(sb, "virtio-net", NET_SNAP_VERSION);
	snap_put(sb, n->opt.mac, sizeof(n->opt.mac));
	snap_put_u32(sb, n->opt.kind);
	snap_put_u64(sb, n->rx_packets);
	snap_put_u64(sb, n->tx_packets);
	snap_put_u64(sb, n->rx_dropped);
	snap_put_u64(sb, n->tx_dropped);
	return sb->error ? -ENOMEM : 0;
}

static int net_load(struct virtio_dev *vdev, struct snap_buf *sb)
{
	struct virtio_net *n = to_net(vdev);
	u8 mac[sizeof(n->opt.mac)];
	u32 kind;

	if (snap_open_section(sb, "virtio-net") != NET_SNAP_VERSION)
		return -EINVAL;
	if (!snap_get(sb, mac, sizeof(mac)) || !snap_get_u32(sb, &kind) ||
	    !snap_get_u64(sb, &n->rx_packets) || !snap_get_u64(sb, &n->tx_packets) ||
	    !snap_get_u64(sb, &n->rx_dropped) || !snap_get_u64(sb, &n->tx_dropped))
		return -EINVAL;
	if (memcmp(mac, n->opt.mac, sizeof(mac)) || kind != n->opt.kind) {
		pr_err("virtio-net %u: the snapshot is of another NIC (MAC or backend differ)",
		       n->index);
		return -EINVAL;
	}
	return 0;
}

static void net_destroy(struct virtio_dev *vdev)
{
	struct virtio_net *n = to_net(vdev);

	/* The transport stopped us already; this only guards a start without a stop. */
	if (n->worker.running || n->vhost_active)
		net_stop(vdev);
	if (vdev->vm)
		metrics_unregister(&vdev->vm->metrics, &n->metrics);
	virtio_net_cleanup(n);
	free(n);
}

static const struct virtio_dev_ops net_vdev_ops = {
	.name = "virtio-net",
	.device_id = VIRTIO_ID_NET,
	.num_queues = VIRTIO_NET_QUEUES,
	.queue_max_size = VIRTIO_NET_QUEUE_SIZE,
	.start = net_start,
	.stop = net_stop,
	.save = net_save,
	.load = net_load,
	.destroy = net_destroy,
};

static void put_le16(u8 *p, u16 v)
{
	p[0] = (u8)v;
	p[1] = (u8)(v >> 8);
}

int virtio_net_init(struct virtio_net *n, const struct net_options *opt, unsigned int index,
		    struct net_backend *be)
{
	n->opt = *opt;
	n->index = index;
	snprintf(n->name, sizeof(n->name), "virtio-net %u", index);
	n->be = be;
	n->worker.stop_fd = -1;
	n->rx_timer = n->tx_timer = -1;
	n->vdev.notify = virtio_notify_queue;
	n->vdev.set_needs_reset = virtio_set_needs_reset;
	n->rx_pkt = malloc(NET_MAX_PACKET);
	n->tx_pkt = malloc(NET_MAX_PACKET);
	n->rx_first = malloc(sizeof(*n->rx_first));
	n->rx_chain = malloc(sizeof(*n->rx_chain));
	n->tx_chain = malloc(sizeof(*n->tx_chain));
	n->tx_iov = calloc(VIRTQUEUE_MAX_CHAIN + 1, sizeof(*n->tx_iov));
	n->ps.cap = 16;
	n->ps.fds = calloc(n->ps.cap, sizeof(*n->ps.fds));
	if (!n->rx_pkt || !n->tx_pkt || !n->rx_first || !n->rx_chain || !n->tx_chain ||
	    !n->tx_iov || !n->ps.fds || virtio_net_limiters_init(n) ||
	    dev_worker_init(&n->worker)) {
		virtio_net_cleanup(n);
		return -ENOMEM;
	}
	/* Named by id=, which the API sets to the interface's ID. */
	if (metrics_set_init(&n->metrics, "net", opt->id, net_metric_names, M_NR) &&
	    metrics_set_init(&n->metrics, "net", NULL, net_metric_names, M_NR)) {
		virtio_net_cleanup(n);
		return -ENOMEM;
	}
	memcpy(n->config, opt->mac, sizeof(opt->mac));
	put_le16(n->config + offsetof(struct virtio_net_config, status), VIRTIO_NET_S_LINK_UP);
	put_le16(n->config + offsetof(struct virtio_net_config, max_virtqueue_pairs), 1);
	n->vdev.ops = &net_vdev_ops;
	n->vdev.config = n->config;
	n->vdev.config_size = sizeof(n->config);
	/* The ring features are ours to offer too (the transport adds only VERSION_1). */
	n->vdev.device_features = BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_STATUS) |
				  BIT(VIRTIO_NET_F_MRG_RXBUF) | BIT(VIRTIO_RING_F_EVENT_IDX) |
				  BIT(VIRTIO_RING_F_INDIRECT_DESC) | features_of(be->caps);
	return 0;
}

void virtio_net_cleanup(struct virtio_net *n)
{
	free(n->rx_pkt);
	free(n->tx_pkt);
	free(n->rx_first);
	free(n->rx_chain);
	free(n->tx_chain);
	free(n->tx_iov);
	free(n->ps.fds);
	n->rx_pkt = n->tx_pkt = NULL;
	n->rx_first = n->rx_chain = n->tx_chain = NULL;
	n->tx_iov = NULL;
	n->ps = (struct net_pollset){0};
	metrics_set_fini(&n->metrics);
	virtio_net_limiters_fini(n);
	dev_worker_fini(&n->worker);
	if (n->be)
		n->be->ops->destroy(n->be);
	n->be = NULL;
	vhost_net_close(n->vhost);
	n->vhost = NULL;
}

static int net_open_backend(const struct net_options *opt, struct net_backend **be,
			    struct vhost_net **vhost)
{
	int ret;

	*vhost = NULL;
	if (opt->kind == NET_KIND_USER)
		return net_slirp_open(be, opt);
	/* vhost first: its absence is the likelier mistake, and costs no tap. */
	if (opt->vhost) {
		ret = vhost_net_open(vhost);
		if (ret)
			return ret;
	}
	ret = net_tap_open(be, opt->ifname);
	if (ret) {
		vhost_net_close(*vhost);
		*vhost = NULL;
	}
	return ret;
}

static int net_create(struct vm *vm, const struct net_options *opt, unsigned int index)
{
	struct virtio_net *n = calloc(1, sizeof(*n));
	struct vhost_net *vhost;
	struct net_backend *be;
	int ret;

	if (!n)
		return -EXIT_VMM_ERROR;
	ret = net_open_backend(opt, &be, &vhost);
	if (ret) {
		free(n);
		return ret;
	}
	n->vhost = vhost;
	/* A failed init has released the backend and vhost-net (virtio_net_cleanup()). */
	if (virtio_net_init(n, opt, index, be)) {
		free(n);
		return -EXIT_VMM_ERROR;
	}
	/* The kernel fills the rings itself: offer only the ring layout it knows. */
	if (vhost && !(vhost_net_features(vhost) & BIT(VIRTIO_NET_F_MRG_RXBUF)))
		n->vdev.device_features &= ~BIT(VIRTIO_NET_F_MRG_RXBUF);
	n->vdev.vm = vm;
	/* On failure the transport has said why, and the device is ours to free. */
	ret = virtio_pci_register(vm, &n->vdev);
	if (ret) {
		virtio_net_cleanup(n);
		free(n);
		return -EXIT_VMM_ERROR;
	}
	metrics_register(&vm->metrics, &n->metrics);
	return 0;
}

static int net_check(const struct vm_config *cfg)
{
	struct net_options opt;
	char err[192];

	for (unsigned int i = 0; i < cfg->nr_nics; i++) {
		if (net_parse_options(cfg->nics[i], i, &opt, err, sizeof(err))) {
			pr_err("--net %s: %s", cfg->nics[i], err);
			return -EXIT_BAD_INPUT;
		}
	}
	return 0;
}

static int net_realize(struct vm *vm)
{
	struct net_options opts[VM_MAX_NICS];
	char err[192];
	int ret;

	/* Every option is checked before any tap or socket is opened. */
	for (unsigned int i = 0; i < vm->cfg->nr_nics; i++) {
		if (net_parse_options(vm->cfg->nics[i], i, &opts[i], err, sizeof(err))) {
			pr_err("--net %s: %s", vm->cfg->nics[i], err);
			return -EXIT_BAD_INPUT;
		}
	}
	for (unsigned int i = 0; i < vm->cfg->nr_nics; i++) {
		ret = net_create(vm, &opts[i], i);
		if (ret)
			return ret;
	}
	return 0;
}

const struct device_ops virtio_net_ops = {
	.name = "virtio-net",
	.check = net_check,
	.realize = net_realize,
};
