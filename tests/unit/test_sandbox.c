// SPDX-License-Identifier: GPL-2.0-only
/*
 * The seccomp wall (src/sandbox): a call outside a thread's list ends the process with
 * EXIT_SECCOMP and a line naming the thread kind and the call; a listed call works;
 * argument rules hold (socket family, no PROT_EXEC); log mode lets the call through; a
 * thread started through the spawner is under its own kind's list; and the lists are
 * well formed (no duplicates, every call in this architecture's table). Each filtered
 * case runs in a forked child: a filter cannot be taken off again.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/filters.h"

typedef void (*child_fn)(void);

/* The raw call: a sanitizer's _exit() would check for leaks, with calls no list has. */
static void child_exit(int status)
{
	syscall(SYS_exit_group, status);
}

/* Runs FN in a child whose stderr is captured into OUT; returns its wait status. */
static int run_child(child_fn fn, char *out, size_t outlen)
{
	int pipefd[2], status;
	ssize_t n, total = 0;
	pid_t pid;

	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(pipefd[1], STDERR_FILENO);
		close(pipefd[0]);
		fn();
		child_exit(0);
	}
	close(pipefd[1]);
	while ((n = read(pipefd[0], out + total, outlen - 1 - (size_t)total)) > 0)
		total += n;
	out[total] = '\0';
	close(pipefd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void skip_without_seccomp(void)
{
	if (seccomp_api_get() < 1)
		skip();
}

static void rng_makes_unix_socket(void)
{
	sandbox_init(SANDBOX_ON);
	if (sandbox_enter(THREAD_VIRTIO_RNG))
		child_exit(99);
	syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
	child_exit(0);
}

static void test_forbidden_call_exits_148_naming_it(void **state)
{
	char out[512];
	int status;

	(void)state;
	skip_without_seccomp();
	status = run_child(rng_makes_unix_socket, out, sizeof(out));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), EXIT_SECCOMP);
	assert_non_null(strstr(out, "virtio-rng thread"));
	assert_non_null(strstr(out, "socket(0x1, 0x1, 0x0"));
}

static void rng_reads_entropy(void)
{
	char buf[16];

	sandbox_init(SANDBOX_ON);
	if (sandbox_enter(THREAD_VIRTIO_RNG))
		child_exit(99);
	if (syscall(SYS_getrandom, buf, sizeof(buf), 0) != (long)sizeof(buf))
		child_exit(98);
	child_exit(0);
}

static void test_allowed_call_works(void **state)
{
	char out[512];
	int status;

	(void)state;
	skip_without_seccomp();
	status = run_child(rng_reads_entropy, out, sizeof(out));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* virtio-net may open internet sockets (libslirp), not other families. */
static void net_makes_netlink_socket(void)
{
	int fd;

	sandbox_init(SANDBOX_ON);
	if (sandbox_enter(THREAD_VIRTIO_NET))
		child_exit(99);
	fd = (int)syscall(SYS_socket, AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		child_exit(97);
	syscall(SYS_socket, AF_NETLINK, SOCK_RAW, 0);
	child_exit(0);
}

static void vcpu_maps_code(void)
{
	sandbox_init(SANDBOX_ON);
	if (sandbox_enter(THREAD_VCPU))
		child_exit(99);
	if (mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) ==
	    MAP_FAILED)
		child_exit(97);
	mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	child_exit(0);
}

static void test_argument_rules(void **state)
{
	char out[512];
	int status;

	(void)state;
	skip_without_seccomp();
	status = run_child(net_makes_netlink_socket, out, sizeof(out));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), EXIT_SECCOMP);
	assert_non_null(strstr(out, "virtio-net thread"));
	assert_non_null(strstr(out, "socket(0x10,"));
	status = run_child(vcpu_maps_code, out, sizeof(out));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), EXIT_SECCOMP);
	assert_non_null(strstr(out, "vcpu thread"));
	assert_non_null(strstr(out, "mmap("));
}

static void rng_unix_socket_logged(void)
{
	sandbox_init(SANDBOX_LOG);
	if (sandbox_enter(THREAD_VIRTIO_RNG))
		child_exit(99);
	if (syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0) < 0)
		child_exit(98);
	child_exit(0);
}

static void test_log_mode_does_not_kill(void **state)
{
	char out[512];
	int status;

	(void)state;
	skip_without_seccomp();
	status = run_child(rng_unix_socket_logged, out, sizeof(out));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_null(strstr(out, "forbidden"));
}

static void *console_worker_opens_file(void *arg)
{
	(void)arg;
	syscall(SYS_getcwd, NULL, 0);
	return NULL;
}

/* Started from a filtered thread, through the spawner: the worker gets its own list. */
static void spawn_console_worker(void)
{
	pthread_t t;

	sandbox_init(SANDBOX_ON);
	if (sandbox_enter(THREAD_VCPU))
		child_exit(99);
	if (sandbox_thread_start(&t, THREAD_VIRTIO_CONSOLE, console_worker_opens_file, NULL))
		child_exit(98);
	pthread_join(t, NULL);
	child_exit(0);
}

static void test_spawned_thread_has_its_kind(void **state)
{
	char out[512];
	int status;

	(void)state;
	skip_without_seccomp();
#if defined(__SANITIZE_ADDRESS__)
	/* The sanitizer's thread start (gettid, sched_getaffinity) is in no list. */
	print_message("skipped in a sanitizer build: its thread start makes unlisted calls\n");
	skip();
#endif
	status = run_child(spawn_console_worker, out, sizeof(out));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), EXIT_SECCOMP);
	assert_non_null(strstr(out, "virtio-console thread"));
	assert_non_null(strstr(out, "getcwd("));
}

/* Calls that would end or unwind the thread, or start one: not made with junk arguments. */
static bool leaves_thread(int nr)
{
	return nr == SCMP_SYS(exit) || nr == SCMP_SYS(exit_group) || nr == SCMP_SYS(rt_sigreturn) ||
	       nr == SCMP_SYS(clone) || nr == SCMP_SYS(clone3);
}

/*
 * Makes the call of rule R with the arguments its rule asks for and -1 for the rest: a
 * bad descriptor, address, length or flag set, so the kernel refuses it (EBADF, EFAULT,
 * EINVAL) after the filter has let it through. A rule the filter does not honour traps.
 */
static void make_call(const struct sandbox_rule *r)
{
	long a[6] = {-1, -1, -1, -1, -1, -1};

	if (r->match == MATCH_EQ)
		a[r->arg] = (long)r->value;
	else if (r->match == MATCH_NOBITS)
		a[r->arg] = 0;
	syscall(r->nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

static enum sandbox_kind child_kind;

/* Every call of the kind's list (a trap there names that call), then execve. */
static void *make_listed_calls_then_execve(void *arg)
{
	static struct sandbox_rule r[SANDBOX_MAX_RULES];
	unsigned int n = sandbox_rules(child_kind, r, SANDBOX_MAX_RULES);
	char *const argv[] = {"/bin/true", NULL};

	(void)arg;
	for (unsigned int i = 0; i < n; i++) {
		if (!leaves_thread(r[i].nr))
			make_call(&r[i]);
	}
	syscall(SYS_execve, "/bin/true", argv, NULL);
	child_exit(97); /* only if execve failed without a trap */
	return NULL;
}

/*
 * A thread of child_kind started as kvmbox starts it: the spawned kinds through the
 * spawner (so under the spawner's list and their own), the API thread directly, the main
 * thread and the spawner by entering the list on this thread.
 */
static void kind_thread(void)
{
	pthread_t t;

	sandbox_init(SANDBOX_ON);
	if (child_kind == THREAD_MAIN || child_kind == THREAD_SPAWNER) {
		if (sandbox_enter(child_kind))
			child_exit(99);
		make_listed_calls_then_execve(NULL);
	}
	if (sandbox_thread_start(&t, child_kind, make_listed_calls_then_execve, NULL))
		child_exit(98);
	pthread_join(t, NULL);
	child_exit(96);
}

/*
 * The wall of every kind, as it runs: each call its list names goes through (with the
 * arguments its rule allows), and a call outside it (execve: what an attacker who took
 * the thread over would want first) ends the process with 148 and the line naming the
 * kind and the call.
 */
static void test_every_kind_allows_its_list_and_traps_the_rest(void **state)
{
	char out[512], want[128];
	int status;

	(void)state;
	skip_without_seccomp();
	for (int k = 0; k < THREAD_KINDS; k++) {
#if defined(__SANITIZE_ADDRESS__)
		/* The sanitizer's thread start (gettid, sched_getaffinity) is in no list. */
		if (k != THREAD_MAIN && k != THREAD_SPAWNER)
			continue;
#endif
		child_kind = k;
		status = run_child(kind_thread, out, sizeof(out));
		snprintf(want, sizeof(want), "the %s thread made a forbidden system call: execve(",
			 sandbox_kind_name(k));
		if (!WIFEXITED(status) || WEXITSTATUS(status) != EXIT_SECCOMP || !strstr(out, want))
			fail_msg("%s: status 0x%x, stderr: %s", sandbox_kind_name(k), status, out);
	}
}

static bool same_rule(const struct sandbox_rule *a, const struct sandbox_rule *b)
{
	return a->nr == b->nr && a->match == b->match && a->arg == b->arg && a->value == b->value;
}

static void test_lists_are_well_formed(void **state)
{
	struct sandbox_rule r[SANDBOX_MAX_RULES];

	(void)state;
	for (int k = 0; k < THREAD_KINDS; k++) {
		unsigned int n = sandbox_rules(k, r, SANDBOX_MAX_RULES), calls, ioctls;

		assert_true(n > 0 && n < SANDBOX_MAX_RULES);
		for (unsigned int i = 0; i < n; i++) {
			char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, r[i].nr);

			if (!name)
				fail_msg("%s: call %d is not in this architecture's table",
					 sandbox_kind_name(k), r[i].nr);
			free(name);
			for (unsigned int j = 0; j < i; j++) {
				if (same_rule(&r[i], &r[j]))
					fail_msg("%s: rule %u repeats rule %u",
						 sandbox_kind_name(k), i, j);
			}
		}
		sandbox_list_size(k, &calls, &ioctls);
		/* The figures the README's table gives, printed for its next update. */
		print_message("seccomp list %-15s %3u calls %3u ioctls\n", sandbox_kind_name(k),
			      calls, ioctls);
	}
}

static void test_modes(void **state)
{
	enum sandbox_mode m;

	(void)state;
	assert_int_equal(sandbox_parse_mode("log", &m), 0);
	assert_int_equal(m, SANDBOX_LOG);
	assert_int_equal(sandbox_parse_mode("off", &m), 0);
	assert_int_equal(m, SANDBOX_OFF);
	assert_int_equal(sandbox_parse_mode("bogus", &m), -EINVAL);
	setenv("KVMBOX_SECCOMP", "on", 1);
	assert_int_equal(sandbox_default_mode(&m), 0);
	assert_int_equal(m, SANDBOX_ON);
	setenv("KVMBOX_SECCOMP", "maybe", 1);
	assert_int_equal(sandbox_default_mode(&m), -EINVAL);
	unsetenv("KVMBOX_SECCOMP");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forbidden_call_exits_148_naming_it),
		cmocka_unit_test(test_allowed_call_works),
		cmocka_unit_test(test_argument_rules),
		cmocka_unit_test(test_log_mode_does_not_kill),
		cmocka_unit_test(test_spawned_thread_has_its_kind),
		cmocka_unit_test(test_every_kind_allows_its_list_and_traps_the_rest),
		cmocka_unit_test(test_lists_are_well_formed),
		cmocka_unit_test(test_modes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
