/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_SANDBOX_FILTERS_H
#define KVMBOX_SANDBOX_FILTERS_H

#include <signal.h>
#include <stdbool.h>

#include "sandbox/sandbox.h"
#include "util/types.h"

/* How a rule looks at one argument of its call. */
enum rule_match {
	MATCH_ANY,    /* the call, whatever its arguments */
	MATCH_EQ,     /* argument ARG (its low 32 bits) equals VALUE */
	MATCH_NOBITS, /* argument ARG has none of the bits of VALUE (mmap without PROT_EXEC) */
};

/* One allowed call; several rules of one call are alternatives. */
struct sandbox_rule {
	int nr; /* the native system call number (SCMP_SYS) */
	u8 match;
	u8 arg;
	u64 value;
};

/*
 * The rules of KIND: the common ones (filters.c) and the architecture's (ioctl numbers
 * that differ, poll() on x86). Returns the number of rules put in OUT (at most MAX).
 */
unsigned int sandbox_rules(enum sandbox_kind kind, struct sandbox_rule *out, unsigned int max);

/* The architecture's part: extra rules for KIND, and a trapped call's first arguments. */
unsigned int arch_sandbox_rules(enum sandbox_kind kind, const struct sandbox_rule **out);
void arch_sandbox_args(const void *ucontext, u64 args[4]);

/* Distinct calls and ioctl numbers of KIND's list: the figures the README publishes. */
void sandbox_list_size(enum sandbox_kind kind, unsigned int *calls, unsigned int *ioctls);

/*
 * Whether threads of KIND are started by the spawner (whose list is the union of theirs);
 * the others start from an unfiltered thread, or are no thread of their own (main).
 */
bool sandbox_kind_spawned(enum sandbox_kind kind);

/* Inside the sandbox code: seccomp.c installs, spawner.c starts threads. */
int sandbox_enter_mode(enum sandbox_kind kind, enum sandbox_mode m);
void sandbox_spawner_start(void);

#define SANDBOX_MAX_RULES 160

#define ALLOW(name)                             \
	{                                       \
		SCMP_SYS(name), MATCH_ANY, 0, 0 \
	}
#define ALLOW_EQ(name, a, v)                            \
	{                                               \
		SCMP_SYS(name), MATCH_EQ, (a), (u32)(v) \
	}
#define ALLOW_NOEXEC(name)                                 \
	{                                                  \
		SCMP_SYS(name), MATCH_NOBITS, 2, PROT_EXEC \
	}
#define IOCTL(req) ALLOW_EQ(ioctl, 1, (req))

#endif
