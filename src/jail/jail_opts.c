// SPDX-License-Identifier: GPL-2.0-only
/*
 * --jail's checks and its map of host paths to in-jail names. Nothing here changes the
 * process or the file system: it is what the unit tests drive.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "../backends/net.h"
#include "../devices/virtio/blk.h"
#include "../devices/virtio/vsock.h"
#include "../util/log.h"
#include "jail.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

int jail_parse_id(const char *s, long long *out)
{
	unsigned int v;

	/* 0 is root; (uid_t)-1 means "unchanged" to setresuid(). */
	if (parse_uint(s, 1, 0xfffffffe, &v))
		return -EINVAL;
	*out = v;
	return 0;
}

static bool jail_any_option(const struct jail_config *jc)
{
	return jc->uid >= 0 || jc->gid >= 0 || jc->netns || jc->cgroup || jc->cpus || jc->memory;
}

/* DIR is where the jail's root is mounted: an empty folder, so that nothing is hidden. */
static int jail_check_dir(const char *dir)
{
	struct stat st;
	struct dirent *d;
	DIR *dp;

	if (stat(dir, &st)) {
		pr_err("--jail %s: %s (give an empty folder for the jail's root)", dir,
		       strerror(errno));
		return -EXIT_BAD_INPUT;
	}
	if (!S_ISDIR(st.st_mode)) {
		pr_err("--jail %s: not a folder (give an empty folder for the jail's root)", dir);
		return -EXIT_BAD_INPUT;
	}
	dp = opendir(dir);
	if (!dp) {
		pr_err("--jail %s: %s", dir, strerror(errno));
		return -EXIT_BAD_INPUT;
	}
	while ((d = readdir(dp))) {
		if (strcmp(d->d_name, ".") && strcmp(d->d_name, ".."))
			break;
	}
	closedir(dp);
	if (d) {
		pr_err("--jail %s: the folder is not empty (the jail's root is mounted over it: "
		       "give an empty folder)",
		       dir);
		return -EXIT_BAD_INPUT;
	}
	return 0;
}

static int jail_check_cgroup(const struct jail_config *jc)
{
	char procs[PATH_MAX];
	struct statfs sf;

	if (!jc->cgroup) {
		if (!jc->cpus && !jc->memory)
			return 0;
		pr_err("--jail-cpus and --jail-memory are limits of a cgroup: give "
		       "--jail-cgroup PATH");
		return -EXIT_BAD_INPUT;
	}
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", jc->cgroup);
	if (statfs(jc->cgroup, &sf) || sf.f_type != CGROUP2_SUPER_MAGIC || access(procs, W_OK)) {
		pr_err("--jail-cgroup %s: not a cgroup v2 folder (mkdir one under "
		       "/sys/fs/cgroup)",
		       jc->cgroup);
		return -EXIT_BAD_INPUT;
	}
	return 0;
}

int jail_check(const struct jail_config *jc, const struct vm_config *cfg, uid_t euid)
{
	int ret;

	if (!jc->dir) {
		if (!jail_any_option(jc))
			return 0;
		pr_err("--jail-uid, --jail-gid, --jail-netns and --jail-cgroup need --jail DIR");
		return -EXIT_BAD_INPUT;
	}
	if (jc->uid < 0 || jc->gid < 0) {
		pr_err("--jail needs --jail-uid N and --jail-gid N: the unprivileged user and "
		       "group kvmbox runs as in the jail");
		return -EXIT_BAD_INPUT;
	}
	if (cfg->dump_dtb) {
		pr_err("--dump-dtb cannot be used with --jail: the jail has no place to write it");
		return -EXIT_BAD_INPUT;
	}
	if (cfg->nr_vfio) {
		/* The jail would need /dev/vfio nodes and the device's sysfs: not built yet. */
		pr_err("--vfio cannot be used with --jail yet: run the passed-through VM unjailed");
		return -EXIT_BAD_INPUT;
	}
	ret = jail_check_dir(jc->dir);
	if (!ret)
		ret = jail_check_cgroup(jc);
	if (!ret && euid != 0) {
		pr_err("--jail needs root (to make the namespaces and mounts); kvmbox then runs "
		       "as --jail-uid %lld",
		       jc->uid);
		ret = -EXIT_BAD_INPUT;
	}
	return ret;
}

/*
 * Whether uid/gid (no supplementary groups: the jail drops them) gets the mode bits in
 * want from st, as the kernel decides without ACLs.
 */
static bool jail_may(const struct stat *st, uid_t uid, gid_t gid, mode_t want)
{
	mode_t bits = st->st_mode;

	if (st->st_uid == uid)
		bits >>= 6;
	else if (st->st_gid == gid)
		bits >>= 3;
	return (bits & want) == want;
}

/* The size of a file or block device, for RLIMIT_FSIZE. */
static u64 jail_file_size(const char *path, const struct stat *st)
{
	off_t end;
	int fd;

	if (!S_ISBLK(st->st_mode))
		return (u64)st->st_size;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	end = lseek(fd, 0, SEEK_END);
	close(fd);
	return end > 0 ? (u64)end : 0;
}

/* Checks that the jail's user may use entry e; records the largest writable file. */
static int jail_check_entry(struct jail_plan *plan, const struct jail_config *jc,
			    const struct jail_entry *e)
{
	mode_t want = e->kind == JAIL_DIR ? 03 : (e->writable ? 06 : 04);
	struct stat st;

	if (stat(e->host, &st)) {
		pr_err("--jail: %s: %s", e->host, strerror(errno));
		return -EXIT_BAD_INPUT;
	}
	if (e->kind == JAIL_DEVNODE) {
		if (S_ISCHR(st.st_mode))
			return 0;
		pr_err("--jail: %s is not a character device", e->host);
		return -EXIT_BAD_INPUT;
	}
	if (!jail_may(&st, (uid_t)jc->uid, (gid_t)jc->gid, want)) {
		pr_err("--jail: uid %lld/gid %lld may not %s %s (owner %u, mode %04o): give the "
		       "jail's user access to it",
		       jc->uid, jc->gid,
		       e->kind == JAIL_DIR ? "create files in" : (e->writable ? "write" : "read"),
		       e->host, (unsigned int)st.st_uid, (unsigned int)(st.st_mode & 07777));
		return -EXIT_BAD_INPUT;
	}
	if (e->writable && e->kind == JAIL_FILE &&
	    jail_file_size(e->host, &st) > plan->max_file_size)
		plan->max_file_size = jail_file_size(e->host, &st);
	return 0;
}

static struct jail_entry *jail_add(struct jail_plan *plan, enum jail_entry_kind kind,
				   const char *host, size_t host_len, const char *inside,
				   bool writable)
{
	struct jail_entry *e;

	if (plan->nr == JAIL_MAX_ENTRIES || host_len >= sizeof(e->host))
		return NULL;
	e = &plan->entries[plan->nr++];
	e->kind = kind;
	memcpy(e->host, host, host_len);
	e->host[host_len] = '\0';
	snprintf(e->inside, sizeof(e->inside), "%s", inside);
	e->writable = writable;
	return e;
}

/* A file option: the file at a fixed name; cfg's string is that name. */
static int jail_map_file(struct jail_plan *plan, const char **opt, const char *inside,
			 bool writable)
{
	struct jail_entry *e;

	if (!*opt)
		return 0;
	e = jail_add(plan, JAIL_FILE, *opt, strlen(*opt), inside, writable);
	if (!e)
		return -ENAMETOOLONG;
	*opt = e->inside;
	return 0;
}

/* --disk PATH[,OPTS]: PATH becomes /diskN, the options stay as written. */
static int jail_map_disks(struct jail_plan *plan)
{
	static struct blk_options o; /* PATH_MAX bytes: not on the stack */

	for (unsigned int i = 0; i < plan->cfg.nr_disks; i++) {
		const char *arg = plan->cfg.disks[i], *rest = strchr(arg, ',');
		char inside[16];

		if (virtio_blk_parse_option(arg, &o))
			return -EINVAL; /* vm_check_config() said why */
		snprintf(inside, sizeof(inside), "/disk%u", i);
		if (!jail_add(plan, JAIL_FILE, o.path, strlen(o.path), inside, !o.ro))
			return -ENAMETOOLONG;
		snprintf(plan->disks[i], sizeof(plan->disks[i]), "%s%s", inside, rest ? rest : "");
		plan->cfg.disks[i] = plan->disks[i];
	}
	return 0;
}

/* The folder a socket path is in (its own for a bare name), bound read-write at inside. */
static int jail_map_socket_dir(struct jail_plan *plan, const char *path, const char *inside)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return jail_add(plan, JAIL_DIR, ".", 1, inside, true) ? 0 : -ENAMETOOLONG;
	return jail_add(plan, JAIL_DIR, path, slash == path ? 1 : (size_t)(slash - path), inside,
			true)
		       ? 0
		       : -ENAMETOOLONG;
}

/*
 * --virtio-console=socket:PATH: kvmbox creates (and removes) the socket, so the folder
 * it is in is bound read-write at /console.
 */
static int jail_map_console(struct jail_plan *plan)
{
	const char *arg = plan->cfg.virtio_console, *path, *slash;
	int ret;

	if (!arg || strncmp(arg, "socket:", 7))
		return 0;
	path = arg + 7;
	ret = jail_map_socket_dir(plan, path, "/console");
	if (ret)
		return ret;
	slash = strrchr(path, '/');
	snprintf(plan->console, sizeof(plan->console), "socket:/console/%s",
		 slash ? slash + 1 : path);
	plan->cfg.virtio_console = plan->console;
	return 0;
}

/*
 * --vsock cid=N,uds=PATH: kvmbox creates (and removes) PATH and connects to PATH_<port>
 * for the guest, all in the same folder, which is bound read-write at /vsock.
 */
static int jail_map_vsock(struct jail_plan *plan)
{
	struct vsock_options o;
	const char *name;
	char err[160];
	int ret;

	if (!plan->cfg.vsock || vsock_parse_options(plan->cfg.vsock, &o, err, sizeof(err)) ||
	    !*o.uds)
		return 0;
	ret = jail_map_socket_dir(plan, o.uds, "/vsock");
	if (ret)
		return ret;
	name = strrchr(o.uds, '/') ? strrchr(o.uds, '/') + 1 : o.uds;
	snprintf(plan->vsock, sizeof(plan->vsock), "cid=%u,uds=/vsock/%s", o.cid, name);
	plan->cfg.vsock = plan->vsock;
	return 0;
}

static int jail_add_node(struct jail_plan *plan, const char *host, const char *inside)
{
	for (unsigned int i = 0; i < plan->nr; i++) {
		if (!strcmp(plan->entries[i].inside, inside))
			return 0;
	}
	return jail_add(plan, JAIL_DEVNODE, host, strlen(host), inside, true) ? 0 : -ENAMETOOLONG;
}

/* The device nodes the options open: KVM always, tun and vhost as the NICs and vsock ask. */
static int jail_map_nodes(struct jail_plan *plan, const char *kvm_path)
{
	int ret = jail_add_node(plan, kvm_path, "/dev/kvm");

	for (unsigned int i = 0; !ret && i < plan->cfg.nr_nics; i++) {
		struct net_options o;
		char err[160];

		if (net_parse_options(plan->cfg.nics[i], i, &o, err, sizeof(err)))
			return -EINVAL;
		if (o.kind == NET_KIND_TAP)
			ret = jail_add_node(plan, "/dev/net/tun", "/dev/net/tun");
		if (!ret && o.vhost)
			ret = jail_add_node(plan, "/dev/vhost-net", "/dev/vhost-net");
	}
	/* The userspace vsock (uds=, rewritten to /vsock/...) needs no device node. */
	if (!ret && plan->cfg.vsock && !strstr(plan->cfg.vsock, "uds="))
		ret = jail_add_node(plan, "/dev/vhost-vsock", "/dev/vhost-vsock");
	return ret;
}

int jail_plan_build(struct jail_plan *plan, const struct jail_config *jc,
		    const struct vm_config *cfg, const char *kvm_path)
{
	struct vm_config *c = &plan->cfg;
	int ret;

	memset(plan, 0, sizeof(*plan));
	*c = *cfg;
	snprintf(plan->kvm_host, sizeof(plan->kvm_host), "%s", kvm_path);
	ret = jail_map_file(plan, &c->kernel, "/kernel", false);
	if (!ret)
		ret = jail_map_file(plan, &c->initrd, "/initrd", false);
	if (!ret)
		ret = jail_map_file(plan, &c->firmware, "/firmware", false);
	if (!ret)
		ret = jail_map_file(plan, &c->flash, "/flash", true);
	if (!ret)
		ret = jail_map_disks(plan);
	if (!ret)
		ret = jail_map_console(plan);
	if (!ret)
		ret = jail_map_vsock(plan);
	if (!ret)
		ret = jail_map_nodes(plan, plan->kvm_host);
	if (ret) {
		pr_err("--jail: cannot map the VM's files into the jail: %s", strerror(-ret));
		return -EXIT_BAD_INPUT;
	}
	for (unsigned int i = 0; !ret && i < plan->nr; i++)
		ret = jail_check_entry(plan, jc, &plan->entries[i]);
	return ret;
}
