// SPDX-License-Identifier: GPL-2.0-only
// fuzz-sources: src/util/token_bucket.c src/api/http.c src/api/fields.c src/api/handlers.c src/api/router.c src/api/vmconfig.c src/api/balloon.c src/api/actions.c src/api/server.c src/api/snapshot.c src/api/snapshot_load.c src/api/config_file.c src/snapshot/load.c src/snapshot/uffd.c src/snapshot/statefile.c src/util/file.c src/util/log.c src/util/metrics.c src/util/thread.c src/sandbox/spawner.c src/sandbox/seccomp.c src/sandbox/filters.c src/arch/$(ARCH)/sandbox.c
// fuzz-libs: -lseccomp -lz
/*
 * libFuzzer harness for the control API as a client reaches it: the input is the byte
 * stream of one connection, fed in pieces to the request parser and router
 * (api_conn_process) before or after InstanceStart. Every answer is a whole HTTP/1.1
 * response with a status of 200, 204 or 400 (never 500), a 400 carries a JSON
 * fault_message, and the connection's buffer never holds more than it was given.
 * VM creation is stubbed (it fails as a bad kernel would), pausing, disk swaps and the
 * balloon (there is none after a start) too, and PUT /logger and /metrics,
 * which open host files, are left out.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/server.h"
#include "arch/arch.h"
#include "devices/virtio/balloon.h"
#include "fuzz_access.h"
#include "snapshot/create.h"
#include "snapshot/restore.h"
#include "vm.h"

int vm_create(struct vm **out, const struct vm_config *cfg)
{
	(void)cfg;
	*out = NULL;
	return -EXIT_BAD_INPUT;
}

void vm_destroy(struct vm *vm)
{
	(void)vm;
}

int vm_pause(struct vm *vm, unsigned int timeout_ms)
{
	(void)vm, (void)timeout_ms;
	return 0;
}

void vm_resume(struct vm *vm)
{
	(void)vm;
}

int snapshot_create(struct vm *vm, const char *config, const char *state_path, const char *mem_path,
		    bool diff, char *err, size_t errlen)
{
	(void)vm, (void)config, (void)state_path, (void)mem_path, (void)diff;
	snprintf(err, errlen, "stubbed");
	return -EIO;
}

/* Never reached (vm_create fails), but linked: PUT /snapshot/load's second phase. */
int snapshot_restore(struct vm *vm, const struct statefile *sf, char *err, size_t errlen)
{
	(void)vm, (void)sf;
	snprintf(err, errlen, "stubbed");
	return -EIO;
}

u64 vm_now_ns(void)
{
	return 0;
}

int virtio_blk_swap(struct vm *vm, const char *old_path, const char *new_path, char *err,
		    size_t errlen)
{
	(void)vm, (void)old_path, (void)new_path;
	snprintf(err, errlen, "no disk");
	return -ENODEV;
}

struct virtio_balloon *virtio_balloon_find(struct vm *vm)
{
	(void)vm;
	return NULL;
}

/* Never reached without a balloon; here for the linker. */
void virtio_balloon_set_target(struct virtio_balloon *b, u32 amount_mib)
{
	(void)b, (void)amount_mib;
	CHECK(0);
}

int virtio_balloon_set_interval(struct virtio_balloon *b, u32 seconds)
{
	(void)b, (void)seconds;
	CHECK(0);
	return -EINVAL;
}

void virtio_balloon_info(struct virtio_balloon *b, struct balloon_info *info)
{
	(void)b, (void)info;
	CHECK(0);
}

int virtio_blk_set_limiter(struct vm *vm, const char *path, const struct rl_config *rl)
{
	(void)vm, (void)path, (void)rl;
	return -ENODEV;
}

int virtio_net_set_limiters(struct vm *vm, unsigned int index, const struct rl_config *rx,
			    const struct rl_config *tx)
{
	(void)vm, (void)index, (void)rx, (void)tx;
	return -ENODEV;
}

int arch_ctrl_alt_del(struct vm *vm)
{
	(void)vm;
	return 0;
}

/* Both boards' answers: the input's length picks one (machine-config smt). */
static bool fuzz_board_has_smt;

bool arch_supports_smt(void)
{
	return fuzz_board_has_smt;
}

/* Checks each response the API wrote into the socket pair, walking them by length. */
static void check_responses(int fd)
{
	static char buf[1 << 18];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	char *p = buf, *end;

	if (n <= 0)
		return;
	buf[n] = '\0';
	end = buf + n;
	while (p < end) {
		char *head_end = strstr(p, "\r\n\r\n"), *cl;
		int status;
		long len = 0;

		CHECK(!strncmp(p, "HTTP/1.1 ", 9) && head_end);
		status = atoi(p + 9);
		CHECK(status == 200 || status == 204 || status == 400);
		cl = strstr(p, "Content-Length: ");
		if (cl && cl < head_end)
			len = atol(cl + 16);
		CHECK((status == 204) == (len == 0));
		p = head_end + 4;
		CHECK(len <= end - p);
		if (status == 400)
			CHECK(!strncmp(p, "{\"fault_message\":", 17));
		p += len;
	}
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct api api;
	struct api_conn c = {.fd = -1};
	size_t cap, off = 1;
	int sv[2];

	if (size < 1 || memmem(data, size, "log_path", 8) || memmem(data, size, "metrics_path", 12))
		return 0;
	api_init(&api, "fuzz");
	fuzz_board_has_smt = !(size & 1);
	api.body_limit = 1024 + (data[0] & 0x7f) * 16;
	api.state = data[0] & 0x80 ? API_RUNNING : API_NOT_STARTED;
	cap = HTTP_MAX_HEAD + api.body_limit;
	c.buf = malloc(cap);
	CHECK(c.buf && !socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	/* Pieces of up to 61 bytes, as a slow client's reads would come. */
	while (off < size) {
		size_t n = MIN(size - off, MIN((size_t)61, cap - c.len));
		bool open;

		memcpy(c.buf + c.len, data + off, n);
		c.len += n;
		off += n;
		open = api_conn_process(&api, &c, sv[0]);
		check_responses(sv[1]);
		CHECK(c.len <= cap);
		if (!open || c.len == cap)
			break;
	}
	close(sv[0]);
	close(sv[1]);
	free(c.buf);
	api_free(&api);
	return 0;
}
