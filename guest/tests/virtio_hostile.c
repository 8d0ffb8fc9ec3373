// SPDX-License-Identifier: GPL-2.0-only
/*
 * A hostile virtio driver: hands one device's queue descriptors outside RAM, loops, zero
 * and huge lengths, bad indirect tables and a runaway avail index. Each time the VMM must
 * keep running, the device must report NEEDS_RESET (or use the buffer harmlessly where the
 * rules allow it), a second device must keep serving meanwhile, and a reset must bring the
 * first one back. The command line picks the device under attack (dev=, default rng):
 *
 *   rng      its request queue            witness: virtio-blk (--rng --disk)
 *   net      its transmit queue           witness: virtio-blk (--net user --disk)
 *   console  its transmit queue (port 0)  witness: virtio-blk (--virtio-console=socket:)
 *   blk      its request queue            witness: virtio-rng (--disk --rng)
 *   vsock    its transmit queue           witness: virtio-blk (--vsock --disk)
 *
 * vsock's rx and tx rings belong to the host kernel's vhost-vsock once the driver is ready:
 * a bad chain lands there, which drops it (or uses it) and stops serving the queue, and
 * kvmbox sees nothing of it. There the test asks that kvmbox keeps running, the witness
 * keeps serving, and a reset brings vsock back: a connection request to a host port
 * nobody listens on is answered with a reset packet on the receive queue.
 *
 * The disk comes from tests/guest/run: sector 0 begins with DISK_MAGIC. For net and
 * console, a last step breaks the transmit queue with a device-writable buffer, kicks it
 * once more, prints "IDLE-CPU: begin" and idles until a byte arrives on COM1, while the
 * runner measures kvmbox's CPU time (tests.cfg idle_cpu=): a broken device must not spin.
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
#define NET_HDR_LEN  12 /* struct virtio_net_hdr with VERSION_1 */
#define NET_FRAME    60
#define BLK_T_IN     0
#define BLK_S_OK     0
#define SECTOR	     512
#define HUGE_LEN     0xffffffffu
#define WRAPPING_GPA 0xfffffffffffffff0ULL /* + 0x20 wraps around to RAM at 0x10 */

#define IDLE_VECTOR    0x40
#define IDLE_TICK      100000000u /* 100 ms of KVM's 1 GHz APIC timer */
#define IDLE_MAX_TICKS 600	  /* 60 s: the runner answers after its 2 s window */
#define UART_LSR       5
#define UART_LSR_DR    0x01
#define CONSOLE_TEXT   "virtio-console: hello from virtio_hostile\n"

/* struct virtio_vsock_hdr (little-endian, packed) and what the test sends. */
struct vsock_hdr {
	u64 src_cid;
	u64 dst_cid;
	u32 src_port;
	u32 dst_port;
	u32 len;
	u16 type;
	u16 op;
	u32 flags;
	u32 buf_alloc;
	u32 fwd_cnt;
} __attribute__((packed));

#define VSOCK_HOST_CID	  2
#define VSOCK_TYPE_STREAM 1
#define VSOCK_OP_REQUEST  1
#define VSOCK_OP_RST	  3
#define VSOCK_HOST_PORT	  7777 /* nothing listens there in the lab */
#define VSOCK_RX_LEN	  256

struct blk_req_hdr {
	u32 type;
	u32 reserved;
	u64 sector;
};

/* A device and the one queue the test drives on it. */
struct side {
	const struct kind *kind;
	struct virtio_pci_dev dev;
	struct virtqueue vq;
	void *ring;
	u8 *buf;
	u64 features;
};

/* What differs between devices: which queue, which direction, what a good request is. */
struct kind {
	const char *name;
	const char *option; /* what the VMM needs, for the message when it is missing */
	u16 id;
	u16 queue;
	u16 dir; /* the flags of a buffer the device accepts on that queue */
	bool (*good)(struct side *s);
	bool idle_check;   /* defect 1 of issue 12: broken TX kicked, the worker must not spin */
	bool kernel_rings; /* vhost: the host kernel serves the rings, not kvmbox */
};

/* One misbehaviour: fills the queue's descriptors and publishes (or not) itself. */
struct bad_case {
	const char *name;
	void (*post)(struct side *s);
	bool needs_indirect;
	const char *harmless_ok; /* non-NULL: the device may also just use the buffer, why */
};

static struct side target, witness;
static struct vring_desc *indirect_table;
static struct virtqueue vsock_rx; /* vsock's receive queue, beside its tx in target.vq */
static void *vsock_rx_ring;
static u32 vsock_port = 40000; /* this side's port: a new one for every request */

static void set_desc(struct vring_desc *d, u64 addr, u32 len, u16 flags, u16 next)
{
	*d = (struct vring_desc){.addr = addr, .len = len, .flags = flags, .next = next};
}

static bool device_ok(struct side *s)
{
	return !(virtio_get_status(&s->dev) & (VIRTIO_S_NEEDS_RESET | VIRTIO_S_FAILED));
}

/* Publishes d (already filled) as head 0 and waits for the device to use it. */
static bool wait_used(struct side *s, u32 *len)
{
	vq_publish(&s->vq, 0);
	return vq_wait_used(&s->vq, len, VIRTIO_S_NEEDS_RESET);
}

static bool rng_request(struct side *s, struct vring_desc *d)
{
	u32 len = 0;

	memset(s->buf, 0, RNG_LEN);
	set_desc(d, (u64)s->buf, RNG_LEN, VRING_DESC_F_WRITE, 0);
	if (!wait_used(s, &len) || len != RNG_LEN)
		return false;
	for (int i = 0; i < RNG_LEN; i++)
		if (s->buf[i]) /* all zero: 2^-128, or nothing was written */
			return true;
	return false;
}

static bool rng_good(struct side *s)
{
	return rng_request(s, &s->vq.desc[0]);
}

/* The same through a one-entry indirect table. */
static bool rng_good_indirect(struct side *s)
{
	set_desc(&s->vq.desc[0], (u64)indirect_table, sizeof(*indirect_table),
		 VRING_DESC_F_INDIRECT, 0);
	return rng_request(s, &indirect_table[0]);
}

/* One broadcast frame of a local experimental EtherType, after a zero header. */
static bool net_good(struct side *s)
{
	static const u8 eth[14] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52,
				   0x54, 0x00, 0x12, 0x34, 0x56, 0x88, 0xb5};
	u32 len;

	memset(s->buf, 0, NET_HDR_LEN + NET_FRAME);
	memcpy(s->buf + NET_HDR_LEN, eth, sizeof(eth));
	set_desc(&s->vq.desc[0], (u64)s->buf, NET_HDR_LEN + NET_FRAME, 0, 0);
	return wait_used(s, &len) && device_ok(s);
}

/* A line on hvc0 (dropped by kvmbox: no client on its socket). */
static bool console_good(struct side *s)
{
	u32 len;

	memcpy(s->buf, CONSOLE_TEXT, sizeof(CONSOLE_TEXT) - 1);
	set_desc(&s->vq.desc[0], (u64)s->buf, sizeof(CONSOLE_TEXT) - 1, 0, 0);
	return wait_used(s, &len) && device_ok(s);
}

/* virtio-blk: reads sector 0 and checks it begins with what the runner wrote. */
static bool blk_good(struct side *s)
{
	struct blk_req_hdr *hdr = (struct blk_req_hdr *)s->buf;
	u8 *data = s->buf + SECTOR, *status = s->buf + 2 * SECTOR;
	struct vring_desc *d = s->vq.desc;
	u32 len;

	*hdr = (struct blk_req_hdr){.type = BLK_T_IN, .sector = 0};
	memset(data, 0, sizeof(DISK_MAGIC));
	*status = 0xff;
	set_desc(&d[0], (u64)hdr, sizeof(*hdr), VRING_DESC_F_NEXT, 1);
	set_desc(&d[1], (u64)data, SECTOR, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
	set_desc(&d[2], (u64)status, 1, VRING_DESC_F_WRITE, 0);
	return wait_used(s, &len) && *status == BLK_S_OK &&
	       !memcmp(data, DISK_MAGIC, sizeof(DISK_MAGIC) - 1);
}

/*
 * vsock: a connection request to a host port nobody listens on, with one receive buffer
 * posted first: the host's answer is a reset for exactly that port.
 */
static bool vsock_good(struct side *s)
{
	struct vsock_hdr *tx = (struct vsock_hdr *)s->buf;
	struct vsock_hdr *rx = (struct vsock_hdr *)(s->buf + VSOCK_RX_LEN);
	u64 cid = virtio_config_read32(&s->dev, 0) | (u64)virtio_config_read32(&s->dev, 4) << 32;
	u32 len;

	memset(rx, 0xff, VSOCK_RX_LEN);
	set_desc(&vsock_rx.desc[0], (u64)rx, VSOCK_RX_LEN, VRING_DESC_F_WRITE, 0);
	vq_publish(&vsock_rx, 0);
	*tx = (struct vsock_hdr){.src_cid = cid,
				 .dst_cid = VSOCK_HOST_CID,
				 .src_port = ++vsock_port,
				 .dst_port = VSOCK_HOST_PORT,
				 .type = VSOCK_TYPE_STREAM,
				 .op = VSOCK_OP_REQUEST,
				 .buf_alloc = PAGE_SIZE};
	set_desc(&s->vq.desc[0], (u64)tx, sizeof(*tx), 0, 0);
	if (!wait_used(s, &len) || !vq_wait_used(&vsock_rx, &len, VIRTIO_S_NEEDS_RESET))
		return false;
	return len >= sizeof(*rx) && rx->op == VSOCK_OP_RST && rx->dst_cid == cid &&
	       rx->dst_port == vsock_port && rx->src_port == VSOCK_HOST_PORT;
}

/* virtio-console has no features, so no indirect descriptors: those cases skip there. */
static const struct kind kinds[] = {
	{"rng", "--rng", VIRTIO_ID_RNG, 0, VRING_DESC_F_WRITE, rng_good, false, false},
	{"net", "--net", VIRTIO_ID_NET, 1, 0, net_good, true, false},
	{"console", "--virtio-console", VIRTIO_ID_CONSOLE, 1, 0, console_good, true, false},
	{"blk", "--disk", VIRTIO_ID_BLOCK, 0, VRING_DESC_F_WRITE, blk_good, false, false},
	{"vsock", "--vsock", VIRTIO_ID_VSOCK, 1, 0, vsock_good, false, true},
};

/* vsock: rx (queue 0) and tx (1) both, or the device stays idle. */
static u64 vsock_start(struct side *s, const char **why)
{
	struct virtqueue q[2] = {{.index = 0}, {.index = 1}};
	void *const pages[2] = {vsock_rx_ring, s->ring};
	u64 features = virtio_init_queues(&s->dev, q, pages, 2, BIT(VIRTIO_F_INDIRECT_DESC), why);

	vsock_rx = q[0];
	s->vq = q[1];
	return features;
}

/* Negotiates, enables the side's queue and serves one good request. */
static bool side_start(struct side *s)
{
	const char *why;

	if (s->kind->id == VIRTIO_ID_VSOCK)
		s->features = vsock_start(s, &why);
	else
		s->features = virtio_init_queue(&s->dev, &s->vq, s->kind->queue, s->ring,
						BIT(VIRTIO_F_INDIRECT_DESC), &why);
	if (!s->features)
		report_info("virtio-%s: %s", s->kind->name, why);
	return s->features && s->kind->good(s);
}

/* The bad requests. Each writes descriptor 0 (and maybe more) and publishes head 0. */

static void post_buffer(struct side *s, u64 addr, u32 len)
{
	set_desc(&s->vq.desc[0], addr, len, s->kind->dir, 0);
	vq_publish(&s->vq, 0);
}

static void post_past_ram_end(struct side *s)
{
	/* Starts in RAM, ends outside it. */
	post_buffer(s, fwcfg_ram_size() - RNG_LEN / 2, RNG_LEN);
}

static void post_far_outside(struct side *s)
{
	post_buffer(s, 1ULL << 40, RNG_LEN);
}

static void post_wrapping(struct side *s)
{
	post_buffer(s, WRAPPING_GPA, 0x20);
}

static void post_zero_len(struct side *s)
{
	post_buffer(s, (u64)s->buf, 0);
}

static void post_huge_len(struct side *s)
{
	post_buffer(s, (u64)s->buf, HUGE_LEN);
}

static void post_loop(struct side *s)
{
	u16 flags = s->kind->dir | VRING_DESC_F_NEXT;

	set_desc(&s->vq.desc[0], (u64)s->buf, 8, flags, 1);
	set_desc(&s->vq.desc[1], (u64)s->buf + 8, 8, flags, 0);
	vq_publish(&s->vq, 0);
}

static void post_self_loop(struct side *s)
{
	set_desc(&s->vq.desc[0], (u64)s->buf, 8, s->kind->dir | VRING_DESC_F_NEXT, 0);
	vq_publish(&s->vq, 0);
}

static void post_indirect_bad_len(struct side *s)
{
	set_desc(&indirect_table[0], (u64)s->buf, RNG_LEN, s->kind->dir, 0);
	/* Not a multiple of the 16-byte descriptor. */
	set_desc(&s->vq.desc[0], (u64)indirect_table, sizeof(*indirect_table) + 1,
		 VRING_DESC_F_INDIRECT, 0);
	vq_publish(&s->vq, 0);
}

static void post_indirect_loop(struct side *s)
{
	u16 flags = s->kind->dir | VRING_DESC_F_NEXT;

	set_desc(&indirect_table[0], (u64)s->buf, 8, flags, 1);
	set_desc(&indirect_table[1], (u64)s->buf + 8, 8, flags, 0);
	set_desc(&s->vq.desc[0], (u64)indirect_table, 2 * sizeof(*indirect_table),
		 VRING_DESC_F_INDIRECT, 0);
	vq_publish(&s->vq, 0);
}

static void post_nested_indirect(struct side *s)
{
	/* The table's only entry names the table again: indirect inside indirect. */
	set_desc(&indirect_table[0], (u64)indirect_table, sizeof(*indirect_table),
		 VRING_DESC_F_INDIRECT, 0);
	set_desc(&s->vq.desc[0], (u64)indirect_table, sizeof(*indirect_table),
		 VRING_DESC_F_INDIRECT, 0);
	vq_publish(&s->vq, 0);
}

/* Sets the device up again with its descriptor table at 1 TiB: refused at DRIVER_OK. */
static void post_rings_outside(struct side *s)
{
	struct virtqueue *vq = &s->vq;
	const char *why;

	if (!virtio_negotiate(&s->dev, 0, &why)) {
		report_info("renegotiation failed: %s", why);
		return;
	}
	virtio_queue_enable_at(&s->dev, vq->index, vq->size, 1ULL << 40, (u64)vq->avail,
			       (u64)vq->used);
	virtio_driver_ok(&s->dev);
}

static void post_avail_jump(struct side *s)
{
	struct virtqueue *vq = &s->vq;

	set_desc(&vq->desc[0], (u64)s->buf, RNG_LEN, s->kind->dir, 0);
	for (int i = 0; i < vq->size; i++)
		vq->avail->ring[i] = 0;
	vq_set_avail_idx(vq, (u16)(vq->avail_idx + vq->size + 1));
}

static void post_head_out_of_range(struct side *s)
{
	vq_publish(&s->vq, s->vq.size);
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
static bool wait_isr_config(struct side *s)
{
	u64 start = rdtsc();

	while (rdtsc() - start < TSC_TIMEOUT_LONG) {
		if (virtio_read_isr(&s->dev) & VIRTIO_ISR_CONFIG)
			return true;
		pause();
	}
	return false;
}

/* After a bad request: NEEDS_RESET (and the witness unharmed), or a harmless use. */
static void check_outcome(const struct bad_case *c, bool used, u32 len)
{
	u8 status = virtio_get_status(&target.dev);

	if (target.kind->kernel_rings) {
		/* Whatever the kernel did with it; the reset after this must undo it. */
		report_info("the host kernel %s it (status %#x)", used ? "used" : "dropped",
			    status);
		report(witness.kind->good(&witness), "virtio-%s serves meanwhile",
		       witness.kind->name);
		return;
	}
	if (status & VIRTIO_S_NEEDS_RESET) {
		report(true, "device reports NEEDS_RESET (status %#x)", status);
		report(wait_isr_config(&target), "config change bit in ISR (MSI-X off)");
		report(witness.kind->good(&witness), "virtio-%s serves while %s is broken",
		       witness.kind->name, target.kind->name);
		report(virtio_get_status(&target.dev) & VIRTIO_S_NEEDS_RESET,
		       "%s still reports NEEDS_RESET until reset", target.kind->name);
	} else if (used && c->harmless_ok) {
		report(true, "used harmlessly with length %u, no reset needed: %s", len,
		       c->harmless_ok);
		report(target.kind->good(&target), "device keeps serving without a reset");
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
	if (c->needs_indirect && !(target.features & BIT(VIRTIO_F_INDIRECT_DESC))) {
		report_skip("the device does not offer VIRTIO_RING_F_INDIRECT_DESC");
		report_prefix_pop();
		return;
	}
	virtio_read_isr(&target.dev); /* clears what earlier requests left */
	c->post(&target);
	used = vq_wait_used(&target.vq, &len, VIRTIO_S_NEEDS_RESET);
	check_outcome(c, used, len);
	report(side_start(&target), "after a reset the device serves a good request");
	report_prefix_pop();
}

static void idle_tick(struct frame *f)
{
	(void)f;
}

/*
 * Sleeps in HLT, woken every 100 ms by the APIC timer, until the runner has measured and
 * sends a byte to COM1 (so a slow host cannot end the idle time before the measurement).
 * Gives up after IDLE_MAX_TICKS.
 */
static bool idle_until_told(void)
{
	bool told = false;

	set_irq_handler(IDLE_VECTOR, idle_tick);
	for (int i = 0; i < IDLE_MAX_TICKS && !told; i++) {
		apic_timer_oneshot(IDLE_VECTOR, IDLE_TICK);
		safe_halt();
		cli();
		told = inb(COM1 + UART_LSR) & UART_LSR_DR;
	}
	apic_timer_stop();
	while (inb(COM1 + UART_LSR) & UART_LSR_DR)
		inb(COM1);
	return told;
}

/*
 * Issue 12, defect 1: a transmit kick after the device broke left the worker polling with
 * timeout 0 for good. Break TX with a device-writable buffer, kick again, then sleep in
 * HLT (woken by the APIC timer) while the runner measures kvmbox's CPU time.
 */
static void idle_after_broken_tx(void)
{
	report_prefix_push("idle after a broken transmit queue");
	virtio_read_isr(&target.dev);
	set_desc(&target.vq.desc[0], (u64)target.buf, NET_HDR_LEN + NET_FRAME, VRING_DESC_F_WRITE,
		 0);
	vq_publish(&target.vq, 0);
	/*
	 * The common configuration stays untouched until the end: kvmbox stops a broken
	 * device's worker at the next access there, which would hide a spinning one.
	 */
	report(wait_isr_config(&target),
	       "a device-writable transmit buffer raises a config change");
	vq_notify(&target.vq);
	set_irq_handler(IDLE_VECTOR, idle_tick);
	printf("IDLE-CPU: begin\n");
	report(idle_until_told(), "the runner ended the idle time (a byte on COM1)");
	printf("IDLE-CPU: end\n");
	report(virtio_get_status(&target.dev) & VIRTIO_S_NEEDS_RESET,
	       "the device reports NEEDS_RESET after the idle time");
	report(side_start(&target), "after a reset the device serves a good request");
	report_prefix_pop();
}

static bool find(struct side *s, const struct kind *k)
{
	const char *why;

	s->kind = k;
	s->ring = alloc_page();
	s->buf = alloc_page();
	if (!virtio_pci_find(k->id, &s->dev, &why)) {
		report(false, "virtio-%s found (needs %s): %s", k->name, k->option, why);
		return false;
	}
	report_info("virtio-%s at 00:%02x.0", k->name, s->dev.slot);
	return true;
}

static const struct kind *kind_named(const char *name)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(kinds); i++)
		if (!strcmp(kinds[i].name, name))
			return &kinds[i];
	return NULL;
}

static bool setup(void)
{
	const char *name = getarg("dev") ? getarg("dev") : "rng";
	const struct kind *k = kind_named(name);

	indirect_table = alloc_page();
	vsock_rx_ring = alloc_page();
	if (!k) {
		report(false, "dev=%s names a known device (rng, net, console, blk, vsock)", name);
		return false;
	}
	if (!find(&target, k) ||
	    !find(&witness, kind_named(k->id == VIRTIO_ID_BLOCK ? "rng" : "blk")))
		return false;
	report(side_start(&witness), "virtio-%s (the witness) initializes and serves",
	       witness.kind->name);
	if (!report(side_start(&target), "virtio-%s initializes and serves a request", name))
		return false;
	if (k->id == VIRTIO_ID_RNG && (target.features & BIT(VIRTIO_F_INDIRECT_DESC)))
		report(rng_good_indirect(&target), "virtio-rng serves an indirect request");
	return true;
}

int main(void)
{
	report_prefix_push("virtio_hostile");
	report_prefix_push(getarg("dev") ? getarg("dev") : "rng");
	if (setup()) {
		for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++)
			run_case(&cases[i]);
		if (target.kind->idle_check)
			idle_after_broken_tx();
		report(witness.kind->good(&witness), "virtio-%s still serves at the end",
		       witness.kind->name);
	}
	return report_summary();
}
