// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "log.h"

int read_whole_file(const char *path, const char *what, size_t max, u8 **buf, size_t *len)
{
	struct stat st;
	size_t done = 0;
	u8 *p;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		pr_err("%s %s: %s", what, path, strerror(err));
		return -err;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		err = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		pr_err("%s %s: %s", what, path,
		       err == EISDIR ? "is a directory, not a file" : "is not a regular file");
		close(fd);
		return -err;
	}
	if ((u64)st.st_size > max) {
		pr_err("%s %s: file is too large (%lld bytes, at most %zu)", what, path,
		       (long long)st.st_size, max);
		close(fd);
		return -EFBIG;
	}
	p = malloc(st.st_size ? st.st_size : 1);
	if (!p) {
		close(fd);
		return -ENOMEM;
	}
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, p + done, st.st_size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? errno : EIO;
			pr_err("%s %s: read failed: %s", what, path, strerror(err));
			free(p);
			close(fd);
			return -err;
		}
		done += n;
	}
	close(fd);
	*buf = p;
	*len = done;
	return 0;
}
