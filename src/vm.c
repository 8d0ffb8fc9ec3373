// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "arch/arch.h"
#include "console.h"
#include "kvm.h"
#include "sandbox/sandbox.h"
#include "snapshot/uffd.h"
#include "util/log.h"
#include "vcpu.h"
#include "vm.h"

void vm_add_device(struct vm *vm, struct device *dev)
{
	struct device **p = &vm->devices;

	/* Appended, so reset and save walk devices in realize order. */
	while (*p)
		p = &(*p)->next;
	dev->vm = vm;
	dev->next = NULL;
	*p = dev;
}

static void vm_kvm_irq_pin(void *opaque, u32 line, bool level)
{
	struct vm *vm = opaque;
	struct kvm_irq_level irq = {.irq = line, .level = level};

	irq.irq = arch_irq_line_kvm(line);
	if (__kvm_ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq) < 0)
		pr_guest("KVM_IRQ_LINE %u failed", line);
}

void vm_irq_line_set(struct vm *vm, struct irq_line *src, bool level)
{
	irq_line_set(&vm->irq_lines, src, level);
}

#define COALESCED_RING_ENTRIES \
	((4096 - sizeof(struct kvm_coalesced_mmio_ring)) / sizeof(struct kvm_coalesced_mmio))

int vm_coalesce_writes(struct vm *vm, u64 addr, u32 len, bool pio)
{
	struct kvm_coalesced_mmio_zone zone = {.addr = addr, .size = len, .pio = pio};

	/* The ring itself is mapped with the first vCPU; the capability promises it. */
	if (kvm_check_extension(vm->kvm_fd, KVM_CAP_COALESCED_MMIO) <= 0 ||
	    (pio && !kvm_check_extension(vm->kvm_fd, KVM_CAP_COALESCED_PIO)))
		return -EOPNOTSUPP;
	if (__kvm_ioctl(vm->vm_fd, KVM_REGISTER_COALESCED_MMIO, &zone) < 0)
		return -EOPNOTSUPP;
	return 0;
}

void vm_flush_coalesced(struct vm *vm)
{
	struct kvm_coalesced_mmio_ring *ring = vm->coalesced_ring;

	if (!ring || ring->first == __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&vm->coalesced_lock);
	for (;;) {
		u32 first = ring->first, last = __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE);
		struct kvm_coalesced_mmio e;

		if (first == last || first >= COALESCED_RING_ENTRIES)
			break;
		e = ring->coalesced_mmio[first];
		if (e.len >= 1 && e.len <= sizeof(e.data))
			bus_dispatch(e.pio ? &vm->pio_bus : &vm->mmio_bus, e.phys_addr, e.data,
				     e.len, true);
		__atomic_store_n(&ring->first, (first + 1) % COALESCED_RING_ENTRIES,
				 __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&vm->coalesced_lock);
}

/* The ring is a page of the vCPU mapping, shared by every vCPU of the VM. */
static void vm_map_coalesced_ring(struct vm *vm)
{
	int page = kvm_check_extension(vm->kvm_fd, KVM_CAP_COALESCED_MMIO);

	if (page > 0 && vm->nr_vcpus && (u64)(page + 1) * 4096 <= (u64)vm->vcpu_mmap_size)
		vm->coalesced_ring = (void *)((u8 *)vm->vcpus[0]->run + (u64)page * 4096);
}

u64 vm_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + (u64)ts.tv_nsec;
}

bool vm_stopping(struct vm *vm)
{
	return __atomic_load_n(&vm->stop_reason, __ATOMIC_ACQUIRE) != VM_RUNNING;
}

void vm_request_stop(struct vm *vm, enum vm_stop_reason reason, int exit_code)
{
	u64 one = 1;

	pthread_mutex_lock(&vm->stop_lock);
	if (vm->stop_reason == VM_RUNNING) {
		vm->exit_code = exit_code;
		__atomic_store_n(&vm->stop_reason, reason, __ATOMIC_RELEASE);
		if (write(vm->stop_fd, &one, sizeof(one)) < 0)
			pr_debug("stop eventfd: %s", strerror(errno));
	}
	pthread_mutex_unlock(&vm->stop_lock);
	/* Parked vCPUs wake to see the stop. */
	pthread_mutex_lock(&vm->pause_lock);
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
}

void vm_park_vcpu(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause_lock);
	if (vm->pause_requested && !vm_stopping(vm)) {
		vm->nr_parked++;
		pthread_cond_broadcast(&vm->pause_cond);
		while (vm->pause_requested && !vm_stopping(vm))
			pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
		vm->nr_parked--;
	}
	pthread_mutex_unlock(&vm->pause_lock);
}

static unsigned int vm_running_vcpus(struct vm *vm)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		n += vm->vcpus[i]->started;
	return n;
}

/* With the vCPUs parked, nothing new reaches the devices: each finishes and goes quiet. */
static int vm_pause_devices(struct vm *vm)
{
	for (struct device *dev = vm->devices; dev; dev = dev->next) {
		int ret = dev->ops->pause ? dev->ops->pause(dev) : 0;

		if (ret) {
			pr_err("cannot pause device %s: %s", dev->ops->name, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

int vm_pause(struct vm *vm, unsigned int timeout_ms)
{
	struct timespec deadline;
	int ret = 0;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&vm->pause_lock);
	vm->pause_requested = true;
	pthread_mutex_unlock(&vm->pause_lock);
	/* A vCPU in KVM_RUN (halted, too) leaves it on the kick and parks before re-entering. */
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(vm->vcpus[i]);
	pthread_mutex_lock(&vm->pause_lock);
	while (!ret && vm->nr_parked < vm_running_vcpus(vm) && !vm_stopping(vm))
		ret = pthread_cond_timedwait(&vm->pause_cond, &vm->pause_lock, &deadline);
	pthread_mutex_unlock(&vm->pause_lock);
	if (!ret)
		ret = vm_pause_devices(vm);
	if (ret) {
		vm_resume(vm);
		return ret == ETIMEDOUT ? -ETIMEDOUT : ret;
	}
	return 0;
}

void vm_resume(struct vm *vm)
{
	/* Devices first: their interrupts are waiting when the vCPUs run again. */
	for (struct device *dev = vm->devices; dev; dev = dev->next) {
		if (dev->ops->resume)
			dev->ops->resume(dev);
	}
	pthread_mutex_lock(&vm->pause_lock);
	vm->pause_requested = false;
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
}

/* What this host's RAM and CPU allow, known without KVM. */
static int vm_check_host_limits(const struct vm_config *cfg)
{
	long host_pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
	u64 host_ram = (u64)host_pages * (u64)page;
	struct guest_memory layout;
	const struct mem_region *last;

	if (host_pages > 0 && cfg->memory > host_ram) {
		pr_err("--memory %llu MiB is more than this host's %llu MiB of RAM",
		       (unsigned long long)(cfg->memory / MiB),
		       (unsigned long long)(host_ram / MiB));
		return -EXIT_BAD_INPUT;
	}
	if (arch_memory_layout(&layout, cfg->memory))
		return 0; /* said when the memory is set up */
	last = &layout.regions[layout.nr - 1];
	if (last->gpa + last->size > arch_max_gpa()) {
		pr_err("--memory %llu MiB does not fit this CPU's guest physical address space",
		       (unsigned long long)(cfg->memory / MiB));
		return -EXIT_BAD_INPUT;
	}
	return 0;
}

int vm_check_config(const struct vm_config *cfg)
{
	int ret = vm_check_host_limits(cfg);

	if (!ret)
		ret = arch_check_config(cfg);
	for (const struct device_ops *const *ops = arch_board_devices; !ret && *ops; ops++) {
		if ((*ops)->check)
			ret = (*ops)->check(cfg);
	}
	return ret;
}

/* What this KVM allows, checked as soon as it is open. */
static int vm_check_kvm_limits(const struct vm_config *cfg, int kvm_fd)
{
	int max_vcpus = kvm_check_extension(kvm_fd, KVM_CAP_MAX_VCPUS);

	if (max_vcpus <= 0)
		max_vcpus = kvm_check_extension(kvm_fd, KVM_CAP_NR_VCPUS);
	if (max_vcpus > 0 && cfg->cpus > (unsigned int)max_vcpus) {
		pr_err("--cpus %u is more than this KVM supports (%d)", cfg->cpus, max_vcpus);
		return -EXIT_BAD_INPUT;
	}
	return 0;
}

int vm_set_memslot(struct vm *vm, u32 slot, u64 gpa, u64 size, const void *hva, bool readonly)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.flags = readonly && size ? KVM_MEM_READONLY : 0,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (u64)(uintptr_t)hva,
	};

	return __kvm_ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r);
}

/* ORs one RAM slot's log (bits from the slot's first page) into out at page first. */
static void vm_merge_log(u64 *out, u64 first, const u64 *log, u64 pages)
{
	for (u64 w = 0; w < (pages + 63) / 64; w++) {
		for (u64 bits = log[w]; bits; bits &= bits - 1) {
			u64 pg = first + w * 64 + (u64)__builtin_ctzll(bits);

			out[pg / 64] |= 1ULL << (pg % 64);
		}
	}
}

int vm_take_dirty_log(struct vm *vm, u64 *out)
{
	u64 first = 0, *log;
	int ret = 0;

	if (!vm->mem.dirty)
		return -EINVAL;
	log = calloc(guest_memory_dirty_words(&vm->mem), sizeof(u64));
	if (!log)
		return -ENOMEM;
	for (unsigned int i = 0; !ret && i < vm->mem.nr; i++) {
		u64 pages = vm->mem.regions[i].size / vm->mem.page_size;
		struct kvm_dirty_log d = {.slot = i, .dirty_bitmap = log};

		memset(log, 0, (pages + 63) / 64 * sizeof(u64));
		/* Reads and clears the slot's log: the vCPUs' next writes start a new one. */
		ret = __kvm_ioctl(vm->vm_fd, KVM_GET_DIRTY_LOG, &d);
		if (!ret)
			vm_merge_log(out, first, log, pages);
		first += pages;
	}
	free(log);
	if (!ret)
		guest_memory_take_dirty(&vm->mem, out);
	return ret;
}

/*
 * The Uffd backend: anonymous RAM whose pages the handler fills on first touch. It is
 * registered before any device or the restore reads it, which would otherwise see a
 * zero page the handler could no longer fill.
 */
static int vm_start_uffd(struct vm *vm)
{
	char err[256];

	if (uffd_start(vm->cfg->restore_uffd, &vm->mem, err, sizeof(err))) {
		pr_err("%s", err);
		return -EXIT_VMM_ERROR;
	}
	return 0;
}

static int vm_setup_memory(struct vm *vm)
{
	int ret = arch_memory_layout(&vm->mem, vm->cfg->memory);

	if (ret) {
		pr_err("--memory %llu bytes cannot be laid out (use a multiple of 4 KiB)",
		       (unsigned long long)vm->cfg->memory);
		return -EXIT_BAD_INPUT;
	}
	if (vm->cfg->restore_uffd) {
		ret = guest_memory_alloc(&vm->mem);
		if (!ret && vm_start_uffd(vm))
			return -EXIT_VMM_ERROR;
	} else if (vm->cfg->restore_mem) {
		ret = guest_memory_map_file(&vm->mem, vm->cfg->restore_mem);
		if (ret) {
			pr_err("cannot map the memory file %s: %s", vm->cfg->restore_mem,
			       ret == -EINVAL ? "shorter than the VM's RAM" : strerror(-ret));
			return -EXIT_VMM_ERROR;
		}
	} else {
		ret = guest_memory_alloc(&vm->mem);
	}
	if (ret) {
		pr_err("cannot reserve %llu MiB for guest RAM: %s",
		       (unsigned long long)(vm->cfg->memory / MiB), strerror(-ret));
		return -EXIT_VMM_ERROR;
	}
	/* A fresh boot's loaders write RAM unseen: until a snapshot, all of it counts. */
	if (vm->cfg->track_dirty_pages &&
	    guest_memory_track_dirty(&vm->mem, !vm->cfg->restore_mem)) {
		pr_err("cannot allocate the dirty page bitmap");
		return -EXIT_VMM_ERROR;
	}
	for (unsigned int i = 0; i < vm->mem.nr; i++) {
		struct mem_region *r = &vm->mem.regions[i];
		struct kvm_userspace_memory_region slot = {
			.slot = i,
			.flags = vm->cfg->track_dirty_pages ? KVM_MEM_LOG_DIRTY_PAGES : 0,
			.guest_phys_addr = r->gpa,
			.memory_size = r->size,
			.userspace_addr = (u64)(unsigned long)r->hva,
		};

		if (kvm_ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
			return -EXIT_VMM_ERROR;
	}
	return 0;
}

static int vm_realize_devices(struct vm *vm)
{
	for (const struct device_ops *const *ops = arch_board_devices; *ops; ops++) {
		int ret = (*ops)->realize(vm);

		/* A device refusing its option has said why; anything else is kvmbox's fault. */
		if (ret == -EXIT_BAD_INPUT)
			return ret;
		if (ret < 0) {
			pr_err("cannot create device %s", (*ops)->name);
			return -EXIT_VMM_ERROR;
		}
	}
	return 0;
}

/*
 * The vCPUs exist before the devices: the arm64 GIC can only be initialised once every
 * vCPU is there, and KVM takes no irqfd (which devices set up) before that.
 */
static int vm_create_vcpus(struct vm *vm)
{
	vm->vcpus = calloc(vm->cfg->cpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return -EXIT_VMM_ERROR;
	for (unsigned int i = 0; i < vm->cfg->cpus; i++) {
		if (vcpu_create(vm, i, &vm->vcpus[i]) < 0)
			return -EXIT_VMM_ERROR;
		vm->nr_vcpus++;
		if (arch_vcpu_init(vm->vcpus[i]) < 0)
			return -EXIT_VMM_ERROR;
	}
	return 0;
}

static int vm_open(struct vm *vm)
{
	int ret;

	vm->kvm_fd = kvm_open(kvm_device_path());
	if (vm->kvm_fd < 0)
		return vm->kvm_fd;
	ret = vm_check_kvm_limits(vm->cfg, vm->kvm_fd);
	if (ret)
		return ret;
	vm->vm_fd = kvm_ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return -EXIT_VMM_ERROR;
	vm->vcpu_mmap_size = kvm_ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->vcpu_mmap_size < (int)sizeof(struct kvm_run))
		return -EXIT_VMM_ERROR;
	vm->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->stop_fd < 0)
		return -EXIT_VMM_ERROR;
	return 0;
}

int vm_create(struct vm **out, const struct vm_config *cfg)
{
	struct boot_entry entry = {0};
	struct vm *vm = calloc(1, sizeof(*vm));
	int ret;

	if (!vm)
		return -EXIT_VMM_ERROR;
	vm->cfg = cfg;
	vm->kvm_fd = vm->vm_fd = vm->stop_fd = -1;
	pthread_mutex_init(&vm->stop_lock, NULL);
	pthread_mutex_init(&vm->coalesced_lock, NULL);
	pthread_mutex_init(&vm->pause_lock, NULL);
	pthread_cond_init(&vm->pause_cond, NULL);
	irq_lines_init(&vm->irq_lines, vm_kvm_irq_pin, vm);
	bus_init(&vm->pio_bus, "pio");
	bus_init(&vm->mmio_bus, "mmio");
	metrics_registry_init(&vm->metrics);
	*out = vm;

	ret = vm_check_config(cfg);
	if (!ret && vcpu_metrics_init(vm))
		ret = -EXIT_VMM_ERROR;
	if (!ret)
		ret = vm_open(vm);
	if (!ret)
		ret = vm_setup_memory(vm);
	if (!ret)
		ret = arch_vm_init(vm);
	if (!ret)
		ret = vm_create_vcpus(vm);
	if (!ret)
		ret = arch_vm_finalize(vm);
	if (!ret)
		ret = vm_realize_devices(vm);
	/* A restored VM's memory and registers come from the snapshot instead. */
	if (!ret && cfg->restore_mem) {
		vm_map_coalesced_ring(vm);
		return 0;
	}
	if (!ret)
		ret = arch_load_guest(vm, &entry);
	if (!ret && arch_vcpu_set_entry(vm->vcpus[0], &entry) < 0)
		ret = -EXIT_VMM_ERROR;
	if (!ret)
		vm_map_coalesced_ring(vm);
	return ret;
}

/* Where stdin goes: a device that took it over (hvc0 on stdio), else the serial console. */
static bool vm_console_sink(struct vm *vm, struct console_sink *sink)
{
	if (vm->stdin_sink) {
		*sink = *vm->stdin_sink;
		return true;
	}
	if (!vm->serial_sink)
		return false;
	*sink = *vm->serial_sink;
	return true;
}

/* Waits in poll() for the guest to stop, feeding stdin to the guest's console meanwhile. */
static void vm_main_loop(struct vm *vm, struct console_input *in, int sig_fd)
{
	struct console_sink sink;
	bool has_sink = vm_console_sink(vm, &sink);

	while (!vm_stopping(vm)) {
		struct pollfd fds[4] = {
			{.fd = vm->stop_fd, .events = POLLIN},
			{.fd = sig_fd, .events = POLLIN},
			{.fd = -1, .events = POLLIN},
			{.fd = -1, .events = has_sink ? sink.wake_events : 0},
		};
		bool quit = false;

		if (has_sink && console_input_wants_read(in))
			fds[2].fd = in->fd;
		if (has_sink && console_input_pending(in))
			fds[3].fd = sink.wake_fd;
		if (poll(fds, ARRAY_SIZE(fds), -1) < 0) {
			if (errno == EINTR)
				continue;
			pr_err("poll: %s", strerror(errno));
			vm_request_stop(vm, VM_STOP_ERROR, EXIT_VMM_ERROR);
			break;
		}
		if (fds[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sig_fd, &si, sizeof(si)) == sizeof(si))
				vm_request_stop(vm, VM_STOP_USER, 128 + (int)si.ssi_signo);
		}
		if (fds[3].revents) {
			if (sink.woken)
				sink.woken(sink.opaque);
			console_input_flush(in, &sink);
		}
		if (fds[2].revents & (POLLIN | POLLHUP | POLLERR))
			console_input_read(in, &sink, &quit);
		if (quit)
			vm_request_stop(vm, VM_STOP_USER, 0);
	}
}

static int vm_signal_fd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

static void vm_print_stats(struct vm *vm)
{
	struct exit_stats *total = calloc(1, sizeof(*total));

	if (!total)
		return;
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		if (vm->vcpus[i]->stats)
			exit_stats_add(total, vm->vcpus[i]->stats);
	}
	exit_stats_print(total, stderr);
	free(total);
}

enum vm_stop_reason vm_run(struct vm *vm)
{
	static struct console_input in;
	static bool in_ready;
	int sig_fd = vm_signal_fd();

	if (!in_ready) {
		console_input_init(&in, STDIN_FILENO);
		in_ready = true;
	}
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		if (vcpu_start(vm->vcpus[i]) < 0) {
			vm_request_stop(vm, VM_STOP_ERROR, EXIT_VMM_ERROR);
			break;
		}
	}
	/*
	 * Set-up is over. A restart builds a new VM on this thread (files, KVM_CREATE_VM,
	 * guest RAM), so the main thread stays unfiltered with --on-reboot=restart.
	 */
	if (vm->cfg->on_reboot == ON_REBOOT_EXIT && sandbox_enter(THREAD_MAIN))
		vm_request_stop(vm, VM_STOP_ERROR, EXIT_VMM_ERROR);
	vm_main_loop(vm, &in, sig_fd);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(vm->vcpus[i]);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		vcpu_join(vm->vcpus[i]);
	if (vm->cfg->stats)
		vm_print_stats(vm);
	if (sig_fd >= 0)
		close(sig_fd);
	return vm->stop_reason;
}

int vm_exit_status(struct vm *vm, enum vm_stop_reason reason)
{
	switch (reason) {
	case VM_STOP_POWEROFF:
	case VM_STOP_REBOOT:
		return EXIT_GUEST_OK;
	case VM_STOP_DEBUG_EXIT:
	case VM_STOP_USER:
		return vm->exit_code;
	default:
		return EXIT_VMM_ERROR;
	}
}

void vm_destroy(struct vm *vm)
{
	struct device *dev, *next;

	if (!vm)
		return;
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		vcpu_kick(vm->vcpus[i]);
		vcpu_join(vm->vcpus[i]);
		vcpu_destroy(vm->vcpus[i]);
	}
	free(vm->vcpus);
	for (dev = vm->devices; dev; dev = next) {
		next = dev->next;
		if (dev->ops->destroy)
			dev->ops->destroy(dev);
	}
	arch_vm_destroy(vm);
	bus_destroy(&vm->pio_bus);
	bus_destroy(&vm->mmio_bus);
	guest_memory_free(&vm->mem);
	metrics_unregister(&vm->metrics, &vm->vcpu_metrics);
	metrics_set_fini(&vm->vcpu_metrics);
	if (vm->stop_fd >= 0)
		close(vm->stop_fd);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	pthread_mutex_destroy(&vm->stop_lock);
	pthread_mutex_destroy(&vm->coalesced_lock);
	pthread_mutex_destroy(&vm->pause_lock);
	pthread_cond_destroy(&vm->pause_cond);
	irq_lines_destroy(&vm->irq_lines);
	free(vm);
}
