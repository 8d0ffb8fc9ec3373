// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "log.h"

int input_file_open(struct input_file *f, const char *path, const char *what, size_t max)
{
	struct stat st;
	int err;

	f->path = path;
	f->what = what;
	/* O_NONBLOCK: a FIFO or a device must not hang the open; it is refused below. */
	f->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (f->fd < 0) {
		err = errno;
		pr_err("%s %s: %s", what, path, strerror(err));
		return -err;
	}
	if (fstat(f->fd, &st) < 0) {
		err = errno;
		pr_err("%s %s: %s", what, path, strerror(err));
		input_file_close(f);
		return -err;
	}
	if (!S_ISREG(st.st_mode)) {
		err = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		pr_err("%s %s: %s", what, path,
		       err == EISDIR ? "is a directory, not a file" : "is not a regular file");
		input_file_close(f);
		return -err;
	}
	if ((u64)st.st_size > max) {
		pr_err("%s %s: file is too large (%lld bytes, at most %zu)", what, path,
		       (long long)st.st_size, max);
		input_file_close(f);
		return -EFBIG;
	}
	f->size = st.st_size;
	return 0;
}

int input_file_read(const struct input_file *f, u64 off, void *dst, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(f->fd, (u8 *)dst + done, len - done, off + done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int err = n < 0 ? errno : EIO;

			pr_err("%s %s: read failed: %s", f->what, f->path,
			       n < 0 ? strerror(err) : "the file shrank while it was read");
			return -err;
		}
		done += n;
	}
	return 0;
}

int input_file_read_all(const struct input_file *f, u8 **buf)
{
	u8 *p = malloc(f->size ? f->size : 1);
	int ret;

	if (!p) {
		pr_err("%s %s: out of memory reading %zu bytes", f->what, f->path, f->size);
		return -ENOMEM;
	}
	ret = input_file_read(f, 0, p, f->size);
	if (ret) {
		free(p);
		return ret;
	}
	*buf = p;
	return 0;
}

void input_file_close(struct input_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}

int read_whole_file(const char *path, const char *what, size_t max, u8 **buf, size_t *len)
{
	struct input_file f;
	int ret = input_file_open(&f, path, what, max);

	if (ret)
		return ret;
	ret = input_file_read_all(&f, buf);
	if (!ret)
		*len = f.size;
	input_file_close(&f);
	return ret;
}

int pwrite_all(int fd, const void *buf, u64 len, u64 off)
{
	const u8 *p = buf;

	while (len) {
		ssize_t w = pwrite(fd, p, len, (off_t)off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w;
		off += (u64)w;
		len -= (u64)w;
	}
	return 0;
}
