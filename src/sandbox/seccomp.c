// SPDX-License-Identifier: GPL-2.0-only
/*
 * libseccomp glue: turns a kind's rules into a filter, installs it on the calling thread,
 * and reports a forbidden call. A call outside the list traps (SIGSYS); the handler writes
 * one line naming the thread kind, the call and its first arguments, and ends kvmbox with
 * EXIT_SECCOMP, so a hole in a list is loud instead of a silent kill.
 */
#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/filters.h"
#include "util/log.h"

/* Names of the native calls, looked up before any filter: the handler cannot malloc. */
#define NAMED_CALLS 512

static enum sandbox_mode mode = SANDBOX_OFF;
static char *call_names[NAMED_CALLS];
static __thread enum sandbox_kind current_kind = THREAD_MAIN;

static const char *const kind_names[THREAD_KINDS] = {
	[THREAD_MAIN] = "main",
	[THREAD_VCPU] = "vcpu",
	[THREAD_VIRTIO_BLK] = "virtio-blk",
	[THREAD_BLK_IO] = "blk-io",
	[THREAD_VIRTIO_NET] = "virtio-net",
	[THREAD_VIRTIO_CONSOLE] = "virtio-console",
	[THREAD_VIRTIO_RNG] = "virtio-rng",
	[THREAD_VIRTIO_VSOCK] = "virtio-vsock",
	[THREAD_VIRTIO_BALLOON] = "virtio-balloon",
	[THREAD_VIRTIO_IRQ] = "virtio-irq",
	[THREAD_API] = "api",
	[THREAD_SPAWNER] = "spawner",
};

const char *sandbox_kind_name(enum sandbox_kind kind)
{
	return kind < THREAD_KINDS ? kind_names[kind] : "unknown";
}

enum sandbox_mode sandbox_mode(void)
{
	return mode;
}

int sandbox_parse_mode(const char *s, enum sandbox_mode *out)
{
	if (!strcmp(s, "on"))
		*out = SANDBOX_ON;
	else if (!strcmp(s, "log"))
		*out = SANDBOX_LOG;
	else if (!strcmp(s, "off"))
		*out = SANDBOX_OFF;
	else
		return -EINVAL;
	return 0;
}

int sandbox_default_mode(enum sandbox_mode *out)
{
	const char *env = getenv("KVMBOX_SECCOMP");

	if (env && *env)
		return sandbox_parse_mode(env, out);
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
	/* The sanitizers' runtime reads /proc, makes its own mappings, and so on. */
	*out = SANDBOX_OFF;
#else
	*out = SANDBOX_ON;
#endif
	return 0;
}

/* Async-signal-safe formatting for the handler's one line. */
static char *put_str(char *p, char *end, const char *s)
{
	while (*s && p < end)
		*p++ = *s++;
	return p;
}

static char *put_hex(char *p, char *end, u64 v)
{
	char digits[16];
	int n = 0;

	do {
		digits[n++] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	p = put_str(p, end, "0x");
	while (n && p < end)
		*p++ = digits[--n];
	return p;
}

static char *put_dec(char *p, char *end, u64 v)
{
	char digits[20];
	int n = 0;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n && p < end)
		*p++ = digits[--n];
	return p;
}

static void sigsys_handler(int sig, siginfo_t *si, void *ucontext)
{
	char line[256], *p = line, *end = line + sizeof(line) - 1;
	int nr = si->si_syscall;
	u64 args[4];

	(void)sig;
	arch_sandbox_args(ucontext, args);
	p = put_str(p, end, "kvmbox: error: seccomp: the ");
	p = put_str(p, end, sandbox_kind_name(current_kind));
	p = put_str(p, end, " thread made a forbidden system call: ");
	if (nr >= 0 && nr < NAMED_CALLS && call_names[nr])
		p = put_str(p, end, call_names[nr]);
	else
		p = put_str(p, end, "syscall");
	p = put_str(p, end, "(");
	for (int i = 0; i < 4; i++) {
		p = put_str(p, end, i ? ", " : "");
		p = put_hex(p, end, args[i]);
	}
	p = put_str(p, end, ") [nr ");
	p = put_dec(p, end, (u64)(unsigned int)nr);
	p = put_str(p, end, "]; exiting (--seccomp=log to let it through)\n");
	if (write(STDERR_FILENO, line, (size_t)(p - line)) < 0)
		p = line;
	/* The raw call: a sanitizer's _exit() interceptor makes calls of its own. */
	syscall(SYS_exit_group, EXIT_SECCOMP);
}

/* Whether this kernel has seccomp filters: EFAULT for the NULL program means yes. */
static bool kernel_filters(void)
{
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, NULL, 0, 0) < 0 && errno == EFAULT &&
	       seccomp_api_get() >= 1;
}

void sandbox_init(enum sandbox_mode m)
{
	struct sigaction sa = {.sa_sigaction = sigsys_handler, .sa_flags = SA_SIGINFO};

	mode = m;
	if (mode == SANDBOX_OFF)
		return;
	if (!kernel_filters()) {
		pr_warn("this kernel cannot filter system calls (seccomp): running without "
			"the filters");
		mode = SANDBOX_OFF;
		return;
	}
	/* localtime() may read /etc/localtime later: read it now, before any filter. */
	tzset();
	for (int nr = 0; nr < NAMED_CALLS; nr++)
		call_names[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSYS, &sa, NULL);
	sandbox_spawner_start();
}

static int add_rule(scmp_filter_ctx ctx, const struct sandbox_rule *r)
{
	switch (r->match) {
	case MATCH_EQ:
		return seccomp_rule_add(
			ctx, SCMP_ACT_ALLOW, r->nr, 1,
			SCMP_CMP64(r->arg, SCMP_CMP_MASKED_EQ, 0xffffffffULL, r->value));
	case MATCH_NOBITS:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r->nr, 1,
					SCMP_CMP64(r->arg, SCMP_CMP_MASKED_EQ, r->value, 0));
	default:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r->nr, 0);
	}
}

/* KIND's filter for MODE (on: trap, log: the kernel logs and lets the call through). */
static int build_and_load(enum sandbox_kind kind, enum sandbox_mode m)
{
	static struct sandbox_rule rules[SANDBOX_MAX_RULES];
	static pthread_mutex_t rules_lock = PTHREAD_MUTEX_INITIALIZER;
	u32 action = m == SANDBOX_LOG ? SCMP_ACT_LOG : SCMP_ACT_TRAP;
	scmp_filter_ctx ctx = seccomp_init(action);
	unsigned int n;
	int ret = ctx ? 0 : -ENOMEM;

	if (ret)
		return ret;
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, action);
	pthread_mutex_lock(&rules_lock);
	n = sandbox_rules(kind, rules, ARRAY_SIZE(rules));
	if (n >= ARRAY_SIZE(rules))
		ret = -E2BIG; /* a list was cut: SANDBOX_MAX_RULES is too small */
	for (unsigned int i = 0; !ret && i < n; i++) {
		ret = add_rule(ctx, &rules[i]);
		/* An unconditional rule already covers a conditional one of the same call. */
		if (ret == -EEXIST)
			ret = 0;
	}
	pthread_mutex_unlock(&rules_lock);
	if (!ret)
		ret = seccomp_load(ctx);
	seccomp_release(ctx);
	return ret;
}

int sandbox_enter_mode(enum sandbox_kind kind, enum sandbox_mode m)
{
	int ret;

	current_kind = kind;
	if (m == SANDBOX_OFF)
		return 0;
	ret = build_and_load(kind, m);
	if (ret)
		pr_err("cannot install the seccomp filter of the %s thread: %s",
		       sandbox_kind_name(kind), strerror(-ret));
	return ret;
}

int sandbox_enter(enum sandbox_kind kind)
{
	return sandbox_enter_mode(kind, mode);
}
