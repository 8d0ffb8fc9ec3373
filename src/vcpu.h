/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_VCPU_H
#define KVMBOX_VCPU_H

#include <pthread.h>
#include <linux/kvm.h>

#include "exit_stats.h"
#include "util/types.h"

struct vm;

struct vcpu {
	struct vm *vm;
	unsigned int id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;
	struct exit_stats *stats; /* with --stats */
};

/* The "vcpu" metrics set of vm (exits by kind), registered with vm->metrics. */
int vcpu_metrics_init(struct vm *vm);
int vcpu_create(struct vm *vm, unsigned int id, struct vcpu **out);
void vcpu_destroy(struct vcpu *vcpu);
int vcpu_start(struct vcpu *vcpu);
/* Makes a vCPU leave KVM_RUN soon, wherever it is. */
void vcpu_kick(struct vcpu *vcpu);
void vcpu_join(struct vcpu *vcpu);
/* The signal used for kicks; its handler must be installed once per process. */
void vcpu_install_kick_handler(void);

#endif
