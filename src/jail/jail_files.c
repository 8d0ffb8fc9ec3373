// SPDX-License-Identifier: GPL-2.0-only
/*
 * The jail's root: a small tmpfs mounted over DIR in the jail's own mount namespace, with
 * an empty file or folder per bind mount and the device nodes made with mknod. Nothing is
 * written to the host's DIR: the tmpfs and every bind mount go away with the namespace,
 * so no exit path, an error half-way included, leaves anything behind to clean up.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "../util/log.h"
#include "jail.h"

/* Folders on the way to path (below root), each 0755 and root's. */
static int jail_mkdirs(const char *root, const char *inside)
{
	char p[PATH_MAX];
	int n = snprintf(p, sizeof(p), "%s%s", root, inside);
	size_t start = strlen(root) + 1;

	if (n < 0 || (size_t)n >= sizeof(p))
		return -ENAMETOOLONG;
	for (char *s = p + start; (s = strchr(s, '/')); s++) {
		*s = '\0';
		if (mkdir(p, 0755) && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	return 0;
}

/*
 * Binds e's host file or folder at target, read-only unless it is writable. Device nodes
 * stay usable only where a disk is a block device; nothing in the jail is executable.
 */
static int jail_bind(const struct jail_entry *e, const char *target)
{
	unsigned long flags = MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NOEXEC;
	struct stat st;

	if (e->kind == JAIL_DIR) {
		if (mkdir(target, 0755))
			return -errno;
	} else {
		int fd = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

		if (fd < 0)
			return -errno;
		close(fd);
	}
	if (mount(e->host, target, NULL, MS_BIND, NULL))
		return -errno;
	if (stat(target, &st))
		return -errno;
	if (!S_ISBLK(st.st_mode))
		flags |= MS_NODEV;
	if (!e->writable)
		flags |= MS_RDONLY;
	return mount(NULL, target, NULL, flags, NULL) ? -errno : 0;
}

/*
 * A device node of the host's numbers, only for the jail's user: a bind mount would
 * share the host node's inode, and giving it to the uid would change the host's too.
 */
static int jail_mknod(const struct jail_entry *e, const char *target, uid_t uid, gid_t gid)
{
	struct stat st;

	if (stat(e->host, &st))
		return -errno;
	if (!S_ISCHR(st.st_mode))
		return -ENODEV;
	if (mknod(target, S_IFCHR | 0600, st.st_rdev) || chown(target, uid, gid) ||
	    chmod(target, 0600))
		return -errno;
	return 0;
}

static int jail_make_entry(const char *dir, const struct jail_entry *e, uid_t uid, gid_t gid)
{
	char target[PATH_MAX];
	int ret = jail_mkdirs(dir, e->inside);

	if (ret)
		return ret;
	snprintf(target, sizeof(target), "%s%s", dir, e->inside);
	if (e->kind == JAIL_DEVNODE)
		return jail_mknod(e, target, uid, gid);
	return jail_bind(e, target);
}

int jail_populate(const char *dir, const struct jail_plan *plan, uid_t uid, gid_t gid)
{
	/* Only empty files, folders and nodes live in it: a few KiB at most. */
	if (mount("kvmbox-jail", dir, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k")) {
		int err = errno;

		pr_err("--jail %s: cannot mount the jail's tmpfs: %s", dir, strerror(err));
		return -err;
	}
	for (unsigned int i = 0; i < plan->nr; i++) {
		const struct jail_entry *e = &plan->entries[i];
		int ret = jail_make_entry(dir, e, uid, gid);

		if (ret) {
			pr_err("--jail: cannot place %s at %s in the jail: %s", e->host, e->inside,
			       strerror(-ret));
			return ret;
		}
		pr_debug("jail: %s -> %s%s", e->host, e->inside, e->writable ? "" : " (read-only)");
	}
	return 0;
}
