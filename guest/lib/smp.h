/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GUEST_SMP_H
#define GUEST_SMP_H

#include "desc.h"

/*
 * Start every AP listed in the MADT (INIT-SIPI-SIPI, one at a time). Returns
 * the number of CPUs online, BSP included. Idle APs wait in HLT for work.
 */
int smp_init(void);
int cpu_count(void); /* CPUs online */
int smp_id(void);    /* this CPU's index, 0 = BSP */
u32 cpu_apic_id(int cpu);

/* Run fn(arg) on cpu and wait for it to return. */
void on_cpu(int cpu, work_fn fn, void *arg);
/* Start fn(arg) on cpu without waiting (cpu must not be the caller's). */
void on_cpu_async(int cpu, work_fn fn, void *arg);
/* Wait until cpu has finished the work given to it. */
void cpu_wait_idle(int cpu);
/* Run fn(arg) on every online CPU, this one included, and wait for all. */
void on_cpus(work_fn fn, void *arg);

#endif
