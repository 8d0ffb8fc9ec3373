/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_VM_H
#define KVMBOX_VM_H

#include <pthread.h>
#include <linux/kvm.h>
#include <stdatomic.h>

#include "bus.h"
#include "config.h"
#include "irq_line.h"
#include "memory.h"
#include "util/metrics.h"
#include "devices/device.h"

struct vcpu;
struct arch_vm;
struct pci_bus;
struct irq_routing;
struct console_sink;

/* Why the VM stopped; decides kvmbox's exit code and whether a reboot restarts it. */
enum vm_stop_reason {
	VM_RUNNING = 0,
	VM_STOP_POWEROFF,   /* ACPI S5 or SYSTEM_EVENT shutdown */
	VM_STOP_REBOOT,	    /* reset line, triple fault, SYSTEM_EVENT reset */
	VM_STOP_DEBUG_EXIT, /* the guest wrote the debug-exit port */
	VM_STOP_ERROR,	    /* an exit kvmbox cannot handle, or a KVM failure */
	VM_STOP_USER,	    /* console escape or a signal */
};

struct vm {
	const struct vm_config *cfg;
	int kvm_fd;
	int vm_fd;
	int vcpu_mmap_size;
	struct guest_memory mem;
	struct bus pio_bus;
	struct bus mmio_bus;
	struct device *devices;
	unsigned int nr_vcpus;
	struct vcpu **vcpus;
	struct arch_vm *arch;	    /* what the architecture keeps per VM */
	struct pci_bus *pci;	    /* set by the PCI host bridge */
	struct irq_routing *irq;    /* GSI routing, made by the first device using MSI */
	struct irq_lines irq_lines; /* wired lines: the OR of their sources */

	/* Stopping: the first reason wins; stop_fd wakes the main loop. */
	pthread_mutex_t stop_lock;
	enum vm_stop_reason stop_reason;
	int exit_code;
	int stop_fd;

	/*
	 * Writes KVM buffers instead of exiting for (KVM_REGISTER_COALESCED_MMIO); they
	 * are replayed, in order, before any exit is handled. NULL when KVM lacks it.
	 */
	struct kvm_coalesced_mmio_ring *coalesced_ring;
	pthread_mutex_t coalesced_lock;

	/*
	 * Pausing (the control API's PATCH /vm): while pause_requested, vCPU threads park
	 * outside KVM_RUN; nr_parked counts them. Under pause_lock; pause_cond wakes both sides.
	 */
	pthread_mutex_t pause_lock;
	pthread_cond_t pause_cond;
	bool pause_requested;
	unsigned int nr_parked;

	/* The control API's counters; every device registers its set here. */
	struct metrics_registry metrics;
	struct metrics_set vcpu_metrics;

	/* The serial console's input, which the main loop feeds from stdin (set by its UART). */
	const struct console_sink *serial_sink;
	/*
	 * --boot-timer: when the start was asked for (CLOCK_MONOTONIC ns) and by what;
	 * vCPU 0 logs the time to its first KVM_RUN and clears it. 0: not timed.
	 */
	u64 timer_start_ns;
	const char *timer_what;

	/* Where stdin goes instead, when a device takes it (--virtio-console on stdio). */
	struct console_sink *stdin_sink;
};

/*
 * Checks cfg as far as no KVM is needed: host limits, the guest's files, every device's
 * options. vm_create() starts with it; 0 or -EXIT_BAD_INPUT after saying why.
 */
int vm_check_config(const struct vm_config *cfg);
/* Builds a VM from cfg (KVM VM, memory, devices, vCPUs, boot image). Returns -exit code. */
int vm_create(struct vm **out, const struct vm_config *cfg);
/* Runs until the guest stops; returns the reason. */
enum vm_stop_reason vm_run(struct vm *vm);
void vm_destroy(struct vm *vm);
/* kvmbox's exit status for a VM that stopped for reason (see the README's table). */
int vm_exit_status(struct vm *vm, enum vm_stop_reason reason);

/*
 * Parks every running vCPU outside KVM_RUN (an exit in progress is finished first), then
 * pauses every device (its taken I/O completed, its workers stopped: see device.h), and
 * returns 0; -ETIMEDOUT if the vCPUs took longer than timeout_ms, or a device's error
 * (everything is resumed then). vm_resume() lets devices and vCPUs go, and is harmless on
 * a VM that is not paused. From any thread but a vCPU's. A stop ends a pause.
 */
int vm_pause(struct vm *vm, unsigned int timeout_ms);
void vm_resume(struct vm *vm);
/* Called by a vCPU thread before each KVM_RUN: parks it while the VM is paused. */
void vm_park_vcpu(struct vm *vm);

/* Asks every vCPU to stop; safe from any thread, only the first call counts. */
void vm_request_stop(struct vm *vm, enum vm_stop_reason reason, int exit_code);
bool vm_stopping(struct vm *vm);
/* CLOCK_MONOTONIC in nanoseconds, for --boot-timer. */
u64 vm_now_ns(void);

void vm_add_device(struct vm *vm, struct device *dev);
/*
 * Lets guest writes to [addr, addr + len) (ports if pio) be buffered by KVM instead of
 * exiting: for registers whose writes take effect only when something else is read.
 * Returns 0, or -EOPNOTSUPP when KVM cannot (the writes then exit as usual).
 */
int vm_coalesce_writes(struct vm *vm, u64 addr, u32 len, bool pio);
/* Replays buffered writes; called by vCPUs before they handle an exit. */
void vm_flush_coalesced(struct vm *vm);
/*
 * Maps [gpa, gpa + size) to hva as memory slot slot (above the RAM's: VM_FIRST_DEVICE_SLOT
 * on), read-only if asked (guest writes then exit as MMIO); size 0 removes the slot.
 * Returns 0 or -errno.
 */
#define VM_FIRST_DEVICE_SLOT 8
int vm_set_memslot(struct vm *vm, u32 slot, u64 gpa, u64 size, const void *hva, bool readonly);
/*
 * With track_dirty_pages: ORs into out (guest_memory_dirty_words() words) the pages
 * written since the last call, by the vCPUs (KVM's log, per RAM slot) and by kvmbox
 * (guest_memory_mark_dirty), and clears both. 0, or -errno (some logs may be cleared
 * then: the caller puts out back). The VM should be paused.
 */
int vm_take_dirty_log(struct vm *vm, u64 *out);
/* Sets one source's level on a wired line of the in-kernel irqchip (see irq_line.h). */
void vm_irq_line_set(struct vm *vm, struct irq_line *src, bool level);

#endif
