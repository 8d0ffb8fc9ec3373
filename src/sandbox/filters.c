// SPDX-License-Identifier: GPL-2.0-only
/*
 * One allow-list per kind of thread. Each names the system calls that thread makes after
 * set-up and, where a call can do much more than the thread needs, its arguments: the
 * ioctl numbers, fcntl commands, socket families and prctl options it uses, and mmap /
 * mprotect never with PROT_EXEC (kvmbox maps no code after start-up; a thread that could
 * would let an attacker who controls it run new code). What a thread does at set-up
 * (opening files, creating the VM) happens before its filter is installed.
 */
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <linux/vfio.h>
#include <linux/vhost.h>
#include <seccomp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include "sandbox/filters.h"

#define LIST(a)                  \
	{                        \
		a, ARRAY_SIZE(a) \
	}

struct rule_list {
	const struct sandbox_rule *rules;
	unsigned int nr;
};

/*
 * Every thread: memory, locks, signals on the way out, log lines, the time, and
 * restart_syscall, which the kernel itself makes to resume a sleep or a timed wait
 * that a signal interrupted (the API thread's sleep while a disk finishes at a pause).
 */
static const struct sandbox_rule base_rules[] = {
	ALLOW(exit),
	ALLOW(exit_group),
	ALLOW(futex),
	ALLOW(madvise),
	ALLOW(munmap),
	ALLOW_NOEXEC(mmap),
	ALLOW_NOEXEC(mprotect),
	ALLOW(brk),
	ALLOW(rt_sigprocmask),
	ALLOW(rt_sigreturn),
	ALLOW(write),
	ALLOW(clock_gettime),
	ALLOW(restart_syscall),
};

/* A device worker raising an interrupt: an irqfd (made on first use), a route, INTx. */
static const struct sandbox_rule irq_rules[] = {
	ALLOW(eventfd2),
	IOCTL(KVM_SET_GSI_ROUTING),
	IOCTL(KVM_IRQFD),
	IOCTL(KVM_IRQ_LINE),
};

/* A device worker's loop: poll() on its eventfds and backend, read what woke it. */
static const struct sandbox_rule worker_rules[] = {
	ALLOW(ppoll),
	ALLOW(read),
};

/*
 * Starting and stopping devices, which the vCPUs (the guest's status writes) and the main
 * thread (tear-down) both do: interrupt lines and routes, irqfds and ioeventfds, memory
 * slots, and the vhost rings' start and stop. Stopping a busy disk submits what its ring
 * holds and waits for the requests in flight (io_uring_enter, then a poll: ppoll is in
 * each thread's own list, the main thread polls anyway). A NIC on a tap sets the tap's
 * offloads at its start and clears them at its stop (TUNSETOFFLOAD): the tear-down at
 * exit stops a running NIC too, and without it kvmbox ended with 148 there.
 */
static const struct sandbox_rule device_rules[] = {
	ALLOW(io_uring_enter),
	IOCTL(KVM_IRQ_LINE),
	IOCTL(KVM_IRQFD),
	IOCTL(KVM_IOEVENTFD),
	IOCTL(KVM_SET_GSI_ROUTING),
	IOCTL(KVM_SET_USER_MEMORY_REGION),
	IOCTL(VHOST_SET_VRING_KICK),
	IOCTL(VHOST_SET_VRING_CALL),
	IOCTL(VHOST_GET_VRING_BASE),
	IOCTL(VHOST_NET_SET_BACKEND),
	IOCTL(VHOST_VSOCK_SET_RUNNING),
	IOCTL(TUNSETOFFLOAD),
};

/*
 * vCPU: KVM_RUN, and what the guest's register writes start: a device's queues (eventfds,
 * io_uring rings, vhost rings), interrupt routes, memory slots (flash read-array mode),
 * flash writes on arm64, a reset's wait for a disk's requests in flight (ppoll). Threads
 * are started through the spawner, so no clone here.
 */
static const struct sandbox_rule vcpu_rules[] = {
	ALLOW(read),
	ALLOW(ppoll),
	ALLOW(close),
	ALLOW(eventfd2),
	ALLOW(io_uring_setup),
	ALLOW(io_uring_register),
	ALLOW(pwrite64),
	ALLOW(fdatasync),
	IOCTL(KVM_RUN),
	IOCTL(KVM_CHECK_EXTENSION),
	IOCTL(VHOST_SET_FEATURES),
	IOCTL(VHOST_SET_MEM_TABLE),
	IOCTL(VHOST_SET_VRING_NUM),
	IOCTL(VHOST_SET_VRING_BASE),
	IOCTL(VHOST_SET_VRING_ADDR),
};

/*
 * A passed-through device (--vfio): the guest's config and trapped BAR accesses are
 * pread/pwrite on the device fd; enabling MSI, MSI-X or INTx, moving a BAR (its IOMMU mapping
 * follows) and the reset at exit are ioctls on the device and container fds.
 */
static const struct sandbox_rule vfio_rules[] = {
	ALLOW(pread64),
	IOCTL(VFIO_DEVICE_SET_IRQS),
	IOCTL(VFIO_IOMMU_MAP_DMA),
	IOCTL(VFIO_IOMMU_UNMAP_DMA),
	IOCTL(VFIO_DEVICE_RESET),
	IOCTL(VFIO_GROUP_UNSET_CONTAINER),
};

/*
 * virtio-blk's worker: io_uring submissions and completions, or the pool's queue; the
 * rate limiter's timerfd (made at realize) armed when a request must wait.
 */
static const struct sandbox_rule blk_rules[] = {
	ALLOW(io_uring_enter),
	ALLOW(timerfd_settime),
};

/* The thread pool's I/O (and io_uring's helpers: discard on a block device). */
static const struct sandbox_rule blk_io_rules[] = {
	ALLOW(preadv),	  ALLOW(pwritev),    ALLOW(fdatasync),
	ALLOW(fallocate), IOCTL(BLKDISCARD), IOCTL(BLKZEROOUT),
};

/*
 * virtio-net: a tap (readv/writev), or libslirp's host sockets for --net user; the rate
 * limiters' timerfds (made at realize) armed when a packet must wait.
 */
static const struct sandbox_rule net_rules[] = {
	ALLOW(timerfd_settime),
	ALLOW(readv),
	ALLOW(writev),
	ALLOW(close),
	ALLOW_EQ(socket, 0, AF_INET),
	ALLOW_EQ(socket, 0, AF_INET6),
	ALLOW(connect),
	ALLOW(bind),
	ALLOW(listen),
	ALLOW(accept), /* hostfwd */
	ALLOW(accept4),
	ALLOW(sendto),
	ALLOW(recvfrom),
	ALLOW(sendmsg),
	ALLOW(recvmsg),
	ALLOW(setsockopt),
	ALLOW(getsockopt),
	ALLOW(getsockname),
	ALLOW(getpeername),
	ALLOW(shutdown),
	ALLOW_EQ(fcntl, 1, F_GETFL),
	ALLOW_EQ(fcntl, 1, F_SETFL),
	ALLOW_EQ(fcntl, 1, F_GETFD),
	ALLOW_EQ(fcntl, 1, F_SETFD),
	/* libslirp reads /etc/resolv.conf when the guest first asks its DNS. */
	{SCMP_SYS(openat), MATCH_NOBITS, 2, O_ACCMODE | O_CREAT | O_TRUNC},
	ALLOW(newfstatat),
	ALLOW(lseek),
};

/* virtio-console: stdio, or a Unix socket and its one client. */
static const struct sandbox_rule console_rules[] = {
	ALLOW(readv),
	ALLOW(sendto),
	ALLOW(accept4),
	ALLOW(close),
};

static const struct sandbox_rule rng_rules[] = {
	ALLOW(getrandom),
};

/*
 * The userspace vsock device: host clients accepted on its listening socket (made at
 * realize), Unix sockets connected for the guest's connections, data sent without
 * SIGPIPE (sendto), a write side shut, sockets closed. Unix sockets only.
 */
static const struct sandbox_rule vsock_rules[] = {
	ALLOW_EQ(socket, 0, AF_UNIX),
	ALLOW(connect),
	ALLOW(accept4),
	ALLOW(sendto),
	ALLOW(shutdown),
	ALLOW(close),
};

/*
 * virtio-balloon: inflated pages go back with madvise (in every list), the statistics
 * poll is a timerfd the worker arms (created at set-up), and the worker kicks itself
 * (write) after a long round.
 */
static const struct sandbox_rule balloon_rules[] = {
	ALLOW(timerfd_settime),
};

/*
 * The main thread after set-up (only with --on-reboot=exit: a restart builds a new VM):
 * stdin and signals into the guest, stopping the vCPUs, and tearing everything down.
 */
static const struct sandbox_rule main_rules[] = {
	ALLOW(ppoll),	 ALLOW(read),
	ALLOW(close),	 ALLOW(getpid),
	ALLOW(tgkill),	 ALLOW(shutdown),
	ALLOW(unlinkat), ALLOW(fdatasync),
	ALLOW(pwrite64), ALLOW(newfstatat),
	ALLOW(lseek),	 {SCMP_SYS(openat), MATCH_NOBITS, 2, O_ACCMODE | O_CREAT | O_TRUNC},
	IOCTL(TCGETS),	 IOCTL(TCSETS),
	IOCTL(TCSETSW),	 IOCTL(TCSETSF),
};

/*
 * The control API's thread after InstanceStart (before it, the main thread serves the
 * socket unfiltered and builds the VM there). Serving: poll, accept, read a request,
 * send the answer, close. PATCH /vm and the drive swap's pause kick the vCPUs out of
 * KVM_RUN (pthread_kill: getpid, tgkill). PATCH /drives checks the new file (stat,
 * access), opens it read-write or read-only, never creating or truncating it, sizes and
 * locks it, waits for the disk to go idle (usleep), then stops and starts the disk's
 * worker as a guest's reset would (its eventfds and io_uring ring; the drain of a
 * request that slipped in; the worker itself comes from the spawner) and sends a
 * configuration interrupt. FlushMetrics writes to the metrics file opened at PUT
 * /metrics, SendCtrlAltDel writes the VM's stop eventfd: both plain writes. PUT /logger
 * and /metrics are pre-boot only, so no file is opened for them here. PATCH
 * /balloon/statistics re-arms the balloon's poll timer (timerfd_settime), and a PATCH of
 * a rate limiter arms the device worker's timerfd so that it looks at the new buckets.
 * PATCH /vm stops and starts the devices' workers: a NIC on a tap clears its offloads
 * at the pause and sets them again at the resume (TUNSETOFFLOAD).
 */
static const struct sandbox_rule api_rules[] = {
	ALLOW(ppoll),
	ALLOW(read),
	ALLOW(accept4),
	ALLOW(sendto),
	ALLOW(close),
	ALLOW(getpid),
	ALLOW(tgkill),
	ALLOW(newfstatat),
	{SCMP_SYS(openat), MATCH_NOBITS, 2, O_CREAT | O_TRUNC},
	ALLOW(flock),
	IOCTL(BLKGETSIZE64),
	ALLOW(clock_nanosleep),
	ALLOW(io_uring_setup),
	ALLOW(io_uring_register),
	ALLOW(io_uring_enter),
	ALLOW(timerfd_settime),
	IOCTL(TUNSETOFFLOAD),
};

/*
 * Snapshots (PUT /snapshot/create, on the API thread; the architecture's KVM_GET_*
 * ioctls for the vCPU and VM state are in arch/.../sandbox.c): the state and memory
 * files are created or truncated (openat with O_CREAT | O_TRUNC: this rule makes the one
 * above redundant while it is here), written, synced and renamed into place; a failed
 * one is removed; /proc/self/pagemap is read (pread64) to leave out the guest pages
 * never touched, and PUT /snapshot/load reads the state file with it too; a Full or Diff
 * snapshot with track_dirty_pages reads (and clears) KVM's dirty log. The load itself,
 * with the Uffd backend's userfaultfd, UFFDIO_* ioctls, connect and sendmsg, is a
 * pre-boot call on the main thread before any filter: nothing of it is here. Adjust this
 * list to what the snapshot code does; leaving it out takes the API thread back to
 * opening existing files only.
 */
static const struct sandbox_rule api_snapshot_rules[] = {
	ALLOW(openat),	  ALLOW(pwrite64),  ALLOW(fsync),
	ALLOW(fdatasync), ALLOW(ftruncate), ALLOW(renameat),
	ALLOW(unlinkat),  ALLOW(pread64),   IOCTL(KVM_GET_DIRTY_LOG),
};

/* The spawner starts threads; each then narrows its list (filters stack: intersection). */
static const struct sandbox_rule spawner_rules[] = {
	ALLOW(clone),
	ALLOW(clone3),
	ALLOW(set_robust_list),
	ALLOW(rseq),
	ALLOW(seccomp),
	ALLOW_EQ(prctl, 0, PR_SET_NO_NEW_PRIVS),
	ALLOW_EQ(prctl, 0, PR_SET_SECCOMP),
	ALLOW_EQ(prctl, 0, PR_SET_NAME),
};

/* The common lists that make up each kind (the base is in every one). */
static const struct rule_list kind_lists[THREAD_KINDS][3] = {
	[THREAD_MAIN] = {LIST(main_rules), LIST(device_rules), LIST(vfio_rules)},
	[THREAD_VCPU] = {LIST(vcpu_rules), LIST(device_rules), LIST(vfio_rules)},
	[THREAD_VIRTIO_BLK] = {LIST(worker_rules), LIST(irq_rules), LIST(blk_rules)},
	[THREAD_BLK_IO] = {LIST(blk_io_rules)},
	[THREAD_VIRTIO_NET] = {LIST(worker_rules), LIST(irq_rules), LIST(net_rules)},
	[THREAD_VIRTIO_CONSOLE] = {LIST(worker_rules), LIST(irq_rules), LIST(console_rules)},
	[THREAD_VIRTIO_RNG] = {LIST(worker_rules), LIST(irq_rules), LIST(rng_rules)},
	[THREAD_VIRTIO_BALLOON] = {LIST(worker_rules), LIST(irq_rules), LIST(balloon_rules)},
	[THREAD_VIRTIO_VSOCK] = {LIST(worker_rules), LIST(irq_rules), LIST(vsock_rules)},
	[THREAD_VIRTIO_IRQ] = {LIST(worker_rules), LIST(irq_rules)},
	[THREAD_API] = {LIST(api_rules), LIST(irq_rules), LIST(api_snapshot_rules)},
	[THREAD_SPAWNER] = {LIST(spawner_rules)},
};

static bool rule_equal(const struct sandbox_rule *a, const struct sandbox_rule *b)
{
	return a->nr == b->nr && a->match == b->match && a->arg == b->arg && a->value == b->value;
}

/* Appends LIST to OUT[*n]; with UNIQUE, leaves out the rules already there. */
static void add_rules(struct sandbox_rule *out, unsigned int max, unsigned int *n,
		      const struct sandbox_rule *list, unsigned int nr, bool unique)
{
	for (unsigned int i = 0; i < nr; i++) {
		bool dup = false;

		for (unsigned int j = 0; unique && j < *n && !dup; j++)
			dup = rule_equal(&out[j], &list[i]);
		if (!dup && *n < max)
			out[(*n)++] = list[i];
	}
}

static void add_kind(enum sandbox_kind kind, struct sandbox_rule *out, unsigned int max,
		     unsigned int *n, bool unique)
{
	const struct sandbox_rule *arch;
	unsigned int nr_arch = arch_sandbox_rules(kind, &arch);

	for (unsigned int i = 0; i < ARRAY_SIZE(kind_lists[kind]); i++)
		add_rules(out, max, n, kind_lists[kind][i].rules, kind_lists[kind][i].nr, unique);
	add_rules(out, max, n, arch, nr_arch, unique);
}

bool sandbox_kind_spawned(enum sandbox_kind kind)
{
	/*
	 * The API thread is started by the main thread, after InstanceStart and before the
	 * main thread's own filter: it needs no spawner, and the spawner's list does not grow
	 * by the API's file and snapshot calls.
	 */
	return kind != THREAD_MAIN && kind != THREAD_SPAWNER && kind != THREAD_API;
}

/*
 * A kind's list as written (a rule in two of its parts shows up twice: the unit test
 * checks there is none); the spawner's is the union of every spawned kind's.
 */
unsigned int sandbox_rules(enum sandbox_kind kind, struct sandbox_rule *out, unsigned int max)
{
	unsigned int n = 0;

	add_rules(out, max, &n, base_rules, ARRAY_SIZE(base_rules), false);
	add_kind(kind, out, max, &n, false);
	if (kind == THREAD_SPAWNER) {
		for (int k = 0; k < THREAD_KINDS; k++) {
			if (sandbox_kind_spawned(k))
				add_kind(k, out, max, &n, true);
		}
	}
	return n;
}

void sandbox_list_size(enum sandbox_kind kind, unsigned int *calls, unsigned int *ioctls)
{
	struct sandbox_rule r[SANDBOX_MAX_RULES];
	unsigned int n = sandbox_rules(kind, r, ARRAY_SIZE(r));

	*calls = *ioctls = 0;
	for (unsigned int i = 0; i < n; i++) {
		bool seen = false;

		for (unsigned int j = 0; j < i && !seen; j++)
			seen = r[j].nr == r[i].nr;
		*calls += !seen;
		*ioctls += r[i].nr == SCMP_SYS(ioctl) && r[i].match == MATCH_EQ;
	}
}
