/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GUEST_LIBGUEST_H
#define GUEST_LIBGUEST_H

/*
 * The guest library in one include. A test defines
 *	int main(int argc, char **argv)
 * and returns report_summary(); the return value goes to exit().
 */

#include "types.h"
#include "processor.h"
#include "desc.h"
#include "apic.h"
#include "smp.h"
#include "mm.h"
#include "acpi.h"
#include "pci.h"
#include "multiboot.h"

/* Console: the 16550 at 0x3f8, polled. */
#define COM1 0x3f8
void console_init(void);
void uart_putc(char c);
int puts(const char *s); /* like C's puts: appends a newline */
int printf(const char *fmt, ...) __printf(1, 2);
int snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

/* Results, in the format of kvm-unit-tests. */
bool report(bool pass, const char *fmt, ...) __printf(2, 3);
/* A failure is only expected (XFAIL, not counted) when xfail is true, e.g. on_tcg(). */
bool report_xfail(bool xfail, bool pass, const char *fmt, ...) __printf(3, 4);
void report_skip(const char *fmt, ...) __printf(1, 2);
void report_info(const char *fmt, ...) __printf(1, 2);
void report_prefix_push(const char *prefix);
void report_prefix_pop(void);
int report_summary(void); /* prints SUMMARY:, returns 0 when nothing failed */

/* Leave the VM through the debug-exit port: the VMM exits with (code << 1) | 1. */
#define DEBUG_EXIT_PORT 0xf4
#define ABORT_CODE	0x3f /* unhandled exception, broken boot information */
void exit(int code) __noreturn;
void abort(void) __noreturn;

/* The command line: argv[0] is the image path, then the words of the VMM's cmdline. */
extern int guest_argc;
extern char **guest_argv;
/* "key=value" -> "value", a bare "key" -> "", absent -> NULL. */
const char *getarg(const char *key);
/*
 * False (after a SKIP line) when the command line has skip=...,name,...: for
 * checks a given environment cannot run, e.g. an instruction its KVM cannot emulate.
 */
bool test_wanted(const char *name);

/* string.h subset */
void *memset(void *s, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
unsigned long strtoul(const char *s, char **end, int base);
long strtol(const char *s, char **end, int base);

/* Busy-wait helpers, bounded by the TSC (never by wall time: TSC rates vary). */
#define TSC_TIMEOUT_LONG 4000000000ULL /* ~1-4 s at common TSC rates */

struct spinlock {
	volatile u32 v;
};

static inline void spin_lock(struct spinlock *l)
{
	while (__atomic_exchange_n(&l->v, 1, __ATOMIC_ACQUIRE))
		while (READ_ONCE(l->v))
			pause();
}

static inline void spin_unlock(struct spinlock *l)
{
	__atomic_store_n(&l->v, 0, __ATOMIC_RELEASE);
}

#endif
