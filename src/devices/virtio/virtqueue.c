// SPDX-License-Identifier: GPL-2.0-only
/*
 * The device side of a split virtqueue (virtio 1.x, "Split Virtqueues").
 *
 * The driver runs on other CPUs and may rewrite any ring byte at any time, including
 * while we read it. So every value taken from guest memory is loaded once into a local,
 * checked, and only the local is used afterwards. Anything that breaks the rules marks
 * the queue broken; nothing a guest writes can make us touch memory outside guest RAM
 * or loop without bound.
 *
 * Ring layout for a queue of n entries (all fields little-endian):
 *   descriptor table  16 * n bytes, 16-aligned
 *   available ring    flags, idx, ring[n], used_event          6 + 2 * n, 2-aligned
 *   used ring         flags, idx, ring[n] {id, len}, avail_event  6 + 8 * n, 4-aligned
 */
#include <endian.h>
#include <errno.h>
#include <string.h>
#include <linux/virtio_ring.h>

#include "virtqueue.h"
#include "../../util/log.h"

/* The spec's limit for one chain: drivers must not add more than 2^32 bytes in total. */
#define CHAIN_MAX_BYTES MIN((u64)SIZE_MAX, 1ULL << 32)

/* One descriptor, copied out of guest memory and converted to host order. */
struct desc {
	u64 addr;
	u32 len;
	u16 flags;
	u16 next;
};

/* Where a chain walk is: which table it reads and how much it has read. */
struct walk {
	const u8 *table;   /* the queue's descriptor table or an indirect table */
	u32 entries;	   /* descriptors in that table */
	u32 read_in_table; /* more than entries means the chain loops */
	u32 buffers;	   /* descriptors read other than the one naming an indirect table */
	bool in_indirect;
};

static u16 load16(const void *p)
{
	return le16toh(__atomic_load_n((const u16 *)p, __ATOMIC_RELAXED));
}

/* A write to a ring in guest RAM: marked dirty first for Diff snapshots. */
static void store16(const struct virtqueue *vq, void *p, u16 v)
{
	guest_memory_mark_dirty(vq->mem, p, sizeof(v));
	__atomic_store_n((u16 *)p, htole16(v), __ATOMIC_RELAXED);
}

static struct vring_avail *avail_ring(const struct virtqueue *vq)
{
	return vq->avail;
}

static struct vring_used *used_ring(const struct virtqueue *vq)
{
	return vq->used;
}

/* used_event sits right after the available ring's entries. */
static u16 *used_event(const struct virtqueue *vq)
{
	return &avail_ring(vq)->ring[vq->size];
}

/* avail_event sits right after the used ring's entries. */
static u16 *avail_event(const struct virtqueue *vq)
{
	return (u16 *)&used_ring(vq)->ring[vq->size];
}

static bool vq_usable(const struct virtqueue *vq)
{
	return !vq->broken && vq->desc && vq->avail && vq->used;
}

static int vq_break(struct virtqueue *vq, const char *why)
{
	vq->broken = true;
	pr_guest("virtqueue: %s; the queue stays broken until reset", why);
	return -EIO;
}

void virtqueue_reset(struct virtqueue *vq, const struct guest_memory *mem)
{
	memset(vq, 0, sizeof(*vq));
	vq->mem = mem;
}

static const char *check_rings(struct virtqueue *vq)
{
	u64 n = vq->size;

	if (!vq->mem)
		return "no guest memory";
	if (n == 0 || n > VIRTQUEUE_MAX_SIZE || (n & (n - 1)))
		return "queue size is not a power of 2 up to the maximum";
	if (vq->desc_gpa % VRING_DESC_ALIGN_SIZE || vq->avail_gpa % VRING_AVAIL_ALIGN_SIZE ||
	    vq->used_gpa % VRING_USED_ALIGN_SIZE)
		return "misaligned ring";
	vq->desc = gpa_to_hva(vq->mem, vq->desc_gpa, sizeof(struct vring_desc) * n);
	vq->avail = gpa_to_hva(vq->mem, vq->avail_gpa, 6 + 2 * n);
	vq->used = gpa_to_hva(vq->mem, vq->used_gpa, 6 + sizeof(struct vring_used_elem) * n);
	if (!vq->desc || !vq->avail || !vq->used)
		return "ring outside guest RAM";
	return NULL;
}

int virtqueue_start(struct virtqueue *vq)
{
	const char *why = check_rings(vq);

	if (!why)
		return 0;
	vq->desc = vq->avail = vq->used = NULL;
	vq_break(vq, why);
	return -EINVAL;
}

/*
 * Copies descriptor i of a table. memcpy copes with an indirect table at any address;
 * the compiler barrier keeps it from re-reading guest memory in place of the copy.
 */
static void read_desc(const u8 *table, u32 i, struct desc *d)
{
	struct vring_desc raw;

	memcpy(&raw, table + (size_t)i * sizeof(raw), sizeof(raw));
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	d->addr = le64toh(raw.addr);
	d->len = le32toh(raw.len);
	d->flags = le16toh(raw.flags);
	d->next = le16toh(raw.next);
}

/* Switches the walk to the indirect table descriptor d names. */
static const char *enter_indirect(const struct virtqueue *vq, struct walk *w, const struct desc *d)
{
	const u8 *table;

	if (!vq->indirect)
		return "indirect descriptor, but VIRTIO_RING_F_INDIRECT_DESC not negotiated";
	if (w->in_indirect)
		return "indirect descriptor inside an indirect table";
	/* An indirect descriptor ends the chain: the table is the rest of it. */
	if (d->flags & VRING_DESC_F_NEXT)
		return "indirect descriptor with NEXT set";
	if (d->len == 0 || d->len % sizeof(struct vring_desc))
		return "indirect table length is not a non-zero multiple of 16";
	if (d->len / sizeof(struct vring_desc) > VIRTQUEUE_MAX_CHAIN)
		return "indirect table too long";
	table = gpa_to_hva(vq->mem, d->addr, d->len);
	if (!table)
		return "indirect table outside guest RAM";
	w->table = table;
	w->entries = d->len / sizeof(struct vring_desc);
	w->read_in_table = 0;
	w->in_indirect = true;
	return NULL;
}

/* Appends the buffer d describes to the chain, device-readable ones first. */
static const char *add_buffer(const struct guest_memory *mem, struct vq_chain *c,
			      const struct desc *d)
{
	u64 total = (u64)c->out_len + c->in_len;
	void *hva;

	/* An empty buffer carries nothing: skip it rather than fail a harmless driver. */
	if (d->len == 0)
		return NULL;
	hva = gpa_to_hva(mem, d->addr, d->len);
	if (!hva)
		return "buffer outside guest RAM";
	/* total never exceeds the limit, so the subtraction cannot wrap. */
	if (d->len > CHAIN_MAX_BYTES - total)
		return "descriptor chain longer than 4 GiB";
	if (c->n_out + c->n_in >= VIRTQUEUE_MAX_CHAIN)
		return "descriptor chain has too many buffers";
	if (d->flags & VRING_DESC_F_WRITE) {
		/*
		 * The device may write it any time until it pushes the chain, and a pause
		 * completes taken I/O first: marking it now puts it in the snapshot's interval.
		 */
		guest_memory_mark_dirty(mem, hva, d->len);
		c->in[c->n_in].iov_base = hva;
		c->in[c->n_in].iov_len = d->len;
		c->n_in++;
		c->in_len += d->len;
	} else {
		if (c->n_in)
			return "device-readable buffer after a device-writable one";
		c->out[c->n_out].iov_base = hva;
		c->out[c->n_out].iov_len = d->len;
		c->n_out++;
		c->out_len += d->len;
	}
	return NULL;
}

/* Reads one descriptor and acts on it; *i becomes the next index, or -1 at the end. */
static const char *walk_step(const struct virtqueue *vq, struct walk *w, struct vq_chain *c, s32 *i)
{
	struct desc d;
	const char *why;

	/* A chain that visits more descriptors than its table holds must loop. */
	if (w->read_in_table++ >= w->entries)
		return "descriptor chain loops or is longer than its table";
	read_desc(w->table, *i, &d);
	if (d.flags & VRING_DESC_F_INDIRECT) {
		/* The WRITE flag of this descriptor means nothing (the spec says ignore it). */
		*i = 0;
		return enter_indirect(vq, w, &d);
	}
	if (w->buffers++ >= VIRTQUEUE_MAX_CHAIN)
		return "descriptor chain longer than VIRTQUEUE_MAX_CHAIN";
	why = add_buffer(vq->mem, c, &d);
	if (why)
		return why;
	if (!(d.flags & VRING_DESC_F_NEXT)) {
		*i = -1;
		return NULL;
	}
	if (d.next >= w->entries)
		return "next descriptor index out of range";
	*i = d.next;
	return NULL;
}

static const char *walk_chain(const struct virtqueue *vq, u16 head, struct vq_chain *c)
{
	struct walk w = {.table = vq->desc, .entries = vq->size};
	s32 i = head;

	c->head = head;
	c->n_out = c->n_in = 0;
	c->out_len = c->in_len = 0;
	/*
	 * walk_step() fails once a table is read past its size, and there are at most two
	 * tables, so this bound is never what ends a walk; it only makes the end obvious.
	 */
	for (u32 step = 0; step <= VIRTQUEUE_MAX_SIZE + VIRTQUEUE_MAX_CHAIN + 1; step++) {
		const char *why = walk_step(vq, &w, c, &i);

		if (why || i < 0)
			return why;
	}
	return "descriptor chain too long";
}

int virtqueue_pop(struct virtqueue *vq, struct vq_chain *chain)
{
	u16 avail_idx, pending, head;
	const char *why;

	if (!vq_usable(vq))
		return -EIO;
	/* Acquire: the entries and descriptors the index publishes are read after it. */
	avail_idx = le16toh(__atomic_load_n(&avail_ring(vq)->idx, __ATOMIC_ACQUIRE));
	pending = avail_idx - vq->last_avail;
	if (pending == 0)
		return 0;
	if (pending > vq->size)
		return vq_break(vq, "available index moved by more than the queue size");
	head = load16(&avail_ring(vq)->ring[vq->last_avail & (vq->size - 1)]);
	if (head >= vq->size)
		return vq_break(vq, "head descriptor index out of range");
	why = walk_chain(vq, head, chain);
	if (why)
		return vq_break(vq, why);
	vq->last_avail++;
	return 1;
}

void virtqueue_unpop(struct virtqueue *vq)
{
	/* The ring entry is still the driver's: it is only ours once pushed. */
	vq->last_avail--;
}

bool virtqueue_avail_pending(const struct virtqueue *vq)
{
	if (!vq_usable(vq))
		return false;
	return load16(&avail_ring(vq)->idx) != vq->last_avail;
}

int virtqueue_push(struct virtqueue *vq, u16 head, u32 written)
{
	struct vring_used_elem *e;

	if (!vq_usable(vq))
		return -EIO;
	/* head comes from our own device code: a bad one is our bug, not the driver's. */
	if (head >= vq->size)
		return -EINVAL;
	e = &used_ring(vq)->ring[vq->used_idx & (vq->size - 1)];
	guest_memory_mark_dirty(vq->mem, e, sizeof(*e));
	guest_memory_mark_dirty(vq->mem, &used_ring(vq)->idx, sizeof(u16));
	__atomic_store_n(&e->id, htole32(head), __ATOMIC_RELAXED);
	__atomic_store_n(&e->len, htole32(written), __ATOMIC_RELAXED);
	vq->used_idx++;
	/* Release: the driver that sees the new index must see the element too. */
	__atomic_store_n(&used_ring(vq)->idx, htole16(vq->used_idx), __ATOMIC_RELEASE);
	return 0;
}

/*
 * The spec's event index test: whether the driver's event lies in [old, new), the
 * entries used since the last notification. u16 arithmetic makes wraparound work.
 */
static bool need_event(u16 event, u16 new_idx, u16 old_idx)
{
	return (u16)(new_idx - event - 1) < (u16)(new_idx - old_idx);
}

bool virtqueue_should_notify(struct virtqueue *vq)
{
	u16 old_idx = vq->signalled_used, new_idx = vq->used_idx;
	bool valid = vq->signalled_used_valid;

	if (!vq_usable(vq))
		return false;
	/*
	 * The driver writes used_event (or its flags), then reads used->idx; we wrote
	 * used->idx and now read its fields. Without a full barrier both could read stale
	 * values and the driver would sleep on a buffer it never hears about.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	vq->signalled_used = new_idx;
	vq->signalled_used_valid = true;
	if (valid && old_idx == new_idx)
		return false;
	if (vq->event_idx)
		return !valid || need_event(load16(used_event(vq)), new_idx, old_idx);
	return !(load16(&avail_ring(vq)->flags) & VRING_AVAIL_F_NO_INTERRUPT);
}

bool virtqueue_enable_notify(struct virtqueue *vq, bool enable)
{
	if (!vq_usable(vq))
		return false;
	if (vq->event_idx) {
		/*
		 * Leaving avail_event behind last_avail is enough to disable: the driver
		 * notifies only when its index crosses it, which has already happened.
		 */
		if (!enable)
			return false;
		store16(vq, avail_event(vq), vq->last_avail);
	} else {
		store16(vq, &used_ring(vq)->flags, enable ? 0 : VRING_USED_F_NO_NOTIFY);
		if (!enable)
			return false;
	}
	/*
	 * The driver publishes avail->idx and then reads our flag or event; we wrote ours
	 * and now read its index. The full barrier makes at least one side see the other,
	 * so a buffer added meanwhile is either notified or found here.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return load16(&avail_ring(vq)->idx) != vq->last_avail;
}

/* Copies between iovecs (from byte skip on) and a flat buffer, to_iov choosing the way. */
static size_t iov_copy(const struct iovec *iov, unsigned int n, size_t skip, u8 *buf, size_t len,
		       bool to_iov)
{
	size_t done = 0;

	for (unsigned int i = 0; i < n && done < len; i++) {
		u8 *base = iov[i].iov_base;
		size_t chunk;

		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		chunk = MIN(iov[i].iov_len - skip, len - done);
		if (to_iov)
			memcpy(base + skip, buf + done, chunk);
		else
			memcpy(buf + done, base + skip, chunk);
		done += chunk;
		skip = 0;
	}
	return done;
}

size_t iov_to_buf(const struct iovec *iov, unsigned int n, size_t skip, void *buf, size_t len)
{
	return iov_copy(iov, n, skip, buf, len, false);
}

size_t buf_to_iov(const struct iovec *iov, unsigned int n, size_t skip, const void *buf, size_t len)
{
	/* iov_copy only reads buf when copying to the iovecs. */
	return iov_copy(iov, n, skip, (u8 *)buf, len, true);
}
