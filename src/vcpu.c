// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arch/arch.h"
#include "kvm.h"
#include "sandbox/sandbox.h"
#include "util/log.h"
#include "vcpu.h"
#include "vm.h"

#define VCPU_KICK_SIGNAL SIGUSR1

enum exit_action { EXIT_CONTINUE, EXIT_STOP };

typedef enum exit_action (*exit_handler_fn)(struct vcpu *vcpu);

/* The control API's "vcpu" metrics, as Firecracker names them. */
enum vcpu_metric { M_IO_IN, M_IO_OUT, M_MMIO_READ, M_MMIO_WRITE, M_FAILURES, M_NR };
static const char *const vcpu_metric_names[M_NR] = {
	[M_IO_IN] = "exit_io_in",	  [M_IO_OUT] = "exit_io_out",
	[M_MMIO_READ] = "exit_mmio_read", [M_MMIO_WRITE] = "exit_mmio_write",
	[M_FAILURES] = "failures",
};

int vcpu_metrics_init(struct vm *vm)
{
	int ret = metrics_set_init(&vm->vcpu_metrics, "vcpu", NULL, vcpu_metric_names, M_NR);

	if (!ret)
		metrics_register(&vm->metrics, &vm->vcpu_metrics);
	return ret;
}

static void count_exit(struct vcpu *vcpu, enum vcpu_metric m)
{
	metrics_add(&vcpu->vm->vcpu_metrics, m, 1);
}

static enum exit_action handle_io(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	u32 size = run->io.size, count = run->io.count;
	u64 off = run->io.data_offset;
	bool is_write = run->io.direction == KVM_EXIT_IO_OUT;
	u8 *data;

	/* Filled in by KVM, but cheap to check: never trust an offset into a mapping. */
	if (size == 0 || size > 4 || count == 0 || off >= (u64)vcpu->vm->vcpu_mmap_size ||
	    (u64)size * count > (u64)vcpu->vm->vcpu_mmap_size - off) {
		pr_err("vCPU %u: malformed KVM_EXIT_IO (size %u count %u offset %llu)", vcpu->id,
		       size, count, (unsigned long long)off);
		return EXIT_STOP;
	}
	count_exit(vcpu, is_write ? M_IO_OUT : M_IO_IN);
	data = (u8 *)run + off;
	for (u32 i = 0; i < count; i++, data += size) {
		if (!bus_dispatch(&vcpu->vm->pio_bus, run->io.port, data, size, is_write)) {
			if (!is_write)
				memset(data, 0xff, size);
			pr_debug("vCPU %u: %s unmapped port 0x%x", vcpu->id,
				 is_write ? "write to" : "read from", run->io.port);
		}
	}
	return EXIT_CONTINUE;
}

static enum exit_action handle_mmio(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	u32 len = run->mmio.len;

	if (len == 0 || len > sizeof(run->mmio.data)) {
		pr_err("vCPU %u: malformed KVM_EXIT_MMIO (len %u)", vcpu->id, len);
		return EXIT_STOP;
	}
	count_exit(vcpu, run->mmio.is_write ? M_MMIO_WRITE : M_MMIO_READ);
	if (!bus_dispatch(&vcpu->vm->mmio_bus, run->mmio.phys_addr, run->mmio.data, len,
			  run->mmio.is_write)) {
		if (!run->mmio.is_write)
			memset(run->mmio.data, 0xff, len);
		pr_debug("vCPU %u: %s unmapped address 0x%llx", vcpu->id,
			 run->mmio.is_write ? "write to" : "read from",
			 (unsigned long long)run->mmio.phys_addr);
	}
	return EXIT_CONTINUE;
}

/* Only reached without an in-kernel LAPIC: nothing could ever wake the vCPU. */
static enum exit_action handle_hlt(struct vcpu *vcpu)
{
	pr_info("vCPU %u halted", vcpu->id);
	vm_request_stop(vcpu->vm, VM_STOP_POWEROFF, 0);
	return EXIT_STOP;
}

/* A triple fault: what a PC does next is reset, so it counts as a reboot. */
static enum exit_action handle_shutdown(struct vcpu *vcpu)
{
	pr_info("vCPU %u: triple fault, resetting", vcpu->id);
	/*
	 * What the guest was doing when it gave up, for whoever asked for -v. On AMD, KVM
	 * re-initializes the VMCB before reporting a shutdown: the dump shows the reset state.
	 */
	if (log_level >= LOG_INFO)
		arch_vcpu_dump(vcpu);
	vm_request_stop(vcpu->vm, VM_STOP_REBOOT, 0);
	return EXIT_STOP;
}

static enum exit_action handle_system_event(struct vcpu *vcpu)
{
	switch (vcpu->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		pr_info("vCPU %u: the guest powered off", vcpu->id);
		vm_request_stop(vcpu->vm, VM_STOP_POWEROFF, 0);
		return EXIT_STOP;
	case KVM_SYSTEM_EVENT_RESET:
		pr_info("vCPU %u: the guest reset the VM", vcpu->id);
		vm_request_stop(vcpu->vm, VM_STOP_REBOOT, 0);
		return EXIT_STOP;
	default:
		pr_err("vCPU %u: unhandled system event %u", vcpu->id,
		       vcpu->run->system_event.type);
		arch_vcpu_dump(vcpu);
		vm_request_stop(vcpu->vm, VM_STOP_ERROR, EXIT_VMM_ERROR);
		return EXIT_STOP;
	}
}

static enum exit_action handle_fail_entry(struct vcpu *vcpu)
{
	pr_err("vCPU %u: KVM could not enter the guest (hardware reason 0x%llx)", vcpu->id,
	       (unsigned long long)vcpu->run->fail_entry.hardware_entry_failure_reason);
	arch_vcpu_dump(vcpu);
	count_exit(vcpu, M_FAILURES);
	vm_request_stop(vcpu->vm, VM_STOP_ERROR, EXIT_VMM_ERROR);
	return EXIT_STOP;
}

static enum exit_action handle_internal_error(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	pr_err("vCPU %u: KVM internal error, suberror %u", vcpu->id, run->internal.suberror);
	for (u32 i = 0; i < run->internal.ndata && i < ARRAY_SIZE(run->internal.data); i++)
		pr_err("  data[%u] = 0x%llx", i, (unsigned long long)run->internal.data[i]);
	arch_vcpu_dump(vcpu);
	count_exit(vcpu, M_FAILURES);
	vm_request_stop(vcpu->vm, VM_STOP_ERROR, EXIT_VMM_ERROR);
	return EXIT_STOP;
}

/* A signal interrupted KVM_RUN: either a kick (stop is then set) or nothing at all. */
static enum exit_action handle_intr(struct vcpu *vcpu)
{
	(void)vcpu;
	return EXIT_CONTINUE;
}

static const exit_handler_fn exit_handlers[] = {
	[KVM_EXIT_IO] = handle_io,
	[KVM_EXIT_MMIO] = handle_mmio,
	[KVM_EXIT_HLT] = handle_hlt,
	[KVM_EXIT_SHUTDOWN] = handle_shutdown,
	[KVM_EXIT_SYSTEM_EVENT] = handle_system_event,
	[KVM_EXIT_FAIL_ENTRY] = handle_fail_entry,
	[KVM_EXIT_INTERNAL_ERROR] = handle_internal_error,
	[KVM_EXIT_INTR] = handle_intr,
};

static enum exit_action handle_unexpected(struct vcpu *vcpu)
{
	pr_err("vCPU %u: unexpected KVM exit reason %u", vcpu->id, vcpu->run->exit_reason);
	arch_vcpu_dump(vcpu);
	count_exit(vcpu, M_FAILURES);
	vm_request_stop(vcpu->vm, VM_STOP_ERROR, EXIT_VMM_ERROR);
	return EXIT_STOP;
}

/* --boot-timer: logged at the default level, as the user asked for it. */
static void vcpu_boot_timer(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;

	if (vcpu->id != 0 || !vm->timer_start_ns)
		return;
	pr_warn("boot timer: vCPU 0 first KVM_RUN %.3f ms after the %s request",
		(double)(vm_now_ns() - vm->timer_start_ns) / 1e6, vm->timer_what);
	vm->timer_start_ns = 0;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	while (!vm_stopping(vcpu->vm)) {
		u32 reason;
		exit_handler_fn fn;
		int ret;

		vm_park_vcpu(vcpu->vm);
		vcpu_boot_timer(vcpu);
		ret = __kvm_ioctl(vcpu->fd, KVM_RUN, NULL);

		if (ret == -EINTR || ret == -EAGAIN) {
			vcpu->run->immediate_exit = 0;
			continue;
		}
		if (ret < 0) {
			pr_err("vCPU %u: KVM_RUN failed: %s", vcpu->id, strerror(-ret));
			vm_request_stop(vcpu->vm, VM_STOP_ERROR, EXIT_VMM_ERROR);
			break;
		}
		/* Buffered writes happened before this exit: they take effect first. */
		vm_flush_coalesced(vcpu->vm);
		reason = vcpu->run->exit_reason;
		if (vcpu->stats)
			exit_stats_count(vcpu->stats, vcpu->run);
		fn = reason < ARRAY_SIZE(exit_handlers) ? exit_handlers[reason] : NULL;
		if ((fn ? fn(vcpu) : handle_unexpected(vcpu)) == EXIT_STOP)
			break;
	}
	return NULL;
}

static void vcpu_kick_handler(int sig)
{
	(void)sig;
}

void vcpu_install_kick_handler(void)
{
	struct sigaction sa = {.sa_handler = vcpu_kick_handler};
	sigset_t set;

	/* No SA_RESTART: the point is to make KVM_RUN return -EINTR. */
	sigemptyset(&sa.sa_mask);
	sigaction(VCPU_KICK_SIGNAL, &sa, NULL);
	/* Only vCPU threads take the kick; everyone else keeps it blocked. */
	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

int vcpu_create(struct vm *vm, unsigned int id, struct vcpu **out)
{
	struct vcpu *vcpu = calloc(1, sizeof(*vcpu));
	int fd;

	if (!vcpu)
		return -ENOMEM;
	vcpu->vm = vm;
	vcpu->id = id;
	fd = kvm_ioctl(vm->vm_fd, KVM_CREATE_VCPU, (void *)(unsigned long)id);
	if (fd < 0) {
		free(vcpu);
		return fd;
	}
	vcpu->fd = fd;
	if (vm->cfg->stats)
		vcpu->stats = calloc(1, sizeof(*vcpu->stats));
	vcpu->run = mmap(NULL, vm->vcpu_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (vcpu->run == MAP_FAILED) {
		int err = -errno;

		pr_err("cannot map the kvm_run area of vCPU %u: %s", id, strerror(errno));
		close(fd);
		free(vcpu);
		return err;
	}
	*out = vcpu;
	return 0;
}

void vcpu_destroy(struct vcpu *vcpu)
{
	if (!vcpu)
		return;
	free(vcpu->stats);
	munmap(vcpu->run, vcpu->vm->vcpu_mmap_size);
	close(vcpu->fd);
	free(vcpu);
}

int vcpu_start(struct vcpu *vcpu)
{
	int ret = sandbox_thread_start(&vcpu->thread, THREAD_VCPU, vcpu_thread, vcpu);

	if (ret) {
		pr_err("cannot start the thread of vCPU %u: %s", vcpu->id, strerror(ret));
		return -ret;
	}
	vcpu->started = true;
	return 0;
}

void vcpu_kick(struct vcpu *vcpu)
{
	if (!vcpu->started)
		return;
	/* immediate_exit covers a kick that lands just before the thread enters KVM_RUN. */
	__atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	pthread_kill(vcpu->thread, VCPU_KICK_SIGNAL);
}

void vcpu_join(struct vcpu *vcpu)
{
	if (!vcpu->started)
		return;
	pthread_join(vcpu->thread, NULL);
	vcpu->started = false;
}
