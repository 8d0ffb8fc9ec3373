/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A VM without KVM for harnesses of devices that only come as device_ops (their handlers
 * are static): tests/fuzz/fake_vm.c, in the harness's fuzz-sources with src/bus.c and
 * src/irq_line.c, stands in for vm.c. The device is realized on the VM's buses and the
 * input's accesses reach it through bus_dispatch(), as a vCPU's exits do.
 */
#ifndef KVMBOX_TESTS_FUZZ_FAKE_VM_H
#define KVMBOX_TESTS_FUZZ_FAKE_VM_H

#include "fuzz_access.h"
#include "vm.h"

/* A register window of the device: ports or MMIO. */
struct fake_window {
	bool pio;
	u64 base, len;
};

extern enum vm_stop_reason fake_vm_stop; /* the first stop the device asked for */
extern u32 fake_vm_pins;		 /* the irqchip's pins the device holds high */

/*
 * Runs the input's accesses (fuzz_access.h) against the device realized by ops on a fresh
 * VM with cfg: a kind below FUZZ_KIND_RESET is an access of at most max_len bytes to
 * window kind % nw (a.kind is then the window), one from FUZZ_KIND_RESET a reset and one
 * from FUZZ_KIND_SNAPSHOT a snapshot (fuzz_snapshot()) of the device, when it has them.
 * check(vm, a, buf) runs after every access; buf holds what a read returned, or is NULL
 * if no device answered; after a reset or a snapshot, check(vm, NULL, NULL). At the end
 * the device is reset (every pin it raised must be low again) and destroyed.
 */
void fake_vm_fuzz(const struct vm_config *cfg, const struct device_ops *ops,
		  const struct fake_window *w, unsigned int nw, u32 max_len, struct fuzz_in *in,
		  void (*check)(struct vm *vm, const struct fuzz_access *a, const u8 *buf));

#endif
