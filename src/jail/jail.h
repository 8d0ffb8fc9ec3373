/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * --jail DIR: kvmbox runs as an unprivileged uid/gid in new mount, PID, IPC and UTS
 * namespaces (and a network one with --jail-netns), with a tmpfs over DIR as its root
 * holding only the files and device nodes the VM's options name, no capabilities,
 * no_new_privs and resource limits. jail_opts.c checks the options and maps the paths
 * (pure: unit-tested); jail_files.c fills the root; jail.c makes the namespaces and
 * drops the privileges.
 */
#ifndef KVMBOX_JAIL_H
#define KVMBOX_JAIL_H

#include <limits.h>
#include <sys/types.h>

#include "../config.h"

struct jail_config {
	const char *dir;    /* NULL: no jail */
	long long uid, gid; /* -1 until given */
	bool netns;	    /* a network namespace of its own (no taps, no hostfwd to the host) */
	const char *cgroup; /* a cgroup v2 folder to join, or NULL */
	unsigned int cpus;  /* cpu.max in whole CPUs, 0: left alone */
	u64 memory;	    /* memory.max in bytes, 0: left alone */
};

#define JAIL_CONFIG_INIT             \
	{                            \
		.uid = -1, .gid = -1 \
	}

/* How much of the host one file or device node in the jail shows. */
enum jail_entry_kind {
	JAIL_FILE,    /* a file (or block device) bind-mounted onto an empty file */
	JAIL_DIR,     /* a folder bind-mounted onto an empty folder (console sockets) */
	JAIL_DEVNODE, /* a character device made with mknod, owned by the jail's uid */
};

struct jail_entry {
	enum jail_entry_kind kind;
	char host[PATH_MAX]; /* where it is outside, as the user named it */
	char inside[64];     /* its absolute path in the jail */
	bool writable;	     /* bound read-write (disks, flash, socket folders) */
};

/* kernel, initrd, firmware, flash, 8 disks, a socket folder, 4 device nodes */
#define JAIL_MAX_ENTRIES (5 + VM_MAX_DISKS + 4)

/*
 * The jail's contents and the VM configuration rewritten to name them: jail_plan_build()
 * fills it from a checked vm_config; cfg's strings then point into this struct.
 */
struct jail_plan {
	struct jail_entry entries[JAIL_MAX_ENTRIES];
	unsigned int nr;
	struct vm_config cfg;
	char disks[VM_MAX_DISKS][PATH_MAX + 16];
	char console[PATH_MAX + 16];
	char vsock[PATH_MAX + 32]; /* --vsock cid=N,uds=/vsock/NAME */
	char kvm_host[PATH_MAX];   /* the host's KVM device (KVMBOX_DEV_KVM or /dev/kvm) */
	u64 max_file_size;	   /* the largest writable file: RLIMIT_FSIZE */
};

/* Parses --jail-uid/--jail-gid N: 1 to 2^32-2. Returns 0 or -EINVAL. */
int jail_parse_id(const char *s, long long *out);

/*
 * Checks jc against cfg before anything is created or /dev/kvm opened, as the process
 * whose effective uid is euid: DIR an empty folder, a non-root uid and gid, root to make
 * the jail, the cgroup a cgroup v2 folder, options the jail cannot carry. Returns 0, or
 * -EXIT_BAD_INPUT after one line.
 */
int jail_check(const struct jail_config *jc, const struct vm_config *cfg, uid_t euid);

/*
 * Builds plan from cfg (already checked by vm_check_config()): every file mapped to a
 * fixed name in the jail (/kernel, /initrd, /disk0..., /console/NAME, /dev/kvm...), and
 * checks that jc's uid/gid may read (write) each. kvm_path is the host's KVM device.
 * Returns 0, or -EXIT_BAD_INPUT after one line.
 */
int jail_plan_build(struct jail_plan *plan, const struct jail_config *jc,
		    const struct vm_config *cfg, const char *kvm_path);

/* Mounts a tmpfs over dir and fills it from plan (jail_files.c). Returns 0 or -errno. */
int jail_populate(const char *dir, const struct jail_plan *plan, uid_t uid, gid_t gid);

/*
 * Runs the rest of kvmbox in the jail. Returns -1 in the jailed process (PID 1 of its
 * namespace), whose *cfg then names the in-jail paths, and an exit status in kvmbox's
 * own process: the jailed one's, passed through when it ends (signals are forwarded).
 */
int jail_enter(const struct jail_config *jc, struct jail_plan *plan);

/*
 * What `kvmbox run` calls with its options: checks jc (always: a --jail-* option without
 * --jail is an error), and with --jail checks cfg with the host's paths, builds the plan
 * and enters the jail. Returns -1 where the VM should run, *run then being the
 * configuration to run it with (cfg itself without --jail), or an exit status.
 */
int jail_start(const struct jail_config *jc, const struct vm_config *cfg,
	       const struct vm_config **run);

#endif
