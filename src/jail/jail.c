// SPDX-License-Identifier: GPL-2.0-only
/*
 * --jail: the namespaces, the new root and the credentials. kvmbox's own process stays
 * outside as root, only to wait: it forwards termination signals to the jailed process
 * and ends with its status. The jailed process is PID 1 of a new PID namespace; it makes
 * its mount namespace, builds the root (jail_files.c), pivots into it, drops to the
 * unprivileged uid/gid with no capabilities and no_new_privs, and goes on as kvmbox.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "../backends/net.h"
#include "../kvm.h"
#include "../vm.h"
#include "../util/log.h"
#include "jail.h"

/*
 * Open files in the jail: Firecracker's jailer uses 2048. The user network's 200 host
 * sockets per NIC (four NICs at most) fit with room for disks, eventfds and vCPUs.
 */
#define JAIL_NOFILE 2048
/*
 * Files may not grow past the largest disk (a sparse image cannot be extended by a
 * subverted kvmbox), but at least this much: stdout may be a log file.
 */
#define JAIL_MIN_FSIZE (64 * MiB)

static int jail_write_file(const char *dir, const char *name, const char *value)
{
	char path[PATH_MAX];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, value, strlen(value)) < 0)
		ret = -errno;
	if (fd >= 0)
		close(fd);
	if (ret)
		pr_err("--jail-cgroup: cannot write '%s' to %s: %s", value, path, strerror(-ret));
	return ret;
}

/* The cgroup's limits, written by root before the jailed process joins it. */
static int jail_cgroup_limits(const struct jail_config *jc)
{
	char v[64];
	int ret = 0;

	if (jc->cpus) {
		snprintf(v, sizeof(v), "%llu 100000", (unsigned long long)jc->cpus * 100000);
		ret = jail_write_file(jc->cgroup, "cpu.max", v);
	}
	if (!ret && jc->memory) {
		snprintf(v, sizeof(v), "%llu", (unsigned long long)jc->memory);
		ret = jail_write_file(jc->cgroup, "memory.max", v);
	}
	return ret;
}

/*
 * Libraries kvmbox would dlopen() later are loaded now, while the host's are in reach:
 * the jail has none, and a second dlopen() of a loaded library needs no file.
 */
static void jail_preload(const struct vm_config *cfg)
{
	for (unsigned int i = 0; i < cfg->nr_nics; i++) {
		if (!strncmp(cfg->nics[i], "user", 4))
			net_slirp_preload();
	}
}

static int jail_pivot(const char *dir)
{
	/* pivot_root(".", "."): the old root ends up over the new one, then goes. */
	if (chdir(dir) || syscall(SYS_pivot_root, ".", ".") || umount2(".", MNT_DETACH) ||
	    chdir("/")) {
		pr_err("--jail %s: cannot make it the root: %s", dir, strerror(errno));
		return -errno;
	}
	/* The root itself (the tmpfs) read-only: the bind mounts keep their own modes. */
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NOEXEC,
		  NULL)) {
		pr_err("--jail: cannot make the jail's root read-only: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

/*
 * A new network namespace starts with its loopback down: bring it up, so that
 * --net user's hostfwd can listen on 127.0.0.1 there.
 */
static void jail_loopback_up(void)
{
	struct ifreq ifr = {.ifr_name = "lo"};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return;
	if (!ioctl(fd, SIOCGIFFLAGS, &ifr)) {
		ifr.ifr_flags |= IFF_UP;
		if (!ioctl(fd, SIOCSIFFLAGS, &ifr))
			goto out;
	}
	pr_warn("--jail-netns: cannot bring up lo: %s", strerror(errno));
out:
	close(fd);
}

/*
 * Sanitizer builds: LeakSanitizer's check at exit reads /proc, which the jail has not.
 * It runs now instead (at most once per process, so not again at exit).
 */
extern void __lsan_do_leak_check(void) __attribute__((weak));

/* The new namespaces, then the root; all while still root. */
static int jail_build(const struct jail_config *jc, const struct jail_plan *plan)
{
	int flags = CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | (jc->netns ? CLONE_NEWNET : 0);

	if (unshare(flags)) {
		pr_err("--jail: cannot make the namespaces: %s", strerror(errno));
		return -errno;
	}
	if (jc->netns)
		jail_loopback_up();
	if (sethostname("kvmbox-jail", 11))
		pr_debug("jail: sethostname: %s", strerror(errno));
	/* Nothing mounted in here may show outside (or the other way round). */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
		pr_err("--jail: cannot make the mounts private: %s", strerror(errno));
		return -errno;
	}
	/* "0" is the writer itself, whatever its PID in which namespace. */
	if (jc->cgroup && jail_write_file(jc->cgroup, "cgroup.procs", "0"))
		return -EPERM;
	if (__lsan_do_leak_check)
		__lsan_do_leak_check();
	if (jail_populate(jc->dir, plan, (uid_t)jc->uid, (gid_t)jc->gid))
		return -EIO;
	return jail_pivot(jc->dir);
}

static int jail_limits(const struct jail_plan *plan)
{
	struct rlimit nofile = {JAIL_NOFILE, JAIL_NOFILE};
	rlim_t fsize = plan->max_file_size > JAIL_MIN_FSIZE ? plan->max_file_size : JAIL_MIN_FSIZE;
	struct rlimit fs = {fsize, fsize};

	/* A write past the limit then fails with EFBIG instead of killing kvmbox. */
	signal(SIGXFSZ, SIG_IGN);
	if (setrlimit(RLIMIT_NOFILE, &nofile) || setrlimit(RLIMIT_FSIZE, &fs)) {
		pr_err("--jail: cannot set the resource limits: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

/*
 * Capabilities go in three steps: the bounding set (needs CAP_SETPCAP, so first), the
 * uid change (which empties the permitted and effective sets), then capset() to be
 * sure, as a process whose uid was never 0 would not have lost anything.
 */
static int jail_drop_privileges(const struct jail_config *jc)
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2] = {0};
	uid_t uid = (uid_t)jc->uid;
	gid_t gid = (gid_t)jc->gid;

	for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++) {
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0))
			goto fail;
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL)
		goto fail;
	if (setgroups(0, NULL) || setresgid(gid, gid, gid) || setresuid(uid, uid, uid))
		goto fail;
	if (syscall(SYS_capset, &hdr, data) || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		goto fail;
	/* A credential change clears it: set again, so the jail dies with its parent. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0))
		goto fail;
	if (getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid)
		return -EPERM;
	return 0;
fail:
	pr_err("--jail: cannot drop privileges to uid %lld gid %lld: %s", jc->uid, jc->gid,
	       strerror(errno));
	return -errno;
}

/* In the jailed process: everything between fork() and the VM. */
static int jail_child(const struct jail_config *jc, const struct jail_plan *plan)
{
	sigset_t chld;
	int ret;

	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	ret = jail_build(jc, plan);
	if (!ret)
		ret = jail_limits(plan);
	if (!ret)
		ret = jail_drop_privileges(jc);
	if (ret)
		return ret;
	/* kvmbox opens the KVM device by this name; in the jail it is /dev/kvm. */
	if (setenv("KVMBOX_DEV_KVM", "/dev/kvm", 1))
		return -errno;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	pthread_sigmask(SIG_UNBLOCK, &chld, NULL);
	pr_info("jail: running in %s as uid %lld gid %lld", jc->dir, jc->uid, jc->gid);
	return 0;
}

/* kvmbox's own process: waits, forwards SIGINT/SIGTERM/SIGHUP, returns the status. */
static int jail_wait(pid_t pid)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	for (;;) {
		int sig = sigwaitinfo(&set, NULL), status;

		if (sig < 0 && errno != EINTR)
			return EXIT_VMM_ERROR;
		if (sig > 0 && sig != SIGCHLD) {
			kill(pid, sig);
			continue;
		}
		if (waitpid(pid, &status, WNOHANG) != pid)
			continue;
		if (WIFSIGNALED(status))
			return 128 + WTERMSIG(status);
		return WEXITSTATUS(status);
	}
}

/*
 * A child that is PID 1 of a new PID namespace. Ours is set back for our own later
 * children (a sanitizer's helper, say): once that PID 1 is gone, no process could be
 * made in its namespace.
 */
static pid_t jail_fork(void)
{
	int own = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	pid_t pid = -1;

	if (own < 0 || unshare(CLONE_NEWPID)) {
		pr_err("--jail: cannot make a PID namespace: %s", strerror(errno));
		goto out;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		pr_err("--jail: fork: %s", strerror(errno));
	if (pid > 0 && setns(own, CLONE_NEWPID))
		pr_debug("jail: setns back to our PID namespace: %s", strerror(errno));
out:
	if (own >= 0)
		close(own);
	return pid;
}

int jail_enter(const struct jail_config *jc, struct jail_plan *plan)
{
	struct termios term;
	sigset_t chld;
	int status;
	bool tty;
	pid_t pid;

	if (jc->cgroup && jail_cgroup_limits(jc))
		return EXIT_VMM_ERROR;
	jail_preload(&plan->cfg);
	/* SIGCHLD waits in sigwaitinfo(): blocked before the child can exit. */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &chld, NULL);
	tty = !tcgetattr(STDIN_FILENO, &term);
	pid = jail_fork();
	if (pid < 0)
		return EXIT_VMM_ERROR;
	if (pid == 0) {
		if (jail_child(jc, plan))
			_exit(EXIT_VMM_ERROR);
		return -1;
	}
	status = jail_wait(pid);
	/* The jailed kvmbox restores the terminal, unless it was killed (SIGKILL). */
	if (tty && status > 128)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &term);
	return status;
}

int jail_start(const struct jail_config *jc, const struct vm_config *cfg,
	       const struct vm_config **run)
{
	static struct jail_plan plan; /* cfg's strings point into it for the VM's life */
	const char *kvm = kvm_device_path();
	int ret;

	*run = cfg;
	ret = jail_check(jc, cfg, geteuid());
	if (ret || !jc->dir)
		return ret ? -ret : -1;
	/* With the host's names, so that a typo is reported as the user wrote it. */
	ret = vm_check_config(cfg);
	if (ret)
		return -ret;
	if (access(kvm, F_OK)) {
		ret = kvm_open(kvm); /* says why, as without --jail */
		if (ret >= 0)
			close(ret);
		return EXIT_VMM_ERROR;
	}
	ret = jail_plan_build(&plan, jc, cfg, kvm);
	if (ret)
		return -ret;
	ret = jail_enter(jc, &plan);
	if (ret < 0)
		*run = &plan.cfg;
	return ret;
}
