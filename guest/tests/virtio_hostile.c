// SPDX-License-Identifier: GPL-2.0-only
/*
 * A hostile virtio driver: hands virtio-rng descriptors outside RAM, loops, zero and huge
 * lengths, a bad indirect table and a runaway avail index. Each time the VMM must keep
 * running, the rng device must report NEEDS_RESET (or use the buffer harmlessly where
 * the rules allow it), virtio-blk must keep serving meanwhile, and a reset must bring
 * the rng device back. Needs --rng and --disk on an image from tests/guest/run, whose
 * sector 0 begins with DISK_MAGIC.
 *
 * Under QEMU (command line "qemu", for comparison) some misbehaviours are expected to go
 * unreported: it bounces buffers outside RAM through a scratch buffer and uses them, it
 * leaves an empty or unreadable request in the ring, and it checks ring addresses only
 * when it uses them.
 */
#include "libguest.h"
#include "virtio.h"

#define DISK_MAGIC   "kvmbox guest disk\n"
#define RNG_LEN	     16
#define BLK_T_IN     0
#define BLK_S_OK     0
#define SECTOR	     512
#define HUGE_LEN     0xffffffffu
#define WRAPPING_GPA 0xfffffffffffffff0ULL /* + 0x20 wraps around to RAM at 0x10 */

struct blk_req_hdr {
	u32 type;
	u32 reserved;
	u64 sector;
};

/* One misbehaviour: fills the queue's descriptors and publishes (or not) itself. */
struct bad_case {
	const char *name;
	void (*post)(struct virtqueue *vq);
	bool needs_indirect;
	const char *harmless_ok; /* non-NULL: the device may also just use the buffer, why */
};

static struct virtio_pci_dev rng, blk;
static struct virtqueue rng_vq, blk_vq;
static void *rng_ring, *blk_ring;
static u8 *rng_buf, *indirect_table, *blk_buf;
static u64 rng_features;

static void set_desc(struct vring_desc *d, u64 addr, u32 len, u16 flags, u16 next)
{
	*d = (struct vring_desc){.addr = addr, .len = len, .flags = flags, .next = next};
}

static bool rng_request(struct vring_desc *d, u16 flags)
{
	u32 len = 0;

	memset(rng_buf, 0, RNG_LEN);
	set_desc(d, (u64)rng_buf, RNG_LEN, flags, 0);
	vq_publish(&rng_vq, 0);
	if (!vq_wait_used(&rng_vq, &len, VIRTIO_S_NEEDS_RESET) || len != RNG_LEN)
		return false;
	for (int i = 0; i < RNG_LEN; i++)
		if (rng_buf[i]) /* all zero: 2^-128, or nothing was written */
			return true;
	return false;
}

static bool rng_good_request(void)
{
	return rng_request(&rng_vq.desc[0], VRING_DESC_F_WRITE);
}

/* The same through a one-entry indirect table. */
static bool rng_good_indirect_request(void)
{
	struct vring_desc *table = (struct vring_desc *)indirect_table;

	set_desc(&rng_vq.desc[0], (u64)table, sizeof(*table), VRING_DESC_F_INDIRECT, 0);
	return rng_request(&table[0], VRING_DESC_F_WRITE);
}

static bool rng_start(void)
{
	const char *why;

	rng_features = virtio_init(&rng, &rng_vq, rng_ring, BIT(VIRTIO_F_INDIRECT_DESC), &why);
	if (!rng_features)
		report_info("virtio-rng: %s", why);
	return rng_features && rng_good_request();
}

/* virtio-blk: reads sector 0 and checks it begins with what the runner wrote. */
static bool blk_read_sector0(void)
{
	struct blk_req_hdr *hdr = (struct blk_req_hdr *)blk_buf;
	u8 *data = blk_buf + SECTOR, *status = blk_buf + 2 * SECTOR;
	u32 len;

	*hdr = (struct blk_req_hdr){.type = BLK_T_IN, .sector = 0};
	memset(data, 0, sizeof(DISK_MAGIC));
	*status = 0xff;
	set_desc(&blk_vq.desc[0], (u64)hdr, sizeof(*hdr), VRING_DESC_F_NEXT, 1);
	set_desc(&blk_vq.desc[1], (u64)data, SECTOR, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
	set_desc(&blk_vq.desc[2], (u64)status, 1, VRING_DESC_F_WRITE, 0);
	vq_publish(&blk_vq, 0);
	return vq_wait_used(&blk_vq, &len, VIRTIO_S_NEEDS_RESET) && *status == BLK_S_OK &&
	       !memcmp(data, DISK_MAGIC, sizeof(DISK_MAGIC) - 1);
}

/* The bad requests. Each writes descriptor 0 (and maybe more) and publishes head 0. */

static void post_buffer(struct virtqueue *vq, u64 addr, u32 len)
{
	set_desc(&vq->desc[0], addr, len, VRING_DESC_F_WRITE, 0);
	vq_publish(vq, 0);
}

static void post_past_ram_end(struct virtqueue *vq)
{
	/* Starts in RAM, ends outside it. */
	post_buffer(vq, fwcfg_ram_size() - RNG_LEN / 2, RNG_LEN);
}

static void post_far_outside(struct virtqueue *vq)
{
	post_buffer(vq, 1ULL << 40, RNG_LEN);
}

static void post_wrapping(struct virtqueue *vq)
{
	post_buffer(vq, WRAPPING_GPA, 0x20);
}

static void post_zero_len(struct virtqueue *vq)
{
	post_buffer(vq, (u64)rng_buf, 0);
}

static void post_huge_len(struct virtqueue *vq)
{
	post_buffer(vq, (u64)rng_buf, HUGE_LEN);
}

static void post_loop(struct virtqueue *vq)
{
	set_desc(&vq->desc[0], (u64)rng_buf, 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	set_desc(&vq->desc[1], (u64)rng_buf + 8, 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 0);
	vq_publish(vq, 0);
}

static void post_self_loop(struct virtqueue *vq)
{
	set_desc(&vq->desc[0], (u64)rng_buf, 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 0);
	vq_publish(vq, 0);
}

static void post_indirect_bad_len(struct virtqueue *vq)
{
	struct vring_desc *table = (struct vring_desc *)indirect_table;

	set_desc(&table[0], (u64)rng_buf, RNG_LEN, VRING_DESC_F_WRITE, 0);
	/* Not a multiple of the 16-byte descriptor. */
	set_desc(&vq->desc[0], (u64)table, sizeof(*table) + 1, VRING_DESC_F_INDIRECT, 0);
	vq_publish(vq, 0);
}

static void post_indirect_loop(struct virtqueue *vq)
{
	struct vring_desc *table = (struct vring_desc *)indirect_table;
	u16 flags = VRING_DESC_F_WRITE | VRING_DESC_F_NEXT;

	set_desc(&table[0], (u64)rng_buf, 8, flags, 1);
	set_desc(&table[1], (u64)rng_buf + 8, 8, flags, 0);
	set_desc(&vq->desc[0], (u64)table, 2 * sizeof(*table), VRING_DESC_F_INDIRECT, 0);
	vq_publish(vq, 0);
}

static void post_nested_indirect(struct virtqueue *vq)
{
	struct vring_desc *table = (struct vring_desc *)indirect_table;

	/* The table's only entry names the table again: indirect inside indirect. */
	set_desc(&table[0], (u64)table, sizeof(*table), VRING_DESC_F_INDIRECT, 0);
	set_desc(&vq->desc[0], (u64)table, sizeof(*table), VRING_DESC_F_INDIRECT, 0);
	vq_publish(vq, 0);
}

/* Sets the device up again with its descriptor table at 1 TiB: refused at DRIVER_OK. */
static void post_rings_outside(struct virtqueue *vq)
{
	const char *why;

	if (!virtio_negotiate(vq->dev, 0, &why)) {
		report_info("renegotiation failed: %s", why);
		return;
	}
	virtio_queue_enable_at(vq->dev, vq->size, 1ULL << 40, (u64)vq->avail, (u64)vq->used);
	virtio_driver_ok(vq->dev);
}

static void post_avail_jump(struct virtqueue *vq)
{
	set_desc(&vq->desc[0], (u64)rng_buf, RNG_LEN, VRING_DESC_F_WRITE, 0);
	for (int i = 0; i < vq->size; i++)
		vq->avail->ring[i] = 0;
	vq_set_avail_idx(vq, (u16)(vq->avail_idx + vq->size + 1));
}

static void post_head_out_of_range(struct virtqueue *vq)
{
	vq_publish(vq, vq->size);
}

static const struct bad_case cases[] = {
	{.name = "buffer across the end of RAM", .post = post_past_ram_end},
	{.name = "buffer at 1 TiB", .post = post_far_outside},
	{.name = "buffer address wraps around 2^64", .post = post_wrapping},
	{.name = "descriptor loop 0->1->0", .post = post_loop},
	{.name = "descriptor pointing at itself", .post = post_self_loop},
	{.name = "zero-length buffer",
	 .post = post_zero_len,
	 .harmless_ok = "an empty buffer is not against the rules"},
	{.name = "length 0xffffffff", .post = post_huge_len},
	{.name = "indirect table of 17 bytes",
	 .post = post_indirect_bad_len,
	 .needs_indirect = true},
	{.name = "indirect table that loops", .post = post_indirect_loop, .needs_indirect = true},
	{.name = "indirect table inside an indirect table",
	 .post = post_nested_indirect,
	 .needs_indirect = true},
	{.name = "descriptor table at 1 TiB", .post = post_rings_outside},
	{.name = "avail index queue size + 1 ahead", .post = post_avail_jump},
	{.name = "head index equal to the queue size", .post = post_head_out_of_range},
};

/* The config-change interrupt that comes with NEEDS_RESET, seen in ISR (MSI-X is off). */
static bool wait_isr_config(void)
{
	u64 start = rdtsc();

	while (rdtsc() - start < TSC_TIMEOUT_LONG) {
		if (virtio_read_isr(&rng) & VIRTIO_ISR_CONFIG)
			return true;
		pause();
	}
	return false;
}

/* After a bad request: NEEDS_RESET (and the others unharmed), or a harmless use. */
static void check_outcome(const struct bad_case *c, bool used, u32 len)
{
	u8 status = virtio_get_status(&rng);

	if (status & VIRTIO_S_NEEDS_RESET) {
		report(true, "device reports NEEDS_RESET (status %#x)", status);
		report(wait_isr_config(), "config change bit in ISR (MSI-X off)");
		report(blk_read_sector0(), "virtio-blk reads sector 0 while rng is broken");
		report(virtio_get_status(&rng) & VIRTIO_S_NEEDS_RESET,
		       "rng still reports NEEDS_RESET until reset");
	} else if (used && c->harmless_ok) {
		report(true, "used harmlessly with length %u, no reset needed: %s", len,
		       c->harmless_ok);
		report(rng_good_request(), "device keeps serving without a reset");
	} else {
		/* QEMU keeps quiet about some of these (see the file comment). */
		report_xfail(getarg("qemu") != NULL, false,
			     "NEEDS_RESET%s expected (status %#x, %s)",
			     c->harmless_ok ? " or a harmless use" : "", status,
			     used ? "buffer was used" : "nothing happened");
	}
}

static void run_case(const struct bad_case *c)
{
	bool used;
	u32 len = 0;

	report_prefix_push(c->name);
	if (c->needs_indirect && !(rng_features & BIT(VIRTIO_F_INDIRECT_DESC))) {
		report_skip("the device does not offer VIRTIO_RING_F_INDIRECT_DESC");
		report_prefix_pop();
		return;
	}
	virtio_read_isr(&rng); /* clears what earlier requests left */
	c->post(&rng_vq);
	used = vq_wait_used(&rng_vq, &len, VIRTIO_S_NEEDS_RESET);
	check_outcome(c, used, len);
	report(rng_start(), "after a reset the device serves a good request");
	report_prefix_pop();
}

static bool setup(void)
{
	const char *why;

	rng_ring = alloc_page();
	blk_ring = alloc_page();
	rng_buf = alloc_page();
	indirect_table = alloc_page();
	blk_buf = alloc_page();
	if (!virtio_pci_find(VIRTIO_ID_RNG, &rng, &why)) {
		report(false, "virtio-rng found (needs --rng): %s", why);
		return false;
	}
	if (!virtio_pci_find(VIRTIO_ID_BLOCK, &blk, &why)) {
		report(false, "virtio-blk found (needs --disk): %s", why);
		return false;
	}
	report_info("virtio-rng at 00:%02x.0, virtio-blk at 00:%02x.0", rng.slot, blk.slot);
	if (!virtio_init(&blk, &blk_vq, blk_ring, 0, &why)) {
		report(false, "virtio-blk initializes: %s", why);
		return false;
	}
	report(blk_read_sector0(), "virtio-blk reads sector 0");
	if (!report(rng_start(), "virtio-rng initializes and serves a request"))
		return false;
	if (rng_features & BIT(VIRTIO_F_INDIRECT_DESC))
		report(rng_good_indirect_request(), "virtio-rng serves an indirect request");
	return true;
}

int main(void)
{
	report_prefix_push("virtio_hostile");
	if (setup()) {
		for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++)
			run_case(&cases[i]);
		report(blk_read_sector0(), "virtio-blk still reads sector 0 at the end");
	}
	return report_summary();
}
